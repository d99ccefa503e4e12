// The parsed form of a litmus scenario. Names are resolved by the parser: every
// shared location has an index into `Scenario.locations`, every register an index
// into its thread's register file.

import type { Span } from './errors.js';

export type Observation = 'Never' | 'Sometimes' | 'Always';
export const OBSERVATIONS: readonly Observation[] = ['Never', 'Sometimes', 'Always'];
/**
 * A `Result` line: an observation, a failed kernel assertion, a CPU waiting forever in
 * some execution (`Deadlock`), and the kernel's own words (tools/memory-model's
 * judgelitmus.sh): `DEADLOCK`, no execution completes (herd's `Never 0 0`), and `Maybe`,
 * any observation (docs/scenario-format.md).
 */
export type Expected = Observation | 'Assertion' | 'Deadlock' | 'DEADLOCK' | 'Maybe';
export const EXPECTEDS: readonly Expected[] = [...OBSERVATIONS, 'Assertion', 'Deadlock', 'DEADLOCK', 'Maybe'];

export type BinOp =
  | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>'
  | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';
export type UnOp = '-' | '!' | '~';

/** Memory-ordering annotation of an access, in the kernel's vocabulary. */
export type Order = 'once' | 'relaxed' | 'acquire' | 'release' | 'mb'
  // A plain C access (`*x = v`, `r = *x`): unmarked, modelled by the Linux-kernel memory model only (--model lkmm).
  | 'plain'
  // srcu_read_lock(s) (a load of the srcu_struct) and srcu_read_unlock(s, idx) (a store of idx), as linux-kernel.def makes them: --model lkmm only.
  | 'srcu';

export type Expr =
  | { k: 'num'; v: number; span: Span }
  | { k: 'reg'; reg: number; name: string; span: Span }
  | { k: 'addr'; loc: number; span: Span } // a shared location used as a pointer value
  | { k: 'bin'; op: BinOp; a: Expr; b: Expr; span: Span }
  | { k: 'un'; op: UnOp; a: Expr; span: Span }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr; span: Span }
  | { k: 'load'; addr: Expr; order: Order; fn: string; span: Span }
  | { k: 'exec'; addr: Expr; fn: string; span: Span } // exec_code(x): the version of the code this CPU runs
  | { k: 'rmw'; op: RmwOp; addr: Expr; args: Expr[]; order: Order; ret: 'old' | 'new' | 'none' | 'changed'; fn: string; span: Span }
  | { k: 'await'; addr: Expr; pred: Expr; order: Order; fn: string; span: Span } // smp_cond_load_*: VAL is register -1
  /**
   * A spinlock operation, modelled by the Linux-kernel memory model only (--model lkmm, lock.cat):
   * spin_lock() and spin_unlock() (no value), spin_trylock() (1 when it took the lock), spin_is_locked().
   */
  | { k: 'spin'; op: SpinOp; addr: Expr; fn: string; span: Span }
  | { k: 'val'; span: Span } // VAL inside smp_cond_load_*()
  | { k: 'syscall'; name: SyscallName; args: Expr[]; span: Span }; // a call into the kernel model: a system call, or reclaim() by a kernel thread

/** Calls into the kernel model that a scenario makes as expressions. */
export type SyscallName = 'membarrier' | 'madvise' | 'munmap' | 'mprotect' | 'mremap' | 'reclaim' | 'shrink' | 'futex_wait' | 'futex_wake' | 'pipe_read' | 'pipe_write';

export type SpinOp = 'lock' | 'unlock' | 'trylock' | 'is_locked'
  // synchronize_srcu(s): an SRCU grace period on one srcu_struct (not a spinlock, but an event on a location as they are).
  | 'synchronize_srcu';

export type RmwOp = 'xchg' | 'cmpxchg' | 'add' | 'sub' | 'and' | 'or' | 'xor' | 'add_unless';

export type Fence = 'mb' | 'rmb' | 'wmb' | 'barrier' | 'mb__before_atomic' | 'mb__after_atomic'
  // RCU, modelled by the Linux-kernel memory model only (--model lkmm).
  | 'rcu_read_lock' | 'rcu_read_unlock' | 'synchronize_rcu'
  // Barriers around spinlocks, modelled with spinlocks by the Linux-kernel memory model only.
  | 'mb__after_spinlock' | 'mb__after_unlock_lock' | 'mb__after_srcu_read_unlock';
export const RCU_FENCES: readonly Fence[] = ['rcu_read_lock', 'rcu_read_unlock', 'synchronize_rcu'];
/** The barriers only --model lkmm gives a meaning to. */
export const LKMM_FENCES: readonly Fence[] = [...RCU_FENCES, 'mb__after_spinlock', 'mb__after_unlock_lock', 'mb__after_srcu_read_unlock'];

/** The arm64 instructions of the scenario language (instruction fetch and cache maintenance). */
export type Arm64Insn = 'dc_cvau' | 'ic_ivau' | 'dsb_ish' | 'isb';
/** Each instruction's name in the language, and whether it takes a location. */
export const ARM64_INSNS: Readonly<Record<Arm64Insn, { takesLoc: boolean; asm: string }>> = {
  dc_cvau: { takesLoc: true, asm: 'DC CVAU' },
  ic_ivau: { takesLoc: true, asm: 'IC IVAU' },
  dsb_ish: { takesLoc: false, asm: 'DSB ISH' },
  isb: { takesLoc: false, asm: 'ISB' },
};

export type Stmt =
  | { k: 'assign'; reg: number; e: Expr; span: Span }
  | { k: 'store'; addr: Expr; e: Expr; order: Order; fn: string; span: Span }
  | { k: 'fence'; fence: Fence; fn: string; span: Span }
  /**
   * An arm64 instruction a thread issues (`dc_cvau(x)`, `ic_ivau(x)`, `dsb_ish()`, `isb()`): cache
   * maintenance of the line of location `addr`, a DSB ISH, an ISB. Defined on --model arm64 only
   * (SMP112 elsewhere: the other machines have no such instruction).
   */
  | { k: 'insn'; op: Arm64Insn; addr: Expr | null; fn: string; span: Span }
  | { k: 'eval'; e: Expr; span: Span } // an expression statement, e.g. atomic_inc(a) or xchg(x, 1)
  | { k: 'if'; c: Expr; then: Stmt[]; else: Stmt[]; span: Span }
  | { k: 'irq'; enable: boolean; fn: string; span: Span }
  | { k: 'raise_irq'; cpu: number; handler: number; span: Span; /** The CPU argument's position. */ cpuSpan?: Span }
  | { k: 'exit'; span: Span } // the thread exits (the exit system call: do_exit() -> exit_mm())
  | { k: 'kthread_mm'; use: boolean; span: Span } // kthread_use_mm() / kthread_unuse_mm() of the process's mm
  | { k: 'text_poke'; span: Span } // text_poke() by a kernel thread: kernel text patched through the temporary mm
  /** fork(Pn) / clone(Pn): thread Pn starts now, in a copy of this mm (fork) or in this mm (clone with CLONE_VM). */
  | { k: 'spawn'; how: 'fork' | 'clone'; thread: number; span: Span }
  /** execve(): the thread continues in a new program image with a fresh mm. */
  | { k: 'execve'; span: Span }
  /** wake_up(Pn): wakes thread Pn, which starts asleep in a system call (try_to_wake_up()). */
  | { k: 'wake'; thread: number; span: Span }
  /** tgkill(Pn): sends thread Pn a signal (its handler does nothing; an rseq critical section in progress restarts). */
  | { k: 'signal'; thread: number; span: Span }
  /**
   * rseq { ...; rseq_commit(p, v); } abort { ... }: a restartable sequence. The
   * commit store ends it; before the commit, a preemption or an rseq event (ipi_rseq)
   * on the way back to user mode makes the thread continue at the abort block instead.
   */
  | { k: 'rseq'; body: Stmt[]; commit: { addr: Expr; e: Expr; span: Span }; abort: Stmt[]; span: Span }
  /** `loop N { ... }`: the body N times (a bounded repeat; `smpcheck sim --iterations` may change N). */
  | { k: 'loop'; n: number; body: Stmt[]; span: Span; /** The count's position. */ nSpan: Span };

export interface Register {
  name: string;
  pointer: boolean; // declared with '*': printed as a location name
  init: Value;
}

/** A value is an integer or the address of a shared location. */
export type Value = number;

export interface Thread {
  id: number; // P<id>
  name: string; // 'P0' or the handler's name
  params: string[];
  regs: Register[];
  body: Stmt[];
  span: Span;
}

export interface Location {
  name: string;
  init: Value;
  atomic: boolean;
  pointer: boolean;
  /** Declared spinlock_t: accessed by spin_*() only (lock.cat's mixed-lock-accesses). */
  spinlock?: true;
  span: Span;
}

export type Prop =
  | { k: 'true' }
  | { k: 'false' }
  | { k: 'eq'; lhs: Observable; rhs: Value; neg: boolean; span: Span }
  | { k: 'not'; a: Prop }
  | { k: 'and'; a: Prop; b: Prop }
  | { k: 'or'; a: Prop; b: Prop }
  | { k: 'implies'; a: Prop; b: Prop };

/** A register of a thread (`0:r0`) or a shared location (`x`). */
export type Observable =
  | { k: 'reg'; thread: number; reg: number }
  | { k: 'loc'; loc: number }
  /** `cpu1:ipi_mb`: a fact of the kernel model about one CPU at the end (KERNEL_OBSERVABLES). */
  | { k: 'kernel'; cpu: number; name: KernelObservable; span: Span };

/**
 * What a condition may ask the kernel model about CPU N (`cpuN:NAME`): how many times
 * a handler ran there (a membarrier IPI or the CPU's own call of the function), how
 * many call-function interrupts it took, how many context switches it made, and the
 * final value of its runqueue's copy of the membarrier state.
 */
export const KERNEL_OBSERVABLES = ['ipi_mb', 'ipi_sync_core', 'ipi_rseq', 'ipi_sync_rq_state', 'ipis', 'switches', 'irq_resched', 'sync_core', 'migrations', 'membarrier_state', 'flush_tlb_func', 'flush_tlb_caught_up', 'pageout', 'blocks', 'wakeups', 'drop_mm_ref_this_cpu', 'xen_mc_failed', 'tlb_spec_flushed'] as const;
export type KernelObservable = (typeof KERNEL_OBSERVABLES)[number];

export interface Condition {
  quantifier: 'exists' | 'not-exists' | 'forall';
  prop: Prop;
  text: string; // as written, normalised spacing, for the herd-style "Condition" line
}

/** `Result[KEY]: Observation` lines of the header comment. KEY '' is plain `Result:`. */
export interface Expectation {
  key: string;
  result: Expected;
  span: Span;
  /** The kernel's `DATARACE` word after the result (`Result: Sometimes DATARACE`): the outcome is predicted with a data race. */
  datarace?: true;
}

export interface Directive {
  name: string;
  args: string[];
  span: Span;
}

export interface Scenario {
  name: string;
  arch: string; // 'C'
  file: string;
  source: string;
  locations: Location[];
  threads: Thread[];
  handlers: Thread[]; // interrupt handlers (`irq name(...) { ... }`), run on the CPU that takes them
  observed: Observable[]; // sorted: the condition's and `locations [...]`'s observables
  condition: Condition;
  /** herd's `filter` clause: only the executions whose final state satisfies it count (--model lkmm only). */
  filter: Prop | null;
  expectations: Expectation[];
  directives: Directive[];
  description: string; // the header comment's prose (without Result lines)
  /** The scenario calls into the kernel model (membarrier()). */
  usesKernel: boolean;
  /** Locations that hold code: written by write_code(), run by exec_code() (sorted). */
  codeLocs: number[];
}

/** Addresses are encoded far above any 32-bit integer value. */
export const ADDR_BASE = 2 ** 48;
export const isAddr = (v: Value): boolean => v >= ADDR_BASE;
export const addrOf = (loc: number): Value => ADDR_BASE + loc;
export const locOfAddr = (v: Value): number => v - ADDR_BASE;
