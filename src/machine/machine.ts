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

import type { CpuCode, HandlerCode, Op } from './ops.js';
import { PageFault, pte_dirty, pte_pfn, pte_present, pte_same_but_ad, pte_write, pte_young, TLB_NR_DYN_ASIDS, _PAGE_ACCESSED, _PAGE_DIRTY, type Paging } from './paging.js';
import { KeyPacker } from './packed-key.js';
import { kernelCalls } from './calls.js';
import { INTERNED_ENTRY_BYTES } from '../explore/memory.js';

export type ModelName = 'sc' | 'x86';
export const MODELS: readonly ModelName[] = ['sc', 'x86'];

export const PROCS_PER_CPU = 4;
export const CPUS_MAX = 8; // processes are tracked in 32-bit masks
/** Write ids of the accessed and dirty bits the hardware sets (apart from every CPU's store ids). */
const HW_WID_BASE = 1 << 28;
export const STORE_BUFFER_MAX = 64; // entries per CPU (x86 has 50-odd): a bound of the model
/**
 * At most this many no-ops and private accesses run with one step (Machine.fuse); the
 * next is a step of its own. So code that is a long run of them (a `loop N` of
 * barrier()s) takes steps, and steps_max bounds it, instead of running unbounded
 * inside one step.
 */
export const MERGED_MAX = 64;

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
/** The CPU of process p of the first four kinds (a page walker's CPU: Machine.cpuOf()). */
export const cpuOfProc = (p: number): number => (p / PROCS_PER_CPU) | 0;
export type ProcKind = 'cpu' | 'flush' | 'irq' | 'fetch' | 'walk';
export const kindOfProc = (p: number): ProcKind =>
  (['cpu', 'flush', 'irq', 'fetch'] as const)[p % PROCS_PER_CPU]!;
/** Processes are tracked in 32-bit masks. */
export const PROCS_MAX = 32;

/** Access modes in a footprint entry `(loc << 2) | mode`. */
export const ACC_R = 1;
export const ACC_W = 2;
export const ACC_F = 3; // a store-buffer drain: a memory write that commutes with its own CPU's loads
/** A read of memory that bypasses the store buffer (a page walk): commutes with reads, not with any CPU's drains. */
export const ACC_M = 0;
/**
 * A race-only entry, stored as `~((loc << 2) | mode)` (negative): the step itself
 * commutes with the steps it conflicts with through it, but changes what a third,
 * volatile process (an instruction fetch, a page walker) may do next. The reduction
 * reverses such a conflict, so that the volatile process can act between the two
 * steps, and orders the two by it; but the conflict does not wake a sleeping step
 * (src/explore/dpor.ts, `wakes()`): the two orders alone give the same state.
 * A race-only read (ACC_R: a load its own store buffer forwards) depends on the state
 * (the CPU's own drain, which commutes with the load, makes it a plain read): the
 * search takes the footprint of a sleeping process that has one anew at each node.
 */
export const raceOnly = (entry: number): number => ~entry;
/** Footprint objects per PTE location (its versions, property S1) and per page frame (its lifetimes). */
const VERSION_OBJS = 16;
const EPOCH_OBJS = 8;

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
  /** A property of the machine failed (a stale TLB use, S1): recorded like a kernel WARN_ON(). */
  warn?(name: string): void;
  /** A machine event the kernel observables count (`cpuN:tlb_spec_flushed`). */
  count?(name: 'tlb_spec_flushed', cpu: number): void;
}

/**
 * A CPU's scalars that a step may change (besides its contexts and store buffer), in the
 * order save() and checkpoint() write them and load() and loadCheckpoint() read them back;
 * each returns the position after them.
 */
function saveCpuScalars(cpu: Cpu, d: number[], i: number): number {
  d[i++] = cpu.bufHead;
  d[i++] = cpu.irqOn ? 1 : 0;
  d[i++] = cpu.pending;
  d[i++] = cpu.stores;
  d[i++] = cpu.hist;
  d[i++] = cpu.cr3Mm;
  d[i++] = cpu.cr3Asid;
  d[i++] = cpu.cr3Gen;
  return i;
}

function loadCpuScalars(cpu: Cpu, d: readonly number[], i: number): number {
  cpu.bufHead = d[i++]!;
  cpu.irqOn = d[i++] === 1;
  cpu.pending = d[i++]!;
  cpu.stores = d[i++]!;
  cpu.hist = d[i++]!;
  cpu.cr3Mm = d[i++]!;
  cpu.cr3Asid = d[i++]!;
  cpu.cr3Gen = d[i++]!;
  return i;
}

/**
 * What the machine's steps gave the code, in order, for a replay of the code alone
 * (Machine.replayCode()): both searches (src/explore/explicit.ts, src/explore/dpor.ts) go
 * back to an earlier state of a run by running a fresh machine's code through the steps
 * to it, with the results the steps gave it the first time, and then loading the
 * machine's state as it was there (Machine.checkpoint()). The code is generators, which
 * cannot be copied; everything else can. `nums`, per step, in the order the step made them:
 * - each warning or count the step reported to the program: LOG_WARN and the
 *   message's index in `strings`, or LOG_COUNT and the CPU (all before the step
 *   resumed any code);
 * - an interrupt entry: the vector; a step of code: LOG_RESULT and the op's result,
 *   or LOG_FAULT_READ / LOG_FAULT_WRITE and the page of the fault;
 * - each time code is resumed (settle()): how many no-ops and private accesses
 *   the machine merged into the step, then the value each private access read.
 * Steps that resume no code (drains, instruction fetches, page walks) add only their
 * warnings.
 */
export class CodeLog {
  readonly nums: number[] = [];
  readonly strings: string[] = [];
  private readonly index = new Map<string, number>();

  str(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.index.set(s, i);
    }
    return i;
  }
}

const LOG_WARN = -1;
const LOG_COUNT = -2;
const LOG_RESULT = 0;
const LOG_FAULT_READ = 1;
const LOG_FAULT_WRITE = 2;

/**
 * The machine's state at one point of a run, all of it but the code (Machine.checkpoint()):
 * what probe() saves, and the store buffers' entries and the count of handler returns.
 */
export interface Checkpoint {
  data: Float64Array;
  scalars: number[];
  bufs: BufEntry[][];
  flushing: (Map<number, number> | null)[];
  flushedVer: Covered;
}

/**
 * Property S1: per PTE location, the version a completed flush_tlb_mm_range() covered.
 * Never changed in place: a flush that completes makes a new one (rarely: once per
 * flush), so that a probe's save and load, and a checkpoint, keep it by reference.
 */
interface Covered {
  readonly ver: ReadonlyMap<number, number>;
  /** Its entries as [location, version, ...] in the order of the locations: what the state key packs. */
  readonly sorted: readonly number[];
}

const NOTHING_COVERED: Covered = { ver: new Map(), sorted: [] };

/** `was` with the versions flush `f` covers (each the larger of the two). */
function coveredWith(was: Covered, f: ReadonlyMap<number, number>): Covered {
  const ver = new Map(was.ver);
  for (const [l, v] of f) ver.set(l, Math.max(v, ver.get(l) ?? 0));
  const sorted: number[] = [];
  for (const [l, v] of [...ver].sort((x, y) => x[0] - y[0])) sorted.push(l, v);
  return { ver, sorted };
}

/** What a handler returns, and the task code receives, when the task is preempted. */
export const PREEMPTED = -0x7fff_fff0;
/** ... and when the task returns to user mode in an rseq critical section with an rseq event: it aborts. */
export const RSEQ_ABORTED = -0x7fff_fff1;

interface Ctx {
  gen: HandlerCode;
  op: Op | null; // null: this context has finished
  vector: number; // -1 for the task context
  cpu: number;
  /**
   * No-op steps the code yielded before `op` (Machine.fuse): they run with `op`, in
   * the same step. Kept for traces; `notes` is empty unless the code yielded some.
   */
  notes: NoteOp[];
  withdraw?: number; // a handler that returned PREEMPTED or RSEQ_ABORTED: what the task receives instead
  /** Traces: the kernel functions `op` was yielded from, outermost first (src/machine/calls.ts). */
  calls?: readonly string[];
}

interface BufEntry {
  loc: number;
  val: number;
  wid: number; // write id
  ev: number; // index of the store event
  /** A user store: the location of the PTE its translation came from (else -1), and that translation's version (property S5). */
  pteLoc: number;
  ver: number;
}

interface Cpu {
  ctx: Ctx[];
  buf: BufEntry[];
  bufHead: number;
  irqOn: boolean;
  pending: number; // bitmask of pending vectors
  stores: number; // write ids issued
  hist: number; // interned history of this CPU's steps and results
  icache: Float64Array; // per code location (index into codeLocs): the version this CPU has fetched
  /** Paging: the address space CR3 holds and its PCID (the kernel's ASID slot). */
  cr3Mm: number;
  cr3Asid: number;
  /** Paging: per (PCID, page), index asid * nPages + vpn: the PTE the entry holds (0: no entry), and its version (kver() when it was read). */
  tlbPte: Float64Array;
  tlbVer: Float64Array;
  /** Paging: per TLB entry, the location of the PTE it was read from. */
  tlbSrc: Float64Array;
  /** Paging: per TLB entry, how many times its frame had been freed when the entry was made. */
  tlbEpoch: Float64Array;
  /** Paging: per TLB entry, 1 when a walk of the CPU's own (speculative, not for an access) filled it. */
  tlbSpec: Float64Array;
  /** Paging: per PCID, the page-table page the paging-structure cache holds (-1: none). */
  psc: Float64Array;
  /**
   * For keys: tlbPte, tlbVer, tlbEpoch and tlbSpec as one view (they are cut in that
   * order), and tlbSrc and psc (whose empty value is -1) as another: two lists to pack
   * instead of six.
   */
  tlbKey: Float64Array;
  tlbKeyLess1: Float64Array;
  /**
   * Paging: how many times each TLB entry (as tlbPte) and each paging-structure-cache
   * entry (as psc) has been written (filled, dropped, rewritten). The TLB and the cache
   * are locations of the execution graph: a page walk's record says how many writes of
   * its entry and of the cache came before it, which orders it against the CPU's own
   * INVLPG, CR3 writes and faults and against the cache's evictions, as the coherence
   * order of a memory location orders its writes (Machine.graphKey()).
   */
  tlbGen: Float64Array;
  pscGen: Float64Array;
  /** Paging: how many CR3 writes the CPU has made (a walk's record says which one it read). */
  cr3Gen: number;
}

type NoteOp = { op: Op; calls: readonly string[] | undefined };

/** What a machine merges (Machine.fuse, Machine.fusePrivate): true, both; 'noops', no-ops only; false, nothing. */
export type Fuse = boolean | 'noops';

/**
 * A no-op step on sc and x86: a compiler barrier (barrier(), smp_rmb()/smp_wmb() on
 * x86), a barrier that only a weaker machine gives a meaning to, or the kernel
 * model's note of where it is (switch_to(), a system call's entry). It touches no
 * state at all: only a `nop` that asks the scheduler to run (resched, block) or
 * ends a TLB flush (tlbFlushDone) does something.
 */
export function isNoteOp(op: Op): boolean {
  return op.k === 'nop' && op.resched === undefined && op.block === undefined && op.tlbFlushDone === undefined;
}

/** Hash-consing of histories so that a CPU's whole past is one integer. */
export class Interner {
  /**
   * Whether histories are kept at all: false for a machine whose runs are never
   * compared (smpcheck sim), which then builds no history codes (every history stays 0).
   */
  get keeps(): boolean {
    return true;
  }
  /**
   * The table as a trie: entry n (numbered from 1) is the history `codeOf[n]` after
   * `parentOf[n]`. A parent's first child is kept beside it (most histories have one
   * continuation), the others in a map per parent, so a lookup builds no key string.
   */
  private readonly parentOf: number[] = [0];
  private readonly codeOf: string[] = [''];
  private readonly firstCode: (string | undefined)[] = [];
  private readonly firstId: number[] = [];
  private readonly more: (Map<string, number> | undefined)[] = [];
  /** What the table holds, counted as the search's memory budget counts (src/explore/memory.ts). */
  bytes = 0;
  intern(parent: number, code: string): number {
    const first = this.firstCode[parent];
    if (first === code) return this.firstId[parent]!;
    if (first !== undefined) {
      const m = this.more[parent];
      const id = m?.get(code);
      if (id !== undefined) return id;
    }
    const id = this.parentOf.length;
    this.parentOf.push(parent);
    this.codeOf.push(code);
    if (first === undefined) {
      this.firstCode[parent] = code;
      this.firstId[parent] = id;
    } else {
      let m = this.more[parent];
      if (m === undefined) this.more[parent] = m = new Map();
      m.set(code, id);
    }
    // The parent's number counts as 8 bytes whatever its digits, so the count does not depend on the numbering.
    this.bytes += INTERNED_ENTRY_BYTES + 8 + code.length;
    return id;
  }
  get size(): number {
    return this.parentOf.length - 1;
  }
  /** The table's entries ('parent|code'), in the order of their numbers (1, 2, ...). */
  entries(): string[] {
    const out: string[] = [];
    for (let id = 1; id < this.parentOf.length; id++) out.push(`${this.parentOf[id]}|${this.codeOf[id]}`);
    return out;
  }
}

/** A page walk as the machine would do it now (Machine.walk()). */
interface Walk {
  pteLoc: number;
  pte: number;
  /** The TLB entry's index: asid * nPages + vpn. */
  slot: number;
  /** The page-table page walked (-1: none), and whether the paging-structure cache gave it. */
  table: number;
  viaPsc: boolean;
  pmdLoc: number;
}

/** The machine's state as a trace shows it (Machine.snapshot()). */
export interface MachineSnapshot {
  /** Every location's value in memory (store buffers not applied). */
  mem: number[];
  cpus: {
    /** Store-buffer entries, oldest first: [location, value]. */
    buf: [number, number][];
    /** Interrupt vectors pending. */
    pending: number[];
    irqOn: boolean;
    /** The vectors of the interrupt handlers running, outermost first. */
    handlers: number[];
    /** Per code location: [location, the version this CPU has fetched]. */
    icache: [number, number][];
    cr3?: { mm: number; asid: number };
    /** TLB entries: [PCID, page, frame, writable]. */
    tlb?: [number, number, number, boolean][];
  }[];
}

/** The translation of one user access (see Machine.translate()). */
interface Translation {
  /** The location of the frame's data (-1 on a fault with no frame). */
  phys: number;
  /** From the TLB (else from a walk, which fills it). */
  hit: boolean;
  fault: boolean;
  /** A write through a clean PTE: the access sets the dirty bit in memory first. */
  setDirty: boolean;
  /** A walk (a miss) that fills the TLB from an old PTE: it sets the accessed bit in memory. */
  setYoung: boolean;
  pteLoc: number;
  pte: number;
  /** The PTE's version (Machine.kver()) the translation was read at. */
  ver: number;
  /** A TLB hit whose frame has been freed since the entry was made (a use after free). */
  freed: boolean;
  slot: number;
  walk: Walk;
}

/** What a step did, for traces. */
export interface StepInfo {
  proc: number;
  cpu: number;
  kind: ProcKind;
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
  /** A user access: the virtual location (loc is the frame's), and the translation it used. */
  vloc?: number;
  tlb?: string;
  /** An interrupt raised ('raise'): the CPU it is raised on. */
  target?: number;
  /** The kernel functions the op came from, outermost first (recorded replays only). */
  calls?: readonly string[];
}

/**
 * What a machine derives from its program's layout and never changes (the index of each
 * code location, the set of PTE locations), made once per layout: a search makes a
 * machine per run.
 */
const codeIndexes = new WeakMap<readonly number[], ReadonlyMap<number, number>>();
const NO_CODE: ReadonlyMap<number, number> = new Map();
function codeIndexOf(codeLocs: readonly number[]): ReadonlyMap<number, number> {
  if (codeLocs.length === 0) return NO_CODE;
  let m = codeIndexes.get(codeLocs);
  if (m === undefined) codeIndexes.set(codeLocs, (m = new Map(codeLocs.map((l, i) => [l, i]))));
  return m;
}
const pteLocSets = new WeakMap<Paging, ReadonlySet<number>>();
const NO_LOCS: ReadonlySet<number> = new Set();
function pteLocsOf(paging: Paging): ReadonlySet<number> {
  let s = pteLocSets.get(paging);
  if (s === undefined) pteLocSets.set(paging, (s = new Set(paging.tablePte.flat())));
  return s;
}

/** The key builder machines share (Machine.packer). */
const SHARED_PACKER = new KeyPacker();

/**
 * A machine's data buffer and its views (Machine.data), with the buffer probe() saves it
 * to: what a search would otherwise allocate again for every run it replays. A machine
 * that its search drops hands them on (Machine.recycle()); the next machine of the same
 * sizes takes them and fills them as a new buffer would be.
 */
interface Storage {
  /** The sizes the views were cut for (Machine's constructor, `sizes`). */
  sizes: readonly number[];
  data: Float64Array;
  views: Float64Array[];
  saved: Float64Array | null;
}
/**
 * The storage of the last machines recycled in this thread (at most SPARES_MAX, the
 * latest last), until machines take them: the reduced search drops two machines in a
 * row where it replays a run to ask whether a step is enabled without another.
 */
const spares: Storage[] = [];
const SPARES_MAX = 4;
function takeSpare(sizes: readonly number[]): Storage | null {
  const s = spares[spares.length - 1];
  if (s === undefined || s.sizes.length !== sizes.length) return null;
  for (let i = 0; i < sizes.length; i++) if (s.sizes[i] !== sizes[i]) return null;
  spares.pop();
  return s;
}

export class Machine {
  readonly tso: boolean;
  readonly nCpus: number;
  readonly nLocs: number; // user locations; machine objects follow
  /**
   * What a step may change, in one buffer: memory, its write records and histories, the
   * PTE bookkeeping, the walkers' histories, then per CPU its fetched code, TLB and
   * paging-structure cache. The arrays below are views of it, so probe() saves and
   * restores them with one copy each way (save(), load()). Float64: memory holds any
   * value a program stores, pointers (2^48 + location) among them.
   */
  private readonly data: Float64Array;
  readonly mem: Float64Array;
  private readonly memW: Float64Array; // write id of the latest write to each location
  private readonly coHist: Float64Array;
  private readonly cpus: Cpu[];
  private readonly irqsPossible: boolean;
  /** Locations that hold code (write_code/exec_code): each CPU fetches them. */
  private readonly codeLocs: readonly number[];
  private readonly codeIndex: ReadonlyMap<number, number>;
  private events = 0;
  /** Address translation (scenarios with user pages), or null. */
  private readonly paging: Paging | null;
  private readonly nPages: number;
  /** Per (CPU, page): the history of the page walker's fills (part of the execution's identity). */
  private readonly walkHist: Float64Array;
  /** The first footprint object of the paging objects (TLB entries, CR3s, caches, S1 marks). */
  private readonly objBase: number;
  /** Per location: how many writes have reached memory (the length of its coherence order). */
  private readonly coLen: Float64Array;
  /**
   * Property S1: per PTE location, the version a completed flush_tlb_mm_range() covered
   * (its version, kver(), when the flush started); and per CPU the
   * versions its flush in progress will cover.
   */
  private flushedVer: Covered = NOTHING_COVERED;
  private readonly flushing: (Map<number, number> | null)[];
  /** Per location: a PTE's version (kver()), the writes that ended a present version of it (endsPresent()). */
  private readonly pteVer: Float64Array;
  /**
   * Per PTE location: how many writes have changed whether it is present. A walk that
   * finds the PTE not present reads only that (footprint()), and its record says which
   * of those writes it read.
   */
  private readonly presGen: Float64Array;
  /** The PTE locations (paging.tablePte). */
  private readonly pteLocs: ReadonlySet<number>;
  /** Per page frame: how many times the kernel has freed it (free_page(), an rmw with frameFree). */
  private readonly frameEpoch: Float64Array;

  /**
   * Handler returns so far (popFinished()). Once a step's data has changed, only a
   * handler's return, as the code resumes, changes what the state key holds: a step
   * after which this count has not moved leads to the state its probe's key names
   * (src/explore/explicit.ts).
   */
  pops = 0;

  /** Set by step(): the event this step must join in happens-before (a flush joins its store). */
  joinEvent = -1;
  /** Set by step(): the step waited for its own store buffer to drain (joins the flush process). */
  joinFlush = false;
  /** Describe steps for traces (slower). */
  recording = false;
  lastStep: StepInfo | null = null;
  /**
   * Recording: the no-op steps (isNoteOp()) this step ran before its op and after it
   * (a context whose code ended with them), in order. A trace shows each as a step.
   */
  notesBefore: StepInfo[] = [];
  notesAfter: StepInfo[] = [];
  /**
   * No-op steps are not scheduling points: the machine runs each with the next op of
   * its context (or, at the end of the context's code, with the op before it). A no-op
   * changes no state, so a run where another process, or an interrupt, came between
   * it and that op reaches what the run where it came before the no-op reaches; as a
   * step of its own it only multiplied the runs (an interrupt before or after a
   * barrier() is the same run). smpcheck sim keeps them as steps (it charges their cost).
   */
  readonly fuse: boolean;
  /**
   * Accesses to a location only their own thread reaches (Own in ops.ts) run with the
   * step before them, as no-ops run with the op after them, and such a store goes to
   * memory at once: what it does no other context can see, so where it comes among
   * other processes' steps (and, on x86, when it drains) does not matter. Its value and
   * where it falls in its own thread are what they would be as a step: the code
   * decides them. (Merged, with `fuse`, from trace format version 5 on.)
   */
  readonly fusePrivate: boolean;
  /**
   * Recording: the steps the code ran in the constructor, before the first step (no-ops
   * and private accesses that came before a private access), and for each private
   * store made then, its location and the value it overwrote (the trace's initial
   * state is the one before them).
   */
  readonly startSteps: StepInfo[] = [];
  readonly startUndo: [number, number][] = [];
  /** In the constructor. */
  private starting = true;
  /**
   * Set by step(), for smpcheck sim's costs (src/sim/): the memory location the step
   * accessed (a user access: the frame's; a drain: the store's; -1: none) and the page
   * walks it made (a TLB miss).
   */
  stepLoc = -1;
  stepWalks = 0;
  /** Histories are kept (Interner.keeps): else no history code is built. */
  private readonly hist: boolean;
  /**
   * In probe(): the step changes the machine's data only; the code of the context that
   * took it is not resumed, and nothing is reported to the program (warnings, counts).
   */
  private probing = false;
  /** When set, steps record what they give the code (CodeLog), for code-only replays. */
  codeLog: CodeLog | null = null;
  /** In replayStep(): the log replayed, and where in its numbers the replay is. */
  private replayLog: number[] | null = null;
  private replayAt = 0;
  private replayEnd = 0;
  /** Logging: the step has resumed code (a warning after that would be replayed out of order). */
  private stepResumed = false;
  /** Set by visible(): the write id of the value it returned, and whether it came from the store buffer. */
  private visibleWid = 0;
  private visibleFromBuf = false;

  constructor(
    model: ModelName,
    nCpus: number,
    init: readonly number[],
    private readonly program: ProgramInstance,
    private readonly interner: Interner,
    hasHandlers: boolean,
    codeLocs: readonly number[] = [],
    paging: Paging | null = null,
    /** At most this many processes: the explorers track them in 32-bit masks; smpcheck sim does not. */
    procsMax = PROCS_MAX,
    /**
     * Run no-op steps (isNoteOp()) with the op that follows them in their context,
     * instead of as steps of their own (see `fuse`), and private accesses with the step
     * before them (`fusePrivate`); 'noops': the no-ops only (traces of format version 4).
     */
    fuse: Fuse = true,
    /** Describe steps for traces from the start (`recording`; `startSteps`). */
    recording = false,
  ) {
    this.fuse = fuse !== false;
    this.fusePrivate = fuse === true;
    this.recording = recording;
    if (nCpus > CPUS_MAX) throw new Error(`internal: more than ${CPUS_MAX} CPUs`);
    this.tso = model === 'x86';
    this.hist = interner.keeps;
    this.nCpus = nCpus;
    this.nLocs = init.length;
    this.irqsPossible = hasHandlers;
    this.codeLocs = codeLocs;
    this.codeIndex = codeIndexOf(codeLocs);
    this.paging = paging;
    this.pteLocs = paging === null ? NO_LOCS : pteLocsOf(paging);
    this.nPages = paging?.nPages ?? 0;
    const nL = init.length;
    // One history per page walker, then one per paging-structure-cache evictor.
    const nWalk = nCpus * this.nPages + (this.nPages > 0 ? nCpus : 0);
    const nFrames = paging?.frameLoc.length ?? 0;
    const nTlb = TLB_NR_DYN_ASIDS * this.nPages;
    const nPsc = this.nPages > 0 ? TLB_NR_DYN_ASIDS : 0;
    const sizes = [nCpus, nL, nFrames, nWalk, codeLocs.length, nTlb, nPsc];
    // The storage a dropped machine of the same sizes left (recycle()), zeroed as a new
    // buffer is, or a new one, whose views are cut below in the order they are taken.
    const reused = takeSpare(sizes);
    if (reused !== null) reused.data.fill(0);
    this.storage = reused ?? { sizes, data: new Float64Array(6 * nL + nFrames + nWalk + nCpus * (codeLocs.length + 6 * nTlb + 2 * nPsc)), views: [], saved: null };
    this.data = this.storage.data;
    this.saved = this.storage.saved;
    const views = this.storage.views;
    let at = 0;
    let taken = 0;
    const view = (n: number, fill = 0): Float64Array => {
      if (taken === views.length) views.push(this.data.subarray(at, at + n));
      const v = views[taken++]!;
      at += n;
      if (fill !== 0) v.fill(fill);
      return v;
    };
    // A view of n numbers from `from`, over arrays already cut (it takes no numbers of its own).
    const span = (from: number, n: number): Float64Array => {
      if (taken === views.length) views.push(this.data.subarray(from, from + n));
      return views[taken++]!;
    };
    this.mem = view(nL);
    this.mem.set(init);
    this.memW = view(nL);
    this.coHist = view(nL);
    this.coLen = view(nL);
    this.pteVer = view(nL);
    this.presGen = view(nL);
    this.frameEpoch = view(nFrames);
    this.walkHist = view(nWalk);
    // Footprint objects after the locations: per CPU a control word (conflicts of a CPU's
    // steps with its interrupt entry) and an interrupt-pending word (IPI send vs. entry).
    this.objBase = this.nLocs + 2 * nCpus + nCpus * codeLocs.length;
    this.flushing = new Array<Map<number, number> | null>(nCpus).fill(null);
    if (this.procCount > procsMax) throw new Error(`internal: ${this.procCount} processes (more than ${procsMax})`);
    this.cpus = [];
    for (let c = 0; c < nCpus; c++) {
      const icache = view(codeLocs.length);
      codeLocs.forEach((l, i) => (icache[i] = init[l]!));
      const tlbAt = at;
      // (In this order: the key packs the first four as one list, the last two as another.)
      const cpu: Cpu = {
        ctx: [], buf: [], bufHead: 0, irqOn: true, pending: program.initialPending?.(c) ?? 0, stores: 0, hist: 0, icache,
        cr3Mm: paging?.cr3Mm[c] ?? 0, cr3Asid: 0, tlbPte: view(nTlb), tlbVer: view(nTlb), tlbEpoch: view(nTlb), tlbSpec: view(nTlb), tlbSrc: view(nTlb, -1), psc: view(nPsc, -1),
        tlbKey: span(tlbAt, 4 * nTlb), tlbKeyLess1: span(tlbAt + 4 * nTlb, nTlb + nPsc),
        tlbGen: view(nTlb), pscGen: view(nPsc), cr3Gen: 0,
      };
      this.cpus.push(cpu);
      const gen = program.task(c);
      if (gen) {
        const ctx: Ctx = { gen, op: null, vector: -1, cpu: c, notes: [] };
        cpu.ctx.push(ctx);
        this.advance(ctx, 0);
      }
    }
    if (at !== this.data.length) throw new Error(`internal: the machine's data has ${this.data.length} numbers, its arrays ${at}`);
    this.starting = false;
  }

  /** Its data buffer and views, for recycle(). */
  private readonly storage: Storage;
  /** recycle() has given its storage away: the machine must not be used again. */
  private recycled = false;

  /**
   * The caller drops this machine (a search going back to replay another run): its data
   * buffer and views go to the next machine of the same sizes built in this thread,
   * instead of being allocated again. Nothing may use this machine afterwards (step()
   * refuses to); values it returned before (keys, outcomes, snapshots) are copies and
   * stay valid.
   */
  recycle(): void {
    if (this.recycled) return;
    this.recycled = true;
    this.storage.saved = this.saved;
    if (spares.length === SPARES_MAX) spares.shift();
    spares.push(this.storage);
  }

  /**
   * Recording: runs the no-ops still waiting for the op after them (the op is blocked:
   * a deadlock) and returns their steps, for a trace's end; `finishedOnly`: only those
   * of code that ended (code of no-ops only), for a trace's start.
   */
  pendingNotes(finishedOnly: boolean): StepInfo[] {
    const out: StepInfo[] = [];
    for (const cpu of this.cpus) for (const ctx of cpu.ctx) if (ctx.notes.length > 0 && (!finishedOnly || ctx.op === null)) this.runNotes(ctx, out);
    return out;
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
    if (this.hist) cpu.hist = this.interner.intern(cpu.hist, `${tag}${cpu.icache.join(':')}`);
  }

  get procCount(): number {
    return this.nCpus * (PROCS_PER_CPU + this.nPages) + (this.nPages > 0 ? this.nCpus : 0);
  }

  /**
   * Whether process p's steps resume no code: a store-buffer drain, an instruction
   * fetch, a page walker or a paging-structure-cache evictor (the hardware's own
   * processes). The unreduced search takes these first (src/explore/explicit.ts).
   */
  resumesNoCode(p: number): boolean {
    if (p >= this.nCpus * PROCS_PER_CPU) return true;
    const kind = p % PROCS_PER_CPU;
    return kind === 1 || kind === 3;
  }

  /** The CPU process p belongs to. */
  cpuOf(p: number): number {
    const base = this.nCpus * PROCS_PER_CPU;
    const evictors = this.nCpus * (PROCS_PER_CPU + this.nPages);
    return p < base ? cpuOfProc(p) : p < evictors ? ((p - base) / this.nPages) | 0 : p - evictors;
  }

  // ---- address translation -------------------------------------------------------------

  /** Footprint object: CPU c's TLB entry for (asid, vpn). */
  private tlbLoc(c: number, asid: number, vpn: number): number {
    return this.objBase + (c * TLB_NR_DYN_ASIDS + asid) * this.nPages + vpn;
  }

  /** Footprint object: CPU c's CR3. */
  private cr3Loc(c: number): number {
    return this.objBase + this.nCpus * TLB_NR_DYN_ASIDS * this.nPages + c;
  }

  /** Footprint object: CPU c's paging-structure cache for PCID asid. */
  private pscLoc(c: number, asid: number): number {
    return this.objBase + this.nCpus * TLB_NR_DYN_ASIDS * this.nPages + this.nCpus + c * TLB_NR_DYN_ASIDS + asid;
  }

  /**
   * Footprint object: version u of PTE location pteLoc as flushes completed on CPU c
   * cover it, for property S1 and S5. A flush that completes on CPU c writes CPU c's
   * object of every version it covers (every version below the one it read when it
   * started); a user access through a TLB entry of version u reads version u's objects
   * of every CPU (versionReads()). So an access conflicts exactly with the flushes that
   * make its entry stale, whatever the PTE holds when it runs (a footprint must not
   * depend on steps it commutes with), and two flushes completing on different CPUs
   * commute (each raises what is covered to at least its own versions: a maximum).
   * Versions from VERSION_OBJS - 1 up share one object.
   */
  private versionObj(pteLoc: number, u: number, c: number): number {
    return this.objBase + this.nCpus * TLB_NR_DYN_ASIDS * this.nPages + this.nCpus + this.nCpus * TLB_NR_DYN_ASIDS + (c * this.nLocs + pteLoc) * VERSION_OBJS + Math.min(u, VERSION_OBJS - 1);
  }

  /** Reads of version u of PTE location pteLoc, as every CPU's completed flushes cover it (versionObj()). */
  private versionReads(pteLoc: number, u: number, out: number[]): void {
    for (let c = 0; c < this.nCpus; c++) out.push((this.versionObj(pteLoc, u, c) << 2) | ACC_R);
  }

  /**
   * Footprint object: epoch e of page frame pfn (its e-th free ends it): a free writes
   * the epoch it ends, and a use of a TLB entry made in epoch e reads it (the
   * use-after-free check). Epochs from EPOCH_OBJS - 1 up share one object.
   */
  private epochObj(pfn: number, e: number): number {
    return this.versionObj(0, 0, this.nCpus) + pfn * EPOCH_OBJS + Math.min(e, EPOCH_OBJS - 1);
  }

  /** The page frame whose data location loc is (for messages). */
  private frameOfLoc(loc: number): number {
    return this.paging!.frameLoc.indexOf(loc);
  }

  /** The page of location loc, or -1 when it is not a user page. */
  private vpn(loc: number): number {
    return this.paging !== null && loc < this.paging.vpnOf.length ? this.paging.vpnOf[loc]! : -1;
  }

  /**
   * A walk of page vpn on a CPU now: the page-table page from the paging-structure
   * cache, else from the PMD in memory; then the PTE in memory (never the store
   * buffer). `slot` is the TLB entry's index.
   */
  private walk(cpu: Cpu, vpn: number): Walk {
    const P = this.paging!;
    const pmdLoc = P.pmdLoc[cpu.cr3Mm] ?? -1;
    let table = cpu.psc[cpu.cr3Asid] ?? -1;
    const viaPsc = table >= 0;
    if (!viaPsc && pmdLoc >= 0) table = this.mem[pmdLoc]! - 1;
    const pteLoc = table >= 0 ? P.tablePte[table]![vpn]! : -1;
    return { pteLoc, pte: pteLoc >= 0 ? this.mem[pteLoc]! : 0, slot: cpu.cr3Asid * this.nPages + vpn, table, viaPsc, pmdLoc };
  }

  /**
   * The footprint of a walk: CR3, the cache or the PMD, the PTE (and, through the cache,
   * the table's owner for S2). A walk that ends in a fault (the PTE not present, or
   * read-only for a write: `fills` false) fills neither the cache nor the TLB and sets
   * no accessed bit: it only reads.
   */
  private walkFoot(c: number, cpu: Cpu, w: Walk, out: number[], fills = true): void {
    out.push((this.cr3Loc(c) << 2) | ACC_R);
    if (w.viaPsc) out.push((this.pscLoc(c, cpu.cr3Asid) << 2) | ACC_R, (this.paging!.tableOwner[w.table]! << 2) | ACC_M);
    else if (w.pmdLoc >= 0) out.push((w.pmdLoc << 2) | ACC_M, (this.pscLoc(c, cpu.cr3Asid) << 2) | (fills ? ACC_W : ACC_R));
    // A walk that fills the TLB from an old PTE sets its accessed bit: a locked write.
    if (w.pteLoc >= 0) out.push((w.pteLoc << 2) | (fills && pte_present(w.pte) && !pte_young(w.pte) ? ACC_W : ACC_M));
  }

  /**
   * What CPU c's walkers read now to decide whether they may act (the PMD, or the cache's
   * table, and each page's PTE), as reads: in the footprint of a step that retargets
   * them (a CR3 write, a drop of the paging-structure cache). Such a step disables a
   * walker that a write of those locations would have enabled (a PTE's change), so it
   * must not commute with that write: else a run that makes the change after the step
   * never shows the walker the change, and no race leads to the run that makes it before.
   */
  private walkTargetsFoot(c: number, out: number[]): void {
    const cpu = this.cpus[c]!;
    for (let v = 0; v < this.nPages; v++) {
      const w = this.walk(cpu, v);
      if (v === 0 && !w.viaPsc && w.pmdLoc >= 0) out.push(raceOnly((w.pmdLoc << 2) | ACC_M));
      // A PTE that is not present enables a walker only by becoming present (presObj()).
      if (w.pteLoc >= 0) out.push(raceOnly(((pte_present(w.pte) ? w.pteLoc : this.presObj(w.pteLoc)) << 2) | ACC_M));
    }
  }

  /**
   * A walk's route in its record: through the paging-structure cache (with which write
   * of the table's owner it read, for property S2: walked()) or through the PMD.
   */
  private walkRoute(w: Walk): string {
    return w.viaPsc ? `c${this.coLen[this.paging!.tableOwner[w.table]!]}` : 'm';
  }

  /** A walk happened: the cache keeps the table it found; S2 is checked for a walk through the cache. */
  private walked(c: number, cpu: Cpu, w: Walk): void {
    if (!w.viaPsc && w.table >= 0) {
      cpu.psc[cpu.cr3Asid] = w.table;
      cpu.pscGen[cpu.cr3Asid]!++;
    }
    if (w.viaPsc && this.mem[this.paging!.tableOwner[w.table]!] !== cpu.cr3Mm && this.program.warn && !this.probing) {
      this.warnProgram(`S2: CPU${c} walked page-table page ${w.table}, which its mm no longer owns (freed or reused), through its paging-structure cache`);
    }
  }

  /** May CPU c's evictor drop its paging-structure cache entry: it no longer matches the PMD in memory? */
  private pscStale(cpu: Cpu): boolean {
    const t = cpu.psc[cpu.cr3Asid] ?? -1;
    if (t < 0) return false;
    const pmdLoc = this.paging!.pmdLoc[cpu.cr3Mm] ?? -1;
    return pmdLoc < 0 || this.mem[pmdLoc]! - 1 !== t;
  }

  /**
   * May CPU c's walker change its TLB entry for page vpn now: the loaded address
   * space maps the page differently from the entry (a refill), or not at all while
   * an entry exists (an eviction)?
   */
  private walkChanges(cpu: Cpu, vpn: number): boolean {
    if (cpu.cr3Mm === 0) return false;
    const w = this.walk(cpu, vpn);
    const have = cpu.tlbPte[w.slot]!;
    return pte_present(w.pte) ? !pte_same_but_ad(have, w.pte) : have !== 0;
  }

  /**
   * The translation of a user access to virtual location loc (page vpn) on CPU c:
   * the entry's frame when the TLB has one, else a walk. `fault`: the walk found
   * the PTE not present (or a write found it read-only).
   */
  private translate(cpu: Cpu, vpn: number, write: boolean): Translation {
    const w = this.walk(cpu, vpn);
    const have = cpu.tlbPte[w.slot]!;
    if (have !== 0) {
      let fault = write && !pte_write(have);
      // A write through a clean entry sets the dirty bit by walking again: the PTE in
      // memory must still be the entry's (else the write faults).
      const setDirty = write && !fault && !pte_dirty(have);
      if (setDirty && !(w.pteLoc >= 0 && pte_same_but_ad(w.pte, have))) fault = true;
      const freed = this.frameEpoch[pte_pfn(have)] !== cpu.tlbEpoch[w.slot];
      return { phys: this.paging!.frameLoc[pte_pfn(have)]!, hit: true, fault, setDirty: setDirty && !fault, setYoung: false, pteLoc: cpu.tlbSrc[w.slot]!, pte: have, ver: cpu.tlbVer[w.slot]!, freed, slot: w.slot, walk: w };
    }
    const fault = !pte_present(w.pte) || (write && !pte_write(w.pte));
    const phys = pte_present(w.pte) ? this.paging!.frameLoc[pte_pfn(w.pte)]! : -1;
    return {
      phys, hit: false, fault, setDirty: write && !fault && !pte_dirty(w.pte), setYoung: !fault && !pte_young(w.pte),
      pteLoc: w.pteLoc, pte: w.pte, ver: w.pteLoc >= 0 ? this.kver(w.pteLoc) : 0, freed: false, slot: w.slot, walk: w,
    };
  }

  /**
   * A PTE's version for property S1: its writes in memory that ended a present version
   * (endsPresent()). A TLB entry is made only from a present PTE, and a write that
   * changes only the accessed and dirty bits (the hardware's, or the kernel's clear of
   * the accessed bit) leaves its translation as it was; so the first write after the
   * entry that could make it stale is one of these, and an entry is older than a flush
   * (its version below the one the flush started at) exactly when such a write came
   * between them. The writes left out change only versions no TLB entry holds: a
   * flush's start commutes with them (footprint()).
   */
  private kver(pteLoc: number): number {
    return this.pteVer[pteLoc]!;
  }

  /**
   * Does a write of nv over old at loc end a present version of a PTE (kver())? A write
   * over a present PTE, unless it is a locked op (`adOnly`) that changes only the
   * accessed and dirty bits: the kernel's clear of the accessed bit in
   * ptep_test_and_clear_young(). (The hardware's setting of those bits is not a write
   * of the program's: setPteBits().)
   */
  private endsPresent(loc: number, old: number, nv: number, adOnly: boolean): boolean {
    return this.pteLocs.has(loc) && pte_present(old) && !(adOnly && nv !== old && pte_same_but_ad(old, nv));
  }

  /** Footprint object: PTE location l's version (written by endsPresent() writes, read by a flush's start). */
  private verObj(l: number): number {
    return this.epochObj(this.paging?.frameLoc.length ?? 0, 0) + 2 * l;
  }

  /** Footprint object: whether PTE location l is present (written by writes that change it, read by a walker's eviction). */
  private presObj(l: number): number {
    return this.verObj(l) + 1;
  }

  /** The footprint entries of a write of nv over old at loc besides the location itself: the PTE objects it changes. */
  /** A write of nv over old at loc: a PTE's version ends (kver()), or its presence changes (presGen). */
  private pteWritten(loc: number, old: number, nv: number, adOnly: boolean): void {
    if (this.endsPresent(loc, old, nv, adOnly)) this.pteVer[loc]!++;
    if (pte_present(old) !== pte_present(nv) && this.pteLocs.has(loc)) this.presGen[loc]!++;
  }

  private pteWriteFoot(loc: number, old: number, nv: number, adOnly: boolean, out: number[]): void {
    if (!this.pteLocs.has(loc)) return;
    if (this.endsPresent(loc, old, nv, adOnly)) out.push((this.verObj(loc) << 2) | ACC_W);
    if (pte_present(old) !== pte_present(nv)) out.push((this.presObj(loc) << 2) | ACC_W);
  }

  /**
   * The hardware sets accessed or dirty bits in the PTE at pteLoc (Intel SDM vol. 3A,
   * 4.8): a locked update of the PTE in memory, not through any store buffer, by CPU
   * c's walk; nothing when they are set already. Returns whether it wrote.
   */
  private setPteBits(c: number, pteLoc: number, bits: number): boolean {
    const old = this.mem[pteLoc]!;
    if ((old & bits) === bits) return false;
    // A write id of its own (the CPU's store count stays the program's).
    const wid = HW_WID_BASE + this.coLen[pteLoc]! * CPUS_MAX + c;
    this.mem[pteLoc] = old | bits;
    this.memW[pteLoc] = wid;
    if (this.hist) this.coHist[pteLoc] = this.interner.intern(this.coHist[pteLoc]!, `${bits === _PAGE_ACCESSED ? 'A' : 'D'}${wid}`);
    this.coLen[pteLoc]!++;
    return true;
  }

  /**
   * A flush is about to drop TLB entry `slot` of CPU c: when a speculative walk made it
   * (the CPU never used it for an access), it counts as the kernel observable
   * `cpuN:tlb_spec_flushed` (a flush that had work only because of such a walk). Returns 1
   * then, else 0.
   */
  private dropSpec(c: number, cpu: Cpu, slot: number): number {
    if (cpu.tlbPte[slot] === 0 || cpu.tlbSpec[slot] === 0) return 0;
    cpu.tlbSpec[slot] = 0;
    if (!this.probing && this.program.count) this.countProgram(c);
    return 1;
  }

  /**
   * A flush starts (property S1): it covers the versions its PTEs have now. Those are
   * reads, whose values are part of the step's record (as which write a load read is).
   */
  private startFlush(c: number, ptes: readonly number[]): string {
    const covered = new Map<number, number>();
    let rec = 'F';
    for (const l of ptes) {
      const v = this.kver(l);
      covered.set(l, v);
      if (this.hist) rec += `${v},`;
    }
    this.flushing[c] = covered;
    return rec;
  }

  /** Describes the translation an access used, for traces. */
  private tlbNote(t: Translation): string {
    const stale = t.hit && !pte_same_but_ad(this.mem[t.pteLoc]!, t.pte);
    return t.hit ? `TLB hit: frame ${pte_pfn(t.pte)}${stale ? ' (stale: the PTE has changed)' : ''}` : `TLB miss: walk reads the PTE, frame ${pte_pfn(t.pte)}`;
  }

  /** A property of the machine failed: the program records it (and the code log, for replays). */
  private warnProgram(msg: string): void {
    const log = this.codeLog;
    if (log !== null) {
      if (this.stepResumed) throw new Error('internal: a warning after the step resumed code');
      log.nums.push(LOG_WARN, log.str(msg));
    }
    this.program.warn!(msg);
  }

  /** A speculative TLB entry was flushed (the kernel's tlb_spec_flushed count). */
  private countProgram(c: number): void {
    const log = this.codeLog;
    if (log !== null) {
      if (this.stepResumed) throw new Error('internal: a count after the step resumed code');
      log.nums.push(LOG_COUNT, c);
    }
    this.program.count!('tlb_spec_flushed', c);
  }

  private advance(ctx: Ctx, result: number): void {
    kernelCalls.yielded = null;
    if (this.codeLog !== null) this.stepResumed = true;
    this.settle(ctx, ctx.gen.next(result));
  }

  /** Delivers an exception (a page fault) into the context's code at the op it was doing. */
  private raise(ctx: Ctx, e: Error): void {
    kernelCalls.yielded = null;
    if (this.codeLog !== null) this.stepResumed = true;
    this.settle(ctx, ctx.gen.throw(e));
  }

  private settle(ctx: Ctx, r: IteratorResult<Op, void | number>): void {
    const replay = this.fuse ? this.replayLog : null;
    if (replay !== null) {
      // Code-only replay: the ops the step merged, and what each private access read.
      for (let n = replay[this.replayAt++]!; n > 0; n--) {
        if (r.done) throw new Error('internal: code-only replay: the code ended before the ops the step merged');
        if (isNoteOp(r.value)) {
          ctx.notes.push({ op: r.value, calls: undefined });
          r = ctx.gen.next(0);
        } else {
          r = ctx.gen.next(replay[this.replayAt++]!);
        }
      }
    } else if (this.fuse) {
      const log = this.codeLog === null ? null : this.codeLog.nums;
      const at = log === null ? -1 : log.push(0) - 1;
      let merged = 0;
      // Only where no interrupt can come in before it (no handler, or interrupts off
      // on this CPU), or where the code promises that what runs after it is its own
      // (`local`): the code between a no-op (or a private access) and the next op runs
      // now instead of at that op's step, and an interrupt handler on this CPU may read
      // what it changes (the kernel model's state: an rseq critical section entered,
      // kernel mode).
      for (; !r.done && merged < MERGED_MAX; merged++) {
        const op = r.value;
        // (The op's kind first: most ops are neither, and end the loop at once.)
        const note = isNoteOp(op);
        if (!note && !(this.fusePrivate && (op.k === 'ld' || op.k === 'st') && op.priv === true)) break;
        if (this.irqsPossible && this.cpus[ctx.cpu]!.irqOn && (op as { local?: true }).local !== true) break;
        if (note) {
          ctx.notes.push({ op, calls: kernelCalls.on ? kernelCalls.yielded ?? undefined : undefined });
          kernelCalls.yielded = null;
          r = ctx.gen.next(0);
        } else {
          const v = this.privateAccess(ctx, op as Extract<Op, { k: 'ld' | 'st' }>);
          if (log !== null) log.push(v);
          r = ctx.gen.next(v);
        }
      }
      if (log !== null) log[at] = merged;
    }
    ctx.op = r.done ? null : r.value;
    if (kernelCalls.on) ctx.calls = kernelCalls.yielded ?? undefined;
    if (r.done && (r.value === PREEMPTED || r.value === RSEQ_ABORTED)) ctx.withdraw = r.value;
    // The code ended with no-ops: they run now, after the op that led to them (or, for
    // code that is no-ops only, before the first step: pendingNotes()).
    if (ctx.op === null && ctx.notes.length > 0 && !this.starting) this.runNotes(ctx, this.notesAfter);
  }

  /**
   * A load or store of a location only this context's thread reaches (Own in ops.ts),
   * run now, with the step that led to it (Machine.fusePrivate). The store goes to
   * memory (no other CPU could have seen it in the store buffer; the thread's own
   * loads of the location see it either way); the load reads memory, where every
   * store to the location is. Neither leaves a mark in the CPU's history or in the
   * location's record of writes (coHist): what a private load returns and what a
   * private store writes are functions of the thread's own earlier steps, which the
   * histories hold. So the state a step leads to has the key its probe gave
   * (Machine.probe(), which does not resume the code and so makes no private access).
   */
  private privateAccess(ctx: Ctx, op: Extract<Op, { k: 'ld' | 'st' }>): number {
    const c = ctx.cpu;
    const cpu = this.cpus[c]!;
    const loc = op.loc;
    let result = 0;
    if (op.k === 'ld') {
      result = this.mem[loc]!;
    } else {
      if (this.starting && this.recording) this.startUndo.push([loc, this.mem[loc]!]);
      const wid = c * 65536 + ++cpu.stores;
      this.mem[loc] = op.val;
      this.memW[loc] = wid;
      this.coLen[loc]!++;
    }
    if (this.recording) {
      // The no-ops before it ran before it.
      const into = this.starting ? this.startSteps : this.notesAfter;
      if (ctx.notes.length > 0) this.runNotes(ctx, into);
      const site = op.site;
      const calls = kernelCalls.on ? kernelCalls.yielded ?? undefined : undefined;
      into.push({
        proc: c * PROCS_PER_CPU + (ctx.vector < 0 ? 0 : 2), cpu: c, kind: kindOfProc(c * PROCS_PER_CPU + (ctx.vector < 0 ? 0 : 2)), op: op.k, fn: site.fn, line: site.line, col: site.col,
        label: site.label, pairs: site.pairs, ctx: Math.max(0, cpu.ctx.indexOf(ctx)), ...(calls ? { calls } : {}),
        loc, value: op.k === 'ld' ? result : op.val, ...(op.k === 'ld' ? { from: 'memory' as const } : {}),
        note: `${op.k === 'st' ? 'to memory ' : ''}(private to this thread: made ${this.starting ? 'before the first step' : 'with the step before it'})`,
      });
    }
    kernelCalls.yielded = null;
    return result;
  }

  /**
   * Runs the no-ops the context's code yielded before its next op (Machine.fuse). They
   * change no state and leave no mark in the history: the code that yields them is a
   * function of the results its ops received, which the history holds. Recording, the
   * trace gets a step for each.
   */
  private runNotes(ctx: Ctx, into: StepInfo[]): void {
    if (this.recording) {
      const c = ctx.cpu;
      const cpu = this.cpus[c]!;
      const depth = Math.max(0, cpu.ctx.indexOf(ctx));
      const proc = c * PROCS_PER_CPU + (ctx.vector < 0 ? 0 : 2);
      for (const n of ctx.notes) {
        const site = n.op.site;
        into.push({
          proc, cpu: c, kind: kindOfProc(proc), op: 'nop', fn: site.fn, line: site.line, col: site.col,
          label: site.label, pairs: site.pairs, ctx: depth, ...(n.calls ? { calls: n.calls } : {}),
        });
      }
    }
    ctx.notes.length = 0;
  }

  private top(c: number): Ctx | undefined {
    const s = this.cpus[c]!.ctx;
    return s[s.length - 1];
  }

  private bufLen(cpu: Cpu): number {
    return cpu.buf.length - cpu.bufHead;
  }

  /** The value CPU c would read from loc now: the newest own buffered store, else memory. */
  private visible(c: number, loc: number): number {
    const cpu = this.cpus[c]!;
    if (this.tso) {
      for (let i = cpu.buf.length - 1; i >= cpu.bufHead; i--) {
        const e = cpu.buf[i]!;
        if (e.loc === loc) {
          this.visibleWid = e.wid;
          this.visibleFromBuf = true;
          return e.val;
        }
      }
    }
    this.visibleWid = this.memW[loc]!;
    this.visibleFromBuf = false;
    return this.mem[loc]!;
  }

  /** Does the CPU's store buffer hold a store to loc (which a load of it reads)? */
  private forwards(cpu: Cpu, loc: number): boolean {
    for (let i = cpu.buf.length - 1; i >= cpu.bufHead; i--) if (cpu.buf[i]!.loc === loc) return true;
    return false;
  }

  private inHandler(cpu: Cpu): boolean {
    return cpu.ctx.length > 0 && cpu.ctx[cpu.ctx.length - 1]!.vector >= 0;
  }

  private opEnabled(c: number, cpu: Cpu, op: Op | null): boolean {
    if (op === null) return false;
    if ((op.k === 'mb' || op.k === 'rmw' || op.k === 'serialize' || (op.k === 'cr3' && op.barrier !== false) || op.k === 'invlpg') && this.tso && this.bufLen(cpu) > 0) return false;
    if (op.k === 'await') return op.pred(this.visible(c, op.loc));
    return true;
  }

  enabled(p: number): boolean {
    if (p >= this.nCpus * PROCS_PER_CPU) {
      const i = p - this.nCpus * PROCS_PER_CPU;
      if (i >= this.nCpus * this.nPages) return this.pscStale(this.cpus[i - this.nCpus * this.nPages]!);
      return this.walkChanges(this.cpus[(i / this.nPages) | 0]!, i % this.nPages);
    }
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
    if (p >= this.nCpus * PROCS_PER_CPU) {
      // A page walk reads CR3 and the PTE in memory (not the store buffer: it conflicts
      // with its own CPU's drains too), and writes the TLB entry.
      const i = p - this.nCpus * PROCS_PER_CPU;
      if (i >= this.nCpus * this.nPages) {
        // The evictor reads CR3 and the PMD, and drops the cache entry.
        const c = i - this.nCpus * this.nPages;
        const cpu = this.cpus[c]!;
        const out = [(this.cr3Loc(c) << 2) | ACC_R, (this.paging!.pmdLoc[cpu.cr3Mm]! << 2) | ACC_M, (this.pscLoc(c, cpu.cr3Asid) << 2) | ACC_W];
        this.walkTargetsFoot(c, out);
        return out;
      }
      const c = (i / this.nPages) | 0;
      const cpu = this.cpus[c]!;
      const out: number[] = [];
      const w = this.walk(cpu, i % this.nPages);
      this.walkFoot(c, cpu, w, out);
      // An eviction (the PTE is not present) reads only that it is not present: it
      // commutes with writes that leave the PTE not present (a swap entry over a cleared
      // PTE). Only a write that makes it present changes that, and conflicts.
      if (w.pteLoc >= 0 && !pte_present(w.pte)) out[out.length - 1] = (this.presObj(w.pteLoc) << 2) | ACC_M;
      out.push((this.tlbLoc(c, cpu.cr3Asid, i % this.nPages) << 2) | ACC_W);
      return out;
    }
    const c = cpuOfProc(p);
    const cpu = this.cpus[c]!;
    const kind = p % PROCS_PER_CPU;
    if (kind === 1) {
      // A drain writes memory; a user store's drain also checks property S5 against what
      // completed flushes covered. The read is in the footprint even while the store's
      // translation is current: a footprint must not depend on steps it commutes with
      // (the PTE's change, which does not touch the drain), or the reduction treats the
      // drain as independent of a flush that, once the PTE has changed, it races with.
      const e = cpu.buf[cpu.bufHead]!;
      const out = [(e.loc << 2) | ACC_F];
      if (e.pteLoc >= 0) this.versionReads(e.pteLoc, e.ver, out);
      this.pteWriteFoot(e.loc, this.mem[e.loc]!, e.val, false, out);
      return out;
    }
    if (kind === 2 && !this.inHandler(cpu)) return [(this.ctlLoc(c) << 2) | ACC_W, (this.pendLoc(c) << 2) | ACC_W];
    if (kind === 3) {
      // The instruction fetch reads the code location in memory past the store buffer
      // (ACC_M: it conflicts with every CPU's drains, the own CPU's too, and commutes
      // with other reads of the code: other CPUs' fetches, execs and serialising
      // refetches, which write only their own CPU's copy), writes the fetched copy, and
      // is enabled only while the task is about to run that code (the control word).
      const i = this.prefetchable(cpu);
      return [(this.ctlLoc(c) << 2) | ACC_W, (this.codeLocs[i]! << 2) | ACC_M, (this.icacheLoc(c, i) << 2) | ACC_W];
    }
    // The task's own op (kind 0) or the running handler's op (kind 2). Every
    // step of a CPU that can take interrupts writes its control word.
    const op = (kind === 0 ? cpu.ctx[0]! : this.top(c)!).op!;
    const out: number[] = this.irqsPossible ? [(this.ctlLoc(c) << 2) | ACC_W] : [];
    let loc = (op as { loc?: number }).loc ?? -1; // ('loc' in op, without the lookup of a name)
    const vpn = loc >= 0 ? this.vpn(loc) : -1;
    if (vpn >= 0) {
      // A user access: the TLB entry it uses, or the walk (PTE and entry) on a miss.
      const t = this.translate(cpu, vpn, op.k !== 'ld');
      // A fault drops the entry and a dirty-bit update rewrites it: both write it. A
      // write through a clean writable entry walks again (to set the bit, or to fault).
      const rewalk = t.hit && (t.setDirty || (t.fault && pte_write(t.pte)));
      // A miss that faults leaves the entry as it is (empty) and fills nothing.
      const missFault = !t.hit && t.fault;
      out.push((this.tlbLoc(c, cpu.cr3Asid, vpn) << 2) | ((t.hit && !t.fault && !t.setDirty) || missFault ? ACC_R : ACC_W));
      if (!t.hit || rewalk) this.walkFoot(c, cpu, t.walk, out, !missFault);
      // The dirty bit is a locked write of the PTE in memory.
      if (t.setDirty) out.push((t.walk.pteLoc << 2) | ACC_W);
      if (t.fault) return out;
      // The S1 check reads what completed flushes covered, and the use-after-free check
      // the frame's lifetime. Both are in the footprint of every TLB hit, not only of a
      // hit through an entry the PTE's writes have overtaken: whether the PTE has changed
      // depends on steps the hit commutes with, and a footprint that depended on them
      // would let the reduction miss the order (PTE change, flush, free, then the hit)
      // in which the check fails.
      if (t.hit) {
        this.versionReads(t.pteLoc, t.ver, out);
        out.push((this.epochObj(pte_pfn(t.pte), cpu.tlbEpoch[t.slot]!) << 2) | ACC_R);
      }
      loc = t.phys;
    }
    switch (op.k) {
      case 'ld':
        // A load that its own store buffer forwards reads no memory: it commutes with
        // every other CPU's drain of the location. The entry stays, race-only, so that
        // the reduction still reverses the pair (after the CPU's own drain the load reads
        // memory); and it is a state-dependent one (its own drain, a step it commutes
        // with, makes it a plain read), so the search takes a sleeping load's footprint
        // anew at each node (raceOnly()).
        out.push(this.tso && this.forwards(cpu, loc) ? raceOnly((loc << 2) | ACC_R) : (loc << 2) | ACC_R);
        break;
      case 'await':
        out.push((loc << 2) | ACC_R);
        break;
      case 'st':
        // On x86 a store only enters the own buffer; its drain is the memory write.
        // A private store (Machine.fusePrivate) writes memory at once.
        if (!this.tso || (this.fusePrivate && op.priv === true)) {
          out.push((loc << 2) | ACC_W);
          this.pteWriteFoot(loc, this.mem[loc]!, op.val, false, out);
        }
        break;
      case 'rmw': {
        // A failing cmpxchg writes nothing: it conflicts only with writes.
        const nv = op.f(this.mem[loc]!);
        out.push((loc << 2) | (nv === undefined ? ACC_R : ACC_W));
        if (nv !== undefined) this.pteWriteFoot(loc, this.mem[loc]!, nv | 0, true, out);
        break;
      }
      case 'nop':
        if (op.tlbFlushDone && this.flushing[c]) {
          for (const [l, v] of this.flushing[c]!) for (let u = 0; u < Math.min(v, VERSION_OBJS); u++) out.push((this.versionObj(l, u, c) << 2) | ACC_W);
        }
        break;
      case 'cr3':
        // Which address space and PCID the walkers use, and the entries a flush drops.
        out.push((this.cr3Loc(c) << 2) | ACC_W);
        this.walkTargetsFoot(c, out);
        if (op.flush) {
          for (let v = 0; v < this.nPages; v++) out.push((this.tlbLoc(c, op.asid, v) << 2) | ACC_W);
          if (this.nPages > 0) out.push((this.pscLoc(c, op.asid) << 2) | ACC_W);
        }
        break;
      case 'invlpg':
        out.push((this.cr3Loc(c) << 2) | ACC_R, (this.tlbLoc(c, cpu.cr3Asid, op.vpn) << 2) | ACC_W, (this.pscLoc(c, cpu.cr3Asid) << 2) | ACC_W);
        // Dropping the cache's table retargets the walkers to the PMD's.
        if (this.nPages > 0 && cpu.psc[cpu.cr3Asid]! >= 0) this.walkTargetsFoot(c, out);
        break;
      case 'raise':
        out.push((this.pendLoc(op.cpu) << 2) | ACC_W);
        break;
      case 'exec':
        // It reads the fetched copy; and whether the fetch could have run first depends
        // on the code in memory, so it conflicts with every write of it (ACC_M: the own
        // CPU's drains too). It writes no code: it commutes with other CPUs' execs,
        // fetches and serialising refetches (each changes only its own CPU's copy).
        out.push((this.icacheLoc(c, this.codeIndex.get(op.loc)!) << 2) | ACC_R, raceOnly((op.loc << 2) | ACC_M));
        break;
      default:
        break;
    }
    // A flush that starts reads the versions of the PTEs it covers (kver(), property S1).
    if ((op.k === 'rmw' || op.k === 'st') && op.tlbFlushStart) for (const l of op.tlbFlushStart) out.push((this.verObj(l) << 2) | ACC_M);
    if (op.k === 'rmw' && op.frameFree !== undefined) out.push((this.epochObj(op.frameFree, this.frameEpoch[op.frameFree]!) << 2) | ACC_W);
    if (op.k === 'serialize' || (op.k === 'cr3' && op.barrier !== false) || op.k === 'invlpg') {
      for (let i = 0; i < this.codeLocs.length; i++) out.push((this.codeLocs[i]! << 2) | ACC_R, (this.icacheLoc(c, i) << 2) | ACC_W);
    }
    return out;
  }

  /** What a trace shows of the machine between two steps (src/explore/state.ts): memory and each CPU's hardware state. */
  snapshot(): MachineSnapshot {
    return {
      mem: Array.from(this.mem.subarray(0, this.nLocs)),
      cpus: this.cpus.map((cpu) => {
        const pending: number[] = [];
        for (let v = 0; v < 32; v++) if (cpu.pending & (1 << v)) pending.push(v);
        const tlb: [number, number, number, boolean][] = [];
        for (let s = 0; s < cpu.tlbPte.length; s++) {
          const pte = cpu.tlbPte[s]!;
          if (pte) tlb.push([(s / this.nPages) | 0, s % this.nPages, pte_pfn(pte), pte_write(pte)]);
        }
        return {
          buf: cpu.buf.slice(cpu.bufHead).map((e) => [e.loc, e.val] as [number, number]),
          pending,
          irqOn: cpu.irqOn,
          handlers: cpu.ctx.filter((x) => x.vector >= 0).map((x) => x.vector),
          icache: this.codeLocs.map((l, i) => [l, cpu.icache[i]!] as [number, number]),
          ...(this.paging ? { cr3: { mm: cpu.cr3Mm, asid: cpu.cr3Asid }, tlb } : {}),
        };
      }),
    };
  }

  /**
   * The state key (stateKey()) of the machine just after p's step, before the code
   * that took it is resumed; the machine is left as it was. Exact: the code's next
   * op, and what it does on the way there, are a function of the results its ops
   * received, which the key's histories hold; so two steps with equal probe keys
   * lead to the same state. (The converse does not hold: a handler that returns on
   * its way to the next op adds to the history only when resumed, so one state can
   * have two probe keys.) The explicit search (src/explore/explicit.ts) probes each
   * step of a state before taking any, and so takes no step into a state it has seen.
   */
  probe(p: number): string {
    return this.probeInto(p).take();
  }

  /** probe(), with the key left in the shared packer (taken by the caller before any other key is made). */
  probeInto(p: number): KeyPacker {
    // A drain empties its CPU's buffer in place: that array is set aside, the step gets a copy.
    const drained = p < this.nCpus * PROCS_PER_CPU && p % PROCS_PER_CPU === 1 ? this.cpus[cpuOfProc(p)]! : null;
    const buf = drained?.buf;
    if (drained) drained.buf = drained.buf.slice();
    // Every probe of a state starts from the same data: it is saved once.
    if (!this.savedValid) this.save();
    this.savedValid = true;
    this.probing = true;
    try {
      this.step(p);
      return this.packState();
    } finally {
      this.probing = false;
      this.load();
      if (drained) drained.buf = buf!;
    }
  }

  /**
   * graphKey() and stateKey() build their keys with it (take() empties it). One for all
   * machines of the thread: a key is built and taken in one synchronous call, and a
   * search makes a machine per run, which would otherwise allocate a buffer each.
   */
  private readonly packer = SHARED_PACKER;
  /** probe(): the machine's data (`data`) as it was before the step. */
  private saved: Float64Array | null;
  /** probe(): the rest of what a step may change, as numbers, in the order save() and load() walk it. */
  private readonly savedScalars: number[] = [];
  /** `saved` holds the machine as it is (no step since it was saved). */
  private savedValid = false;

  /**
   * Copies what a step may change (probe()): the data buffer in one copy, and the
   * scalars. Store buffers: their lengths (a step of the CPU's code only appends;
   * probe() sets a drained buffer aside). The contexts: their number (probe() resumes no
   * code and enters no handler).
   */
  /**
   * The machine's state now, all of it but the code (Checkpoint), into `into` when given
   * (its buffer is reused: a search keeps one per depth of its path).
   */
  checkpoint(into?: Checkpoint): Checkpoint {
    const cp = into ?? { data: new Float64Array(this.data.length), scalars: [], bufs: [], flushing: [], flushedVer: NOTHING_COVERED };
    cp.data.set(this.data);
    const d = cp.scalars;
    let i = 0;
    d[i++] = this.events;
    d[i++] = this.pops;
    for (const cpu of this.cpus) {
      d[i++] = cpu.ctx.length;
      i = saveCpuScalars(cpu, d, i);
    }
    d.length = i;
    for (let c = 0; c < this.nCpus; c++) {
      const from = this.cpus[c]!.buf;
      const to = (cp.bufs[c] ??= []);
      if (to.length !== from.length) to.length = from.length;
      for (let j = 0; j < from.length; j++) to[j] = from[j]!;
      cp.flushing[c] = this.flushing[c]!;
    }
    cp.flushedVer = this.flushedVer;
    return cp;
  }

  /**
   * Brings this machine, fresh from its constructor, to the state of the run that took
   * the first n steps of `path`, logging them into `log` up to its number `end`, and whose
   * machine was `cp` there: its code runs through the path's steps with the results
   * the log holds (replayStep()), none of the machine's own work done again, and then the
   * machine's state is loaded from cp. The code is a function of what its ops gave it,
   * so it ends where the run's code was; the contexts' depths are checked against cp.
   */
  replayCode(path: readonly number[], n: number, log: CodeLog, end: number, cp: Checkpoint): void {
    if (this.events !== 0) throw new Error('internal: a code-only replay on a machine that has taken steps');
    this.replayLog = log.nums;
    this.replayAt = 0;
    this.replayEnd = end;
    try {
      for (let i = 0; i < n; i++) this.replayStep(path[i]!, log);
      if (this.replayAt !== end) throw new Error(`internal: a code-only replay read ${this.replayAt} numbers of the log, not ${end}`);
    } finally {
      this.replayLog = null;
    }
    this.loadCheckpoint(cp);
  }

  /** One step of replayCode(): what step(p) did with the code, with the results in the log. */
  private replayStep(p: number, log: CodeLog): void {
    const nums = this.replayLog!;
    // The warnings and counts the step reported, which came before it resumed any code.
    // (After a step that resumes no code they may be the next step's: they come in the
    // same order either way. The log goes on past the path's end: a later, longer path's.)
    while (this.replayAt < this.replayEnd) {
      const k = nums[this.replayAt];
      if (k === LOG_WARN) this.program.warn!(log.strings[nums[this.replayAt + 1]!]!);
      else if (k === LOG_COUNT) this.program.count!('tlb_spec_flushed', nums[this.replayAt + 1]!);
      else break;
      this.replayAt += 2;
    }
    if (p >= this.nCpus * PROCS_PER_CPU) return;
    const kind = p % PROCS_PER_CPU;
    if (kind === 1 || kind === 3) return;
    const c = cpuOfProc(p);
    const cpu = this.cpus[c]!;
    if (kind === 2 && !this.inHandler(cpu)) {
      const vector = nums[this.replayAt++]!;
      const ctx: Ctx = { gen: this.program.handler(c, vector), op: null, vector, cpu: c, notes: [] };
      cpu.ctx.push(ctx);
      this.advance(ctx, 0);
      this.popFinished(c, cpu);
      return;
    }
    const ctx = this.top(c)!;
    // (stepCpu() runs the no-ops before the op: not recording, that only empties the list.)
    if (ctx.notes.length > 0) ctx.notes.length = 0;
    const flag = nums[this.replayAt++]!;
    const v = nums[this.replayAt++]!;
    if (flag === LOG_RESULT) this.advance(ctx, v);
    else this.raise(ctx, new PageFault(v, flag === LOG_FAULT_WRITE));
    this.popFinished(c, cpu);
  }

  private loadCheckpoint(cp: Checkpoint): void {
    this.data.set(cp.data);
    const d = cp.scalars;
    let i = 0;
    this.events = d[i++]!;
    this.pops = d[i++]!;
    for (let c = 0; c < this.nCpus; c++) {
      const cpu = this.cpus[c]!;
      if (cpu.ctx.length !== d[i++]) throw new Error(`internal: a code-only replay left CPU${c} with ${cpu.ctx.length} contexts, not ${d[i - 1]}`);
      i = loadCpuScalars(cpu, d, i);
      const buf = cp.bufs[c]!;
      cpu.buf = buf.length === 0 ? [] : buf.slice();
    }
    this.loadFlushes(cp.flushing, cp.flushedVer);
    this.savedValid = false;
  }

  /** The flushes in progress and the PTE versions completed flushes covered, as saved (neither is changed in place: shared). */
  private loadFlushes(flushing: readonly (Map<number, number> | null)[], flushedVer: Covered): void {
    for (let c = 0; c < this.nCpus; c++) this.flushing[c] = flushing[c]!;
    this.flushedVer = flushedVer;
  }

  private save(): void {
    (this.saved ??= new Float64Array(this.data.length)).set(this.data);
    const d = this.savedScalars;
    let i = 0;
    d[i++] = this.events;
    for (const cpu of this.cpus) {
      d[i++] = cpu.ctx.length;
      d[i++] = cpu.buf.length;
      i = saveCpuScalars(cpu, d, i);
    }
    this.savedFlushing = this.flushing.slice();
    this.savedFlushedVer = this.flushedVer;
  }

  private savedFlushing: (Map<number, number> | null)[] = [];
  private savedFlushedVer: Covered = NOTHING_COVERED;

  private load(): void {
    this.data.set(this.saved!);
    const d = this.savedScalars;
    let i = 0;
    this.events = d[i++]!;
    for (const cpu of this.cpus) {
      // Setting an array's length is a call into the runtime: only where a step changed it.
      const nCtx = d[i++]!;
      if (cpu.ctx.length !== nCtx) cpu.ctx.length = nCtx;
      const nBuf = d[i++]!;
      if (cpu.buf.length !== nBuf) cpu.buf.length = nBuf;
      i = loadCpuScalars(cpu, d, i);
    }
    this.loadFlushes(this.savedFlushing, this.savedFlushedVer);
  }

  /** Take one step of process p (which must be enabled). */
  step(p: number): void {
    if (this.recycled) throw new Error('internal: a step of a recycled machine');
    if (!this.probing) this.savedValid = false;
    this.stepResumed = false;
    const ev = this.events++;
    this.stepLoc = -1;
    this.stepWalks = 0;
    this.joinEvent = -1;
    this.joinFlush = false;
    this.lastStep = null;
    if (this.notesBefore.length > 0) this.notesBefore = [];
    if (this.notesAfter.length > 0) this.notesAfter = [];
    if (p >= this.nCpus * PROCS_PER_CPU) {
      this.stepWalker(p);
      return;
    }
    const c = cpuOfProc(p);
    const cpu = this.cpus[c]!;
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
          // Emptied (the usual one entry: pop() is cheaper than setting the length).
          if (cpu.bufHead === 1) cpu.buf.pop();
          else cpu.buf.length = 0;
          cpu.bufHead = 0;
        }
        this.pteWritten(e.loc, this.mem[e.loc]!, e.val, false);
        this.mem[e.loc] = e.val;
        this.memW[e.loc] = e.wid;
        // Property S5: every write made through an old translation is in memory before
        // a flush that covers the PTE's change returns (else a dirty bit or a writeback
        // read before that return misses it). What the check read is part of the write's
        // record (the drain's footprint reads what completed flushes covered).
        let late = false;
        if (e.pteLoc >= 0) {
          const covered = this.flushedVer.ver.get(e.pteLoc);
          late = covered !== undefined && e.ver < covered;
          if (late && this.program.warn && !this.probing) {
            this.warnProgram(`S5: CPU${c}'s write through a TLB entry older than a completed flush reached memory after the flush returned (frame ${this.frameOfLoc(e.loc)})`);
          }
        }
        if (this.hist) this.coHist[e.loc] = this.interner.intern(this.coHist[e.loc]!, late ? `${e.wid}L` : String(e.wid));
        this.coLen[e.loc]!++;
        this.joinEvent = e.ev;
        this.stepLoc = e.loc;
        if (this.recording) {
          this.lastStep = {
            proc: p, cpu: c, kind: 'flush', op: 'flush', fn: 'store buffer', loc: e.loc, value: e.val, ctx: cpu.ctx.length - 1,
            ...(late ? { note: 'a write made through a TLB entry older than a completed flush' } : {}),
          };
        }
        return;
      }
      case 3: {
        // Instruction fetch: the CPU fetches the code it is about to run anew, from memory.
        const i = this.prefetchable(cpu);
        const l = this.codeLocs[i]!;
        cpu.icache[i] = this.mem[l]!;
        if (this.hist) cpu.hist = this.interner.intern(cpu.hist, `F${i}:${cpu.icache[i]}`);
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
        if (this.hist) cpu.hist = this.interner.intern(cpu.hist, `!${vector}`);
        if (this.probing) return;
        if (this.codeLog !== null) this.codeLog.nums.push(vector);
        const ctx: Ctx = { gen: this.program.handler(c, vector), op: null, vector, cpu: c, notes: [] };
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

  /** A page walk on its own (speculative, or a refill after an eviction): the entry becomes what memory says. */
  private stepWalker(p: number): void {
    const i = p - this.nCpus * PROCS_PER_CPU;
    if (i >= this.nCpus * this.nPages) {
      // The paging-structure cache drops an entry that no longer matches the PMD.
      const c = i - this.nCpus * this.nPages;
      const cpu = this.cpus[c]!;
      const was = cpu.psc[cpu.cr3Asid]!;
      cpu.psc[cpu.cr3Asid] = -1;
      if (this.hist) this.walkHist[i] = this.interner.intern(this.walkHist[i]!, `${cpu.cr3Asid}/${cpu.cr3Gen}:${was}#${cpu.pscGen[cpu.cr3Asid]}`);
      cpu.pscGen[cpu.cr3Asid]!++;
      if (this.recording) {
        this.lastStep = { proc: p, cpu: c, kind: 'walk', op: 'psc-evict', fn: 'paging-structure cache', ctx: cpu.ctx.length - 1, note: `drops page-table page ${was} (PCID ${cpu.cr3Asid})` };
      }
      return;
    }
    const c = (i / this.nPages) | 0;
    const vpn = i % this.nPages;
    const cpu = this.cpus[c]!;
    const w = this.walk(cpu, vpn);
    const present = pte_present(w.pte);
    // A fill from an old PTE sets its accessed bit in memory (the entry holds it set).
    const young = present && !pte_young(w.pte) && this.setPteBits(c, w.pteLoc, _PAGE_ACCESSED);
    if (young) w.pte |= _PAGE_ACCESSED;
    cpu.tlbPte[w.slot] = present ? w.pte : 0;
    cpu.tlbVer[w.slot] = present ? this.kver(w.pteLoc) : 0;
    cpu.tlbSrc[w.slot] = present ? w.pteLoc : -1;
    cpu.tlbSpec[w.slot] = present ? 1 : 0;
    cpu.tlbEpoch[w.slot] = present ? this.frameEpoch[pte_pfn(w.pte)]! : 0;
    if (this.hist) {
      const at = `#${cpu.tlbGen[w.slot]}.${cpu.pscGen[cpu.cr3Asid]}`;
      this.walkHist[i] = this.interner.intern(this.walkHist[i]!, present ? `${cpu.cr3Asid}/${cpu.cr3Gen}:${w.table}${this.walkRoute(w)}:${w.pte}@${this.coLen[w.pteLoc]}${at}` : `${cpu.cr3Asid}/${cpu.cr3Gen}:evict${this.walkRoute(w)}${w.pteLoc >= 0 ? `@${this.presGen[w.pteLoc]}` : ''}${at}`);
    }
    cpu.tlbGen[w.slot]!++;
    this.walked(c, cpu, w);
    if (this.recording) {
      this.lastStep = {
        proc: p, cpu: c, kind: 'walk', op: 'walk', fn: 'page walk', loc: w.pteLoc, value: w.pte, ctx: cpu.ctx.length - 1,
        note: present ? `fills the TLB (PCID ${cpu.cr3Asid}): frame ${pte_pfn(w.pte)}${young ? '; sets the accessed bit in the PTE' : ''}` : `evicts the TLB entry (PCID ${cpu.cr3Asid}): the PTE is not present`,
      };
    }
  }

  private stepCpu(p: number, c: number, cpu: Cpu, ev: number): void {
    const ctx = this.top(c)!;
    const op = ctx.op!;
    if (ctx.notes.length > 0 && !this.probing) this.runNotes(ctx, this.notesBefore);
    let result = 0;
    let code = '.';
    let info: StepInfo | null = null;
    // A user access goes through the TLB (or a walk that fills it) to the frame's location.
    let loc = (op as { loc?: number }).loc ?? -1; // ('loc' in op, without the lookup of a name)
    let virt: Partial<StepInfo> | null = null;
    // A user store: the PTE its translation came from and the translation's version (S5).
    let userPte = -1;
    let userVer = 0;
    const vpn = loc >= 0 ? this.vpn(loc) : -1;
    if (vpn >= 0) {
      const write = op.k !== 'ld';
      const t = this.translate(cpu, vpn, write);
      if (t.fault) {
        // The exception: the CPU's code handles it and retries the access. The fault
        // drops the page's TLB entry (Intel SDM vol. 3A, 4.10.4.1).
        // A miss, or a write through a clean writable entry, walked and read the PTE in
        // memory: which write of it the walk read is part of the record, as for any read.
        if (this.hist) {
          const reread = (!t.hit || pte_write(t.pte)) && t.walk.pteLoc >= 0 ? `~${this.walkRoute(t.walk)}${this.coLen[t.walk.pteLoc]}` : '';
          cpu.hist = this.interner.intern(cpu.hist, `PF${vpn}:${t.pte}@${t.ver}${reread}`);
        }
        if (this.recording) {
          const why = !t.hit ? 'the PTE is not present or read-only' : !pte_write(t.pte) ? 'the TLB entry is read-only' : 'setting the dirty bit found the PTE changed';
          this.lastStep = this.describe(p, c, cpu, ctx, { op: 'fault', vloc: loc, note: why });
        }
        if (t.hit) {
          if (pte_write(t.pte)) this.walked(c, cpu, t.walk);
          cpu.tlbGen[t.slot]!++;
          cpu.tlbPte[t.slot] = 0;
          cpu.tlbVer[t.slot] = 0;
          cpu.tlbSrc[t.slot] = -1;
          cpu.tlbSpec[t.slot] = 0;
        }
        if (this.probing) return;
        if (this.codeLog !== null) this.codeLog.nums.push(write ? LOG_FAULT_WRITE : LOG_FAULT_READ, vpn);
        this.raise(ctx, new PageFault(vpn, write));
        this.popFinished(c, cpu);
        return;
      }
      if (t.setDirty) {
        // The dirty bit: a locked update of the PTE in memory (not through the store
        // buffer), by the walk the write does; the entry becomes dirty. Property S5:
        // not through an entry older than a flush that has returned.
        const l = t.walk.pteLoc;
        const covered = this.flushedVer.ver.get(l);
        if (t.hit && covered !== undefined && t.ver < covered && this.program.warn && !this.probing) {
          this.warnProgram(`S5: CPU${c} set the dirty bit through a TLB entry older than a completed flush (frame ${pte_pfn(t.pte)})`);
        }
        this.setPteBits(c, l, _PAGE_ACCESSED | _PAGE_DIRTY);
        t.pte |= _PAGE_ACCESSED | _PAGE_DIRTY;
        if (t.hit) {
          cpu.tlbPte[t.slot] = t.pte;
          cpu.tlbGen[t.slot]!++;
          this.walked(c, cpu, t.walk);
        }
      }
      if (t.setYoung && !t.setDirty) {
        // The walk fills the TLB from an old PTE: it sets the accessed bit (a locked
        // update of the PTE it read; the entry is fresh, so property S5 holds here).
        this.setPteBits(c, t.walk.pteLoc, _PAGE_ACCESSED);
        t.pte |= _PAGE_ACCESSED;
      }
      // A miss's walk: its record says whether it read the page-table page from the
      // cache and how many writes of the cache came before it (Cpu.pscGen).
      const walkAt = t.hit || !this.hist ? '' : `${this.walkRoute(t.walk)}${cpu.pscGen[cpu.cr3Asid]}`;
      if (!t.hit) {
        this.stepWalks++;
        cpu.tlbGen[t.slot]!++;
        cpu.tlbPte[t.slot] = t.pte;
        cpu.tlbVer[t.slot] = t.ver;
        cpu.tlbSrc[t.slot] = t.pteLoc;
        cpu.tlbSpec[t.slot] = 0;
        cpu.tlbEpoch[t.slot] = this.frameEpoch[pte_pfn(t.pte)]!;
        this.walked(c, cpu, t.walk);
      }
      // S1: no user access through a translation older than a flush that has returned.
      // What the check read (the access's footprint reads what completed flushes
      // covered) is part of the record, as whether the frame had been freed is.
      const covered = this.flushedVer.ver.get(t.pteLoc);
      const stale = covered !== undefined && t.ver < covered;
      if (this.hist) cpu.hist = this.interner.intern(cpu.hist, `${t.hit ? 'H' : 'T'}${t.pte}@${t.ver}${t.freed ? '!' : ''}${stale ? 'S' : ''}${walkAt}`);
      // No user access reaches a frame through an entry made before the frame was freed.
      if (t.freed && this.program.warn && !this.probing) {
        this.warnProgram(`UAF: CPU${c} reached page frame ${pte_pfn(t.pte)} through a TLB entry made before the kernel freed the frame`);
      }
      if (stale && this.program.warn && !this.probing) {
        this.warnProgram(`S1: CPU${c} accessed user memory through a TLB entry older than a completed flush_tlb_mm_range() (the PTE changed since; frame ${pte_pfn(t.pte)})`);
      }
      if (this.recording) virt = { vloc: loc, tlb: `${this.tlbNote(t)}${t.setDirty ? '; sets the dirty bit in the PTE' : t.setYoung ? '; sets the accessed bit in the PTE' : ''}` };
      loc = t.phys;
      userPte = t.pteLoc;
      userVer = t.ver;
    }
    this.stepLoc = loc;
    switch (op.k) {
      case 'ld':
      case 'await': {
        result = this.visible(c, loc);
        if (this.hist) code = `${result}@${this.visibleWid}`;
        if (this.recording) info = this.describe(p, c, cpu, ctx, { loc, value: result, from: this.visibleFromBuf ? 'buffer' : 'memory', ...virt });
        break;
      }
      case 'cr3': {
        // MOV to CR3: serialising; without the NOFLUSH bit it drops the PCID's entries.
        const barrier = op.barrier !== false;
        this.joinFlush = this.tso && barrier;
        cpu.cr3Mm = op.mm;
        cpu.cr3Asid = op.asid;
        cpu.cr3Gen++;
        let specDropped = 0;
        if (op.flush) {
          for (let v = 0; v < this.nPages; v++) {
            specDropped += this.dropSpec(c, cpu, op.asid * this.nPages + v);
            cpu.tlbPte[op.asid * this.nPages + v] = 0;
            cpu.tlbGen[op.asid * this.nPages + v]!++;
            cpu.tlbVer[op.asid * this.nPages + v] = 0;
            cpu.tlbSrc[op.asid * this.nPages + v] = -1;
          }
          if (this.nPages > 0) {
            cpu.psc[op.asid] = -1;
            cpu.pscGen[op.asid]!++;
          }
        }
        if (this.hist) code = `C${op.mm}:${op.asid}:${op.flush ? 1 : 0}${specDropped > 0 ? `s${specDropped}` : ''}`;
        if (barrier) this.refetch(cpu, 'S');
        if (this.recording) info = this.describe(p, c, cpu, ctx, { note: `CR3 = mm${op.mm} PCID ${op.asid}${op.flush ? `, flushing the PCID${specDropped > 0 ? ` (and ${specDropped} entr${specDropped === 1 ? 'y' : 'ies'} a speculative walk filled)` : ''}` : ' (NOFLUSH)'}${barrier ? '' : '; not serialising (mutant)'}` });
        break;
      }
      case 'invlpg': {
        // INVLPG: drops the entry of the current PCID for the page; serialising.
        this.joinFlush = this.tso;
        const specDropped = this.dropSpec(c, cpu, cpu.cr3Asid * this.nPages + op.vpn);
        cpu.tlbPte[cpu.cr3Asid * this.nPages + op.vpn] = 0;
        cpu.tlbGen[cpu.cr3Asid * this.nPages + op.vpn]!++;
        cpu.tlbVer[cpu.cr3Asid * this.nPages + op.vpn] = 0;
        cpu.tlbSrc[cpu.cr3Asid * this.nPages + op.vpn] = -1;
        // INVLPG also drops the paging-structure caches of the current PCID.
        cpu.psc[cpu.cr3Asid] = -1;
        cpu.pscGen[cpu.cr3Asid]!++;
        if (this.hist) code = `I${op.vpn}${specDropped > 0 ? 's' : ''}`;
        this.refetch(cpu, 'S');
        if (this.recording) info = this.describe(p, c, cpu, ctx, { note: `page ${op.vpn}, PCID ${cpu.cr3Asid}${specDropped > 0 ? ' (its entry filled by a speculative walk)' : ''}` });
        break;
      }
      case 'st': {
        if (op.tlbFlushStart) code = this.startFlush(c, op.tlbFlushStart);
        const wid = c * 65536 + ++cpu.stores;
        // A private store (Machine.fusePrivate) goes to memory at once, on x86 too.
        const buffered = this.tso && (!this.fusePrivate || op.priv !== true);
        if (buffered) {
          if (this.bufLen(cpu) >= STORE_BUFFER_MAX) {
            throw new BoundExceeded(`a store buffer exceeded ${STORE_BUFFER_MAX} entries (store_buffer_max)`);
          }
          cpu.buf.push({ loc, val: op.val, wid, ev, pteLoc: userPte, ver: userVer });
        } else {
          this.pteWritten(loc, this.mem[loc]!, op.val, false);
          this.mem[loc] = op.val;
          this.memW[loc] = wid;
          if (this.hist) this.coHist[loc] = this.interner.intern(this.coHist[loc]!, String(wid));
          this.coLen[loc]!++;
        }
        if (this.recording) info = this.describe(p, c, cpu, ctx, { loc, value: op.val, note: buffered ? 'into the store buffer' : this.tso ? 'to memory (private to this thread)' : undefined, ...virt });
        break;
      }
      case 'rmw': {
        this.joinFlush = this.tso;
        const old = this.mem[loc]!;
        const oldW = this.memW[loc]!;
        const nv = op.f(old);
        result = old;
        if (this.hist) code = `${old}@${oldW}`;
        if (nv !== undefined) {
          const wid = c * 65536 + ++cpu.stores;
          this.pteWritten(loc, old, nv | 0, true);
          this.mem[loc] = nv | 0;
          this.memW[loc] = wid;
          if (this.hist) this.coHist[loc] = this.interner.intern(this.coHist[loc]!, String(wid));
          this.coLen[loc]!++;
        }
        if (op.tlbFlushStart) code += this.startFlush(c, op.tlbFlushStart);
        if (op.frameFree !== undefined) this.frameEpoch[op.frameFree]!++;
        if (this.recording) info = this.describe(p, c, cpu, ctx, { loc, value: old, note: nv === undefined ? 'no write' : `wrote ${nv | 0}`, ...virt });
        break;
      }
      case 'mb':
        this.joinFlush = this.tso;
        if (this.recording) info = this.describe(p, c, cpu, ctx, {});
        break;
      case 'serialize':
        this.joinFlush = this.tso;
        this.refetch(cpu, 'S');
        if (this.recording) info = this.describe(p, c, cpu, ctx, { fetched: this.codeLocs.map((l, i) => [l, cpu.icache[i]!]) });
        break;
      case 'exec': {
        const i = this.codeIndex.get(op.loc);
        if (i === undefined) throw new Error(`internal: exec_code of location ${op.loc}, which is not a code location`);
        result = cpu.icache[i]!;
        if (this.hist) code = `X${result}`;
        if (this.recording) info = this.describe(p, c, cpu, ctx, { loc: op.loc, value: result, note: result === this.visible(c, op.loc) ? 'current' : 'stale' });
        break;
      }
      case 'nop':
        if (op.tlbFlushDone && this.flushing[c]) {
          // flush_tlb_mm_range() returns: the PTE versions it covered are now due everywhere.
          this.flushedVer = coveredWith(this.flushedVer, this.flushing[c]!);
          this.flushing[c] = null;
        }
        if (this.recording) info = this.describe(p, c, cpu, ctx, {});
        break;
      case 'irq':
        cpu.irqOn = op.enable;
        if (this.recording) info = this.describe(p, c, cpu, ctx, {});
        break;
      case 'raise': {
        const t = this.cpus[op.cpu];
        if (!t) throw new Error(`internal: raise on unknown CPU ${op.cpu}`);
        t.pending |= 1 << op.vector;
        if (this.recording) info = this.describe(p, c, cpu, ctx, { vector: op.vector, note: `CPU${op.cpu}`, target: op.cpu });
        break;
      }
    }
    if (this.hist) cpu.hist = this.interner.intern(cpu.hist, code);
    this.lastStep = info;
    if (this.probing) return;
    if (this.codeLog !== null) this.codeLog.nums.push(LOG_RESULT, result);
    this.advance(ctx, result);
    this.popFinished(c, cpu);
  }

  /** The description of a step of the op ctx is about to take, for traces (recording only). */
  private describe(p: number, c: number, cpu: Cpu, ctx: Ctx, o: Partial<StepInfo>): StepInfo {
    const op = ctx.op!;
    const site = op.site;
    const calls = ctx.calls;
    return {
      proc: p, cpu: c, kind: kindOfProc(p), op: op.k, fn: site.fn, line: site.line, col: site.col,
      label: site.label, pairs: site.pairs, ctx: cpu.ctx.length - 1, ...(calls ? { calls } : {}), ...o,
    };
  }

  /** Return from finished interrupt handlers (interrupts come back on). */
  private popFinished(c: number, cpu: Cpu): void {
    for (;;) {
      const t = this.top(c);
      if (!t || t.op !== null || t.vector < 0) return;
      this.pops++;
      cpu.ctx.pop();
      cpu.irqOn = true;
      if (this.hist && this.replayLog === null) cpu.hist = this.interner.intern(cpu.hist, 'iret');
      const task = cpu.ctx[0];
      if (t.withdraw !== undefined && task && task.vector < 0 && task.op !== null) {
        // The handler switched tasks, or sends the task to its rseq abort handler:
        // the interrupted task's op is withdrawn.
        if (this.hist && this.replayLog === null) cpu.hist = this.interner.intern(cpu.hist, t.withdraw === PREEMPTED ? 'preempted' : 'rseq-abort');
        // The no-ops before the withdrawn op ran before it was interrupted.
        if (task.notes.length > 0) this.runNotes(task, this.notesAfter);
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
  /** Is process p's next step an interrupt entry (which stops the CPU's task until the handler returns)? */
  entersInterrupt(p: number): boolean {
    return p < this.nCpus * PROCS_PER_CPU && p % PROCS_PER_CPU === 2 && !this.inHandler(this.cpus[cpuOfProc(p)]!);
  }

  mayBlock(p: number): boolean {
    if (p >= this.nCpus * PROCS_PER_CPU) return true; // a walk waits for a PTE or CR3 that differs from the TLB
    const kind = p % PROCS_PER_CPU;
    if (kind === 1) return false;
    if (kind === 3) return true; // the fetch waits for the task to be about to run code
    // A task is stopped while a handler runs on its CPU, so with interrupts in
    // the scenario any task step may depend on the interrupt process.
    if (kind === 2 || this.irqsPossible) return true;
    return this.top(cpuOfProc(p))?.op?.k === 'await';
  }

  /**
   * What CPU c is doing, for smpcheck sim (src/sim/): the op its task or running
   * handler is about to take (null: none), the handlers running, whether interrupts
   * are on, the vectors pending, and its store buffer's length.
   */
  cpuState(c: number): { op: Op | null; handlers: number; irqOn: boolean; pending: number; buffered: number } {
    const cpu = this.cpus[c]!;
    const top = cpu.ctx[cpu.ctx.length - 1];
    return { op: top?.op ?? null, handlers: cpu.ctx.length - 1, irqOn: cpu.irqOn, pending: cpu.pending, buffered: this.bufLen(cpu) };
  }

  /** cpuState(c).op without the object: the op CPU c's task or running handler is about to take (null: none). */
  cpuOp(c: number): Op | null {
    const s = this.cpus[c]!.ctx;
    return s.length > 0 ? s[s.length - 1]!.op : null;
  }

  /** cpuState(c).handlers: the interrupt handlers running on CPU c (-1: no context at all). */
  cpuHandlers(c: number): number {
    return this.cpus[c]!.ctx.length - 1;
  }

  /** cpuState(c).irqOn and .pending. */
  cpuIrqOn(c: number): boolean {
    return this.cpus[c]!.irqOn;
  }

  cpuPending(c: number): number {
    return this.cpus[c]!.pending;
  }

  /** cpuState(c).buffered: the entries of CPU c's store buffer (enabled(procFlush(c)) when > 0). */
  cpuBuffered(c: number): number {
    return this.bufLen(this.cpus[c]!);
  }

  /** Does p have a next step that it cannot take now (it waits for another process)? */
  blocked(p: number): boolean {
    if (this.enabled(p) || p >= this.nCpus * PROCS_PER_CPU) return false;
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
    return this.packGraph(this.packer).take();
  }

  /** Full state key for the explicit-state search: graph so far plus buffers and interrupt state. */
  stateKey(): string {
    return this.packState().take();
  }

  /** stateKey(), left in the shared packer (taken by the caller before any other key is made). */
  packState(): KeyPacker {
    const k = this.packGraph(this.packer);
    for (const cpu of this.cpus) k.push(this.bufLen(cpu)).push(cpu.pending >>> 0).push(cpu.irqOn ? 1 : 0);
    if (this.nPages > 0) {
      // What the TLBs hold (their fills and flushes interleave with the CPU's own steps).
      for (const cpu of this.cpus) {
        k.push(cpu.cr3Mm).push(cpu.cr3Asid);
        k.pushAll(cpu.tlbKey).pushAll(cpu.tlbKeyLess1, 1);
      }
      // Property S1's bookkeeping: the flushes in progress and what completed ones covered.
      for (let c = 0; c < this.nCpus; c++) {
        const f = this.flushing[c];
        if (!f) {
          k.push(0);
          continue;
        }
        k.push(f.size + 1);
        for (const [l, v] of f) k.push(l).push(v);
      }
      // In the order of their locations.
      const covered = this.flushedVer.sorted;
      k.push(covered.length / 2);
      for (let i = 0; i < covered.length; i++) k.push(covered[i]!);
    }
    return k;
  }

  private packGraph(k: KeyPacker): KeyPacker {
    for (const cpu of this.cpus) k.push(cpu.hist);
    k.pushAll(this.coHist);
    k.pushAll(this.walkHist);
    return k;
  }
}
