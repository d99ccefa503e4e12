// The hardware: CPUs, shared memory, per-CPU store buffers (x86-TSO) and a
// per-CPU interrupt controller. One Machine is one execution; the explorer builds
// a fresh one for every replay.
//
// Every nondeterministic step is taken by a *process*. Each CPU c has three:
//   procCpu(c)   - the CPU executes the next op of the task it runs;
//   procFlush(c) - the oldest entry of c's store buffer drains to memory (x86 only);
//   procIrq(c)   - c takes a pending interrupt, then executes the handler's ops
//                  until it returns; the task's process is stopped meanwhile.
// Handler steps belong to the interrupt process, not to the task's, so that the
// position where an interrupt lands is a choice the reduction reasons about like
// any other (both write the CPU's control word, so they conflict).
// A run is the list of process ids chosen at each step.

import type { CpuCode, HandlerCode, Op, OpSite } from './ops.js';
import { KeyPacker } from './packed-key.js';
import { INTERNED_ENTRY_BYTES } from '../explore/memory.js';

export type ModelName = 'sc' | 'x86';
export const MODELS: readonly ModelName[] = ['sc', 'x86'];

export const PROCS_PER_CPU = 4;
export const CPUS_MAX = 8; // processes are tracked in 32-bit masks
export const STORE_BUFFER_MAX = 64; // entries per CPU (x86 has 50-odd): a bound of the model

/** A kernel assertion (WARN_ON/BUG_ON in the model) failed during a step: a violation with its name. */
export class AssertionFailed extends Error {
  constructor(readonly assertion: string) {
    super(`kernel assertion failed: ${assertion}`);
    this.name = 'AssertionFailed';
  }
}

/** A step would exceed a bound of the machine: the run is cut and the search is incomplete. */
export class BoundExceeded extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'BoundExceeded';
  }
}
export const procCpu = (c: number): number => c * PROCS_PER_CPU;
export const procFlush = (c: number): number => c * PROCS_PER_CPU + 1;
export const procIrq = (c: number): number => c * PROCS_PER_CPU + 2;
/** The CPU's instruction fetch: brings in a newer version of the code it is about to run. */
export const procFetch = (c: number): number => c * PROCS_PER_CPU + 3;
export const cpuOfProc = (p: number): number => (p / PROCS_PER_CPU) | 0;
export const kindOfProc = (p: number): 'cpu' | 'flush' | 'irq' | 'fetch' =>
  (['cpu', 'flush', 'irq', 'fetch'] as const)[p % PROCS_PER_CPU]!;

/** Access modes in a footprint entry `(loc << 2) | mode`. */
export const ACC_R = 1;
export const ACC_W = 2;
export const ACC_F = 3; // a store-buffer drain: a memory write that commutes with its own CPU's loads

/** What the code running on the machine provides. */
export interface ProgramInstance {
  /** The code CPU `cpu` runs from the start, or null for an idle CPU. */
  task(cpu: number): CpuCode | null;
  /**
   * A fresh activation of interrupt handler `vector` on `cpu`. A handler that
   * returns PREEMPTED has switched the CPU to another task (schedule() on the way
   * out of the interrupt): the task context's pending op is withdrawn and the task
   * code is resumed with PREEMPTED instead of that op's result. A handler that
   * returns RSEQ_ABORTED sends the interrupted task to its rseq abort handler, the
   * same way.
   */
  handler(cpu: number, vector: number): HandlerCode;
  /** Interrupt vectors pending on `cpu` at the start (timer ticks). */
  initialPending?(cpu: number): number;
}

/** What a handler returns, and the task code receives, when the task is preempted. */
export const PREEMPTED = -0x7fff_fff0;
/** ... and when the task returns to user mode in an rseq critical section with an rseq event: it aborts. */
export const RSEQ_ABORTED = -0x7fff_fff1;

interface Ctx {
  gen: HandlerCode;
  op: Op | null; // null: this context has finished
  vector: number; // -1 for the task context
  withdraw?: number; // a handler that returned PREEMPTED or RSEQ_ABORTED: what the task receives instead
}

interface BufEntry {
  loc: number;
  val: number;
  wid: number; // write id
  ev: number; // index of the store event
}

interface Cpu {
  ctx: Ctx[];
  buf: BufEntry[];
  bufHead: number;
  irqOn: boolean;
  pending: number; // bitmask of pending vectors
  stores: number; // write ids issued
  hist: number; // interned history of this CPU's steps and results
  icache: number[]; // per code location (index into codeLocs): the version this CPU has fetched
}

/** Hash-consing of histories so that a CPU's whole past is one integer. */
export class Interner {
  private readonly table = new Map<string, number>();
  /** What the table holds, counted as the search's memory budget counts (src/explore/memory.ts). */
  bytes = 0;
  intern(parent: number, code: string): number {
    const key = `${parent}|${code}`;
    let id = this.table.get(key);
    if (id === undefined) {
      id = this.table.size + 1;
      this.table.set(key, id);
      this.bytes += INTERNED_ENTRY_BYTES + key.length;
    }
    return id;
  }
  get size(): number {
    return this.table.size;
  }
}

/** What a step did, for traces. */
export interface StepInfo {
  proc: number;
  cpu: number;
  kind: 'cpu' | 'flush' | 'irq' | 'fetch';
  op: string; // 'ld', 'st', 'mb', 'flush', 'irq-entry', 'irq-exit', ...
  fn: string;
  loc?: number;
  value?: number;
  /** 'buffer' (store forwarded from the own store buffer) or 'memory' */
  from?: 'buffer' | 'memory';
  label?: string;
  pairs?: string;
  line?: number;
  col?: number;
  vector?: number;
  ctx: number; // context depth after the step (0 = task)
  note?: string;
  /** Instruction fetch and serialising events: the code locations and the versions now fetched. */
  fetched?: [number, number][];
}

export class Machine {
  readonly tso: boolean;
  readonly nCpus: number;
  readonly nLocs: number; // user locations; machine objects follow
  readonly mem: number[];
  private readonly memW: number[]; // write id of the latest write to each location
  private readonly coHist: number[];
  private readonly cpus: Cpu[];
  private readonly irqsPossible: boolean;
  /** Locations that hold code (write_code/exec_code): each CPU fetches them. */
  private readonly codeLocs: readonly number[];
  private readonly codeIndex: Map<number, number>;
  private events = 0;

  /** Set by step(): the event this step must join in happens-before (a flush joins its store). */
  joinEvent = -1;
  /** Set by step(): the step waited for its own store buffer to drain (joins the flush process). */
  joinFlush = false;
  /** Describe steps for traces (slower). */
  recording = false;
  lastStep: StepInfo | null = null;

  constructor(
    model: ModelName,
    nCpus: number,
    init: readonly number[],
    private readonly program: ProgramInstance,
    private readonly interner: Interner,
    hasHandlers: boolean,
    codeLocs: readonly number[] = [],
  ) {
    if (nCpus > CPUS_MAX) throw new Error(`internal: more than ${CPUS_MAX} CPUs`);
    this.tso = model === 'x86';
    this.nCpus = nCpus;
    this.nLocs = init.length;
    // Machine objects: per CPU a control word (conflicts of a CPU's steps with its
    // interrupt entry) and an interrupt-pending word (IPI send vs. entry).
    this.mem = [...init];
    this.memW = init.map(() => 0);
    this.coHist = init.map(() => 0);
    this.irqsPossible = hasHandlers;
    this.codeLocs = codeLocs;
    this.codeIndex = new Map(codeLocs.map((l, i) => [l, i]));
    this.cpus = [];
    for (let c = 0; c < nCpus; c++) {
      const cpu: Cpu = { ctx: [], buf: [], bufHead: 0, irqOn: true, pending: program.initialPending?.(c) ?? 0, stores: 0, hist: 0, icache: codeLocs.map((l) => init[l]!) };
      const gen = program.task(c);
      if (gen) {
        const ctx: Ctx = { gen, op: null, vector: -1 };
        cpu.ctx.push(ctx);
        this.advance(ctx, 0);
      }
      this.cpus.push(cpu);
    }
  }

  private ctlLoc(c: number): number {
    return this.nLocs + c;
  }
  private pendLoc(c: number): number {
    return this.nLocs + this.nCpus + c;
  }
  /** The footprint object of CPU c's fetched copy of code location number i. */
  private icacheLoc(c: number, i: number): number {
    return this.nLocs + 2 * this.nCpus + c * this.codeLocs.length + i;
  }

  /**
   * The code location CPU c's instruction fetch may bring in anew now, or -1: when
   * the task (not a handler) is about to run code (exec) whose fetched version
   * differs from memory, the CPU may fetch it just before running it. (Fetching at
   * an earlier moment only matters with three versions in flight: a bound.)
   */
  private prefetchable(cpu: Cpu): number {
    if (this.codeLocs.length === 0 || cpu.ctx.length !== 1) return -1;
    const op = cpu.ctx[0]!.op;
    if (op === null || op.k !== 'exec') return -1;
    const i = this.codeIndex.get(op.loc)!;
    return cpu.icache[i] !== this.mem[op.loc] ? i : -1;
  }

  /** Refetch every code location from memory (a prefetch, or a serialising event). */
  private refetch(cpu: Cpu, tag: string): void {
    for (let i = 0; i < this.codeLocs.length; i++) cpu.icache[i] = this.mem[this.codeLocs[i]!]!;
    cpu.hist = this.interner.intern(cpu.hist, `${tag}${cpu.icache.join(':')}`);
  }

  get procCount(): number {
    return this.nCpus * PROCS_PER_CPU;
  }

  private advance(ctx: Ctx, result: number): void {
    const r = ctx.gen.next(result);
    ctx.op = r.done ? null : r.value;
    if (r.done && (r.value === PREEMPTED || r.value === RSEQ_ABORTED)) ctx.withdraw = r.value;
  }

  private top(c: number): Ctx | undefined {
    const s = this.cpus[c]!.ctx;
    return s[s.length - 1];
  }

  private bufLen(cpu: Cpu): number {
    return cpu.buf.length - cpu.bufHead;
  }

  /** The value CPU c would read from loc now: the newest own buffered store, else memory. */
  private visible(c: number, loc: number): { v: number; wid: number; fromBuf: boolean } {
    const cpu = this.cpus[c]!;
    if (this.tso) {
      for (let i = cpu.buf.length - 1; i >= cpu.bufHead; i--) {
        const e = cpu.buf[i]!;
        if (e.loc === loc) return { v: e.val, wid: e.wid, fromBuf: true };
      }
    }
    return { v: this.mem[loc]!, wid: this.memW[loc]!, fromBuf: false };
  }

  private inHandler(cpu: Cpu): boolean {
    return cpu.ctx.length > 0 && cpu.ctx[cpu.ctx.length - 1]!.vector >= 0;
  }

  private opEnabled(c: number, cpu: Cpu, op: Op | null): boolean {
    if (op === null) return false;
    if ((op.k === 'mb' || op.k === 'rmw' || op.k === 'serialize') && this.tso && this.bufLen(cpu) > 0) return false;
    if (op.k === 'await') return op.pred(this.visible(c, op.loc).v);
    return true;
  }

  enabled(p: number): boolean {
    const c = cpuOfProc(p);
    const cpu = this.cpus[c]!;
    switch (p % PROCS_PER_CPU) {
      case 0:
        return cpu.ctx.length === 1 && this.opEnabled(c, cpu, cpu.ctx[0]!.op);
      case 1:
        return this.bufLen(cpu) > 0;
      case 3:
        return this.prefetchable(cpu) >= 0;
      default:
        if (this.inHandler(cpu)) return this.opEnabled(c, cpu, this.top(c)!.op);
        return cpu.pending !== 0 && cpu.irqOn;
    }
  }

  enabledMask(): number {
    let m = 0;
    const n = this.procCount;
    for (let p = 0; p < n; p++) if (this.enabled(p)) m |= 1 << p;
    return m;
  }

  /** The shared state the next step of process p touches, as `(loc << 2) | mode` entries. */
  footprint(p: number): number[] {
    const c = cpuOfProc(p);
    const cpu = this.cpus[c]!;
    const kind = p % PROCS_PER_CPU;
    if (kind === 1) return [(cpu.buf[cpu.bufHead]!.loc << 2) | ACC_F];
    if (kind === 2 && !this.inHandler(cpu)) return [(this.ctlLoc(c) << 2) | ACC_W, (this.pendLoc(c) << 2) | ACC_W];
    if (kind === 3) {
      // The instruction fetch reads the code location in memory (in a write mode, so
      // that it also conflicts with the own CPU's drains), writes the fetched copy, and
      // is enabled only while the task is about to run that code (the control word).
      const i = this.prefetchable(cpu);
      return [(this.ctlLoc(c) << 2) | ACC_W, (this.codeLocs[i]! << 2) | ACC_W, (this.icacheLoc(c, i) << 2) | ACC_W];
    }
    // The task's own op (kind 0) or the running handler's op (kind 2). Every
    // step of a CPU that can take interrupts writes its control word.
    const op = (kind === 0 ? cpu.ctx[0]! : this.top(c)!).op!;
    const out: number[] = this.irqsPossible ? [(this.ctlLoc(c) << 2) | ACC_W] : [];
    switch (op.k) {
      case 'ld':
      case 'await':
        out.push((op.loc << 2) | ACC_R);
        break;
      case 'st':
        // On x86 a store only enters the own buffer; its drain is the memory write.
        if (!this.tso) out.push((op.loc << 2) | ACC_W);
        break;
      case 'rmw':
        // A failing cmpxchg writes nothing: it conflicts only with writes.
        out.push((op.loc << 2) | (op.f(this.mem[op.loc]!) === undefined ? ACC_R : ACC_W));
        break;
      case 'raise':
        out.push((this.pendLoc(op.cpu) << 2) | ACC_W);
        break;
      case 'exec':
        // It reads the fetched copy; and whether the fetch could have run first depends
        // on the code in memory, so it conflicts with every write of it (a write mode:
        // the own CPU's drains too).
        out.push((this.icacheLoc(c, this.codeIndex.get(op.loc)!) << 2) | ACC_R, (op.loc << 2) | ACC_W);
        break;
      case 'serialize':
        for (let i = 0; i < this.codeLocs.length; i++) out.push((this.codeLocs[i]! << 2) | ACC_R, (this.icacheLoc(c, i) << 2) | ACC_W);
        break;
      default:
        break;
    }
    return out;
  }

  /** Take one step of process p (which must be enabled). */
  step(p: number): void {
    const c = cpuOfProc(p);
    const cpu = this.cpus[c]!;
    const ev = this.events++;
    this.joinEvent = -1;
    this.joinFlush = false;
    this.lastStep = null;
    const kind = p % PROCS_PER_CPU;
    if (kind === 0 || (kind === 2 && this.inHandler(cpu))) {
      this.stepCpu(p, c, cpu, ev);
      return;
    }
    switch (kind) {
      case 1: {
        const e = cpu.buf[cpu.bufHead]!;
        cpu.bufHead++;
        if (cpu.bufHead === cpu.buf.length) {
          cpu.buf.length = 0;
          cpu.bufHead = 0;
        }
        this.mem[e.loc] = e.val;
        this.memW[e.loc] = e.wid;
        this.coHist[e.loc] = this.interner.intern(this.coHist[e.loc]!, String(e.wid));
        this.joinEvent = e.ev;
        if (this.recording) {
          this.lastStep = { proc: p, cpu: c, kind: 'flush', op: 'flush', fn: 'store buffer', loc: e.loc, value: e.val, ctx: cpu.ctx.length - 1 };
        }
        return;
      }
      case 3: {
        // Instruction fetch: the CPU fetches the code it is about to run anew, from memory.
        const i = this.prefetchable(cpu);
        const l = this.codeLocs[i]!;
        cpu.icache[i] = this.mem[l]!;
        cpu.hist = this.interner.intern(cpu.hist, `F${i}:${cpu.icache[i]}`);
        if (this.recording) {
          this.lastStep = { proc: p, cpu: c, kind: 'fetch', op: 'fetch', fn: 'instruction fetch', fetched: [[l, cpu.icache[i]!]], ctx: cpu.ctx.length - 1 };
        }
        return;
      }
      default: {
        // Interrupt entry: the lowest pending vector; handlers run with interrupts off.
        const vector = 31 - Math.clz32(cpu.pending & -cpu.pending);
        cpu.pending &= ~(1 << vector);
        cpu.irqOn = false;
        cpu.hist = this.interner.intern(cpu.hist, `!${vector}`);
        const ctx: Ctx = { gen: this.program.handler(c, vector), op: null, vector };
        cpu.ctx.push(ctx);
        if (this.recording) {
          this.lastStep = { proc: p, cpu: c, kind: 'irq', op: 'irq-entry', fn: 'interrupt', vector, ctx: cpu.ctx.length - 1 };
        }
        this.advance(ctx, 0);
        this.popFinished(c, cpu);
        return;
      }
    }
  }

  private stepCpu(p: number, c: number, cpu: Cpu, ev: number): void {
    const ctx = this.top(c)!;
    const op = ctx.op!;
    let result = 0;
    let code = '.';
    let info: StepInfo | null = null;
    const site: OpSite = op.site;
    const mk = (o: Partial<StepInfo>): StepInfo => ({
      proc: p, cpu: c, kind: kindOfProc(p), op: op.k, fn: site.fn, line: site.line, col: site.col,
      label: site.label, pairs: site.pairs, ctx: cpu.ctx.length - 1, ...o,
    });
    switch (op.k) {
      case 'ld':
      case 'await': {
        const r = this.visible(c, op.loc);
        result = r.v;
        code = `${r.v}@${r.wid}`;
        if (this.recording) info = mk({ loc: op.loc, value: r.v, from: r.fromBuf ? 'buffer' : 'memory' });
        break;
      }
      case 'st': {
        const wid = c * 65536 + ++cpu.stores;
        if (this.tso) {
          if (this.bufLen(cpu) >= STORE_BUFFER_MAX) {
            throw new BoundExceeded(`a store buffer exceeded ${STORE_BUFFER_MAX} entries (store_buffer_max)`);
          }
          cpu.buf.push({ loc: op.loc, val: op.val, wid, ev });
        } else {
          this.mem[op.loc] = op.val;
          this.memW[op.loc] = wid;
          this.coHist[op.loc] = this.interner.intern(this.coHist[op.loc]!, String(wid));
        }
        if (this.recording) info = mk({ loc: op.loc, value: op.val, note: this.tso ? 'into the store buffer' : undefined });
        break;
      }
      case 'rmw': {
        this.joinFlush = this.tso;
        const old = this.mem[op.loc]!;
        const oldW = this.memW[op.loc]!;
        const nv = op.f(old);
        result = old;
        code = `${old}@${oldW}`;
        if (nv !== undefined) {
          const wid = c * 65536 + ++cpu.stores;
          this.mem[op.loc] = nv | 0;
          this.memW[op.loc] = wid;
          this.coHist[op.loc] = this.interner.intern(this.coHist[op.loc]!, String(wid));
        }
        if (this.recording) info = mk({ loc: op.loc, value: old, note: nv === undefined ? 'no write' : `wrote ${nv | 0}` });
        break;
      }
      case 'mb':
        this.joinFlush = this.tso;
        if (this.recording) info = mk({});
        break;
      case 'serialize':
        this.joinFlush = this.tso;
        this.refetch(cpu, 'S');
        if (this.recording) info = mk({ fetched: this.codeLocs.map((l, i) => [l, cpu.icache[i]!]) });
        break;
      case 'exec': {
        const i = this.codeIndex.get(op.loc);
        if (i === undefined) throw new Error(`internal: exec_code of location ${op.loc}, which is not a code location`);
        result = cpu.icache[i]!;
        code = `X${result}`;
        if (this.recording) info = mk({ loc: op.loc, value: result, note: result === this.visible(c, op.loc).v ? 'current' : 'stale' });
        break;
      }
      case 'nop':
        if (this.recording) info = mk({});
        break;
      case 'irq':
        cpu.irqOn = op.enable;
        if (this.recording) info = mk({});
        break;
      case 'raise': {
        const t = this.cpus[op.cpu];
        if (!t) throw new Error(`internal: raise on unknown CPU ${op.cpu}`);
        t.pending |= 1 << op.vector;
        if (this.recording) info = mk({ vector: op.vector, note: `CPU${op.cpu}` });
        break;
      }
    }
    cpu.hist = this.interner.intern(cpu.hist, code);
    this.lastStep = info;
    this.advance(ctx, result);
    this.popFinished(c, cpu);
  }

  /** Return from finished interrupt handlers (interrupts come back on). */
  private popFinished(c: number, cpu: Cpu): void {
    for (;;) {
      const t = this.top(c);
      if (!t || t.op !== null || t.vector < 0) return;
      cpu.ctx.pop();
      cpu.irqOn = true;
      cpu.hist = this.interner.intern(cpu.hist, 'iret');
      const task = cpu.ctx[0];
      if (t.withdraw !== undefined && task && task.vector < 0 && task.op !== null) {
        // The handler switched tasks, or sends the task to its rseq abort handler:
        // the interrupted task's op is withdrawn.
        cpu.hist = this.interner.intern(cpu.hist, t.withdraw === PREEMPTED ? 'preempted' : 'rseq-abort');
        this.advance(task, t.withdraw);
      }
    }
  }

  /**
   * Can another process's step enable or disable p's next step? True for an
   * interrupt entry (pending and interrupt-enable state), a handler step, a task
   * step on a machine with interrupts, and an await (the value it waits for).
   * A fence or locked op waits only for its own store buffer.
   */
  mayBlock(p: number): boolean {
    const kind = p % PROCS_PER_CPU;
    if (kind === 1) return false;
    if (kind === 3) return true; // the fetch waits for the task to be about to run code
    // A task is stopped while a handler runs on its CPU, so with interrupts in
    // the scenario any task step may depend on the interrupt process.
    if (kind === 2 || this.irqsPossible) return true;
    return this.top(cpuOfProc(p))?.op?.k === 'await';
  }

  /** Does p have a next step that it cannot take now (it waits for another process)? */
  blocked(p: number): boolean {
    if (this.enabled(p)) return false;
    const cpu = this.cpus[cpuOfProc(p)]!;
    switch (p % PROCS_PER_CPU) {
      case 0:
        return cpu.ctx.length >= 1 && cpu.ctx[0]!.op !== null;
      case 1:
      case 3:
        return false;
      default:
        return this.inHandler(cpu) ? this.top(cpuOfProc(p))!.op !== null : cpu.pending !== 0;
    }
  }

  /** Every CPU finished and every buffer drained? */
  quiescent(): boolean {
    for (const cpu of this.cpus) {
      if (this.bufLen(cpu) > 0 || cpu.pending !== 0) return false;
      for (const ctx of cpu.ctx) if (ctx.op !== null) return false;
    }
    return true;
  }

  /** CPUs whose code has not finished (for deadlock reports). */
  /**
   * What each blocked CPU waits on (for a deadlock's trace): the op its innermost
   * waiting context is stuck at, the location's value in memory, whether interrupts
   * are off, and the interrupts pending there.
   */
  blockedWaits(): { cpu: number; fn: string; loc?: number; value?: number; irqOff: boolean; pending: number[]; inHandler: boolean }[] {
    const out: { cpu: number; fn: string; loc?: number; value?: number; irqOff: boolean; pending: number[]; inHandler: boolean }[] = [];
    this.cpus.forEach((cpu, c) => {
      const ctx = [...cpu.ctx].reverse().find((x) => x.op !== null);
      if (!ctx) return;
      const op = ctx.op!;
      const pending: number[] = [];
      for (let v = 0; v < 32; v++) if (cpu.pending & (1 << v)) pending.push(v);
      const loc = 'loc' in op ? op.loc : undefined;
      out.push({ cpu: c, fn: op.site.fn, loc, value: loc !== undefined ? this.mem[loc] : undefined, irqOff: !cpu.irqOn, pending, inHandler: ctx.vector >= 0 });
    });
    return out;
  }

  blockedCpus(): number[] {
    const out: number[] = [];
    this.cpus.forEach((cpu, c) => {
      if (cpu.ctx.some((x) => x.op !== null)) out.push(c);
    });
    return out;
  }

  /** Identity of the execution so far: each CPU's history and each location's coherence order (packed, exact). */
  graphKey(): string {
    return this.packGraph(new KeyPacker()).take();
  }

  /** Full state key for the explicit-state search: graph so far plus buffers and interrupt state. */
  stateKey(): string {
    const k = this.packGraph(new KeyPacker());
    for (const cpu of this.cpus) k.push(this.bufLen(cpu)).push(cpu.pending >>> 0).push(cpu.irqOn ? 1 : 0);
    return k.take();
  }

  private packGraph(k: KeyPacker): KeyPacker {
    for (const cpu of this.cpus) k.push(cpu.hist);
    for (const h of this.coHist) k.push(h);
    return k;
  }
}
