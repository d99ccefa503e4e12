// Stateless exploration with dynamic partial-order reduction.
//
// Algorithm: Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas,
// "Optimal dynamic partial order reduction", POPL 2014, Algorithm 1), over the
// machine's processes (CPU, store-buffer drain and interrupt entry of each CPU).
// Each execution is replayed from the initial state along the chosen prefix
// (generators cannot be copied: the code alone runs to the last checkpoint of the
// machine, CHECKPOINT_EVERY, and the steps after it in full), then extended by always taking the lowest
// enabled process that is not asleep. Happens-before is tracked with vector
// clocks; two events conflict when their footprints touch the same location and
// one writes it (a CPU's load and its own store-buffer drain commute). A race
// (e, e') is reversed by adding an initial of notdep(e).e' to the backtrack set
// at e, if no such initial is already there or asleep; initials that are not
// enabled at e make the race irreversible (e.g. an await that e's write enabled).

import { ACC_F, ACC_M, ACC_R, AssertionFailed, BoundExceeded, CodeLog, cpuOfProc, Interner, procCpu, procFetch, procFlush, PROCS_PER_CPU, type Checkpoint, type Machine } from '../machine/machine.js';
import type { Program } from '../litmus/program.js';
import { Collector } from './collector.js';
import { freshRun, type Run } from './run.js';
import type { ExploreOptions, ExploreResult } from './types.js';
import { memoryReason, packedKeyBytes } from './memory.js';

/** The footprint object of an entry, race-only (negative, raceOnly()) or not. */
const objOf = (x: number): number => (x < 0 ? ~x : x) >> 2;

/** Do two steps conflict (race, and happen in order)? Race-only entries count. */
export function dependent(fa: readonly number[], pa: number, fb: readonly number[], pb: number): boolean {
  return conflict(fa, pa, fb, pb, true);
}

/**
 * Does step b wake the sleeping step a: do the two not commute? Race-only entries
 * (raceOnly() in src/machine/machine.ts) do not count: they order two steps that
 * commute, for the sake of a third process, and keeping a asleep after b loses no
 * run: b.a and a.b reach the same state, and the runs starting with a were explored.
 */
export function wakes(fa: readonly number[], pa: number, fb: readonly number[], pb: number): boolean {
  return conflict(fa, pa, fb, pb, false);
}

/** Has the footprint a race-only read (a forwarded load, raceOnly()), whose entries depend on the state? */
function stateDependent(f: readonly number[]): boolean {
  for (let i = 0; i < f.length; i++) if (f[i]! < 0 && (~f[i]! & 3) === ACC_R) return true;
  return false;
}

function conflict(fa: readonly number[], pa: number, fb: readonly number[], pb: number, raceOnlyToo: boolean): boolean {
  for (let i = 0; i < fa.length; i++) {
    let x = fa[i]!;
    if (x < 0) {
      if (!raceOnlyToo) continue;
      x = ~x;
    }
    for (let j = 0; j < fb.length; j++) {
      let y = fb[j]!;
      if (y < 0) {
        if (!raceOnlyToo) continue;
        y = ~y;
      }
      if (x >> 2 !== y >> 2) continue;
      const ma = x & 3;
      const mb = y & 3;
      // Reads commute: loads, and page walks that read memory past the store buffer.
      if ((ma === ACC_R || ma === ACC_M) && (mb === ACC_R || mb === ACC_M)) continue;
      // (Only CPU and drain processes read and drain memory locations: cpuOfProc() is their CPU.)
      if (((ma === ACC_R && mb === ACC_F) || (ma === ACC_F && mb === ACC_R)) && cpuOfProc(pa) === cpuOfProc(pb)) continue;
      return true;
    }
  }
  return false;
}

const lowestBit = (m: number): number => 31 - Math.clz32(m & -m);

/** Two footprints with the same entries in the same order. */
function sameFoot(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function popcount(m: number): number {
  let n = 0;
  for (let v = m >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}

/**
 * The search is a tree of tasks. A task is the subtree under a node (its prefix: the
 * choices from the initial state), searched by Source-DPOR with the nodes above it
 * explored in full: every enabled process not asleep is a branch there, so no race
 * found below the node needs a branch above it. The root task is the whole search. A
 * task that has taken FREEZE_AFTER_STEPS steps since it started or last froze, and
 * still has runs to do, freezes: the shallowest node of its subtree with a backtrack
 * entry not yet explored, and the nodes above it, become nodes explored in full; each
 * awake branch not yet taken at one of them is a task of its own (a child), with the
 * sleep set the branches taken before it give it, and the task goes on below that
 * node. Sleep sets still keep one execution per equivalence class: a freeze changes
 * how many runs end sleep-set-blocked and how many steps are taken, not the executions
 * or the graphs. The search's order is the tree's pre-order (a task, then its children
 * in order); whether and where a task freezes depends on the program, the bounds and
 * its own steps alone, so the search run in one thread, on several threads
 * (src/explore/parallel.ts) or on several machines (shards, merged by
 * src/explore/merge.ts) is the same search, task by task.
 */
export const FREEZE_AFTER_STEPS = 250_000;

/**
 * The run keeps the machine's state (Machine.checkpoint()) at every CHECKPOINT_EVERY-th
 * depth: going back to depth d, a fresh machine runs the code alone to the last such depth
 * at or above d (Machine.replayCode(), with the results the run's steps logged) and takes
 * the steps from there to d in full. A checkpoint at every depth would cost more than the
 * steps it saves (it copies the machine's data; a step changes a few numbers of it).
 */
export const CHECKPOINT_EVERY = 4;

/** A task of the search (plain data: it crosses threads and files). */
export interface TaskSpec {
  /** Its place in the tree: '' for the root, then each child's index ('0', '0.3'). */
  id: string;
  /** The choices from the initial state to its root. */
  prefix: number[];
  /** At each node of the prefix, the branches taken before the prefix's choice there. */
  before: number[];
  /** The share of the whole search it stands for, as the progress line counts it. */
  weight: number;
}

export const ROOT_TASK: TaskSpec = { id: '', prefix: [], before: [], weight: 1 };

/** Pre-order of two tasks' ids. */
export function compareTaskIds(a: string, b: string): number {
  const x = a === '' ? [] : a.split('.').map(Number);
  const y = b === '' ? [] : b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** What the search of some tasks found, kept by the caller between tasks. */
export interface DporState {
  col: Collector;
  interner: Interner;
  internedBase: number;
  steps: number;
  executions: number;
  sleepBlocked: number;
  runs: number;
  incompleteReason: string | null;
  /** A bound stopped the search (the tasks after are not run). */
  stopped: boolean;
}

/** `journal`: keep a journal of graphs, with the runs of this many beyond the witnesses per kind (a task searched apart). */
export function newDporState(prop: (v: readonly number[]) => boolean, opts: ExploreOptions, journal: number | null = null): DporState {
  const interner = opts.interner ?? new Interner();
  const col = new Collector(prop, opts.onGraph, opts.witnessesMax ?? 1, packedKeyBytes, journal);
  return { col, interner, internedBase: interner.bytes, steps: 0, executions: 0, sleepBlocked: 0, runs: 0, incompleteReason: null, stopped: false };
}

export function memoryOf(st: DporState): number {
  return st.col.bytes + st.interner.bytes - st.internedBase;
}

/**
 * Before a run that is still to do: does a bound stop the search here? (Only a run
 * still to do makes a bound cut the search short.)
 */
export function boundStops(st: DporState, bounds: ExploreOptions['bounds']): boolean {
  if (st.runs >= bounds.executionsMax) {
    st.incompleteReason ??= `the search stopped after ${bounds.executionsMax} executions (executions_max)`;
    st.stopped = true;
  } else if (memoryOf(st) > bounds.memoryMax) {
    st.incompleteReason ??= memoryReason(bounds.memoryMax, st.executions);
    st.stopped = true;
  }
  return st.stopped;
}

export function exploreDpor(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions): ExploreResult {
  const st = newDporState(prop, opts);
  searchTree(program, opts, st, [ROOT_TASK]);
  return dporResult(st);
}

/**
 * Searches the tasks and the children they freeze into, in the search's order
 * (pre-order), straight into `st`; stops where a bound stops the search.
 */
export function searchTree(program: Program, opts: ExploreOptions, st: DporState, tasks: readonly TaskSpec[]): void {
  const stack = [...tasks].reverse();
  let doneShare = 0;
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t.id !== '' && boundStops(st, opts.bounds)) return;
    const kids = runTask(program, opts, st, t, (share) => doneShare + t.weight * share);
    if (st.stopped) return;
    doneShare += t.weight - kids.reduce((a, k) => a + k.weight, 0);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
}

export function dporResult(st: DporState): ExploreResult {
  return {
    ...st.col.found(),
    reduction: true,
    executions: st.executions,
    sleepBlocked: st.sleepBlocked,
    interleavings: null,
    states: null,
    steps: st.steps,
    memoryBytes: memoryOf(st),
    complete: st.incompleteReason === null,
    incompleteReason: st.incompleteReason,
  };
}

/**
 * Searches one task: replays its prefix (the nodes above it, each explored in full,
 * with the branches taken there before marked done), then runs Source-DPOR on the
 * subtree under it. Adds what it finds to `st`. Returns the children it froze into
 * (FREEZE_AFTER_STEPS), in the search's order, or none when it finished (or a bound
 * stopped it).
 */
export function runTask(program: Program, opts: ExploreOptions, st: DporState, task: TaskSpec, overall: (share: number) => number = (s) => s, afterRun?: () => void, onChildren?: (batch: TaskSpec[]) => void): TaskSpec[] {
  const { prefix, before } = task;
  const { col, interner } = st;
  let run: Run = freshRun(program, interner);
  // What the run's steps gave the code (logAt[d]: where the numbers of the first d steps
  // end), and the machine at every CHECKPOINT_EVERY-th depth, for code-only replays.
  const codeOnly = opts.codeOnlyReplay !== false;
  const log = new CodeLog();
  const logAt: number[] = [0];
  const checkpoints: Checkpoint[] = [];
  if (codeOnly) run.machine.codeLog = log;
  /**
   * Brings `m`, a fresh machine, to the state after the current run's first n events:
   * the code alone to the deepest checkpoint at or above n, then the steps in full.
   */
  const replayTo = (m: Machine, n: number, logging: boolean): void => {
    const c = codeOnly ? n - (n % CHECKPOINT_EVERY) : 0;
    if (c > 0) m.replayCode(chosen, c, log, logAt[c]!, checkpoints[c]!);
    if (logging) {
      m.codeLog = log;
      if (log.nums.length !== logAt[c]) log.nums.length = logAt[c]!;
    }
    for (let k = c; k < n; k++) {
      m.step(chosen[k]!);
      if (logging) logAt[k + 1] = log.nums.length;
    }
  };
  /** x86: a load can be forwarded from its own store buffer (openNode()). */
  const tso = run.machine.tso;
  const P = run.machine.procCount;
  // Processes whose next step another process's step can withdraw or change rather
  // than just delay: the instruction fetches (one per CPU, scenarios with code) and
  // the page walkers and cache evictors (after every CPU's four processes, scenarios
  // with user pages), whose step also changes target.
  let walkerProcs = 0;
  for (let p = program.nCpus * PROCS_PER_CPU; p < P; p++) walkerProcs |= 1 << p;
  let volatileProcs = walkerProcs;
  if ((program.codeLocs ?? []).length > 0) for (let c = 0; c < program.nCpus; c++) volatileProcs |= 1 << procFetch(c);
  const { stepsMax } = opts.bounds;
  const progressEvery = opts.progressEvery ?? 10_000;
  // The nodes above the task's root: explored in full, never backtracked into here.
  let floor = prefix.length;
  let lastFreeze = st.steps;
  const freezeAfter = opts.freezeAfterSteps ?? FREEZE_AFTER_STEPS;
  /** The children it froze into, in order. */
  const kids: TaskSpec[] = [];

  // Per event (index = depth of the state before it).
  const chosen: number[] = [];
  const feet: number[][] = [];
  const clocks: Int32Array[] = [];
  const seq: number[] = [];
  // Per node (the state before event d).
  const enabledAt: number[] = [];
  const backtrack: number[] = [];
  const done: number[] = [];
  const sleep: number[] = [];
  const nodeFeet: (number[] | undefined)[][] = [];
  const lastIdx = new Int32Array(P).fill(-1);
  /**
   * Task steps that an interrupt entry withdrew, in the current run: the entry's depth,
   * the task's process and the footprint its next step had then. The handler may change
   * that step (an INVLPG turns a TLB hit into a miss), so the step the task takes after
   * it is not the one it could have taken before the entry; the later events that
   * conflict with the withdrawn step, and do not happen after the entry, race with the
   * entry on its behalf (withdrawnRaces()).
   */
  const withdrawn: { d: number; q: number; foot: number[] }[] = [];
  // A new event's clock without its enabling edges (scanRaces), and a blocked process's
  // full clock (blockedRaces): scratch, reused (allocating typed arrays per step costs).
  const clkScratch = new Int32Array(P);
  const fullScratch = new Int32Array(P);
  let depth = 0;
  // Per footprint object, the events of the current run that touch it, in order: triples
  // (index, stamp, skip). An index that a later run reuses has a new stamp, so an entry left
  // by an abandoned run is told apart (they are all at a list's end) and dropped when met.
  // `skip` is the position of the latest earlier entry of another process (-3 if none): a
  // scan for the races of a process passes over its own events (most of a list) at once.
  const touch: number[][] = [];
  const stamp: number[] = [];
  let stamps = 0;
  // Per footprint object, the processes that have touched it in any run of this task (a
  // superset of those in its live list): a scan of the list can stop once each of them
  // other than the scanning process has an event that happens before the scanned one.
  const objProcs: number[] = [];
  /** The live list of object o (its entries from abandoned runs dropped), if any. */
  const touching = (o: number): number[] | undefined => {
    const l = touch[o];
    if (l === undefined) return undefined;
    let n = l.length;
    while (n > 0 && (l[n - 3]! >= depthLimit || stamp[l[n - 3]!] !== l[n - 2])) n -= 3;
    if (n !== l.length) l.length = n;
    return l;
  };
  /** Events at depthLimit or deeper are not in the current run (set before each scan). */
  let depthLimit = 0;
  const record = (d: number, foot: readonly number[]): void => {
    stamp[d] = ++stamps;
    depthLimit = d;
    for (let a = 0; a < foot.length; a++) {
      const o = objOf(foot[a]!);
      const l = touching(o) ?? (touch[o] = []);
      const last = l.length - 3;
      if (last >= 0 && l[last] === d) continue; // an object twice in one footprint
      l.push(d, stamps, last < 0 ? -3 : chosen[l[last]!] !== chosen[d] ? last : l[last + 2]!);
      objProcs[o] = (objProcs[o] ?? 0) | (1 << chosen[d]!);
    }
  };
  // The lists of a footprint's objects and a read position in each, for merging them.
  const mergeLists: number[][] = [];
  const mergePos: number[] = [];
  /**
   * The events from index `from` on that touch an object of `foot`, latest first, each
   * once: the objects' lists merged (a footprint has a few objects). Events of process p
   * and events that happen before the clock clk are left out: no race with them.
   */
  const candidates = (foot: readonly number[], from: number, p: number, clk: Int32Array): number[] => {
    let k = 0;
    let need = 0;
    for (let a = 0; a < foot.length; a++) {
      const o = objOf(foot[a]!);
      const l = touching(o);
      if (l === undefined || l.length === 0) continue;
      need |= objProcs[o]!;
      mergeLists[k] = l;
      mergePos[k++] = l.length - 3;
    }
    need &= ~(1 << p);
    // Processes with an event that happens before clk: their earlier events do too.
    let covered = 0;
    const out: number[] = [];
    for (;;) {
      let best = -1;
      for (let j = 0; j < k; j++) {
        const l = mergeLists[j]!;
        let at = mergePos[j]!;
        if (at >= 0 && chosen[l[at]!] === p) mergePos[j] = at = l[at + 2]!;
        if (at >= 0 && l[at]! > best) best = l[at]!;
      }
      if (best < from) break;
      const q = chosen[best]!;
      if (clk[q]! < seq[best]!) out.push(best);
      else if (((covered |= 1 << q) & need) === need) break;
      for (let j = 0; j < k; j++) if (mergePos[j]! >= 0 && mergeLists[j]![mergePos[j]!] === best) mergePos[j]! -= 3;
    }
    return out;
  };


  const openNode = (d: number, sl: number, sf: (number[] | undefined)[]): void => {
    enabledAt[d] = run.machine.enabledMask();
    // A sleeping process whose footprint depends on the state (a race-only read: a load
    // its store buffer forwards, so only on x86) is independent of a step only as it is now.
    if (tso) for (let m2 = sl; m2 !== 0; m2 &= m2 - 1) {
      const q = lowestBit(m2);
      if (stateDependent(sf[q]!) && (enabledAt[d]! & (1 << q)) !== 0) sf[q] = run.machine.footprint(q);
    }
    backtrack[d] = 0;
    done[d] = 0;
    sleep[d] = sl;
    nodeFeet[d] = sf;
  };

  /** Progress's share of the task done: at each node of the run below the root, the branches finished out of those known. */
  const shareDone = (): number => {
    let share = 0;
    let weight = 1;
    for (let d = floor; d < depth; d++) {
      const known = popcount(done[d]! | (backtrack[d]! & enabledAt[d]! & ~sleep[d]!));
      share += (weight * (popcount(done[d]!) - 1)) / known;
      weight /= known;
    }
    return Math.min(1, share + weight); // the run that just ended is finished too
  };

  /** Returns false when the race cannot be reversed (no initial of v is enabled before e_i). */
  const handleRace = (i: number, d: number, p: number, clkD: Int32Array): boolean => {
    const qi = chosen[i]!;
    const si = seq[i]!;
    // v = notdep(e_i).e_d: the events after e_i that do not happen after it, then e_d.
    const vs: number[] = [];
    for (let k = i + 1; k < d; k++) if (clocks[k]![qi]! < si) vs.push(k);
    vs.push(d);
    let initials = 0;
    for (let a = 0; a < vs.length; a++) {
      const k = vs[a]!;
      const pk = k === d ? p : chosen[k]!;
      if (initials & (1 << pk)) continue;
      const ck = k === d ? clkD : clocks[k]!;
      let isInitial = true;
      for (let b = 0; b < a; b++) {
        const u = vs[b]!;
        if (ck[chosen[u]!]! >= seq[u]!) {
          isInitial = false;
          break;
        }
      }
      if (isInitial) initials |= 1 << pk;
    }
    initials &= enabledAt[i]!;
    if (initials === 0) return false;
    if (initials & (backtrack[i]! | sleep[i]!)) return true;
    backtrack[i]! |= 1 << (initials & (1 << p) ? p : lowestBit(initials));
    return true;
  };

  /**
   * Does no event of notdep(e_i) before e_d conflict with e_d or drain its CPU's
   * store buffer? Then nothing in it can change whether p is enabled, and p's
   * enabledness before e_i decides.
   */
  const quietBetween = (i: number, d: number, p: number, foot: number[]): boolean => {
    const qi = chosen[i]!;
    const si = seq[i]!;
    const ownFlush = procFlush(run.machine.cpuOf(p));
    for (let k = i + 1; k < d; k++) {
      if (clocks[k]![qi]! >= si) continue;
      // A drain of p's own store buffer can enable p's fence or locked op.
      if (chosen[k] === ownFlush || dependent(feet[k]!, chosen[k]!, foot, p)) return false;
    }
    return true;
  };

  /**
   * Is e_d (process p) enabled after E' . notdep(e_i) without e_i itself? Decided by
   * replaying that sequence; needed only for a blocking event (await, interrupt
   * entry) when events between e_i and e_d may change whether it is enabled.
   */
  const enabledWithout = (i: number, d: number, p: number): boolean => {
    const qi = chosen[i]!;
    const si = seq[i]!;
    const probe = freshRun(program, interner);
    try {
      replayTo(probe.machine, i, false);
      st.steps += i;
      try {
        for (let k = i + 1; k < d; k++) {
          if (clocks[k]![qi]! >= si) continue;
          const pk = chosen[k]!;
          if (!probe.machine.enabled(pk)) return false;
          probe.machine.step(pk);
          st.steps++;
        }
      } catch (e) {
        // The reordered run exceeds a bound or fails an assertion: explore it, it ends there.
        if (e instanceof BoundExceeded || e instanceof AssertionFailed) return true;
        throw e;
      }
      return probe.machine.enabled(p);
    } finally {
      probe.machine.recycle();
    }
  };

  /** Races of event e_d (process p, footprint foot) with the events before it. */
  const scanRaces = (d: number, p: number, foot: number[], mayBlock: boolean, prev: number, clk: Int32Array, full: Int32Array): void => {
    const bit = 1 << p;
    // Races with events above the task's root need no branch there: every one is
    // explored. Only events that touch an object of the footprint can be dependent;
    // they are taken latest first.
    depthLimit = d;
    const cands = candidates(foot, floor, p, clk);
    for (let c = 0; c < cands.length; c++) {
      const i = cands[c]!;
      const q = chosen[i]!;
      // clk grows as races are handled: an event may happen before e_d by now.
      if (clk[q]! >= seq[i]!) continue;
      if (!dependent(feet[i]!, q, foot, p)) continue;
      const reversible = !mayBlock || (prev < i && quietBetween(i, d, p, foot) ? (enabledAt[i]! & bit) !== 0 : enabledWithout(i, d, p));
      if (reversible && handleRace(i, d, p, full)) joinInto(clk, clocks[i]!);
    }
  };

  /**
   * Event e_d against the task steps interrupt entries withdrew before it: a withdrawn
   * step that conflicts with e_d could have run before the entry, and then before e_d if
   * e_d does not happen after the entry. The run the task took after the handler does not
   * show that race when the handler changed the step (a TLB hit that the handler's INVLPG
   * turned into a miss conflicts with a flush's completion; the miss does not). So the
   * race is reversed at the entry: notdep(entry).e_d goes first there, and the withdrawn
   * step can then follow e_d before the entry.
   */
  const withdrawnRaces = (d: number, p: number, foot: number[], full: Int32Array): void => {
    for (let r = 0; r < withdrawn.length; r++) {
      const w = withdrawn[r]!;
      if (w.d >= d || w.q === p) continue;
      if (full[chosen[w.d]!]! >= seq[w.d]!) continue; // e_d happens after the entry
      if (dependent(w.foot, w.q, foot, p)) handleRace(w.d, d, p, full);
    }
  };

  /**
   * At the end of a run, a process that is still blocked (an await whose value
   * never came, a handler that never ran) has a next event the run never took:
   * its races with the run are reversed like those of executed events, so that
   * the runs where it goes first are explored too.
   */
  const blockedRaces = (): void => {
    const m = run.machine;
    for (let p = 0; p < P; p++) {
      if (!m.blocked(p)) continue;
      const foot = m.footprint(p);
      const prev = lastIdx[p]!;
      const clk = clkScratch;
      if (prev >= 0) clk.set(clocks[prev]!);
      else clk.fill(0);
      clk[p] = prev >= 0 ? seq[prev]! + 1 : 1;
      const full = fullScratch;
      full.set(clk);
      hbScan(depth, p, foot, full);
      scanRaces(depth, p, foot, true, prev, clk, full);
    }
  };

  const hbScan = (d: number, p: number, foot: number[], full: Int32Array): void => {
    depthLimit = d;
    // Joins are monotone: the order of the events does not matter here.
    for (let a = 0; a < foot.length; a++) {
      const o = objOf(foot[a]!);
      const l = touching(o);
      if (l === undefined) continue;
      // The list can be left once every other process that touched the object has an
      // event in it that happens before e_d (then so do its earlier ones).
      const need = objProcs[o]! & ~(1 << p);
      let covered = 0;
      for (let b = l.length - 3; b >= 0; b -= 3) {
        let i = l[b]!;
        if (chosen[i] === p) {
          b = l[b + 2]!;
          if (b < 0) break;
          i = l[b]!;
        }
        const q = chosen[i]!;
        if (full[q]! < seq[i]!) {
          if (!dependent(feet[i]!, q, foot, p)) continue;
          joinInto(full, clocks[i]!);
        }
        if (((covered |= 1 << q) & need) === need) break;
      }
    }
  };

  /** Takes the step; false if it exceeded a machine bound (the run is cut). */
  const stepAt = (d: number, p: number): boolean => {
    const m = run.machine;
    const bit = 1 << p;
    backtrack[d]! |= bit;
    done[d]! |= bit;
    chosen[d] = p;
    const foot = m.footprint(p);
    // Only an interrupt entry or an await can be enabled by another process's step.
    const mayBlock = m.mayBlock(p);
    feet[d] = foot;
    nodeFeet[d]![p] = foot;
    // The next steps of the volatile processes this step may withdraw or change.
    const volatileBefore = volatileProcs & enabledAt[d]! & ~bit & ~sleep[d]!;
    // An interrupt entry stops the task of its CPU: keep the step the task could have taken.
    while (withdrawn.length > 0 && withdrawn[withdrawn.length - 1]!.d >= d) withdrawn.pop();
    if (m.entersInterrupt(p)) {
      const q = procCpu(m.cpuOf(p));
      if (enabledAt[d]! & (1 << q)) withdrawn.push({ d, q, foot: m.footprint(q) });
    }
    let volatileFeet: [number, number[] | null][] | null = null;
    for (let m2 = volatileBefore; m2 !== 0; m2 &= m2 - 1) {
      const q = lowestBit(m2);
      (volatileFeet ??= []).push([q, walkerProcs & (1 << q) ? m.footprint(q) : null]);
    }
    try {
      m.step(p);
    } catch (e) {
      if (e instanceof AssertionFailed) {
        // BUG_ON(): the kernel stops. The runs that reorder events after this point
        // are not all explored, so the search says so (the assertion stands).
        col.assertion(e.assertion, () => [...chosen.slice(0, d), p]);
        st.incompleteReason ??= `a run ended in BUG_ON (${e.assertion}); the runs around it are not all explored`;
        depth = d;
        return false;
      }
      if (!(e instanceof BoundExceeded)) throw e;
      st.incompleteReason ??= e.reason;
      depth = d;
      return false;
    }
    st.steps++;
    if (codeOnly) {
      logAt[d + 1] = log.nums.length;
      if ((d + 1) % CHECKPOINT_EVERY === 0) checkpoints[d + 1] = m.checkpoint(checkpoints[d + 1]);
    }
    // An instruction fetch that this step disabled (the task ran the code, or an
    // interrupt came in), or a page walk it disabled or retargeted (a CR3 write, a
    // fill by the CPU's own access), will never happen in this run as it was: explore
    // it here first.
    if (volatileFeet !== null) {
      const now = m.enabledMask();
      for (const [q, f] of volatileFeet) {
        if ((now & (1 << q)) === 0 || (f !== null && !sameFoot(m.footprint(q), f))) backtrack[d]! |= 1 << q;
      }
    }
    const clk = clkScratch;
    const prev = lastIdx[p]!;
    if (prev >= 0) clk.set(clocks[prev]!);
    else clk.fill(0);
    if (m.joinEvent >= 0) joinInto(clk, clocks[m.joinEvent]!);
    // A fence or locked op waited for its store buffer to drain: an enabling edge,
    // left out of the race scan (like the irreversible races below) because the
    // drained stores may exist only because of an event the op could precede.
    const drained = m.joinFlush ? lastIdx[procFlush(m.cpuOf(p))]! : -1;
    const s = prev >= 0 ? seq[prev]! + 1 : 1;
    seq[d] = s;
    clk[p] = s;
    // The full happens-before clock of e_d: program order, the store it drains,
    // the drains it waited for, and every earlier conflicting event.
    // The clock of the event at depth d of an abandoned run is not needed any more: its array is reused.
    const full = clocks[d] ?? new Int32Array(P);
    full.set(clk);
    if (drained >= 0) joinInto(full, clocks[drained]!);
    hbScan(d, p, foot, full);
    // Races with e_d, latest first, scanned with a clock that leaves out enabling
    // edges. An irreversible race (e_i enabled e_d: an interrupt entry after
    // local_irq_enable(), a task step after the handler that held its CPU, an
    // await after the write it waited for) and the drains a fence waited for do
    // not hide earlier events: the race to reverse is with the event that disabled
    // e_d's process (local_irq_disable(), the interrupt entry, the earlier write).
    scanRaces(d, p, foot, mayBlock, prev, clk, full);
    withdrawnRaces(d, p, foot, full);
    clocks[d] = full;
    lastIdx[p] = d;
    record(d, foot);
    // Sleep set of the child: sleeping and already-explored siblings whose next event is independent of this one.
    const sl = sleep[d]! | (done[d]! & ~bit);
    let childSleep = 0;
    const childFeet: (number[] | undefined)[] = new Array(P);
    for (let m2 = sl; m2 !== 0; m2 &= m2 - 1) {
      const q = lowestBit(m2);
      const fq = nodeFeet[d]![q]!;
      if (!wakes(fq, q, foot, p)) {
        childSleep |= 1 << q;
        childFeet[q] = fq;
      }
    }
    depth = d + 1;
    openNode(depth, childSleep, childFeet);
    return true;
  };

  const choices = (): number[] => chosen.slice(0, depth);

  /** The run's WARN_ON()s: each is a failed kernel assertion of this run. */
  const recordWarnings = (): void => {
    for (const w of run.instance.warnings()) col.assertion(w, choices);
  };

  let cut = false; // the current run was cut by a machine bound
  openNode(0, 0, new Array(P));
  // The prefix: at each node above the root, the branches before the prefix's choice
  // are explored (by the tasks before this one) and every branch is in the backtrack set.
  for (let i = 0; i < floor && !cut; i++) {
    const p = prefix[i]!;
    const avail = enabledAt[i]! & ~sleep[i]!;
    backtrack[i] = avail;
    done[i] = before[i]! & avail;
    for (let m2 = done[i]!; m2 !== 0; m2 &= m2 - 1) nodeFeet[i]![lowestBit(m2)] = run.machine.footprint(lowestBit(m2));
    cut = !stepAt(i, p);
  }
  for (;;) {
    // Extend the current execution to its end.
    while (!cut) {
      const en = enabledAt[depth]!;
      if (en === 0) {
        st.executions++;
        const m = run.machine;
        const q = m.quiescent();
        if (q) col.final(m.graphKey(), run.instance.observe(m.mem), choices);
        else {
          col.deadlock(choices);
          blockedRaces();
        }
        recordWarnings();
        opts.onRun?.(choices(), q ? 'final' : 'deadlock');
        break;
      }
      const avail = en & ~sleep[depth]!;
      if (avail === 0) {
        st.sleepBlocked++;
        blockedRaces();
        opts.onRun?.(choices(), 'sleep-blocked');
        break;
      }
      if (depth >= stepsMax) {
        st.incompleteReason ??= `an execution exceeded ${stepsMax} steps (steps_max)`;
        recordWarnings();
        opts.onRun?.(choices(), 'cut');
        break;
      }
      cut = !stepAt(depth, lowestBit(avail));
    }
    if (cut) {
      recordWarnings();
      opts.onRun?.(choices(), 'cut');
    }
    cut = false;
    st.runs++;
    afterRun?.();
    if (opts.onProgress && st.runs % progressEvery === 0) {
      opts.onProgress({ executions: st.executions, steps: st.steps, graphs: col.graphCount, share: overall(shareDone()) });
    }
    // Backtrack to the deepest node below the root's parent with an unexplored, enabled, awake backtrack entry.
    let d = depth;
    let cand = 0;
    while (d > floor) {
      d--;
      cand = backtrack[d]! & ~done[d]! & ~sleep[d]! & enabledAt[d]!;
      if (cand !== 0) break;
    }
    if (cand === 0) return kids;
    if (boundStops(st, opts.bounds)) return kids;
    if (st.steps - lastFreeze >= freezeAfter) {
      lastFreeze = st.steps;
      // Freeze: the shallowest node of the task's subtree where the search has a branch
      // still to take (the largest part of the work left) is explored in full from here
      // on, and each awake branch not yet taken there is a child task. The nodes above it
      // are explored in full from here on too (their awake branches not taken are
      // children as well, before its own: those are the large ones, and the workers take
      // the last first); the task goes on below it.
      let f = floor;
      while (f < d && (backtrack[f]! & ~done[f]! & ~sleep[f]! & enabledAt[f]!) === 0) f++;
      const batch: TaskSpec[] = [];
      // Per node above f, the branches taken before the current path's choice there.
      const above: number[] = before.slice(0, prefix.length);
      for (let j = prefix.length; j < f; j++) above.push(done[j]! & ~(1 << chosen[j]!));
      let weight = task.weight;
      const weights: number[] = [];
      for (let j = floor; j <= f; j++) {
        const known = popcount(done[j]! | (enabledAt[j]! & ~sleep[j]!));
        weights[j] = weight / known;
        weight /= known;
      }
      for (let j = floor; j <= f; j++) {
        let bf = done[j]!;
        for (let pend = enabledAt[j]! & ~sleep[j]! & ~done[j]!; pend !== 0; pend &= pend - 1) {
          const b = lowestBit(pend);
          batch.push({ id: `${task.id === '' ? '' : `${task.id}.`}${kids.length + batch.length}`, prefix: [...chosen.slice(0, j), b], before: [...above.slice(0, j), bf], weight: weights[j]! });
          bf |= 1 << b;
        }
      }
      kids.push(...batch);
      onChildren?.(batch);
      floor = f + 1;
      // The node it was going back to is the one frozen (f = d; the nodes below d have
      // nothing left): the task's part is done.
      if (d < floor) return kids;
    }
    // The run ends here: its machine's storage goes to the replay's (Machine.recycle()).
    run.machine.recycle();
    run = freshRun(program, interner);
    replayTo(run.machine, d, codeOnly);
    lastIdx.fill(-1);
    for (let k = 0; k < d; k++) lastIdx[chosen[k]!] = k;
    st.steps += d; // (each replayed step counted, whether its code alone ran or all of it)
    depth = d;
    cut = !stepAt(d, lowestBit(cand));
  }
}

function joinInto(a: Int32Array, b: Int32Array): void {
  for (let i = 0; i < a.length; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
}
