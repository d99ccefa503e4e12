// The graph engine for scenarios on the kernel model: the same CPU code the
// machine runs (src/litmus/program.ts and src/kernel/: user threads, system
// calls, interrupt handlers, the scheduler), with memory given by an execution
// graph and a model's consistency predicate instead of the machine's memory and
// store buffers. This is what runs the kernel model on arm64, a machine that
// has no small operational model the search could drive.
//
// Method. A state is a partial execution graph: per CPU, the steps it has taken
// in program order (memory events, interrupt entries, interrupt masking), the
// write each read reads from (rf) and the coherence order of each location's
// writes (co). A state is extended by one step of one CPU: the CPU's code,
// given the values its reads took and the interrupts it took, yields its next op
// (its frontier, known from any graph where the CPU was given the same, or
// found by replaying the CPU alone: FrontierCache);
// a read branches on every write of the graph it may read from, a write on
// every place in its location's coherence order, and every extension the
// model's predicate rejects is dropped. Every interleaving of the CPUs' steps
// is tried and identical graphs are merged (a set of the states seen), so every
// consistent execution graph in which program order, reads-from and the
// interrupt edges have no cycle (porf-acyclic, as GenMC requires) is reached:
// add its events in an order that extends those relations, and each prefix is
// consistent because every predicate here only grows with the graph. Graphs
// with a po|rf cycle (load buffering) are not explored on arm64: a bound
// printed with the result.
//
// Where the search is beyond its bounds, seeded runs can sample it instead (PctRuns,
// `check --random`): each run takes one of a state's extensions (PCT over the CPUs)
// until no CPU can step, every dependency assumed; what a run reaches exists.
//
// Interrupts are delivered by the interrupt controller as the machine does it:
// an IPI (`raise`) makes a vector pending on its target at once, and the target
// takes it at any later step of its own while interrupts are on. In the graph
// the IPI is a write of a location of its own (a send event S, the sender's
// side, after the barrier the architecture's send path has) read by the
// target's interrupt entry T (an event ordered before everything the handler
// does: nothing after an exception entry runs before it). On x86 the send is
// not ordered after the sender's buffered stores (the ICR write does not drain
// the store buffer), as on the machine.
//
// Kernel reads on a weak machine carry dependencies (an address computed from
// a read, a branch on it). Ops can name them (Op.deps); for code that does not,
// the search runs under one of two assumptions, `deps: 'none'` (no
// dependencies: every behaviour the hardware may show, and perhaps more) or
// `deps: 'all'` (every read orders every later access of its CPU: fewer than
// the hardware may show). A `Never` under 'none' and a `Sometimes` under 'all'
// hold for the real dependencies too; check.ts runs both on arm64 and reports
// an outcome that differs between them as depending on them.

import { AssertionFailed, BoundExceeded, PREEMPTED, RSEQ_ABORTED } from '../machine/machine.js';
import type { HandlerCode, Op } from '../machine/ops.js';
import type { Instance, Program } from '../litmus/program.js';
import { Collector } from '../explore/collector.js';
import { PCT_DEPTH_MAX, randomReason, type RandomSearch } from '../explore/random.js';
import { Rng } from '../sim/rng.js';
import type { Bounds, ExploreResult, Progress } from '../explore/types.js';
import { Relations, type GraphEvent, type Tag } from './graph.js';
import { MAPPINGS, type GraphModelName } from './mapping.js';
import { CONSISTENT } from './models/index.js';
import { Rel } from './relation.js';
import { arm64DirectConsistent, type DEvent, type DFence, type DGraph } from './models/arm64-direct.js';

export type KernelGraphModel = 'sc' | 'x86' | 'arm64' | 'lkmm';
/** `both`: one search that answers for `none` and for `all` (see bracketDeps()). */
export type DepsAssumption = 'none' | 'all' | 'both';

export interface KernelGraphOptions {
  bounds: Bounds;
  deps?: DepsAssumption;
  onProgress?: (p: Progress) => void;
  progressEvery?: number;
  /** Decide every arm64 check with models/arm64.ts too, and throw where the two differ (tests). */
  crossCheckPredicate?: { checks: number };
  /**
   * Tests: `whole` replays each state's whole graph (no FrontierCache); `crossCheck` takes
   * the cache's frontiers and replays the whole graph too, and throws where they differ.
   */
  replay?: 'whole' | { crossCheck: number };
  /** false: no quiet CPUs and no CPU's own locations (exploreKernelGraphs()), for tests of what they save. */
  assume?: boolean;
  /**
   * Seeded runs scheduled by PCT instead of the search (PctRuns below): never
   * complete, and every dependency assumed (`all`), so what they find exists whatever the
   * code's real dependencies.
   */
  random?: RandomSearch;
}

/** One step of one CPU in the graph. */
interface KStep {
  cpu: number;
  /** R read, W write, U read-modify-write (its write only when `wrote`), F fence, S IPI send, T interrupt entry, L a step with no event (interrupt masking). */
  kind: 'R' | 'W' | 'U' | 'F' | 'S' | 'T' | 'L';
  loc: number;
  /** W: the value written; U: the value written when it wrote; L: for traces, 1 interrupts on, 2 off, 0 neither. */
  val: number;
  wrote: boolean;
  /** R, U: the step read from (-1: the initial value). */
  rf: number;
  tags: readonly Tag[];
  /** The reads (steps) its address, value and existence depend on. */
  deps: StepDeps;
  /** S: the target CPU and vector; T: the vector and the sends it takes. */
  target: number;
  vector: number;
  takes: number[];
  /** The kernel function or primitive the op came from (traces). */
  fn?: string;
  /** An event the architecture's path adds before the op's own (the barrier of the IPI send): the code does not advance. */
  extra?: true;
  /** Its place among its CPU's steps, and its part of the graph's key (set by KGraph.add()). */
  pos?: number;
  sig?: string;
  /** Its tags as the arm64 predicate reads them (directFlags()), found once (-1: not yet). */
  df?: number;
}

interface Ctx {
  gen: HandlerCode;
  op: Op | null;
  vector: number;
  withdraw?: number;
}

/** A CPU of the replay: its contexts (the task's, then running handlers) and interrupt state (what is pending on it comes from the graph: scanCpu()). */
interface Runner {
  ctx: Ctx[];
  irqOn: boolean;
  /** The step each read op produced (for Op.deps), by its place among the CPU's steps (KStep.pos). */
  readOf: Map<Op, number>;
  /** The place of the CPU's last read (deps: 'all'). */
  lastRead: number;
  /** The places of the reads the CPU's code has branched on (Op.branch): later events depend on them by control. */
  branched: number[];
  /** No interrupt can reach this CPU in any execution (the search's assumption, see exploreKernelGraphs()). */
  quiet: boolean;
}

const SEND_LOC_BASE = 1 << 20;

class Replay {
  readonly instance: Instance;
  readonly cpus: Runner[] = [];
  /** `only`: the CPU whose code runs (the others' is not started), for a replay of that CPU alone (FrontierCache). */
  constructor(program: Program, quiet: readonly boolean[], only = -1) {
    this.instance = program.instantiate();
    for (let c = 0; c < program.nCpus; c++) {
      const r: Runner = { ctx: [], irqOn: true, readOf: new Map(), lastRead: -1, branched: [], quiet: quiet[c] ?? false };
      const gen = only < 0 || only === c ? this.instance.task(c) : undefined;
      if (gen) {
        const ctx: Ctx = { gen, op: null, vector: -1 };
        r.ctx.push(ctx);
        settle(ctx, gen.next(0));
        skipLocal(r);
      }
      this.cpus.push(r);
    }
  }

  /** The op the CPU's running context is at (the task's only when no handler runs), or null. */
  current(c: number): Op | null {
    const r = this.cpus[c]!;
    const t = r.ctx[r.ctx.length - 1];
    return t ? t.op : null;
  }

  /** Is the CPU running an interrupt handler? */
  inHandler(c: number): boolean {
    const r = this.cpus[c]!;
    return r.ctx.length > 0 && r.ctx[r.ctx.length - 1]!.vector >= 0;
  }

  /** Applies step i (already in the graph) to its CPU. */
  apply(g: KGraph, i: number): void {
    const s = g.steps[i]!;
    const r = this.cpus[s.cpu]!;
    if (s.extra) return;
    if (s.kind === 'T') {
      r.irqOn = false;
      const ctx: Ctx = { gen: this.instance.handler(s.cpu, s.vector), op: null, vector: s.vector };
      r.ctx.push(ctx);
      settle(ctx, ctx.gen.next(0));
      this.popFinished(r);
      skipLocal(r);
      return;
    }
    const ctx = r.ctx[r.ctx.length - 1]!;
    const op = ctx.op!;
    let result = 0;
    if (s.kind === 'R' || s.kind === 'U') {
      result = g.valueOf(s.rf, s.loc);
      r.readOf.set(op, s.pos!);
      // An instruction fetch is no read a later access can depend on (deps: 'all').
      if (op.k !== 'exec') r.lastRead = s.pos!;
    }
    if (op.k === 'irq') r.irqOn = op.enable;
    settle(ctx, ctx.gen.next(result));
    if ((s.kind === 'R' || s.kind === 'U') && 'branch' in op && op.branch) r.branched.push(s.pos!);
    this.popFinished(r);
    skipLocal(r);
  }

  private popFinished(r: Runner): void {
    for (;;) {
      const t = r.ctx[r.ctx.length - 1];
      if (!t || t.op !== null || t.vector < 0) return;
      r.ctx.pop();
      r.irqOn = true;
      const task = r.ctx[0];
      if (t.withdraw !== undefined && task && task.vector < 0 && task.op !== null) {
        settle(task, task.gen.next(t.withdraw));
      }
    }
  }
}

/**
 * Where a CPU's code is after its steps so far, as data: what the search needs to extend
 * the graph by a step of the CPU. Reads are named by their place among the CPU's steps.
 */
interface Frontier {
  /** The op the running context is at (null: none). */
  op: Op | null;
  irqOn: boolean;
  inHandler: boolean;
  /** Every context has finished (pending interrupts aside). */
  idle: boolean;
  /** The op's own dependencies (Op.deps). */
  own: Deps | undefined;
  /** The CPU's last read (-1: none), and the reads its code branched on. */
  lastRead: number;
  branched: readonly number[];
}

function frontierOf(r: Replay, c: number): Frontier {
  const run = r.cpus[c]!;
  const op = r.current(c);
  const ref = (ops: readonly Op[] | undefined): number[] => (ops ?? []).map((x) => run.readOf.get(x) ?? -1).filter((x) => x >= 0);
  const d = op !== null && 'deps' in op ? op.deps : undefined;
  return {
    op,
    irqOn: run.irqOn,
    inHandler: r.inHandler(c),
    idle: run.ctx.every((x) => x.op === null),
    own: d ? { addr: ref(d.addr), data: ref(d.data), ctrl: ref(d.ctrl) } : undefined,
    lastRead: run.lastRead,
    branched: [...run.branched],
  };
}

/**
 * A frontier as text, to compare two replays (op objects differ between instances). Without
 * Op.branch, which the code sets on its op once the read has returned (a replay that went
 * on past the op has set it) and only Replay.apply() reads.
 */
function describeFrontier(f: Frontier): string {
  const op = f.op === null ? 'null' : JSON.stringify(f.op, (k, v: unknown) => (k === 'deps' || k === 'branch' ? undefined : typeof v === 'function' ? 'fn' : v));
  return `${op} irq=${f.irqOn} handler=${f.inHandler} idle=${f.idle} own=${JSON.stringify(f.own)} last=${f.lastRead} branched=${f.branched.join(',')}`;
}

type Known = Frontier | { error: unknown };

/**
 * The frontiers of each CPU by its inputs (KGraph.inputs), for programs whose CPUs' code
 * depends on nothing but what each CPU is given (Program.cpuLocalCode: no task moves
 * between CPUs): a state is extended from here instead of replaying its whole graph. A
 * CPU's frontier not yet known is found by replaying that CPU alone: from where the
 * replay of its last miss stopped when that is one step behind (in a depth-first search
 * it mostly is), else from the start. A replay that fails (an assertion, a bound) is
 * known too, and fails the same way for every graph with the CPU's inputs.
 */
class FrontierCache {
  private readonly known: Map<number, Known>[] = [];
  private readonly live: ({ r: Replay; input: number } | undefined)[] = [];
  bytes = 0;
  /** Steps applied by its replays. */
  applied = 0;
  constructor(
    readonly program: Program,
    readonly quiet: readonly boolean[],
  ) {
    for (let c = 0; c < program.nCpus; c++) this.known.push(new Map());
  }

  /** Every CPU's frontier in g (throws what a replay of g would throw). */
  frontiers(g: KGraph): Frontier[] {
    const out: Frontier[] = [];
    for (let c = 0; c < this.program.nCpus; c++) {
      const key = g.inputs[c] ?? 0;
      let f = this.known[c]!.get(key);
      if (f === undefined) {
        f = this.replay(g, c, key);
        this.known[c]!.set(key, f);
        this.bytes += 160 + 8 * (g.counts[c] ?? 0);
      }
      if ('error' in f) throw f.error;
      out.push(f);
    }
    return out;
  }

  private replay(g: KGraph, c: number, key: number): Known {
    const live = this.live[c];
    this.live[c] = undefined;
    let r: Replay;
    try {
      if (live !== undefined && live.input === g.keyTable.parentOf(key)) {
        // One step behind: the CPU's last step that gives its code something.
        let i = g.steps.length - 1;
        while (g.steps[i]!.cpu !== c || g.steps[i]!.extra) i--;
        r = live.r;
        r.apply(g, i);
        this.applied++;
      } else {
        r = new Replay(this.program, this.quiet, c);
        for (let i = 0; i < g.steps.length; i++) {
          if (g.steps[i]!.cpu !== c) continue;
          r.apply(g, i);
          this.applied++;
        }
      }
    } catch (e) {
      if (e instanceof AssertionFailed || e instanceof BoundExceeded) return { error: e };
      throw e;
    }
    this.live[c] = { r, input: key };
    return frontierOf(r, c);
  }
}

/**
 * The cache's frontiers of g, checked against a replay of the whole graph (KernelGraphOptions.replay):
 * the same frontier for every CPU, or the same failure. Throws an internal error where they differ.
 */
function crossCheckFrontiers(cache: FrontierCache, whole: () => Replay, g: KGraph, n: number, count: { crossCheck: number }): Frontier[] {
  const attempt = <T>(f: () => T): T | { failed: unknown } => {
    try {
      return f();
    } catch (e) {
      return { failed: e };
    }
  };
  const a = attempt(() => cache.frontiers(g));
  const b = attempt(whole);
  const failure = (x: unknown): string => (x instanceof AssertionFailed ? `assertion ${x.assertion}` : x instanceof BoundExceeded ? `bound ${x.reason}` : `error ${String(x)}`);
  count.crossCheck++;
  if ('failed' in a || 'failed' in b) {
    const fa = 'failed' in a ? failure(a.failed) : 'no failure';
    const fb = 'failed' in b ? failure(b.failed) : 'no failure';
    if (fa !== fb) throw new Error(`internal: replayed CPU by CPU the graph of ${g.steps.length} steps gives ${fa}, replayed whole ${fb}`);
    throw (a as { failed: unknown }).failed;
  }
  for (let c = 0; c < n; c++) {
    const x = describeFrontier(a[c]!);
    const y = describeFrontier(frontierOf(b, c));
    if (x !== y) throw new Error(`internal: CPU${c}'s frontier replayed alone differs from the whole replay's:\n  alone: ${x}\n  whole: ${y}\nin graph of ${g.steps.length} steps`);
  }
  return a;
}

/** A CPU's steps in a graph: their indices by place (KStep.pos), and the sends pending on it by vector. */
interface CpuScan {
  at: number[];
  pending: Map<number, number[]>;
}

/** The vectors pending on each CPU at the start: timer ticks (Instance.initialPending()). */
function initialPendingOf(program: Program): number[] {
  const inst = program.instantiate();
  return Array.from({ length: program.nCpus }, (_, c) => inst.initialPending?.(c) ?? 0);
}

/** `initial`: the vectors pending at the start (timer ticks: sends of no one, -1); an interrupt entry takes every send pending on its vector. */
function scanCpu(g: KGraph, c: number, initial: number): CpuScan {
  const at: number[] = [];
  const pending = new Map<number, number[]>();
  for (let v = 0; v < 32; v++) if (initial & (1 << v)) pending.set(v, [-1]);
  const steps = g.steps;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.cpu === c) {
      at.push(i);
      if (s.kind === 'T' && !s.extra) pending.delete(s.vector);
    }
    if (s.kind === 'S' && s.target === c && !s.extra) {
      const list = pending.get(s.vector);
      if (list) list.push(i);
      else pending.set(s.vector, [i]);
    }
  }
  return { at, pending };
}

function settle(ctx: Ctx, res: IteratorResult<Op, void | number>): void {
  ctx.op = res.done ? null : res.value;
  if (res.done && (res.value === PREEMPTED || res.value === RSEQ_ABORTED)) ctx.withdraw = res.value;
}

/**
 * Ops with no event and no effect on interrupt state (compiler barriers, trace notes) run
 * at once while the CPU cannot take an interrupt (interrupts off, in a handler, or a CPU
 * no interrupt reaches). Not otherwise: the code between two yields may change what the
 * kernel does with an interrupt (an rseq critical section begins at such a step), so
 * where the interrupt lands, before or after it, is a choice.
 */
function skipLocal(r: Runner): void {
  for (;;) {
    const ctx = r.ctx[r.ctx.length - 1];
    if (!ctx || ctx.op === null) return;
    if (r.irqOn && ctx.vector < 0 && !r.quiet) return;
    const op = ctx.op;
    if (op.k !== 'nop' || op.fence !== undefined || op.arm64 !== undefined) return;
    settle(ctx, ctx.gen.next(0));
    // A handler can finish here (its last op a note).
    if (ctx.op === null && ctx.vector >= 0) {
      r.ctx.pop();
      r.irqOn = true;
      const task = r.ctx[0];
      if (ctx.withdraw !== undefined && task && task.vector < 0 && task.op !== null) settle(task, task.gen.next(ctx.withdraw));
    }
  }
}

const NONE: number[] = [];
const NO_TAGS: readonly Tag[] = [];
const DMB_ST: readonly Tag[] = ['dmb.st'];

/** A step, every field in one order (one object shape for the engine). Lists are shared, never changed. */
function mkStep(cpu: number, kind: KStep['kind'], loc: number, val: number, wrote: boolean, rf: number, tags: readonly Tag[], d: StepDeps, target: number, vector: number, takes: number[], fn: string | undefined, extra?: true): KStep {
  return { cpu, kind, loc, val, wrote, rf, tags, deps: d, target, vector, takes, fn, extra, pos: 0, sig: '', df: -1 };
}

/** The reads (steps) an event's address, value and existence depend on. */
interface Deps {
  addr: number[];
  data: number[];
  ctrl: number[];
}

/** A step's dependencies under the search's assumption, and under `all` when one search answers for both (else the same). */
interface StepDeps {
  own: Deps;
  all: Deps;
}

const NO_DEP: Deps = { addr: NONE, data: NONE, ctrl: NONE };
const NO_DEPS: StepDeps = { own: NO_DEP, all: NO_DEP };

/**
 * Numbers for the parts of graph keys, one table per search: a CPU's steps so far as the
 * number of its steps before the last and the last's signature (a trie), a location's
 * coherence order as its text. A key is then a short list of numbers, which the set of
 * states seen hashes and compares quickly; equal numbers, equal parts.
 */
class KeyTable {
  private readonly ids = new Map<string, number>();
  /** Per number made by input(): the number it extends. */
  private readonly parents = new Map<number, number>();
  bytes = 0;
  /** A CPU's inputs so far (KGraph.inputs): those numbered `parent`, then `input`. The root is 0. */
  input(parent: number, input: string): number {
    const i = this.id(`v${parent} ${input}`);
    this.parents.set(i, parent);
    return i;
  }
  parentOf(i: number): number | undefined {
    return this.parents.get(i);
  }
  id(text: string): number {
    let i = this.ids.get(text);
    if (i === undefined) {
      i = this.ids.size + 1;
      this.ids.set(text, i);
      this.bytes += 48 + 2 * text.length;
    }
    return i;
  }
}

/** A part's share of a graph's hash (0 for number 0: a CPU with no step counts as absent, as in KGraph.key()). */
function mixPart(slot: number, id: number, seed: number): number {
  if (id === 0) return 0;
  let h = Math.imul(slot ^ seed, 0x85ebca6b) ^ Math.imul(id + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * The set of graph states seen: by the graph's two hashes (KGraph.h1, h2), each state
 * kept with its key's parts (KGraph.parts()), which decide where the hashes are equal: a
 * hash never merges two states. The parts of every state are in one growing array.
 */
export class StateSet {
  /** First hash -> the state (its number), or the states, with it. */
  private readonly byHash = new Map<number, number | number[]>();
  private parts: Int32Array = new Int32Array(1 << 16);
  private used = 0;
  /** Per state: where its parts begin in `parts` (and end: the next state's begin), its second hash. */
  private begin: Int32Array = new Int32Array(1 << 12);
  private second: Int32Array = new Int32Array(1 << 12);
  size = 0;
  get bytes(): number {
    return this.parts.byteLength + this.begin.byteLength + this.second.byteLength + 40 * this.size;
  }

  /** Adds g's state unless it was there (`seen`) or the set holds `max` states (`full`). */
  add(g: Pick<KGraph, 'h1' | 'h2' | 'parts'>, n: number, max: number): 'seen' | 'new' | 'full' {
    const at = this.byHash.get(g.h1);
    const parts = g.parts(n);
    if (at !== undefined) {
      if (typeof at === 'number' ? this.same(at, g.h2, parts) : at.some((i) => this.same(i, g.h2, parts))) return 'seen';
    }
    if (this.size >= max) return 'full';
    const i = this.size++;
    if (i + 1 >= this.begin.length) {
      this.begin = grow(this.begin, 2 * this.begin.length);
      this.second = grow(this.second, 2 * this.second.length);
    }
    if (this.used + parts.length > this.parts.length) this.parts = grow(this.parts, 2 * Math.max(this.parts.length, this.used + parts.length));
    this.begin[i] = this.used;
    this.second[i] = g.h2;
    this.parts.set(parts, this.used);
    this.used += parts.length;
    this.begin[i + 1] = this.used;
    if (at === undefined) this.byHash.set(g.h1, i);
    else if (typeof at === 'number') this.byHash.set(g.h1, [at, i]);
    else at.push(i);
    return 'new';
  }

  private same(i: number, h2: number, parts: readonly number[]): boolean {
    if (this.second[i] !== h2) return false;
    const b = this.begin[i]!;
    if (this.begin[i + 1]! - b !== parts.length) return false;
    for (let k = 0; k < parts.length; k++) if (this.parts[b + k] !== parts[k]) return false;
    return true;
  }
}

function grow(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** A partial execution graph: the steps in the order they were added, and coherence. */
class KGraph {
  /** A replay of the first `at` steps, which this graph may continue (set on the child searched next). */
  replay?: { r: Replay; at: number };
  /** Consistent under the assumption `all` too (a search that answers for both). */
  allOk = true;
  /** Two hashes of the key's parts, kept as they change (StateSet). */
  h1 = 0;
  h2 = 0;
  constructor(
    readonly init: readonly number[],
    readonly steps: KStep[] = [],
    /** Per location, its writes (steps) in coherence order, the initial value first (implicit); lists are never changed, only replaced (clones share them). */
    readonly co: (readonly number[] | undefined)[] = [],
    /** Steps per CPU. */
    readonly counts: number[] = [],
    /** The numbers of the key's parts (keyTable), kept as steps are added: per CPU its steps, per location its coherence order. */
    readonly keyTable: KeyTable = new KeyTable(),
    readonly cpuKeys: number[] = [],
    readonly coKeys: number[] = [],
    /** The locations written so far (with a co list and a coKeys number), in increasing order. */
    readonly coLocs: number[] = [],
    /**
     * Per CPU, what its code has been given so far (keyTable.input()): the value of each read,
     * the vector of each interrupt taken. Where no task moves between CPUs this is all a
     * CPU's code depends on (FrontierCache).
     */
    readonly inputs: number[] = [],
  ) {}

  clone(): KGraph {
    const h = new KGraph(this.init, this.steps.slice(), this.co.slice(), this.counts.slice(), this.keyTable, this.cpuKeys.slice(), this.coKeys.slice(), this.coLocs.slice(), this.inputs.slice());
    h.allOk = this.allOk;
    h.h1 = this.h1;
    h.h2 = this.h2;
    return h;
  }

  /** Sets a location's coherence order (a new list, which this graph and its clones share). */
  setCo(loc: number, list: readonly number[]): void {
    if (this.co[loc] === undefined) {
      let at = this.coLocs.length;
      while (at > 0 && this.coLocs[at - 1]! > loc) at--;
      this.coLocs.splice(at, 0, loc);
    }
    this.co[loc] = list;
    let k = '';
    for (const i of list) k += `${this.steps[i]!.cpu}.${this.steps[i]!.pos},`;
    this.rehash(-1 - loc, this.coKeys[loc] ?? 0, (this.coKeys[loc] = this.keyTable.id(`${loc}:${k}`)));
  }

  /** Appends a step of its CPU: its place there, and its part of the key (what it is, what it read, by CPU and place). */
  add(s: KStep): void {
    const c = s.cpu;
    while (this.counts.length <= c) this.counts.push(0);
    s.pos = this.counts[c]!++;
    const at = (i: number): string => (i < 0 ? 'i' : `${this.steps[i]!.cpu}.${this.steps[i]!.pos}`);
    switch (s.kind) {
      case 'R': case 'U': s.sig = `${s.kind}${s.loc}<${at(s.rf)}`; break;
      case 'W': s.sig = `W${s.loc}=${s.val}`; break;
      case 'T': s.sig = `T${s.vector}<${s.takes.map(at).join('+')}`; break;
      case 'S': s.sig = `S${s.target}.${s.vector}`; break;
      default: s.sig = s.kind;
    }
    while (this.cpuKeys.length <= c) this.cpuKeys.push(0);
    const was = this.cpuKeys[c]!;
    this.rehash(c, was, (this.cpuKeys[c] = this.keyTable.id(`${was} ${s.sig}`)));
    // What the CPU's code is given: a read's value, an interrupt's vector (the other steps' ops follow from the code).
    if (!s.extra) {
      while (this.inputs.length <= c) this.inputs.push(0);
      const input = s.kind === 'R' || s.kind === 'U' ? String(this.valueOf(s.rf, s.loc)) : s.kind === 'T' ? `T${s.vector}` : '';
      this.inputs[c] = this.keyTable.input(this.inputs[c]!, input);
    }
    this.steps.push(s);
  }

  /** A part of the key (slot: a CPU, or -1 - a location) changed from number `was` to `now`. */
  private rehash(slot: number, was: number, now: number): void {
    this.h1 ^= mixPart(slot, was, 0x3c6ef372) ^ mixPart(slot, now, 0x3c6ef372);
    this.h2 ^= mixPart(slot, was, 0x1b873593) ^ mixPart(slot, now, 0x1b873593);
  }

  /** The key's parts as numbers: each CPU's (0 when it has no step), then each written location's coherence order's (its number names the location too). */
  parts(n: number): number[] {
    const out: number[] = [];
    for (let c = 0; c < n; c++) out.push(this.cpuKeys[c] ?? 0);
    for (const l of this.coLocs) out.push(this.coKeys[l]!);
    return out;
  }

  valueOf(w: number, loc: number): number {
    return w < 0 ? this.init[loc]! : this.steps[w]!.val;
  }

  /** Final memory: each location's last write in coherence order. */
  memory(): number[] {
    const mem = [...this.init];
    for (const l of this.coLocs) {
      const ws = this.co[l]!;
      if (ws.length > 0 && l < mem.length) mem[l] = this.steps[ws[ws.length - 1]!]!.val;
    }
    return mem;
  }

  /** The steps of each CPU in program order. */
  perCpu(n: number): number[][] {
    const out: number[][] = Array.from({ length: n }, () => []);
    this.steps.forEach((s, i) => out[s.cpu]!.push(i));
    return out;
  }

  /** The graph's identity: each CPU's steps with their results, reads-from and coherence, by (CPU, position). */
  key(n: number): string {
    return this.parts(n).join(',');
  }
}

/**
 * The least place in the location's coherence order the CPU's next access of it may take
 * (coherence, on every model here): after its last write to it, and for a data read, at
 * or after the writes its earlier data reads of it read. Places count the initial value
 * as 0, so a read may read list[place - 1] or later, and a write goes before list[place]
 * or later.
 */
function ownFloor(g: KGraph, cpu: number, loc: number): { read: number; write: number } {
  const list = g.co[loc];
  if (list === undefined) return { read: 0, write: 0 };
  let read = 0;
  let write = 0;
  const steps = g.steps;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.cpu !== cpu || s.loc !== loc) continue;
    if (s.kind === 'W' || (s.kind === 'U' && s.wrote)) {
      const place = list.indexOf(i) + 1;
      if (place > write) write = place;
      if (place > read) read = place;
    }
    if ((s.kind === 'R' || s.kind === 'U') && s.rf >= 0 && !s.tags.includes('ifetch')) {
      const place = list.indexOf(s.rf) + 1;
      if (place > read) read = place;
    }
  }
  return { read, write };
}

/** The graph as the models' predicates read it: initial writes, then each CPU's events in program order. */
function toRelations(g: KGraph, nCpus: number, model: KernelGraphModel, all = false): Relations {
  const events: GraphEvent[] = [];
  const rf: number[] = [];
  const initOf = new Map<number, number>();
  const locsUsed = new Set<number>();
  for (const s of g.steps) if (s.kind === 'R' || s.kind === 'W' || s.kind === 'U') locsUsed.add(s.loc);
  for (const l of [...locsUsed].sort((a, b) => a - b)) {
    initOf.set(l, events.length);
    events.push({ id: events.length, thread: -1, kind: 'W', loc: l, tags: new Set(), rmwWrite: -1, addr: [], data: [], ctrl: [] });
    rf.push(-1);
  }
  // Step -> its event (for a U, its read; its write is the next event), and for a T each take's read.
  const evOf = new Array<number>(g.steps.length).fill(-1);
  const writeOf = new Array<number>(g.steps.length).fill(-1);
  const pending: { ev: number; rf: number; loc: number }[] = [];
  const deps: { ev: number; s: KStep }[] = [];
  const push = (e: Omit<GraphEvent, 'id'>): number => {
    const id = events.length;
    events.push({ id, ...e });
    rf.push(-1);
    return id;
  };
  const none: number[] = [];
  for (const list of g.perCpu(nCpus)) {
    for (const i of list) {
      const s = g.steps[i]!;
      const cpu = s.cpu;
      switch (s.kind) {
        case 'R': {
          const id = push({ thread: cpu, kind: 'R', loc: s.loc, tags: new Set(s.tags), rmwWrite: -1, addr: none, data: none, ctrl: none });
          evOf[i] = id;
          pending.push({ ev: id, rf: s.rf, loc: s.loc });
          deps.push({ ev: id, s });
          break;
        }
        case 'W': {
          const id = push({ thread: cpu, kind: 'W', loc: s.loc, tags: new Set(s.tags), rmwWrite: -1, addr: none, data: none, ctrl: none });
          evOf[i] = id;
          writeOf[i] = id;
          deps.push({ ev: id, s });
          break;
        }
        case 'U': {
          const rt = s.tags.filter((t) => !t.includes(':'));
          const wt = s.tags.filter((t) => t.startsWith('w:')).map((t) => t.slice(2));
          // LKMM: a fully ordered atomic between two mb fences.
          for (const t of s.tags) if (t.startsWith('b:')) push({ thread: cpu, kind: 'F', loc: -1, tags: new Set([t.slice(2)]), rmwWrite: -1, addr: none, data: none, ctrl: none });
          const rid = events.length;
          const r = push({ thread: cpu, kind: 'R', loc: s.loc, tags: new Set(rt), rmwWrite: s.wrote ? rid + 1 : -1, addr: none, data: none, ctrl: none });
          evOf[i] = r;
          pending.push({ ev: r, rf: s.rf, loc: s.loc });
          deps.push({ ev: r, s });
          if (s.wrote) {
            const w = push({ thread: cpu, kind: 'W', loc: s.loc, tags: new Set(wt), rmwWrite: -1, addr: none, data: none, ctrl: none });
            writeOf[i] = w;
            deps.push({ ev: w, s });
          }
          for (const t of s.tags) if (t.startsWith('a:')) push({ thread: cpu, kind: 'F', loc: -1, tags: new Set([t.slice(2)]), rmwWrite: -1, addr: none, data: none, ctrl: none });
          break;
        }
        case 'F':
          // A barrier (no location), or arm64 cache maintenance of the line of s.loc.
          evOf[i] = push({ thread: cpu, kind: 'F', loc: s.loc, tags: new Set(s.tags), rmwWrite: -1, addr: none, data: none, ctrl: none });
          deps.push({ ev: evOf[i]!, s });
          break;
        case 'S': {
          // The send: a write of its own location (x86: tagged so that it is not ordered after buffered stores).
          const id = push({ thread: cpu, kind: 'W', loc: SEND_LOC_BASE + i, tags: new Set(s.tags), rmwWrite: -1, addr: none, data: none, ctrl: none });
          evOf[i] = id;
          writeOf[i] = id;
          break;
        }
        case 'T':
          // One read per send taken, each ordered before what the handler does.
          for (const t of s.takes) {
            if (t < 0) continue; // a timer tick pending from the start: no sender
            const id = push({ thread: cpu, kind: 'R', loc: SEND_LOC_BASE + t, tags: new Set(model === 'arm64' ? ['A', 'irq-entry'] : model === 'lkmm' ? ['once', 'irq-entry'] : ['irq-entry']), rmwWrite: -1, addr: none, data: none, ctrl: none });
            pending.push({ ev: id, rf: t, loc: SEND_LOC_BASE + t });
            if (evOf[i] < 0) evOf[i] = id;
          }
          break;
        default:
          break;
      }
    }
  }
  for (const p of pending) rf[p.ev] = p.rf < 0 ? initOf.get(p.loc)! : writeOf[p.rf]!;
  for (const { ev, s } of deps) {
    const map = (xs: number[]): number[] => xs.map((x) => evOf[x]!).filter((x) => x >= 0 && x < ev);
    const e = events[ev] as { addr: readonly number[]; data: readonly number[]; ctrl: readonly number[] };
    const d = all ? s.deps.all : s.deps.own;
    e.addr = map(d.addr);
    e.data = map(d.data);
    e.ctrl = map(d.ctrl);
  }
  const co: number[][] = [];
  for (const l of g.coLocs) co.push([initOf.get(l)!, ...g.co[l]!.map((w) => writeOf[w]!)]);
  // Sends: one write each, after their (absent) initial write? A send's location has no initial write: its read always reads it.
  for (let i = 0; i < g.steps.length; i++) if (g.steps[i]!.kind === 'S') co.push([writeOf[i]!]);
  return new Relations({ events, rf, co });
}

/**
 * A step's tags as toDirect() reads them, kept on the step: A, L, NoRet (bits 0-2); for a
 * read-modify-write those of its read, and from bit 3 those of its write (its `w:` tags).
 */
function directFlags(s: KStep): number {
  if ((s.df ?? -1) >= 0) return s.df!;
  const bits = (tags: readonly string[]): number => (tags.includes('A') ? 1 : 0) | (tags.includes('L') ? 2 : 0) | (tags.includes('NoRet') ? 4 : 0);
  const f = s.kind === 'U'
    ? bits(s.tags.filter((t) => !t.startsWith('w:'))) | (bits(s.tags.filter((t) => t.startsWith('w:')).map((t) => t.slice(2))) << 3)
    : bits(s.tags);
  s.df = f;
  return f;
}

/**
 * The graph as models/arm64-direct.ts reads it: each CPU's explicit accesses in program
 * order, barriers between them. Null when the graph has instruction fetches or cache
 * maintenance (decided by models/arm64.ts).
 */
function toDirect(g: KGraph, nCpus: number, all = false): DGraph | null {
  const events: DEvent[] = [];
  const fences: DFence[] = [];
  const start: number[] = [];
  const end: number[] = [];
  const evOf = new Int32Array(g.steps.length).fill(-1);
  const writeOf = new Int32Array(g.steps.length).fill(-1);
  const pendingRf: { ev: number; step: number }[] = [];
  const deps: { ev: number; s: KStep }[] = [];
  const fenceDeps: { f: DFence; at: number; s: KStep }[] = [];
  const none: number[] = [];
  // Flags: A, L, NoRet (bits 0-2); a read-modify-write's write part's from bit 3.
  const mk = (cpu: number, write: boolean, loc: number, f: number): DEvent => ({
    cpu, write, loc, A: (f & 1) !== 0, L: (f & 2) !== 0, noRet: (f & 4) !== 0, rf: -1, rmwW: -1, addr: none, data: none, ctrl: none,
  });
  const per = g.perCpu(nCpus);
  for (let c = 0; c < nCpus; c++) {
    start.push(events.length);
    for (const i of per[c]!) {
      const s = g.steps[i]!;
      switch (s.kind) {
        case 'R':
          if (s.tags.includes('ifetch')) return null;
          evOf[i] = events.length;
          pendingRf.push({ ev: events.length, step: s.rf });
          deps.push({ ev: events.length, s });
          events.push(mk(c, false, s.loc, directFlags(s)));
          break;
        case 'W':
        case 'S':
          evOf[i] = writeOf[i] = events.length;
          if (s.kind === 'W') deps.push({ ev: events.length, s });
          events.push(mk(c, true, s.kind === 'S' ? SEND_LOC_BASE + i : s.loc, directFlags(s)));
          break;
        case 'U': {
          const r = events.length;
          evOf[i] = r;
          pendingRf.push({ ev: r, step: s.rf });
          deps.push({ ev: r, s });
          const f = directFlags(s);
          events.push(mk(c, false, s.loc, f & 7));
          if (s.wrote) {
            writeOf[i] = r + 1;
            events[r]!.rmwW = r + 1;
            deps.push({ ev: r + 1, s });
            events.push(mk(c, true, s.loc, f >> 3));
          }
          break;
        }
        case 'F': {
          if (s.loc >= 0) return null; // cache maintenance
          const f: DFence = { cpu: c, at: events.length, full: s.tags.includes('dmb.full'), ld: s.tags.includes('dmb.ld'), st: s.tags.includes('dmb.st'), isb: s.tags.includes('isb'), ctrl: none };
          fences.push(f);
          fenceDeps.push({ f, at: events.length, s });
          break;
        }
        case 'T':
          for (const t of s.takes) {
            if (t < 0) continue;
            if (evOf[i] < 0) evOf[i] = events.length;
            pendingRf.push({ ev: events.length, step: -2 - t });
            events.push(mk(c, false, SEND_LOC_BASE + t, 1));
          }
          break;
        default:
          break;
      }
    }
    end.push(events.length);
  }
  for (const p of pendingRf) {
    const w = p.step <= -2 ? writeOf[-2 - p.step]! : p.step < 0 ? -1 : writeOf[p.step]!;
    events[p.ev]!.rf = w;
  }
  const map = (xs: readonly number[], before: number): number[] => {
    const out: number[] = [];
    for (const x of xs) {
      const e = evOf[x]!;
      if (e >= 0 && e < before) out.push(e);
    }
    return out;
  };
  for (const { ev, s } of deps) {
    const e = events[ev]!;
    const { addr, data, ctrl } = all ? s.deps.all : s.deps.own;
    if (addr.length > 0) e.addr = map(addr, ev);
    if (data.length > 0) e.data = map(data, ev);
    if (ctrl.length > 0) e.ctrl = map(ctrl, ev);
  }
  for (const { f, at, s } of fenceDeps) {
    const ctrl = (all ? s.deps.all : s.deps.own).ctrl;
    if (ctrl.length > 0) f.ctrl = map(ctrl, at);
  }
  const co = new Map<number, number[]>();
  for (const l of g.coLocs) co.set(l, g.co[l]!.map((x) => writeOf[x]!));
  for (let i = 0; i < g.steps.length; i++) if (g.steps[i]!.kind === 'S') co.set(SEND_LOC_BASE + i, [writeOf[i]!]);
  return { events, fences, start, end, co };
}

/** x86 for kernel graphs: x86-TSO (models/x86.ts) with the IPI send not ordered after the sender's buffered stores. */
function x86KernelConsistent(x: Relations): boolean {
  if (!x.poLoc.union(x.rf, x.co, x.fr).isAcyclic()) return false;
  if (!x.rmw.inter(x.fr.seq(x.co)).isEmpty()) return false;
  const sends = x.tagged('ipi-send');
  const ppo = x.po.minus(Rel.cross(x.W, x.R)).minus(Rel.cross(x.W, sends));
  const locked = x.tagged('locked').id();
  const implied = x.po.seq(locked).union(locked.seq(x.po));
  const mfence = x.fencerel('mfence');
  return ppo.union(implied, mfence, x.rfe, x.co, x.fr).isAcyclic();
}

const KERNEL_CONSISTENT: Record<KernelGraphModel, (x: Relations) => boolean> = {
  sc: CONSISTENT.sc,
  x86: x86KernelConsistent,
  arm64: CONSISTENT.arm64,
  lkmm: CONSISTENT.lkmm,
};

/** The events an op becomes on a model, and its tags (a U's write tags carry the prefix 'w:'). */
function opTags(model: KernelGraphModel, op: Op, wrote: boolean, spinlocks?: ReadonlySet<number>): { kind: KStep['kind']; tags: Tag[] } | null {
  const map = MAPPINGS[model as GraphModelName];
  // LKMM: a spinlock's word is accessed by lock.cat's events (tools/memory-model/lock.cat):
  // spin_lock()'s wait for the word to be free is a read with no ordering (RU, as
  // spin_is_locked() returning false), its cmpxchg_acquire() the lock (LKR, an acquire,
  // and LKW), a cmpxchg that finds it taken a failed lock (LF), the release store of
  // spin_unlock() the unlock (UL).
  if (model === 'lkmm' && 'loc' in op && spinlocks?.has(op.loc)) {
    switch (op.k) {
      case 'await': case 'ld': return { kind: 'R', tags: ['ru'] };
      case 'rmw': return { kind: 'U', tags: wrote ? ['lkr', 'w:lkw'] : ['lf'] };
      case 'st': return { kind: 'W', tags: ['ul'] };
      default: break;
    }
  }
  switch (op.k) {
    case 'ld':
    case 'await':
      return { kind: 'R', tags: map.load(op.order ?? 'once') };
    case 'st':
      return { kind: 'W', tags: map.store(op.order ?? 'once') };
    case 'rmw': {
      const order = op.order ?? 'mb';
      const e = wrote ? map.rmw(order, op.returns ?? true) : map.failedRmw(order);
      return { kind: 'U', tags: [...e.before.map((t) => `b:${t}`), ...e.read, ...e.write.map((t) => `w:${t}`), ...e.after.map((t) => `a:${t}`)] };
    }
    case 'mb': {
      const tags = map.fence(op.fence ?? 'mb');
      return tags.length > 0 ? { kind: 'F', tags } : { kind: 'F', tags: ['mb'] };
    }
    case 'nop': {
      if (model === 'arm64' && op.arm64) return { kind: 'F', tags: [...op.arm64] };
      if (op.fence) {
        const tags = map.fence(op.fence);
        if (tags.length > 0) return { kind: 'F', tags };
      }
      return { kind: 'L', tags: [] };
    }
    case 'serialize':
      // x86: serialising, a full barrier (the machine drains the store buffer first).
      // arm64: the kernel model's IRET is arm64's ERET, a context synchronisation event.
      // LKMM: no memory event (it has no instruction stream).
      return model === 'x86' ? { kind: 'F', tags: ['mfence'] } : model === 'arm64' ? { kind: 'F', tags: ['isb'] } : { kind: 'L', tags: [] };
    case 'cr3':
      // A CR3 write is an x86 path: serialising (unless a mutant's says otherwise); no
      // arm64 event (arm64 runs its own switch_mm()).
      return model === 'x86' && op.barrier !== false ? { kind: 'F', tags: ['mfence'] } : { kind: 'L', tags: [] };
    case 'irq':
      return { kind: 'L', tags: [] };
    case 'exec':
      // arm64: the instruction fetch of the code run (support.ts refuses code on sc and x86 here).
      return model === 'arm64' ? { kind: 'R', tags: ['ifetch'] } : null;
    case 'cmo':
      return model === 'arm64' ? { kind: 'F', tags: [op.op] } : null;
    case 'raise':
      return { kind: 'S', tags: model === 'x86' ? ['ipi-send'] : model === 'lkmm' ? ['once'] : [] };
    default:
      return null;
  }
}

/**
 * What the search assumes of executions it has not seen, to take more steps alone (the
 * proof is in exploreKernelGraphs()). `quiet[c]`: no interrupt reaches CPU c.
 * `writers`: per location, the CPUs seen writing it so far, in any search (they do).
 */
interface Assumptions {
  quiet: boolean[];
  writers: Map<number, Set<number>>;
  /** Assumption 2 is made. */
  own: boolean;
}

/**
 * Searches the graphs of the program on the model.
 *
 * Two assumptions let it take more steps alone (a persistent set of one step: every
 * graph reached by running another CPU first is reached by running this step first).
 *
 * 1. A CPU that no interrupt can reach in any execution (no tick pending at the start, and
 *    no IPI sent to it in any graph) is "quiet": where an interrupt could land among its
 *    steps is no choice, so its steps that read nothing are taken alone and its no-event
 *    ops run at once, as for a CPU with interrupts off.
 * 2. A location that no CPU but c writes in any execution is c's: a read (or
 *    read-modify-write) of it by c, at a step where c cannot take an interrupt, has the
 *    same choice (c's last write, or the initial value) whatever the other CPUs do first,
 *    so it is taken alone.
 *
 * Neither is known before the search. It assumes every CPU without a pending tick is
 * quiet and every location belongs to whoever reads it, and learns: an IPI to a CPU
 * assumed quiet, or a write of a location by a CPU other than one that has read it alone,
 * makes it start again with what it learned (a write of a location no CPU has read alone
 * is only recorded). A search that ends without either had its assumptions right: if some
 * execution broke one, take the first event that breaks one (an IPI to a quiet CPU, a
 * write of another CPU's location) in an order of the graph that extends program order
 * and reads-from. What comes before it (its porf-prefix) breaks none (an interrupt entry
 * on a quiet CPU reads an earlier IPI), so it is a graph the search under the assumptions
 * reaches a state holding (each step taken alone adds an event with no edge out of it into
 * that prefix: a barrier, a store or send placed last, a read of the CPU's own last write),
 * the breaking event included, which the search would have seen.
 */
export function exploreKernelGraphs(program: Program, model: KernelGraphModel, prop: (v: readonly number[]) => boolean, o: KernelGraphOptions): ExploreResult {
  const initialPending = initialPendingOf(program);
  // Random runs assume nothing: a run is no proof of absence, so nothing is learned from it.
  const assume = o.assume !== false && o.random === undefined;
  const as: Assumptions = { quiet: initialPending.map((p) => assume && p === 0), writers: new Map(), own: assume };
  let earlierSteps = 0;
  for (;;) {
    const r = searchKernelGraphs(program, model, prop, o, as, initialPending);
    if ('restart' in r) {
      earlierSteps += r.steps;
      continue;
    }
    return { ...r, steps: r.steps + earlierSteps };
  }
}

function searchKernelGraphs(program: Program, model: KernelGraphModel, prop: (v: readonly number[]) => boolean, o: KernelGraphOptions, as: Assumptions, initialPending: readonly number[]): ExploreResult | { restart: true; steps: number } {
  const n = program.nCpus;
  const quiet = as.quiet;
  /** Per location, the CPUs that have read it alone in this search (assumption 2). */
  const readAlone = new Map<number, Set<number>>();
  /** A write of the location by the CPU: false when it breaks assumption 2 (start again). */
  const learnWrite = (loc: number, cpu: number): boolean => {
    let ws = as.writers.get(loc);
    if (ws?.has(cpu)) return true;
    if (ws === undefined) as.writers.set(loc, (ws = new Set()));
    ws.add(cpu);
    const readers = readAlone.get(loc);
    if (readers === undefined) return true;
    for (const c of readers) if (c !== cpu) return false;
    return true;
  };
  const ownLoc = (loc: number, cpu: number): boolean => {
    if (!as.own) return false;
    const ws = as.writers.get(loc);
    return ws === undefined || ws.size === 0 || (ws.size === 1 && ws.has(cpu));
  };
  const depsMode: DepsAssumption = o.random ? 'all' : o.deps ?? 'none';
  // One search for both assumptions: it explores the graphs consistent under `none` and
  // marks those consistent under `all` too (KGraph.allOk). `all` only adds dependency
  // edges, so its graphs are those of `none` that stay consistent with them, and a prefix
  // of such a graph is one too (every predicate here only grows with the graph): the
  // marked states are the states the search under `all` alone would reach. A marked state
  // with no marked child is where that search ends: a final state, or a deadlock.
  const both = depsMode === 'both';
  const consistent = KERNEL_CONSISTENT[model];
  const col = new Collector(prop);
  const colAll = new Collector(prop);
  const seen = new StateSet();
  let steps = 0;
  let executions = 0;
  let executionsAll = 0;
  let statesAll = 0;
  let incompleteReason: string | null = null;
  const progressEvery = o.progressEvery ?? 10_000;

  const replay = (g: KGraph): Replay => {
    // The parent's replay, handed to the child popped right after it: only the child's own steps are left to apply.
    const reuse = g.replay;
    g.replay = undefined;
    const r = reuse ? reuse.r : new Replay(program, quiet);
    for (let i = reuse ? reuse.at : 0; i < g.steps.length; i++) {
      r.apply(g, i);
      steps++;
    }
    return r;
  };

  // Where each CPU's code depends on its own inputs alone, states are extended from its
  // known frontiers (FrontierCache); random runs go on from their one replay.
  const cache = program.cpuLocalCode === true && !o.random && o.replay !== 'whole' ? new FrontierCache(program, quiet) : null;
  const crossCheck = typeof o.replay === 'object' ? o.replay : null;
  /** Steps applied by replays (each state's, and the cache's of single CPUs). */
  const stepsNow = (): number => steps + (cache?.applied ?? 0);
  const traces: NonNullable<ExploreResult['graphTraces']> = {};
  const tracesAll: NonNullable<ExploreResult['graphTraces']> = {};
  const table = new KeyTable();
  const root = (): KGraph => new KGraph(program.init, [], [], [], table);
  const pct = o.random ? new PctRuns(o.random, n) : null;
  const stack: KGraph[] = pct ? [] : [root()];
  /** Random runs: the states they went through, and the first bound a run hit. */
  let walked = 0;
  let runCut: string | null = null;
  const general = (g: KGraph, all: boolean): boolean => consistent(toRelations(g, n, model, all));
  const checkWith = model !== 'arm64' ? general : (g: KGraph, all: boolean): boolean => {
    const d = toDirect(g, n, all);
    if (d === null) return general(g, all);
    const ok = arm64DirectConsistent(d);
    if (o.crossCheckPredicate) {
      o.crossCheckPredicate.checks++;
      if (ok !== general(g, all)) throw new Error(`internal: models/arm64-direct.ts says ${ok ? 'consistent' : 'inconsistent'} where models/arm64.ts does not, on the graph\n${renderGraph(g, program, model, null)}`);
    }
    return ok;
  };
  /** Is the new graph consistent (under `none` when one search answers for both)? Marks it for `all` too. */
  const check = (h: KGraph): boolean => {
    // `all` has the edges of `none` and more: inconsistent under `none`, inconsistent
    // under both. Most extensions checked are (on membarrier E, 86%), so `none` first.
    if (!checkWith(h, false)) return false;
    if (both && h.allOk && !checkWith(h, true)) h.allOk = false;
    return true;
  };

  while (stack.length > 0 || (pct !== null && pct.start(stack, root))) {
    if (incompleteReason !== null) break;
    const g = stack.pop()!;
    let key: string | undefined;
    if (pct) {
      // A run goes through states another run went through: no set of them.
      walked++;
      if (o.onProgress && g.steps.length === 0 && pct.started % (o.progressEvery ?? 1000) === 0) {
        o.onProgress({ executions, steps: stepsNow(), graphs: col.graphCount, share: pct.started / pct.search.runs });
      }
      if (col.bytes + table.bytes > o.bounds.memoryMax) {
        incompleteReason = `memory_max=${o.bounds.memoryMax} bytes reached`;
        break;
      }
    } else {
      const added = seen.add(g, n, o.bounds.executionsMax);
      if (added === 'seen') continue;
      if (added === 'full') {
        incompleteReason = `the search stopped after ${o.bounds.executionsMax} graphs (executions_max)`;
        break;
      }
      if (both && g.allOk) statesAll++;
      if (col.bytes + colAll.bytes + seen.bytes + table.bytes + (cache?.bytes ?? 0) > o.bounds.memoryMax) {
        incompleteReason = `memory_max=${o.bounds.memoryMax} bytes reached`;
        break;
      }
      if (o.onProgress && seen.size % progressEvery === 0) o.onProgress({ executions, steps: stepsNow(), graphs: col.graphCount });
    }
    // The whole graph replayed (random runs, programs whose CPUs share code state; else only where a state ends).
    let r: Replay | null = null;
    let fr: Frontier[];
    try {
      if (cache) {
        fr = crossCheck ? crossCheckFrontiers(cache, () => replay(g), g, n, crossCheck) : cache.frontiers(g);
      } else {
        const rr = (r = replay(g));
        fr = Array.from({ length: n }, (_, c) => frontierOf(rr, c));
      }
    } catch (e) {
      if (e instanceof AssertionFailed) {
        col.assertion(e.assertion, () => []);
        if (both && g.allOk) colAll.assertion(e.assertion, () => []);
        continue;
      }
      if (e instanceof BoundExceeded) {
        if (pct) {
          // The run ends here; the next starts.
          runCut ??= e.reason;
          pct.end(g);
          continue;
        }
        incompleteReason = e.reason;
        break;
      }
      throw e;
    }
    if (g.counts.some((k) => k > o.bounds.stepsMax)) {
      const reason = `an execution exceeded ${o.bounds.stepsMax} steps (steps_max)`;
      if (pct) {
        runCut ??= reason;
        pct.end(g);
        continue;
      }
      incompleteReason = reason;
      break;
    }
    // Each CPU's steps (the places its frontier names), and the interrupts pending on it: found for the CPUs extended.
    const scans: (CpuScan | undefined)[] = [];
    const scan = (c: number): CpuScan => (scans[c] ??= scanCpu(g, c, initialPending[c]!));
    let extended = false;
    let extendedAll = false;
    const push = (h: KGraph): void => {
      stack.push(h);
      extended = true;
      if (h.allOk) extendedAll = true;
    };
    // A CPU that cannot take an interrupt before its next step (interrupts off, in a
    // handler, or quiet: see exploreKernelGraphs()) and whose next step reads nothing (a
    // barrier, interrupt masking, a store, an IPI send) takes that step alone: every graph reached by running other CPUs first is
    // reached by running it first too (a store added before a read of its location leaves
    // that read every write it had, and its coherence places are all tried), so the other
    // orders lead to no other graph. A persistent set of one step.
    // So does such a CPU's read of its own location (assumption 2 of exploreKernelGraphs()).
    let only = -1;
    for (let c = 0; c < n && only < 0; c++) {
      const f = fr[c]!;
      const op = f.op;
      if (op === null || f.irqOn && !f.inHandler && !quiet[c]) continue;
      const t = opTags(model, op, true, program.spinlocks);
      if (t !== null && (t.kind === 'F' || t.kind === 'L' || t.kind === 'W' || t.kind === 'S')) only = c;
      else if ((op.k === 'ld' || op.k === 'rmw') && ownLoc(op.loc, c)) {
        only = c;
        let rs = readAlone.get(op.loc);
        if (rs === undefined) readAlone.set(op.loc, (rs = new Set()));
        rs.add(c);
      }
    }
    for (let c = 0; c < n; c++) {
      if (only >= 0 && c !== only) continue;
      const f = fr[c]!;
      const { at, pending: pc } = scan(c);
      const last = f.lastRead < 0 ? -1 : at[f.lastRead]!;
      // Interrupt entry: the lowest vector pending, where the CPU can take one now.
      if (f.irqOn && !f.inHandler && pc.size > 0) {
        const v = Math.min(...pc.keys());
        const h = g.clone();
        h.add(mkStep(c, 'T', -1, 0, false, -1, NO_TAGS, NO_DEPS, -1, v, [...pc.get(v)!], undefined));
        push(h);
      }
      const op = f.op;
      if (op === null) continue;
      const t = opTags(model, op, true, program.spinlocks);
      if (t === null) throw new Error(`internal: the graph engine met op '${op.k}', which scenarios it runs do not have`);
      const depsUnder = (all: boolean): Deps => {
        const ref = (ps: readonly number[]): number[] => ps.map((p) => at[p]!);
        const own = f.own;
        const ctrl = all ? (last >= 0 ? [last] : []) : ref(f.branched);
        if (own) return { addr: ref(own.addr), data: ref(own.data), ctrl: [...ctrl, ...ref(own.ctrl)] };
        if (all && last >= 0) return { addr: [last], data: [], ctrl };
        return { addr: [], data: [], ctrl };
      };
      const deps = (): StepDeps => {
        const d = depsUnder(depsMode === 'all');
        const a = both ? depsUnder(true) : d;
        return { own: d, all: a };
      };
      const fn = op.site.fn;
      switch (t.kind) {
        case 'L':
        case 'F': {
          const h = g.clone();
          const d = t.kind === 'F' ? deps() : null;
          // Cache maintenance (arm64 DC CVAU, IC IVAU) is on a line: its location, and the address it depends on.
          const cmo = op.k === 'cmo';
          const fence = (x: Deps): Deps => ({ addr: cmo ? x.addr : NONE, data: NONE, ctrl: x.ctrl });
          const fd: StepDeps = d === null ? NO_DEPS : { own: fence(d.own), all: fence(d.all) };
          // A step without an event keeps, for traces, whether it masks interrupts (1 on, 2 off).
          const mask = t.kind === 'L' && op.k === 'irq' ? (op.enable ? 1 : 2) : 0;
          h.add(mkStep(c, t.kind, cmo ? op.loc : -1, mask, false, -1, t.tags, fd, -1, -1, NONE, fn));
          push(h);
          break;
        }
        case 'S': {
          if (op.k !== 'raise') break;
          // An IPI to a CPU assumed quiet: the assumption is wrong, search again without it.
          if (quiet[op.cpu]) {
            quiet[op.cpu] = false;
            return { restart: true, steps: stepsNow() };
          }
          const h = g.clone();
          // arm64: the send path's barrier (gic_ipi_send_mask(): dsb(ishst) before the SGI register write).
          if (model === 'arm64') h.add(mkStep(c, 'F', -1, 0, false, -1, DMB_ST, NO_DEPS, -1, -1, NONE, fn, true));
          h.add(mkStep(c, 'S', -1, 0, false, -1, t.tags, NO_DEPS, op.cpu, op.vector, NONE, fn));
          push(h);
          break;
        }
        case 'R':
        case 'U': {
          if (op.k !== 'ld' && op.k !== 'await' && op.k !== 'rmw' && op.k !== 'exec') break;
          const loc = op.loc;
          const ws = [-1, ...(g.co[loc] ?? [])];
          const d = deps();
          // A data read sees nothing coherence-before what its CPU last wrote to or read from the
          // location (coherence on every model here); an instruction fetch may.
          const floor = op.k === 'exec' ? 0 : ownFloor(g, c, loc).read;
          for (let k = floor; k < ws.length; k++) {
            const w = ws[k]!;
            const val = g.valueOf(w, loc);
            if (op.k === 'await' && !op.pred(val)) continue;
            const h = g.clone();
            if (op.k === 'rmw') {
              const nv = op.f(val);
              if (nv !== undefined && !learnWrite(loc, c)) return { restart: true, steps: stepsNow() };
              const tt = opTags(model, op, nv !== undefined, program.spinlocks)!;
              h.add(mkStep(c, 'U', loc, nv === undefined ? 0 : nv | 0, nv !== undefined, w, tt.tags, d, -1, -1, NONE, fn));
              if (nv !== undefined) {
                // Atomicity: the write comes right after the write it read in coherence order.
                const list = [...(h.co[loc] ?? [])];
                list.splice(w < 0 ? 0 : list.indexOf(w) + 1, 0, h.steps.length - 1);
                h.setCo(loc, list);
              }
            } else {
              h.add(mkStep(c, 'R', loc, 0, false, w, t.tags, d, -1, -1, NONE, fn));
            }
            // Reading the coherence-last write adds an event with no edge out of it (nothing is
            // after it in program order or coherence): every predicate here stays satisfied.
            if (w === ws[ws.length - 1] || check(h)) push(h);
          }
          break;
        }
        case 'W': {
          if (op.k !== 'st') break;
          const loc = op.loc;
          const list = g.co[loc] ?? [];
          const d = deps();
          if (!learnWrite(loc, c)) return { restart: true, steps: stepsNow() };
          // A write goes coherence-after its CPU's earlier writes to the location (coWW).
          const floor = ownFloor(g, c, loc).write;
          for (let p = list.length; p >= floor; p--) {
            const h = g.clone();
            h.add(mkStep(c, 'W', loc, op.val, false, -1, t.tags, d, -1, -1, NONE, fn));
            const nl = [...list];
            nl.splice(p, 0, h.steps.length - 1);
            h.setCo(loc, nl);
            // Coherence-last: no edge out of the new write, so nothing to check.
            if (p === list.length || check(h)) push(h);
          }
          break;
        }
        default:
          break;
      }
    }
    // A random run goes on with one of the children (PCT), the others are dropped.
    if (pct && extended) pct.choose(stack);
    // No CPU can take a step: a final state, or a deadlock (a CPU waits forever).
    const end = (into: Collector, tr: typeof traces): void => {
      // The warnings and the observed values are the whole replay's.
      const whole = (r ??= replay(g));
      const warn = whole.instance.warnings();
      for (const w of warn) into.assertion(w, () => []);
      let done = true;
      for (let c = 0; c < n; c++) if (!fr[c]!.idle || scan(c).pending.size > 0) done = false;
      if (pct) pct.end(g);
      // A random run assumes every dependency, which may leave a wait no value satisfies
      // where the real dependencies would give it one: its deadlocks prove nothing.
      if (pct && !done) {
        if (warn.length > 0) tr.assertion ??= renderGraph(g, program, model, null);
        pct.blocked++;
        return;
      }
      if (done) {
        const values = whole.instance.observe(g.memory());
        const kind = prop(values) ? 'positive' : 'negative';
        tr[kind] ??= renderGraph(g, program, model, values);
        into.final((key ??= g.key(n)), values, () => []);
      } else tr.deadlock ??= renderGraph(g, program, model, null);
      if (warn.length > 0) tr.assertion ??= renderGraph(g, program, model, null);
      if (!done) into.deadlock(() => []);
    };
    // Where the search under `all` alone ends (below, or here when only `none` goes on).
    if (both && g.allOk && !extendedAll) {
      executionsAll++;
      end(colAll, tracesAll);
    }
    // The child pushed last is popped next: it continues from this replay.
    if (extended) {
      if (r !== null && !cache) stack[stack.length - 1]!.replay = { r, at: g.steps.length };
      continue;
    }
    executions++;
    end(col, traces);
  }

  const result = (c: Collector, states: number, execs: number, tr: typeof traces, stepCount: number): ExploreResult => ({
    reduction: true,
    engine: 'graph',
    outcomes: c.sortedOutcomes(),
    graphs: c.graphCount,
    positive: c.positive,
    negative: c.negative,
    executions: execs,
    sleepBlocked: 0,
    interleavings: null,
    states,
    steps: stepCount,
    deadlocks: c.deadlocks,
    complete: incompleteReason === null,
    incompleteReason,
    memoryBytes: col.bytes + colAll.bytes + seen.bytes + table.bytes + (cache?.bytes ?? 0),
    assertions: [...c.assertions].map(([name, runs]) => ({ name, runs })),
    witnesses: { positive: null, negative: null, deadlock: null, assertion: null },
    witnessList: { positive: [], negative: [] },
    graphTraces: tr,
  });
  if (pct) {
    // Sampling never covers the search: complete only in what it found.
    const blocked = pct.blocked > 0 ? `; ${pct.blocked} runs ended waiting, which under the dependencies a run assumes proves no deadlock` : '';
    const why = incompleteReason ?? `${randomReason(o.random!)}${runCut !== null ? ` (${runCut} in some runs)` : ''}${blocked}`;
    return { ...result(col, walked, executions, traces, stepsNow()), complete: false, incompleteReason: why, random: o.random! };
  }
  const none = result(col, seen.size, executions, traces, stepsNow());
  // The steps were taken once, for both.
  return both ? bracketDeps(none, result(colAll, statesAll, executionsAll, tracesAll, 0), model) : none;
}

/**
 * Seeded runs of the kernel graph search, each from the empty graph to a final state,
 * scheduled by PCT as the machine engine's random search is (src/explore/random.ts): the
 * CPUs get distinct random priorities, the highest-priority CPU with a step goes (among
 * its steps, the write it reads from or its coherence place, or an interrupt entry, one
 * chosen uniformly), and at d - 1 random depths of the run the CPU about to step drops
 * below all others. What a run reaches is a consistent graph, so it exists.
 */
class PctRuns {
  readonly rng: Rng;
  private run = 0;
  private depth = 0;
  /** Runs begun so far. */
  get started(): number {
    return this.run;
  }
  /** The run length the change points are drawn from: the longest run so far. */
  private k = 64;
  private prio: number[] = [];
  private changes: number[] = [];
  /** Runs that ended with a CPU waiting. */
  blocked = 0;
  constructor(
    readonly search: RandomSearch,
    readonly n: number,
  ) {
    this.rng = new Rng(search.seed);
  }

  /** Begins the next run (false: all have run). */
  start(stack: KGraph[], root: () => KGraph): boolean {
    if (this.run >= this.search.runs) return false;
    const d = 1 + (this.run % PCT_DEPTH_MAX);
    this.run++;
    this.depth = 0;
    this.prio = Array.from({ length: this.n }, (_, i) => d + i);
    for (let i = this.n - 1; i > 0; i--) {
      const j = Math.floor(this.rng.next() * (i + 1));
      [this.prio[i], this.prio[j]] = [this.prio[j]!, this.prio[i]!];
    }
    this.changes = Array.from({ length: d - 1 }, () => 1 + Math.floor(this.rng.next() * this.k));
    stack.push(root());
    return true;
  }

  /** Keeps one of the children just pushed (the stack holds only them). */
  choose(stack: KGraph[]): void {
    const kids = stack.splice(0);
    const cpuOf = (h: KGraph): number => h.steps[h.steps.length - 1]!.cpu;
    const highest = (): number => {
      let best = -1;
      for (const h of kids) {
        const c = cpuOf(h);
        if (best < 0 || this.prio[c]! > this.prio[best]!) best = c;
      }
      return best;
    };
    this.depth++;
    let p = highest();
    const at = this.changes.indexOf(this.depth);
    if (at >= 0) {
      this.prio[p] = at;
      p = highest();
    }
    const mine = kids.filter((h) => cpuOf(h) === p);
    stack.push(mine[Math.floor(this.rng.next() * mine.length)]!);
  }

  /** The run ended at g. */
  end(g: KGraph): void {
    this.k = Math.max(this.k, g.steps.length);
  }
}

/**
 * An execution graph as text: its steps in the order the search added them (an order
 * that extends program order and reads-from), one line each: the CPU, the kernel
 * function or primitive, the event and, for a read, the write it reads from.
 */
export function renderGraph(g: KGraph, program: Program, model: KernelGraphModel, final: number[] | null): string {
  const from = (w: number): string => (w < 0 ? 'the initial value' : `#${w} (CPU${g.steps[w]!.cpu})`);
  const name = (l: number): string => program.locName(l);
  const value = (l: number, v: number): string => (program.formatLocValue ? program.formatLocValue(l, v) : program.formatValue(v));
  const lines: string[] = [];
  g.steps.forEach((s, i) => {
    let what: string;
    switch (s.kind) {
      case 'R': what = `read ${name(s.loc)} = ${value(s.loc, g.valueOf(s.rf, s.loc))}, from ${from(s.rf)}`; break;
      case 'W': what = `write ${name(s.loc)} = ${value(s.loc, s.val)}`; break;
      case 'U': what = `read-modify-write ${name(s.loc)}: ${value(s.loc, g.valueOf(s.rf, s.loc))} (from ${from(s.rf)})${s.wrote ? ` -> ${value(s.loc, s.val)}` : ', no write'}`; break;
      case 'F': what = s.loc >= 0 ? `cache maintenance of ${name(s.loc)}` : `barrier`; break;
      case 'S': what = `IPI to CPU${s.target} (vector ${s.vector})`; break;
      case 'T': what = `interrupt entry (vector ${s.vector})${s.takes.filter((t) => t >= 0).map((t) => `, the IPI #${t} of CPU${g.steps[t]!.cpu}`).join('')}`; break;
      // A step with no memory event on this model: interrupt masking, or an instruction the model has no event for.
      case 'L': what = s.val === 1 ? '(interrupts on: no memory event)' : s.val === 2 ? '(interrupts off: no memory event)' : `(no memory event on ${model})`; break;
      default: what = '';
    }
    const tags = s.tags.filter((t) => t !== 'ipi-send').map((t) => t.replace(/^w:/, 'write ')).join(' ');
    const fn = s.kind === 'T' ? 'interrupt' : s.fn ?? '';
    lines.push(`  #${String(i).padEnd(4)} CPU${s.cpu}  ${fn.padEnd(44)} ${what}${tags ? `  [${tags}]` : ''}`);
  });
  const events = g.steps.filter((s) => s.kind !== 'L').length;
  const head = `Execution graph on ${model}, ${events} events in an order that extends program order and reads-from${events < g.steps.length ? ` (and ${g.steps.length - events} steps that have none, in parentheses)` : ''}:`;
  const tail = final ? `Final: ${program.observedNames.map((n, k) => `${n}=${program.formatValue(final[k]!)};`).join(' ')}` : 'No final state: a CPU waits forever, or a kernel assertion failed.';
  return [head, ...lines, tail].join('\n');
}

/**
 * arm64 and LKMM without the kernel's dependencies written down: `none` (every behaviour the
 * hardware may show, perhaps more) and `all` (every read orders what follows it:
 * perhaps fewer) bracket the real set. Equal outcome sets (and the same assertions
 * and deadlocks) are the answer; otherwise the result is `all`'s, whose outcomes all
 * happen, marked incomplete with the outcomes that depend on dependencies. A search cut
 * short gives `all`'s too.
 */
export function bracketDeps(none: ExploreResult, all: ExploreResult, model: KernelGraphModel = 'arm64'): ExploreResult {
  // A search cut short proves only what it found, and what it found under `none` may be
  // an artefact of the assumption: `all`'s final states, assertions and deadlocks happen.
  if (!none.complete || !all.complete) return { ...all, complete: false, incompleteReason: none.incompleteReason ?? all.incompleteReason };
  const key = (r: ExploreResult): string => JSON.stringify({ o: r.outcomes.map((x) => x.values), a: r.assertions.map((x) => x.name).sort(), d: r.deadlocks > 0 });
  if (key(none) === key(all)) return none;
  const have = new Set(all.outcomes.map((x) => x.values.join(',')));
  const extra = none.outcomes.filter((x) => !have.has(x.values.join(','))).length;
  const extraA = none.assertions.filter((a) => !all.assertions.some((b) => b.name === a.name)).map((a) => a.name);
  const what = [
    extra > 0 ? `${extra} final state(s)` : '',
    extraA.length > 0 ? `assertion(s) ${extraA.join('; ')}` : '',
    none.deadlocks > 0 && all.deadlocks === 0 ? 'a deadlock' : '',
  ].filter((x) => x !== '').join(', ');
  return {
    ...all,
    steps: none.steps + all.steps,
    complete: false,
    incompleteReason: `${model}: ${what} appear only if no kernel read orders what follows it (deps: none), not if every one does (deps: all): the answer depends on dependencies of kernel code the model does not write down`,
  };
}
