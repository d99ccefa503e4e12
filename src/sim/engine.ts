// The timing simulator: one execution of a scenario on the modelled machine, the
// schedule decided by simulated time. It drives the same Machine and the same kernel
// model as the checker's explorers (src/explore/run.ts): a step is Machine.step() of
// one process; only the choice of the next process differs. Each CPU has a clock; the
// CPU whose next step starts earliest takes it (ties: the lowest CPU number), and its
// clock advances by the step's cost from the profile (src/sim/profile.ts). A CPU that
// cannot step (a spin, the idle loop's wait, a csd lock) waits in simulated time: it
// resumes at the moment another CPU's step makes its step possible. An IPI becomes
// deliverable on its target ipi_latency_ns after the sender's step that raised it.
//
// Caches: a location is one cache line unless the kernel puts it in one line with others
// (KernelLayout.cacheLines: a csd's fields, a flush_tlb_info's), tracked MESI-like per CPU: a read of a line
// another CPU holds modified costs a transfer, a write needs the line exclusive (a
// transfer when another CPU holds it at all). Store buffers drain as soon as the store
// is made (a TSO execution); the drain takes the line but costs the storing CPU nothing
// (the buffer hides the ownership request; a locked op or a later reader pays). Speculative page walks are not
// taken; a TLB miss walks at the access (page_walk_ns).
//
// Memory-level parallelism: a core does not wait for a load that misses before it
// issues the next independent one, so misses issued back to back overlap. A load that
// misses opens a window; a later load of the same CPU that misses, issued within
// MLP_OPS_MAX ops with nothing between that orders or stops loads (a locked op, a
// fence, a serialising instruction, a CR3 write, INVLPG, an IPI send, an interrupt, a
// wait), completes with the first: it costs what is left of its own miss latency
// counted from the window's start, at least access_l1_ns. A load whose address an
// earlier load gave (Op 'ld' chased: a pointer chase) cannot overlap: it opens a
// window of its own. A spin that had to wait ends the window after its last read (the
// loop's exit waits for that read).

import { BoundExceeded, Interner, procCpu, procFetch, procFlush, procIrq, type Machine } from '../machine/machine.js';
import type { Op } from '../machine/ops.js';
import { kernelEvents } from '../machine/calls.js';
import { freshRun } from '../explore/run.js';
import type { LitmusProgram } from '../litmus/program.js';
import type { ParamName, Profile } from './profile.js';
import { Rng } from './rng.js';

/** A run longer than this many steps is cut short (--steps-max): the result says so. */
export const SIM_STEPS_MAX_DEFAULT = 200_000_000;

/**
 * Memory-level parallelism: a miss overlaps an earlier one only when it comes within
 * this many ops of the window's first miss (a few kernel statements: the reorder
 * window the core issues ahead in).
 */
export const MLP_OPS_MAX = 8;

/** The machine without execution histories: a simulated run is never compared with another. */
class NoHistory extends Interner {
  override get keeps(): boolean {
    return false;
  }
  override intern(): number {
    return 0;
  }
}

export interface SimCpu {
  /** Time spent executing steps outside interrupt handlers (ns). */
  busyNs: number;
  /** Time spent waiting in a spin (a csd lock, a spinlock, smp_cond_load_acquire() in kernel code): busy too. */
  spinNs: number;
  /** Time spent in interrupt entry, handlers and their returns. */
  irqNs: number;
  /** Time idle: the idle loop's wait, or nothing left to run. */
  idleNs: number;
  ipisSent: number;
  ipisTaken: number;
  interrupts: number;
  steps: number;
}

export interface SimThread {
  thread: number;
  /** Iterations of its loops begun. */
  iterations: number;
  /** Simulated time per iteration in the steady state (ns): see perIteration(). */
  perIterationNs: number | null;
}

export interface SimResult {
  totalNs: number;
  steps: number;
  /** Mean over the threads that loop of their time per iteration (null: no thread loops). */
  perIterationNs: number | null;
  threads: SimThread[];
  cpus: SimCpu[];
  /** Counts of costed events: kernel functions called, cache-line transfers, page walks, ... */
  counts: Record<string, number>;
  /** Per CPU, the intervals of one iteration (the middle one) of the first looping thread: [start, end, what]. */
  timeline: { cpu: number; from: number; to: number; what: 'busy' | 'spin' | 'irq' | 'idle' }[];
  timelineWindow: [number, number] | null;
}

export class SimDeadlock extends Error {
  constructor(readonly at: number, readonly waits: ReturnType<Machine['blockedWaits']>) {
    super(`every CPU waits and none can make progress at ${at.toFixed(1)} ns`);
  }
}

export class SimCutShort extends Error {
  constructor(readonly steps: number) {
    super(`the run took more than ${steps} steps (--steps-max)`);
  }
}

/** What a CPU waiting counts as: the idle loop (or nothing to run), or a spin. */
function waitKind(op: Op | null): 'idle' | 'spin' {
  if (op === null) return 'idle';
  return op.site.fn.startsWith('do_idle') ? 'idle' : 'spin';
}

/** The profile's numbers for one run: jittered per parameter when `rng` is given. */
function runCosts(profile: Profile, rng: Rng | null): { p: Record<ParamName, number>; fn: Map<string, number> } {
  const j = profile.params.jitter.value;
  const draw = (v: number): number => (rng && j > 0 ? v * Math.max(0.5, 1 + j * rng.normal()) : v);
  const p = {} as Record<ParamName, number>;
  for (const k of Object.keys(profile.params) as ParamName[]) p[k] = k === 'jitter' ? j : draw(profile.params[k].value);
  const fn = new Map<string, number>();
  for (const [k, v] of Object.entries(profile.functions)) fn.set(k, draw(v.value));
  return { p, fn };
}

/**
 * Runs `program` once along the schedule simulated time decides. `rng` jitters the
 * profile's parameters for this run (null: the profile's values exactly).
 */
export function simulate(program: LitmusProgram, profile: Profile, rng: Rng | null, stepsMax = SIM_STEPS_MAX_DEFAULT, withTimeline = false): SimResult {
  const { p: P, fn: F } = runCosts(profile, rng);
  const sysretViaIret = program.kernelLayout?.config.syscallExit === 'iret';
  // The kernel functions that carry a cost, by name: the profile's own, plus the events the parameters name.
  const eventCost = new Map<string, number>(F);
  const add = (name: string, ns: number): void => void eventCost.set(name, (eventCost.get(name) ?? 0) + ns);
  add('do_syscall_64', P.syscall_entry_ns);
  if (!sysretViaIret) add('syscall_return', P.sysret_ns);
  add('context_switch', P.context_switch_ns);
  add('try_to_wake_up', P.wakeup_ns);
  add('exc_page_fault', P.irq_entry_ns); // an exception's entry, as an interrupt's
  // Counts by name, in the order each was first counted (the order SimResult.counts lists them).
  const counters = new Map<string, { name: string; n: number }>();
  const counted: { name: string; n: number }[] = [];
  const counter = (name: string): { name: string; n: number } => {
    let r = counters.get(name);
    if (r === undefined) {
      r = { name, n: 0 };
      counters.set(name, r);
    }
    return r;
  };
  const bump = (r: { name: string; n: number }, n = 1): void => {
    if (r.n === 0) counted.push(r);
    r.n += n;
  };
  const count = (k: string, n = 1): void => bump(counter(k), n);
  // The counts of every step's costs, looked up once.
  const cLineTransfers = counter('line_transfers');
  const cLlcFills = counter('llc_fills');
  const cLockedRmw = counter('locked_rmw');
  const cFences = counter('fences');
  const cMlpOverlaps = counter('overlapped_misses');

  const { machine: m, instance } = freshRun(program, new NoHistory(), program.model, program.procsMax, false);
  const n = m.nCpus;
  const nLines = m.mem.length;
  // Each location's line: the first location of its group in KernelLayout.cacheLines, else its own.
  const lineOf = new Int32Array(nLines);
  for (let i = 0; i < nLines; i++) lineOf[i] = i;
  for (const group of program.kernelLayout?.cacheLines ?? []) for (const loc of group) lineOf[loc] = group[0]!;
  const owner = new Int32Array(nLines).fill(-1); // the CPU holding the line modified/exclusive, or -1
  const sharers = new Int32Array(nLines); // bit per CPU holding the line
  const clock = new Float64Array(n);
  // Memory-level parallelism, per CPU: the start of the open window (-1: none), ops since.
  const mlpStart = new Float64Array(n).fill(-1);
  const mlpOps = new Int32Array(n);
  const waited = new Uint8Array(n); // the CPU waited (a stall) since its last step
  const stalled = new Uint8Array(n);
  const stalledKind: ('idle' | 'spin')[] = new Array(n).fill('idle');
  const stalledIrq = new Uint8Array(n); // stalled while in a handler
  const deliver: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  const raisedVec: Set<number>[] = Array.from({ length: n }, () => new Set());
  const cpus: SimCpu[] = Array.from({ length: n }, () => ({ busyNs: 0, spinNs: 0, irqNs: 0, idleNs: 0, ipisSent: 0, ipisTaken: 0, interrupts: 0, steps: 0 }));
  const marks = instance.loopMarks ?? [];
  const seen = marks.map(() => 0);
  const markTimes: number[][] = marks.map(() => []);
  const trackTimeline = withTimeline;
  const timeline: SimResult['timeline'] = [];
  const pushTl = (cpu: number, from: number, to: number, what: 'busy' | 'spin' | 'irq' | 'idle'): void => {
    if (!trackTimeline || to <= from) return;
    const last = timeline[timeline.length - 1];
    if (last && last.cpu === cpu && last.what === what && last.to === from) last.to = to;
    else timeline.push({ cpu, from, to, what });
    if (timeline.length > 2_000_000) timeline.splice(0, 1_000_000);
  };

  const read = (c: number, at: number): number => {
    if (at < 0 || at >= nLines) return P.access_l1_ns;
    const loc = lineOf[at]!;
    const o = owner[loc]!;
    const bit = 1 << c;
    if (o === c || (o < 0 && (sharers[loc]! & bit) !== 0)) return P.access_l1_ns;
    if (o >= 0) {
      owner[loc] = -1;
      sharers[loc] = (1 << o) | bit;
      bump(cLineTransfers);
      return P.access_l1_ns + P.line_transfer_ns;
    }
    sharers[loc] = sharers[loc]! | bit;
    bump(cLlcFills);
    return P.access_l1_ns + P.line_from_llc_ns;
  };
  const write = (c: number, at: number): number => {
    if (at < 0 || at >= nLines) return P.access_l1_ns;
    const loc = lineOf[at]!;
    const o = owner[loc]!;
    const bit = 1 << c;
    const others = sharers[loc]! & ~bit;
    const had = (sharers[loc]! & bit) !== 0;
    owner[loc] = c;
    sharers[loc] = bit;
    if (o === c) return P.access_l1_ns;
    if (o >= 0 || others !== 0) {
      bump(cLineTransfers);
      return P.access_l1_ns + P.line_transfer_ns;
    }
    if (had) return P.access_l1_ns;
    bump(cLlcFills);
    return P.access_l1_ns + P.line_from_llc_ns;
  };

  /** A load's cost with memory-level parallelism (see the file header); `now`: the CPU's clock at its start. */
  const load = (c: number, op: Op & { k: 'ld' | 'await' }, loc: number, now: number): number => {
    const full = read(c, loc);
    const miss = full - P.access_l1_ns;
    const chased = op.k === 'ld' && op.chased === true;
    if (op.k === 'await' && waited[c]) {
      mlpStart[c] = -1; // a spin that waited: what follows waits for this read
      return full;
    }
    if (miss <= 0) return full;
    if (mlpStart[c] >= 0 && !chased && mlpOps[c] <= MLP_OPS_MAX) {
      bump(cMlpOverlaps);
      return P.access_l1_ns + Math.max(0, mlpStart[c]! + miss - now);
    }
    mlpStart[c] = now;
    mlpOps[c] = 0;
    return full;
  };

  /** The cost of op (just taken by CPU c at memory location loc), apart from the kernel functions it called. */
  const opCost = (c: number, op: Op, loc: number, now: number): number => {
    switch (op.k) {
      case 'ld':
      case 'await':
        return load(c, op, loc, now);
      case 'st':
        return P.access_l1_ns; // the drain pays for the line
      case 'rmw':
        bump(cLockedRmw);
        return P.locked_rmw_ns + write(c, loc);
      case 'mb':
        bump(cFences);
        return P.fence_ns;
      case 'serialize':
        if (op.site.fn === 'sync_core') {
          count('sync_core');
          return P.sync_core_ns;
        }
        if (op.site.fn.includes('IRET')) {
          count('iret');
          return P.iret_ns;
        }
        count('serialize');
        return P.serialize_ns;
      case 'cr3':
        if (op.site.fn === 'flush_tlb_local') {
          count('tlb_flush_full');
          return P.tlb_flush_full_ns;
        }
        count(op.flush ? 'cr3_write' : 'cr3_write_noflush');
        return op.flush ? P.cr3_write_ns : P.cr3_write_noflush_ns;
      case 'invlpg':
        count('invlpg');
        return P.invlpg_ns;
      case 'raise':
        count('ipis');
        return op.maskNext ? P.ipi_send_mask_extra_ns : P.ipi_send_ns;
      default:
        return P.step_ns;
    }
  };

  let evNs = 0;
  const eventOf = new Map<string, { ns: number; counter: { name: string; n: number } }>();
  for (const [name, ns] of eventCost) eventOf.set(name, { ns, counter: counter(name) });
  const sink = (name: string): void => {
    const ev = eventOf.get(name);
    if (ev !== undefined) {
      evNs += ev.ns;
      bump(ev.counter);
    }
  };

  /** The time the lowest pending vector (the one the machine takes next) becomes deliverable. */
  const gate = (c: number, pending: number): number => {
    const v = 31 - Math.clz32(pending & -pending);
    return deliver[c]!.get(v) ?? 0;
  };
  // What each CPU can do, probed from the machine between two steps (Machine.enabled()
  // is pure: probing once after a step and reading the probe until the next is the same
  // as asking again). hNow: the handlers running (-1: no context); enIrq: the interrupt
  // process is enabled (asked only where it matters: a handler runs, or an interrupt is
  // pending with interrupts on); enCpu: the task's process is enabled (asked with no handler).
  const hNow = new Int32Array(n);
  const pendNow = new Int32Array(n);
  const irqOnNow = new Uint8Array(n);
  const enIrq = new Uint8Array(n);
  const enCpu = new Uint8Array(n);
  const probe = (c: number): void => {
    const h = m.cpuHandlers(c);
    const pending = m.cpuPending(c);
    const irqOn = m.cpuIrqOn(c);
    hNow[c] = h;
    pendNow[c] = pending;
    irqOnNow[c] = irqOn ? 1 : 0;
    enIrq[c] = (h > 0 || (pending !== 0 && irqOn)) && m.enabled(procIrq(c)) ? 1 : 0;
    enCpu[c] = h === 0 && m.enabled(procCpu(c)) ? 1 : 0;
  };
  /** Can CPU c take a step at its own clock (from its probe)? */
  const nowAble = (c: number): boolean => {
    if (hNow[c]! > 0) return enIrq[c] === 1;
    if (pendNow[c] !== 0 && irqOnNow[c] && enIrq[c] && gate(c, pendNow[c]!) <= clock[c]!) return true;
    return enCpu[c] === 1;
  };
  const markStalls = (): void => {
    for (let c = 0; c < n; c++) {
      if (stalled[c] || nowAble(c)) continue;
      stalled[c] = 1;
      stalledIrq[c] = hNow[c]! > 0 ? 1 : 0;
      stalledKind[c] = waitKind(hNow[c]! >= 0 ? m.cpuOp(c) : null);
    }
  };
  const waitUntil = (c: number, t: number): void => {
    if (t <= clock[c]!) return;
    const d = t - clock[c]!;
    waited[c] = 1;
    if (stalledIrq[c]) cpus[c]!.irqNs += d;
    else if (stalledKind[c] === 'spin') cpus[c]!.spinNs += d;
    else cpus[c]!.idleNs += d;
    if (trackTimeline) pushTl(c, clock[c]!, t, stalledIrq[c] ? 'irq' : stalledKind[c]!);
    clock[c] = t;
  };

  let steps = 0;
  const prevSink = kernelEvents.sink;
  kernelEvents.sink = sink;
  const hasCode = program.codeLocs.length > 0;
  try {
    for (let c = 0; c < n; c++) probe(c);
    markStalls();
    for (;;) {
      // The next step: the CPU whose next step starts first.
      let best = -1;
      let bestT = Infinity;
      let bestIrq = false;
      for (let c = 0; c < n; c++) {
        let t = Infinity;
        let irq = false;
        if (hNow[c]! > 0) {
          if (enIrq[c]) {
            t = clock[c]!;
            irq = true;
          }
        } else {
          const irqOk = pendNow[c] !== 0 && irqOnNow[c] === 1 && enIrq[c] === 1;
          const g = irqOk ? Math.max(clock[c]!, gate(c, pendNow[c]!)) : Infinity;
          if (irqOk && g <= clock[c]!) {
            t = g;
            irq = true;
          } else if (enCpu[c]) {
            t = clock[c]!;
          } else if (irqOk) {
            t = g;
            irq = true;
          }
        }
        if (t < bestT) {
          bestT = t;
          best = c;
          bestIrq = irq;
        }
      }
      if (best < 0) {
        if (m.quiescent()) break;
        throw new SimDeadlock(Math.max(...clock), m.blockedWaits());
      }
      if (++steps > stepsMax) throw new SimCutShort(stepsMax);
      const c = best;
      waitUntil(c, bestT);
      stalled[c] = 0;
      const handlers = hNow[c]!;
      const inIrq = handlers > 0 || bestIrq;
      const proc = bestIrq ? procIrq(c) : procCpu(c);
      const op = handlers > 0 || !bestIrq ? m.cpuOp(c) : null;
      let vector = -1;
      if (bestIrq && handlers === 0) {
        const pending = pendNow[c]!;
        vector = 31 - Math.clz32(pending & -pending);
        deliver[c]!.delete(vector);
      }
      evNs = 0;
      try {
        m.step(proc);
      } catch (e) {
        if (e instanceof BoundExceeded) throw new SimCutShort(steps);
        throw e;
      }
      let cost = evNs + m.stepWalks * P.page_walk_ns;
      if (m.stepWalks > 0) count('page_walks', m.stepWalks);
      // Memory-level parallelism: what closes the window before this op's own cost.
      if (op === null || (waited[c] && op.k !== 'await') || (op.k !== 'ld' && op.k !== 'await' && op.k !== 'st' && op.k !== 'nop' && op.k !== 'irq')) mlpStart[c] = -1;
      else mlpOps[c]++;
      if (op === null) {
        cost += P.irq_entry_ns;
        count('interrupts');
        cpus[c]!.interrupts++;
        if (raisedVec[c]!.has(vector)) cpus[c]!.ipisTaken++;
      } else {
        cost += opCost(c, op, m.stepLoc, clock[c]! + cost);
        if (op.k === 'raise') {
          cpus[c]!.ipisSent++;
          raisedVec[op.cpu]!.add(op.vector);
        }
      }
      // The store buffer drains at once; the line becomes the storing CPU's, but the store
      // buffer hides the ownership request's latency (the next reader pays its transfer).
      // Code is fetched when due.
      for (let guard = 0; m.cpuBuffered(c) > 0; guard++) {
        evNs = 0;
        m.step(procFlush(c));
        write(c, m.stepLoc);
        if (guard > 1_000_000) throw new Error('internal: a store buffer that does not drain');
      }
      if (hasCode && m.enabled(procFetch(c))) {
        m.step(procFetch(c));
        cost += P.step_ns;
      }
      waited[c] = 0;
      const from = clock[c]!;
      clock[c] = from + cost;
      cpus[c]!.steps++;
      if (inIrq) cpus[c]!.irqNs += cost;
      else cpus[c]!.busyNs += cost;
      if (trackTimeline) pushTl(c, from, clock[c]!, inIrq ? 'irq' : 'busy');
      if (op !== null && op.k === 'raise') {
        const at = clock[c]! + P.ipi_latency_ns;
        const d = deliver[op.cpu]!;
        if (!d.has(op.vector)) d.set(op.vector, at);
      }
      // Loop iterations begun in this step.
      for (let t = 0; t < marks.length; t++) {
        if (marks[t] !== seen[t]) {
          seen[t] = marks[t]!;
          markTimes[t]!.push(clock[c]!);
        }
      }
      // CPUs this step let go on resume now.
      for (let d = 0; d < n; d++) probe(d);
      const T = clock[c]!;
      for (let d = 0; d < n; d++) {
        if (d !== c && stalled[d] && nowAble(d)) {
          waitUntil(d, T);
          stalled[d] = 0;
          waited[d] = 1;
        }
      }
      markStalls();
    }
  } finally {
    kernelEvents.sink = prevSink;
  }
  const totalNs = Math.max(0, ...clock);
  for (let c = 0; c < n; c++) {
    cpus[c]!.idleNs += totalNs - clock[c]!;
    pushTl(c, clock[c]!, totalNs, 'idle');
  }
  const threads: SimThread[] = [];
  for (let t = 0; t < marks.length; t++) {
    if (marks[t] === 0) continue;
    threads.push({ thread: t, iterations: marks[t]!, perIterationNs: perIteration(markTimes[t]!, totalNs) });
  }
  const looping = threads.filter((t) => t.perIterationNs !== null);
  const perIterationNs = looping.length > 0 ? looping.reduce((s, t) => s + t.perIterationNs!, 0) / looping.length : null;
  // The timeline window: one iteration of the first looping thread, in its steady state.
  let timelineWindow: [number, number] | null = null;
  if (trackTimeline && threads[0]) {
    // The middle iteration (the last complete one when the timeline kept only the run's end).
    const ts = markTimes[threads[0].thread]!;
    let i = Math.floor((ts.length - 1) / 2);
    if (timeline.length > 0 && ts[i]! < timeline[0]!.from) i = ts.length - 2;
    if (i >= 0 && ts.length >= 2) timelineWindow = [ts[i]!, ts[i + 1]!];
  }
  const tl = timelineWindow ? timeline.filter((x) => x.to > timelineWindow![0] && x.from < timelineWindow![1]) : [];
  const counts: Record<string, number> = {};
  for (const r of counted) counts[r.name] = r.n;
  return { totalNs, steps, perIterationNs, threads, cpus, counts, timeline: tl, timelineWindow };
}

/**
 * Time per iteration from the times iterations began: the mean over the iterations after
 * the first tenth (the warm-up: cold caches and TLBs, the first blocks), from the start
 * of the first counted one to the start of the last; one iteration: the whole run.
 */
export function perIteration(starts: readonly number[], totalNs: number): number | null {
  const k = starts.length;
  if (k === 0) return null;
  if (k === 1) return totalNs - starts[0]!;
  const w = Math.min(Math.floor((k - 1) / 10), k - 2);
  return (starts[k - 1]! - starts[w]!) / (k - 1 - w);
}
