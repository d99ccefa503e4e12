// Runs a parsed litmus scenario on the machine: each thread becomes a generator
// that yields one machine op per shared access, through the kernel's mapping of
// its primitives onto the machine (arch.ts).

import {
  ADDR_BASE, addrOf, isAddr, type Expr, type KernelObservable, type Observable, type Scenario, type Stmt, type Thread,
} from '../scenario/ast.js';
import { SmpError, type Span } from '../scenario/errors.js';
import { PREEMPTED, RSEQ_ABORTED, type ModelName, type ProgramInstance } from '../machine/machine.js';
import type { CpuCode, HandlerCode, Op, OpSite } from '../machine/ops.js';
import { fenceOp } from './arch.js';
import { CALL_FUNCTION_VECTOR, Kernel, KernelLayout, ON_CPU_DONE, ON_CPU_PINNED, RESCHEDULE_VECTOR, TIMER_VECTORS, type KernelConfig } from '../kernel/kernel.js';
import { generic_smp_call_function_single_interrupt } from '../kernel/smp.js';
import { MEMBARRIER_IPI_HANDLERS, sys_membarrier } from '../kernel/sched/membarrier.js';
import { DEFAULT_KERNEL, findVariant, type Variant } from '../kernel/variants.js';
import { __schedule, try_to_wake_up } from '../kernel/sched/core.js';
import { do_exit } from '../kernel/exit.js';
import { kthread_unuse_mm, kthread_use_mm } from '../kernel/kthread.js';
import { copy_mm, wait_for_new_task, wake_up_new_task } from '../kernel/fork.js';
import { exec_mmap, mm_alloc } from '../kernel/exec.js';
import { arch_do_signal_or_restart, do_send_sig_info } from '../kernel/signal.js';
import { directiveSettings, KTHREAD } from '../scenario/directives.js';

/** What the explorer needs from any program: litmus now, the kernel model next. */
export interface Program {
  readonly name: string;
  readonly nCpus: number;
  readonly init: readonly number[];
  readonly hasHandlers: boolean;
  readonly model: ModelName;
  /** Locations that hold code (write_code/exec_code), fetched by each CPU. */
  readonly codeLocs?: readonly number[];
  /** Names of the observed registers and locations, herd order ('0:r0', 'x'). */
  readonly observedNames: readonly string[];
  instantiate(): Instance;
  formatValue(v: number): string;
  /** A value of location loc (rq->curr values are tasks); formatValue when absent. */
  formatLocValue?(loc: number, v: number): string;
  locName(loc: number): string;
  handlerName(vector: number): string;
}

export interface Instance extends ProgramInstance {
  /** Observed values in a final state. */
  observe(mem: readonly number[]): number[];
  /** The kernel's WARN_ON()s that fired so far in this execution. */
  warnings(): readonly string[];
}

export class LitmusProgram implements Program {
  readonly name: string;
  readonly nCpus: number;
  readonly codeLocs: readonly number[];
  readonly init: readonly number[];
  readonly hasHandlers: boolean;
  readonly observedNames: readonly string[];

  /** The kernel's objects in memory, when the scenario makes system calls. */
  readonly kernelLayout: KernelLayout | null;
  readonly variant: Variant;

  /** What each CPU runs, in order (thread ids, KTHREAD for a kernel thread). */
  readonly placement: number[][];
  /** The task id of each placement entry (threads: id + 1; kernel threads after them). */
  private readonly taskIds: number[][];
  private readonly firstTask: number[];
  /** Threads started by fork(Pn)/clone(Pn) (thread ids). */
  private readonly spawned: ReadonlySet<number>;
  /** Threads that start asleep in a system call and run once another thread's wake_up(Pn) wakes them. */
  private readonly sleepers: ReadonlySet<number>;
  /** The CPU of each thread that starts asleep (wake_up() targets it) or that tgkill() signals. */
  private readonly wakeCpu: ReadonlyMap<number, number>;
  /** Threads placed on several CPUs: each may move to another of its CPUs when preempted in user mode. */
  private readonly migratable: ReadonlySet<number>;
  /** The mm each fork() and execve() statement creates. */
  private readonly mmOfStmt: ReadonlyMap<Stmt, number>;
  /** Timer ticks per CPU that runs more than one task (`preempt N;`). */
  private readonly ticks: number;
  /** Task names by task id - 1 (kernel scenarios). */
  private taskNames: string[] = [];

  constructor(readonly scenario: Scenario, readonly model: ModelName, variant: Variant = findVariant(DEFAULT_KERNEL)!) {
    this.name = scenario.name;
    this.variant = variant;
    this.codeLocs = scenario.codeLocs;
    const settings = directiveSettings(scenario);
    this.placement = settings.placement ?? scenario.threads.map((t) => [t.id]);
    this.nCpus = this.placement.length;
    // Tasks: thread Pn is task n+1 (mm 1, or NULL for `kthread Pn;`); each anonymous
    // kernel thread of a `cpu N runs ... kthread ...` list gets the next id (mm NULL).
    const taskMms = scenario.threads.map((t) => (settings.kthreads.has(t.id) ? 0 : 1));
    const procs = planProcesses(scenario, settings.kthreads, taskMms);
    this.mmOfStmt = procs.mmOfStmt;
    this.spawned = procs.spawned;
    this.sleepers = procs.sleepers;
    const signalled = procs.signalled;
    this.wakeCpu = new Map([...this.sleepers, ...signalled].map((t) => [t, this.placement.findIndex((list) => list.includes(t))]));
    this.migratable = settings.migratable;
    // A thread that may migrate is placed by 'cpu' directives; what it cannot be combined with is refused there.
    const refuse = (msg: string): SmpError => new SmpError('SMP109', `${msg}: not supported together`, scenario.directives.find((x) => x.name === 'cpu')!.span, scenario.file);
    for (const t of this.migratable) {
      if (this.spawned.has(t)) throw refuse(`P${t} is placed on several CPUs (it may migrate) and started by fork()/clone()`);
      if (this.sleepers.has(t)) throw refuse(`P${t} is placed on several CPUs (it may migrate) and woken by wake_up()`);
      if (signalled.has(t)) throw refuse(`P${t} is placed on several CPUs (it may migrate) and signalled by tgkill()`);
    }
    for (const t of this.sleepers) {
      const c = this.wakeCpu.get(t)!;
      if (this.placement[c]!.some((x) => this.migratable.has(x))) throw refuse(`CPU ${c} runs both a thread that starts asleep (P${t}) and one that may migrate`);
    }
    this.taskIds = this.placement.map((list) => list.map((t) => {
      if (t !== KTHREAD) return t + 1;
      taskMms.push(0);
      return taskMms.length;
    }));
    // A CPU whose first task is a child of fork()/clone() or asleep starts idle.
    // A thread that may migrate starts on the first CPU whose list it heads; another CPU whose list it heads starts idle.
    const startCpu = new Map([...settings.migratable].map((t) => [t, this.placement.findIndex((list) => list[0] === t)]));
    this.firstTask = this.taskIds.map((list, c) => (list[0] === undefined || this.spawned.has(list[0] - 1) || this.sleepers.has(list[0] - 1)
      || (settings.migratable.has(list[0] - 1) && startCpu.get(list[0] - 1) !== c) ? 0 : list[0]));
    // raise_irq() names a CPU; with `cpu N runs ...` there may be fewer CPUs than threads.
    for (const t of [...scenario.threads, ...scenario.handlers]) {
      for (const r of raises(t.body)) {
        if (r.cpu >= this.nCpus) {
          throw new SmpError('SMP104', `unknown CPU ${r.cpu}: the scenario has CPUs 0..${this.nCpus - 1}`, r.cpuSpan ?? r.span, scenario.file);
        }
      }
    }
    for (const o of scenario.observed) {
      if (o.k === 'kernel' && o.cpu >= this.nCpus) {
        throw new SmpError('SMP104', `unknown CPU ${o.cpu} in 'cpu${o.cpu}:${o.name}': the scenario has CPUs 0..${this.nCpus - 1}`, o.span, scenario.file);
      }
    }
    const usesKernel = scenario.usesKernel || settings.placement !== null || settings.kthreads.size > 0;
    const user = scenario.locations.map((l) => l.init);
    if (usesKernel) {
      const config: KernelConfig = {
        version: variant.base, nrCpus: this.nCpus, nohzFull: false, configRseq: true, archHasMembarrierSyncCore: true,
        preempt: settings.preemptModel, syscallExit: settings.syscallExit, showSysret: scenario.codeLocs.length > 0,
      };
      const sleepers = [...this.sleepers].map((t) => ({ task: t + 1, cpu: this.wakeCpu.get(t)! }));
      const migratable = [...this.migratable].map((t) => ({ task: t + 1, runningOn: startCpu.get(t)! }));
      const newTasks = [...this.spawned].map((t) => t + 1);
      // Tasks are named after their threads (P2), anonymous kernel threads kthread1, kthread2, ...
      this.taskNames = taskMms.map((_, i) => (i < scenario.threads.length ? `P${i}` : `kthread${i - scenario.threads.length + 1}`));
      this.kernelLayout = new KernelLayout(user.length, config, taskMms, this.firstTask, {
        nrMms: procs.nrMms, alive: taskMms.map((_, i) => !this.spawned.has(i)), newTasks, taskNames: this.taskNames, sleepers, migratable,
        signalled: [...signalled].map((t) => t + 1),
      });
      this.init = [...user, ...this.kernelLayout.init];
    } else {
      this.kernelLayout = null;
      this.init = user;
    }
    this.hasHandlers = scenario.handlers.length > 0 || usesKernel;
    this.ticks = settings.preempt;
    this.observedNames = scenario.observed.map((o) => observableName(scenario, o));
  }

  instantiate(): Instance {
    const sc = this.scenario;
    const regs = sc.threads.map((t) => t.regs.map((r) => r.init));
    const file = sc.file;
    const model = this.model;
    const kernel = this.kernelLayout ? new Kernel(this.kernelLayout, this.variant, this.firstTask) : null;
    const placement = this.placement;
    const taskIds = this.taskIds;
    const spawned = this.spawned;
    const mmOfStmt = this.mmOfStmt;
    const ticks = this.ticks;
    const sleepers = this.sleepers;
    const wakeCpu = this.wakeCpu;
    const migratable = this.migratable;
    const firstTask = this.firstTask;
    const sharedEntries = new Map<number, SchedEntry>();
    const sched: CpuSched[] = placement.map((list, c) => ({
      entries: list.map((t, i): SchedEntry => {
        const e: SchedEntry = sharedEntries.get(t) ?? {
          t, id: taskIds[c]![i]!, start: t === KTHREAD ? 'run' : spawned.has(t) ? 'fork' : sleepers.has(t) ? 'sleep' : 'run',
          shared: migratable.has(t), lastCpu: -1, state: 'new', woken: false, resume: 'none', kernelDepth: 0, preemptCount: 0, sleepLocks: 0,
        };
        if (e.shared) sharedEntries.set(t, e);
        return e;
      }),
      cur: 0,
      running: false,
      switchedTo: -1,
      doneShared: new Set(),
    }));
    return {
      task: (cpu: number): CpuCode => runCpu(sched[cpu]!, sc, regs, { model, file, cpu, kernel, mmOfStmt, wakeCpu }, firstTask[cpu] === 0),
      handler: (cpu: number, vector: number): HandlerCode => {
        if (vector === CALL_FUNCTION_VECTOR && kernel) {
          return irqentry(generic_smp_call_function_single_interrupt(kernel, MEMBARRIER_IPI_HANDLERS, cpu), kernel, cpu, sched[cpu]);
        }
        if (TIMER_VECTORS.includes(vector) && kernel) return irqentry(scheduler_tick(kernel, cpu, sched[cpu]!), kernel, cpu, sched[cpu]);
        if (vector === RESCHEDULE_VECTOR && kernel) return irqentry(scheduler_ipi(kernel), kernel, cpu, sched[cpu]);
        const h = sc.handlers[vector]!;
        return irqentry(runThread(h, { regs: h.regs.map((r) => r.init), model, file, cpu, kernel, mmOfStmt, wakeCpu }), kernel, cpu, sched[cpu]);
      },
      warnings: (): readonly string[] => kernel?.warnings ?? [],
      initialPending: (cpu: number): number =>
        // A CPU with more than one task to run takes up to `preempt N` timer ticks.
        (placement[cpu]!.length > 1 ? TIMER_VECTORS.slice(0, ticks).reduce((m, v) => m | (1 << v), 0) : 0),
      observe: (mem: readonly number[]): number[] =>
        sc.observed.map((o) => (o.k === 'reg' ? regs[o.thread]![o.reg]! : o.k === 'loc' ? mem[o.loc]! : kernelFact(kernel!, mem, o.cpu, o.name))),
    };
  }

  /** What each CPU runs, for trace headers: 'P0', or 'P1 > kthread > P2'. */
  cpuLabels(): string[] {
    return this.placement.map((list) => list.map((t) => (t === KTHREAD ? 'kthread' : `P${t}`)).join(' > '));
  }

  formatValue(v: number): string {
    return isAddr(v) ? (this.scenario.locations[v - ADDR_BASE]?.name ?? `?${v - ADDR_BASE}`) : String(v);
  }

  /** A value as read from or written to loc: rq->curr holds a task, shown by its name. */
  formatLocValue(loc: number, v: number): string {
    if (this.kernelLayout?.isRqCurr(loc)) return v === 0 ? 'idle' : (this.taskNames[v - 1] ?? `task${v}`);
    if (this.kernelLayout?.isTaskMm(loc)) return v === 0 ? 'NULL' : `mm${v}`;
    return this.formatValue(v);
  }

  locName(loc: number): string {
    return this.scenario.locations[loc]?.name ?? this.kernelLayout?.nameOf(loc) ?? `loc${loc}`;
  }

  handlerName(vector: number): string {
    if (vector === CALL_FUNCTION_VECTOR) return 'generic_smp_call_function_single_interrupt';
    if (TIMER_VECTORS.includes(vector)) return 'timer interrupt';
    if (vector === RESCHEDULE_VECTOR) return 'reschedule IPI';
    return this.scenario.handlers[vector]?.name ?? `vector${vector}`;
  }
}

export function observableName(sc: Scenario, o: Observable): string {
  if (o.k === 'kernel') return `cpu${o.cpu}:${o.name}`;
  return o.k === 'reg' ? `${o.thread}:${sc.threads[o.thread]!.regs[o.reg]!.name}` : sc.locations[o.loc]!.name;
}

/** The final value of a kernel observable (`cpu1:ipi_mb`). */
function kernelFact(k: Kernel, mem: readonly number[], cpu: number, name: KernelObservable): number {
  if (name === 'membarrier_state') return mem[k.layout.rqMembarrierState[cpu]!]!;
  return k.counters[name][cpu]!;
}

/**
 * Processes of a scenario: which threads fork(Pn)/clone(Pn) start, and the mm each
 * fork() and execve() creates (mm 1 is the process of the threads that start at
 * the beginning). Checks: the started thread exists, is started once, is not a
 * kernel thread, no thread starts itself through a chain, and execve() runs only
 * in a process with one thread (de_thread() is not modelled).
 */
function planProcesses(sc: Scenario, kthreads: ReadonlySet<number>, taskMms: number[]): {
  spawned: Set<number>; sleepers: Set<number>; signalled: Set<number>; mmOfStmt: Map<Stmt, number>; nrMms: number;
} {
  const signalled = new Set<number>();
  const signals: Extract<Stmt, { k: 'signal' }>[] = [];
  const spawned = new Set<number>();
  const sleepers = new Set<number>();
  const wakes: { thread: number; stmt: Extract<Stmt, { k: 'wake' }> }[] = [];
  const parent = new Map<number, { thread: number; how: 'fork' | 'clone'; stmt: Stmt }>();
  const execs: { thread: number; stmt: Extract<Stmt, { k: 'execve' }> }[] = [];
  const walk = (stmts: Stmt[], thread: number | null): void => {
    for (const st of stmts) {
      if (st.k === 'if') {
        walk(st.then, thread);
        walk(st.else, thread);
      }
      if (st.k === 'rseq') walk(st.abort, thread);
      if (st.k === 'signal') {
        if (thread === null) throw new SmpError('SMP103', 'tgkill() in an interrupt handler is not supported', st.span, sc.file);
        signals.push(st);
        continue;
      }
      if (st.k === 'wake') {
        if (thread === null) throw new SmpError('SMP103', 'wake_up() in an interrupt handler is not supported', st.span, sc.file);
        wakes.push({ thread, stmt: st });
        continue;
      }
      if (st.k !== 'spawn' && st.k !== 'execve') continue;
      const what = st.k === 'spawn' ? `${st.how}()` : 'execve()';
      if (thread === null) throw new SmpError('SMP103', `${what} in an interrupt handler is not supported`, st.span, sc.file);
      if (kthreads.has(thread)) throw new SmpError('SMP109', `${what} is for user threads: P${thread} is a kernel thread`, st.span, sc.file);
      if (st.k === 'execve') {
        execs.push({ thread, stmt: st });
        continue;
      }
      if (st.thread >= sc.threads.length) {
        throw new SmpError('SMP104', `unknown thread P${st.thread}: the scenario has P0..P${sc.threads.length - 1}`, st.span, sc.file);
      }
      if (spawned.has(st.thread)) throw new SmpError('SMP105', `P${st.thread} is started twice`, st.span, sc.file);
      if (kthreads.has(st.thread)) throw new SmpError('SMP109', `${what} cannot start the kernel thread P${st.thread}`, st.span, sc.file);
      spawned.add(st.thread);
      parent.set(st.thread, { thread, how: st.how, stmt: st });
    }
  };
  sc.threads.forEach((t) => walk(t.body, t.id));
  sc.handlers.forEach((h) => walk(h.body, null));
  for (const { thread, stmt } of wakes) {
    const t = stmt.thread;
    if (t >= sc.threads.length) {
      throw new SmpError('SMP104', `unknown thread P${t}: the scenario has P0..P${sc.threads.length - 1}`, stmt.span, sc.file);
    }
    if (t === thread) throw new SmpError('SMP109', `P${t} cannot wake itself: it is asleep until another thread wakes it`, stmt.span, sc.file);
    if (sleepers.has(t)) throw new SmpError('SMP105', `P${t} is woken twice (a task sleeps once, at its start)`, stmt.span, sc.file);
    if (spawned.has(t)) throw new SmpError('SMP109', `P${t} is started by fork()/clone(), which wakes it: wake_up() is for a thread that starts asleep`, stmt.span, sc.file);
    sleepers.add(t);
  }
  for (const st of signals) {
    const t = st.thread;
    if (t >= sc.threads.length) {
      throw new SmpError('SMP104', `unknown thread P${t}: the scenario has P0..P${sc.threads.length - 1}`, st.span, sc.file);
    }
    if (kthreads.has(t)) throw new SmpError('SMP109', `tgkill() is for user threads: P${t} is a kernel thread`, st.span, sc.file);
    if (spawned.has(t) || sleepers.has(t)) {
      throw new SmpError('SMP109', `P${t} ${spawned.has(t) ? 'is started by fork()/clone()' : 'starts asleep'}: signals go to threads that run from the start here`, st.span, sc.file);
    }
    signalled.add(t);
  }
  // Every started thread must descend from a thread that runs from the start.
  for (const t of spawned) {
    const seen = new Set<number>([t]);
    for (let p = parent.get(t); p; p = parent.get(p.thread)) {
      if (seen.has(p.thread)) {
        throw new SmpError('SMP109', `P${t} is started by a chain of threads that starts itself (P${[...seen].join(' <- P')})`, p.stmt.span, sc.file);
      }
      seen.add(p.thread);
    }
  }
  // Static process of each thread: the starting threads are process 0; a fork starts a new one.
  const proc = (t: number): number => {
    const p = parent.get(t);
    if (!p) return 0;
    return p.how === 'fork' ? t + 1 : proc(p.thread);
  };
  const mmOfStmt = new Map<Stmt, number>();
  let nrMms = 1;
  const staticMm = (t: number): number => {
    const p = parent.get(t);
    if (!p) return taskMms[t]!;
    if (p.how === 'fork') {
      if (!mmOfStmt.has(p.stmt)) mmOfStmt.set(p.stmt, ++nrMms);
      return mmOfStmt.get(p.stmt)!;
    }
    return staticMm(p.thread);
  };
  for (const t of spawned) taskMms[t] = staticMm(t);
  for (const e of execs) {
    const mates = sc.threads.filter((t) => !kthreads.has(t.id) && proc(t.id) === proc(e.thread)).length;
    if (mates > 1) {
      throw new SmpError('SMP103', `execve() in a process with other threads is not modelled (de_thread() would kill them): P${e.thread}'s process has ${mates} threads`, e.stmt.span, sc.file);
    }
    mmOfStmt.set(e.stmt, ++nrMms);
  }
  return { spawned, sleepers, signalled, mmOfStmt, nrMms };
}

// ---- the interpreter ---------------------------------------------------------------------

function site(fn: string, span: Span): OpSite {
  return { fn, line: span.line, col: span.col };
}

function* raises(stmts: Stmt[]): Generator<Extract<Stmt, { k: 'raise_irq' }>> {
  for (const st of stmts) {
    if (st.k === 'raise_irq') yield st;
    else if (st.k === 'if') {
      yield* raises(st.then);
      yield* raises(st.else);
    } else if (st.k === 'rseq') {
      yield* raises(st.body);
      yield* raises(st.abort);
    }
  }
}

/** What a running thread needs: its registers, the machine, and the kernel it may call. */
interface ThreadCtx {
  /** Set when the thread called exit(): nothing after it runs. */
  exited?: boolean;
  regs: number[];
  model: ModelName;
  file: string;
  cpu: number;
  kernel: Kernel | null;
  mmOfStmt: ReadonlyMap<Stmt, number>;
  /** The CPU of each thread that starts asleep or that tgkill() signals. */
  wakeCpu: ReadonlyMap<number, number>;
}

function* runThread(t: Thread, ctx: ThreadCtx): CpuCode {
  yield* execBlock(t.body, ctx);
}

/** How a task goes back to what it was doing when its CPU switches to it. */
type Resume = 'iret' | 'none';

/** One task of a CPU's list (`cpu N runs ...`): a thread, or a body-less kernel thread. */
interface SchedEntry {
  t: number; // thread id, or KTHREAD
  id: number; // task id
  /**
   * How the task first runs: from the list (`run`: asleep in a system call it returns
   * from by SYSRET), started by fork(Pn)/clone(Pn) (`fork`: returns by ret_from_fork's
   * IRET), or asleep until another thread's wake_up(Pn) (`sleep`: SYSRET).
   */
  start: 'run' | 'fork' | 'sleep';
  /**
   * Placed on several CPUs: the same entry is in each of their lists, and a CPU reads
   * its state only after taking the task through KernelLayout.taskOnCpu (a cmpxchg),
   * which the CPU that ran it last released.
   */
  shared: boolean;
  /** The thread's context (its `cpu` follows the task when it migrates). */
  ctx?: ThreadCtx;
  /** The CPU the task last ran on (-1: not yet). */
  lastCpu: number;
  state: 'new' | 'running' | 'preempted' | 'done';
  /** A `sleep` task this CPU has seen woken (it read task->__state). */
  woken: boolean;
  gen?: CpuCode;
  /** The op an interrupt withdrew from the task when it switched tasks: done again on resumption. */
  pending?: Op;
  /** Preempted: by an interrupt (back through its IRET) or in the kernel's own schedule() call. */
  resume: Resume;
  /** The CPU-local kernel state of the task while it is switched out. */
  kernelDepth: number;
  preemptCount: number;
  sleepLocks: number;
}

/** A CPU's runqueue as the model keeps it (CPU-local: read only by this CPU's code). */
interface CpuSched {
  entries: SchedEntry[];
  /** The entry the CPU runs, or last ran. */
  cur: number;
  /** Does the CPU's task context run entry `cur` now (not the idle task, not the scheduler)? */
  running: boolean;
  /** Shared entries this CPU has seen finished. */
  doneShared: Set<SchedEntry>;
  /** The entry an interrupt's exit switched to (see irqentry). */
  switchedTo: number;
}

/** Thrown into a thread's code at the op it was about to do: its rseq critical section aborts. */
export class RseqAbort extends Error {}

/**
 * An interrupt on `cpu`: the handler, then irqentry_exit() (kernel/entry/common.c,
 * v6.18). Going back to user mode, or under preempt=full to preemptible kernel code
 * (preempt_schedule_irq()), with need_resched() set, the CPU switches to the next
 * runnable task: the handler returns PREEMPTED and the interrupted task goes back
 * later, through this interrupt's IRET, while the task switched to returns its own
 * way (SYSRET from its system call, say). Otherwise a task in an rseq critical
 * section with an rseq event pending goes to its abort handler
 * (rseq_handle_notify_resume()), and the return is an IRET, which is serialising on x86.
 */
function* irqentry(handler: HandlerCode, k: Kernel | null, cpu: number, S: CpuSched | undefined): HandlerCode {
  if (k) k.inIrq[cpu]!++;
  const r = yield* handler;
  if (k) k.inIrq[cpu]!--;
  if (k && S) {
    const e = S.entries[S.cur];
    if (e && S.running) {
      const toUser = k.kernelDepth[cpu] === 0 && e.t !== KTHREAD && k.layout.taskMms[e.id - 1] !== 0 && k.mmOf(e.id) !== 0;
      if ((toUser || k.preemptModel === 'full') && k.preemptible(cpu) && (yield* k.need_resched(cpu))) {
        const j = yield* pickNext(k, cpu, S, 'take');
        if (j >= 0) {
          yield* k.note(toUser ? 'irqentry_exit_to_user_mode(): need_resched: schedule()' : 'irqentry_exit(): preempt_schedule_irq()');
          k.counters.irq_resched[cpu]!++;
          e.state = 'preempted';
          e.resume = 'iret';
          S.switchedTo = j;
          yield* switchTo(k, cpu, S, j);
          return PREEMPTED;
        }
      }
      const signal = toUser ? yield* arch_do_signal_or_restart(k, e.id) : false;
      if (toUser && k.rseqCs.has(e.id) && (k.rseqEvent.has(e.id) || signal)) {
        yield* k.note(`${signal ? 'rseq_signal_deliver()' : 'rseq_handle_notify_resume()'}: in a critical section, restart at its abort handler`);
        yield { k: 'serialize', site: { fn: 'IRET' } };
        return RSEQ_ABORTED;
      }
    }
  }
  yield { k: 'serialize', site: { fn: 'IRET' } };
  return r;
}

/**
 * Can entry x run now on `cpu`? A `sleep` task once this CPU reads its wakeup from
 * memory (`take`); a child of fork()/clone() only in the list's order (pickAfterEnd);
 * a shared task (placed on several CPUs) when its p->on_cpu says it is free for this
 * CPU: `peek` reads it, `take` takes the task with a cmpxchg (and the caller switches to it).
 */
function* runnable(k: Kernel, cpu: number, S: CpuSched, x: SchedEntry, mode: 'peek' | 'take'): Generator<Op, boolean, number> {
  if (x.shared) {
    if (S.doneShared.has(x)) return false;
    const loc = k.layout.taskOnCpu[x.id]!;
    const free = (v: number): boolean => v === 0 || v === ON_CPU_PINNED + cpu;
    // A load first: only a task seen free is taken (a locked cmpxchg, which can still fail).
    let v = yield { k: 'ld', loc, site: { fn: 'p->on_cpu' } };
    if (mode === 'take' && free(v)) {
      v = yield { k: 'rmw', loc, f: (old) => (free(old) ? cpu + 1 : undefined), site: { fn: 'pick_next_task(): take the task (p->on_cpu)' } };
    }
    if (v === ON_CPU_DONE) S.doneShared.add(x);
    return free(v);
  }
  if (x.state === 'preempted') return true;
  if (x.state !== 'new') return false;
  if (x.start === 'run') return true;
  if (x.start === 'sleep' && !x.woken && mode === 'take') {
    x.woken = (yield { k: 'ld', loc: k.layout.taskWoken[x.id]!, site: { fn: 'pick_next_task(): p->__state' } }) === 1;
  }
  return x.start === 'sleep' && x.woken;
}

/**
 * pick_next_task() when the current task is preempted: the next runnable entry after
 * it, in the list's cyclic order; -1 if none. A task that may migrate is a candidate
 * when it is free for this CPU (its p->on_cpu says so).
 */
function* pickNext(k: Kernel, cpu: number, S: CpuSched, mode: 'peek' | 'take'): Generator<Op, number, number> {
  const n = S.entries.length;
  for (let d = 1; d < n; d++) {
    const j = (S.cur + d) % n;
    if (yield* runnable(k, cpu, S, S.entries[j]!, mode)) return j;
  }
  return -1;
}

/**
 * schedule() on `cpu` to entry j (-1: the idle task): keep the CPU-local kernel
 * state of a task that is switched out, __schedule() with preemption off, then
 * restore the next task's state.
 */
function* switchTo(k: Kernel, cpu: number, S: CpuSched, j: number, clearResched = true): CpuCode {
  const prev = S.running ? S.entries[S.cur] : undefined;
  S.running = false;
  if (prev?.state === 'preempted') {
    prev.kernelDepth = k.kernelDepth[cpu]!;
    prev.preemptCount = k.preemptCount[cpu]!;
    prev.sleepLocks = k.sleepLocks[cpu]!;
  }
  k.kernelDepth[cpu] = 1;
  k.preemptCount[cpu] = 1;
  k.sleepLocks[cpu] = 0;
  yield* __schedule(k, cpu, j < 0 ? 0 : S.entries[j]!.id, clearResched);
  if (prev?.shared && prev.state === 'preempted') {
    // finish_task_switch(): prev->on_cpu = 0; preempted in the kernel, it stays on this CPU.
    const val = prev.kernelDepth > 0 ? ON_CPU_PINNED + cpu : 0;
    yield { k: 'st', loc: k.layout.taskOnCpu[prev.id]!, val, site: { fn: 'finish_task_switch(): smp_store_release(&prev->on_cpu, 0)' } };
  }
  if (j < 0) return;
  const e = S.entries[j]!;
  const back = e.state === 'preempted';
  k.kernelDepth[cpu] = back ? e.kernelDepth : 0;
  k.preemptCount[cpu] = back ? e.preemptCount : 0;
  k.sleepLocks[cpu] = back ? e.sleepLocks : 0;
  S.cur = j;
  S.running = true;
}

/**
 * The CPU has nothing to go back to (its start, or its task ended): switch to the
 * next task in the list's cyclic order from `from` that can run: a preempted one,
 * one runnable from the start, a child of fork()/clone() (the CPU idles until
 * wake_up_new_task()), or a woken sleeper. With only sleepers left, the CPU runs
 * the idle task (rq->curr = idle, lazy mm) and polls TIF_NEED_RESCHED until a
 * wakeup. Returns the entry switched to, or -1 when every task is done.
 */
function* pickAfterEnd(k: Kernel, cpu: number, S: CpuSched, from: number): Generator<Op, number, number> {
  const n = S.entries.length;
  for (;;) {
    let sleeping = false;
    let elsewhere: SchedEntry | undefined; // a shared task that may come free
    for (let d = 0; d < n; d++) {
      const j = (from + d) % n;
      const x = S.entries[j]!;
      if (x.shared) {
        if (yield* runnable(k, cpu, S, x, 'take')) {
          yield* switchTo(k, cpu, S, j);
          return j;
        }
        if (!S.doneShared.has(x)) elsewhere ??= x;
        continue;
      }
      if (x.state === 'done' || x.state === 'running') continue;
      if (x.state === 'new' && x.start === 'sleep' && !(yield* runnable(k, cpu, S, x, 'take'))) {
        sleeping = true;
        continue;
      }
      if (x.state === 'new' && x.start === 'fork') yield* kernelMode(k, cpu, wait_for_new_task(k, x.id));
      yield* switchTo(k, cpu, S, j);
      return j;
    }
    if (!sleeping && !elsewhere) return -1;
    // do_idle(): the idle task (no clearing of TIF_NEED_RESCHED: a wakeup may have set it).
    if (k.curr[cpu] !== 0) yield* switchTo(k, cpu, S, -1, false);
    if (elsewhere) {
      // Until a task this CPU may run is preempted elsewhere (and can be pulled here) or ends.
      const free = (v: number): boolean => v === 0 || v === ON_CPU_PINNED + cpu || v === ON_CPU_DONE;
      yield* k.smp_cond_load_acquire(k.layout.taskOnCpu[elsewhere.id]!, free, 'do_idle(): wait for a task to pull (p->on_cpu)');
    } else {
      yield* k.smp_cond_load_acquire(k.layout.needResched[cpu]!, (v) => v !== 0, 'do_idle(): while (!need_resched())');
    }
  }
}

/** Kernel code on `cpu`: while it runs, the task is in kernel mode. */
function* kernelMode<T>(k: Kernel, cpu: number, g: Generator<Op, T, number>): Generator<Op, T, number> {
  k.kernelDepth[cpu]!++;
  const r = yield* g;
  k.kernelDepth[cpu]!--;
  return r;
}

/**
 * A system call on `cpu` (arch/x86/entry/syscall_64.c do_syscall_64(), v6.18): the
 * kernel code, then syscall_exit_to_user_mode(), whose exit_to_user_mode_loop()
 * calls schedule() when need_resched() is set, then the return to user mode: SYSRET
 * (the fast path, not serialising) or, with `config syscall_exit=iret;`, IRET.
 */
function* do_syscall_64<T>(k: Kernel, cpu: number, g: Generator<Op, T, number>): Generator<Op, T, number> {
  k.kernelDepth[cpu]!++;
  const r = yield* g;
  if (k.preemptible(cpu) && (yield* k.need_resched(cpu, 'syscall_exit_to_user_mode(): need_resched()'))) {
    yield { k: 'nop', resched: true, site: { fn: 'syscall_exit_to_user_mode(): schedule()' } };
  }
  yield* arch_do_signal_or_restart(k, k.current(cpu));
  if (k.config.syscallExit === 'iret') yield { k: 'serialize', site: { fn: 'IRET (system call return, slow path)' } };
  else if (k.config.showSysret) yield { k: 'nop', site: { fn: 'SYSRET' } };
  k.kernelDepth[cpu]!--;
  return r;
}

function* kthreadBody(): CpuCode {
  yield { k: 'nop', site: { fn: 'kthread (runs in the kernel, mm NULL)' } };
}

/**
 * A CPU runs its tasks in the list's order; between two, the kernel's schedule()
 * switches. A task gives the CPU up when its body ends, when an interrupt's exit
 * finds need_resched() set (a timer tick's scheduler_tick(), a wakeup from another
 * CPU), or when its own kernel code calls schedule() (system-call exit,
 * cond_resched(), preempt_enable()). A preempted task resumes when the CPU comes
 * back to it, in the same cyclic order, the way it left: through its interrupt's
 * IRET, or in the kernel where it called schedule().
 */
function* runCpu(S: CpuSched, sc: Scenario, regs: number[][], base: Omit<ThreadCtx, 'regs'>, startsIdle = false): CpuCode {
  const k = base.kernel;
  const cpu = base.cpu;
  const n = S.entries.length;
  let i = 0;
  let switchedIn = false;
  if (k && startsIdle) {
    i = yield* pickAfterEnd(k, cpu, S, 0);
    if (i < 0) return;
    switchedIn = true;
  }
  for (;;) {
    const e = S.entries[i]!;
    S.cur = i;
    S.running = true;
    if (e.ctx) e.ctx.cpu = cpu; // a migrated task runs on this CPU now
    if (k && e.lastCpu >= 0 && e.lastCpu !== cpu) k.counters.migrations[cpu]!++;
    e.lastCpu = cpu;
    let res: IteratorResult<Op, void>;
    if (e.state === 'preempted') {
      e.state = 'running';
      if (e.resume === 'iret') yield { k: 'serialize', site: { fn: 'IRET (the interrupt that preempted the task returns)' } };
      if (k && e.resume === 'iret' && e.kernelDepth === 0 && k.rseqCs.has(e.id)) {
        // Preempted inside an rseq critical section: __schedule()'s rseq_preempt()
        // flagged the event, so the return to user mode goes to the abort handler.
        e.pending = undefined;
        res = e.gen!.throw(new RseqAbort());
      } else if (e.pending) {
        res = { done: false, value: e.pending };
        e.pending = undefined;
      } else {
        res = e.gen!.next(0);
      }
    } else {
      e.state = 'running';
      if (e.t === KTHREAD) e.gen = kthreadBody();
      else {
        e.ctx = { ...base, cpu, regs: regs[e.t]! };
        e.gen = runThread(sc.threads[e.t]!, e.ctx);
      }
      if (k && switchedIn && e.t !== KTHREAD && k.layout.taskMms[e.id - 1] !== 0) {
        // Back to user mode from where the task slept: ret_from_fork's IRET for a new
        // child, else the SYSRET of the system call it slept in.
        if (e.start === 'fork') yield { k: 'serialize', site: { fn: 'ret_from_fork: IRET' } };
        else if (k.config.syscallExit === 'iret') yield { k: 'serialize', site: { fn: 'IRET (system call return, slow path)' } };
        else if (k.config.showSysret) yield { k: 'nop', site: { fn: 'SYSRET' } };
      }
      res = e.gen.next(0);
    }
    let next = -1;
    while (!res.done) {
      const op = res.value;
      if (op.k === 'nop' && op.resched && k) {
        // The task's kernel code calls schedule().
        const j = yield* pickNext(k, cpu, S, 'take');
        yield* k.note(op.site.fn);
        if (j >= 0) {
          e.state = 'preempted';
          e.resume = 'none';
          yield* switchTo(k, cpu, S, j);
          next = j;
          break;
        }
        // Nothing else can run: __schedule() keeps this task (and clears the flag).
        yield* __schedule(k, cpu, e.id);
        res = e.gen!.next(0);
        continue;
      }
      const r = yield op;
      if (r === PREEMPTED) {
        e.state = 'preempted';
        e.pending = op;
        e.resume = 'iret';
        next = S.switchedTo;
        break;
      }
      res = r === RSEQ_ABORTED ? e.gen!.throw(new RseqAbort()) : e.gen!.next(r);
    }
    switchedIn = true;
    if (next >= 0) {
      i = next;
      continue;
    }
    e.state = 'done';
    S.running = false;
    if (!k) return;
    if (e.shared) yield { k: 'st', loc: k.layout.taskOnCpu[e.id]!, val: ON_CPU_DONE, site: { fn: 'the task has ended: no CPU takes it again (p->on_cpu)' } };
    i = yield* pickAfterEnd(k, cpu, S, (i + 1) % n);
    if (i < 0) return;
  }
}

/**
 * The timer interrupt: scheduler_tick() (v6.18) finds another task runnable on this
 * CPU and asks for a reschedule (resched_curr(): this CPU's own TIF_NEED_RESCHED);
 * irqentry_exit() acts on it. A child of fork()/clone() not yet started and a task
 * still asleep are not candidates.
 */
function* scheduler_tick(k: Kernel, cpu: number, S: CpuSched): HandlerCode {
  yield { k: 'nop', site: { fn: 'timer interrupt: scheduler_tick()' } };
  if (!S.running) return;
  if ((yield* pickNext(k, cpu, S, 'peek')) < 0) return;
  k.needReschedLocal[cpu] = true;
}

/** The reschedule IPI: scheduler_ipi() has nothing to do here; its irqentry_exit() reschedules. */
function* scheduler_ipi(k: Kernel): HandlerCode {
  yield* k.note('scheduler_ipi()');
}

function* execBlock(stmts: Stmt[], ctx: ThreadCtx): Generator<Op, void, number> {
  const { regs, model, file } = ctx;
  for (const s of stmts) {
    if (ctx.exited) return;
    switch (s.k) {
      case 'assign':
        regs[s.reg] = yield* evalExpr(s.e, ctx, 0);
        break;
      case 'store': {
        const a = yield* evalExpr(s.addr, ctx, 0);
        const v = yield* evalExpr(s.e, ctx, 0);
        yield { k: 'st', loc: deref(a, s.span, file), val: v, site: site(s.fn, s.span) };
        break;
      }
      case 'fence':
        yield { k: fenceOp(model, s.fence), site: site(s.fn, s.span) };
        break;
      case 'eval':
        yield* evalExpr(s.e, ctx, 0);
        break;
      case 'if': {
        const c = yield* evalExpr(s.c, ctx, 0);
        yield* execBlock(c !== 0 ? s.then : s.else, ctx);
        break;
      }
      case 'irq':
        yield { k: 'irq', enable: s.enable, site: site(s.fn, s.span) };
        break;
      case 'raise_irq':
        yield { k: 'raise', cpu: s.cpu, vector: s.handler, site: site('raise_irq', s.span) };
        break;
      case 'kthread_mm':
        if (!ctx.kernel) throw new Error('internal: kthread_use_mm() without the kernel model');
        if (ctx.kernel.layout.taskMms[ctx.kernel.current(ctx.cpu) - 1] !== 0) {
          throw new SmpError('SMP109', `${s.use ? 'kthread_use_mm' : 'kthread_unuse_mm'}() is for kernel threads: declare the thread with 'kthread P${ctx.kernel.current(ctx.cpu) - 1};'`, s.span, file);
        }
        yield* kernelMode(ctx.kernel, ctx.cpu, s.use ? kthread_use_mm(ctx.kernel, ctx.cpu, 1) : kthread_unuse_mm(ctx.kernel, ctx.cpu, 1));
        break;
      case 'spawn': {
        yield* do_syscall_64(ctx.kernel!, ctx.cpu, spawnTask(ctx.kernel!, ctx.cpu, s, ctx.mmOfStmt.get(s) ?? 0));
        break;
      }
      case 'execve': {
        yield* do_syscall_64(ctx.kernel!, ctx.cpu, execve(ctx.kernel!, ctx.cpu, ctx.mmOfStmt.get(s)!));
        break;
      }
      case 'signal': {
        // tgkill(Pn): a system call that sends thread Pn a signal.
        yield* do_syscall_64(ctx.kernel!, ctx.cpu, do_send_sig_info(ctx.kernel!, ctx.cpu, s.thread + 1, `P${s.thread}`, ctx.wakeCpu.get(s.thread)!));
        break;
      }
      case 'wake': {
        // wake_up(Pn): a system call that wakes a sleeping thread (futex_wake(), say).
        yield* do_syscall_64(ctx.kernel!, ctx.cpu, try_to_wake_up(ctx.kernel!, ctx.cpu, s.thread + 1, `P${s.thread}`, ctx.wakeCpu.get(s.thread)!));
        break;
      }
      case 'rseq': {
        // A restartable sequence (include/uapi/linux/rseq.h): the thread points its
        // rseq area at the critical section; until the commit store, an rseq event
        // seen on the way back to user mode (preemption, ipi_rseq) moves it to the
        // abort handler (rseq_ip_fixup()); the model delivers that as RseqAbort.
        const k = ctx.kernel!;
        const task = k.current(ctx.cpu);
        yield { k: 'nop', site: site('rseq: enter critical section (rseq->rseq_cs = &cs)', s.span) };
        k.rseqCs.add(task);
        k.rseqEvent.delete(task);
        try {
          yield* execBlock(s.body, ctx);
          const a = yield* evalExpr(s.commit.addr, ctx, 0);
          const v = yield* evalExpr(s.commit.e, ctx, 0);
          yield { k: 'st', loc: deref(a, s.commit.span, file), val: v, site: site('rseq_commit', s.commit.span) };
          k.rseqCs.delete(task);
        } catch (e) {
          if (!(e instanceof RseqAbort)) throw e;
          k.rseqCs.delete(task);
          k.rseqEvent.delete(task);
          yield { k: 'nop', site: site('rseq: abort (the thread continues at the abort handler)', s.span) };
          yield* execBlock(s.abort, ctx);
        }
        break;
      }
      case 'exit':
        if (!ctx.kernel) throw new Error('internal: exit() without the kernel model');
        yield* kernelMode(ctx.kernel, ctx.cpu, do_exit(ctx.kernel, ctx.cpu));
        ctx.exited = true;
        return;
    }
  }
}

/** fork(Pn) / clone(Pn): copy_mm() (a copy of the mm, or the same one), then wake the child. */
function* spawnTask(k: Kernel, cpu: number, s: Extract<Stmt, { k: 'spawn' }>, mm: number): CpuCode {
  yield* k.note(s.how === 'fork' ? `fork(): child P${s.thread}` : `clone(CLONE_VM): thread P${s.thread}`);
  yield* copy_mm(k, cpu, s.thread + 1, s.how === 'clone', mm);
  yield* wake_up_new_task(k, s.thread + 1);
}

/** execve(): a fresh mm, installed by exec_mmap(). */
function* execve(k: Kernel, cpu: number, mm: number): CpuCode {
  yield* k.note('execve');
  yield* mm_alloc(k, mm);
  yield* exec_mmap(k, cpu, mm);
}

function deref(a: number, span: Span, file: string): number {
  if (!isAddr(a)) {
    throw new SmpError('SMP303', `dereference of the integer ${a}, which is not the address of a shared location`, span, file);
  }
  return a - ADDR_BASE;
}

function* evalExpr(e: Expr, ctx: ThreadCtx, val: number): Generator<Op, number, number> {
  const { regs, file } = ctx;
  switch (e.k) {
    case 'num':
      return e.v;
    case 'reg':
      return regs[e.reg]!;
    case 'addr':
      return addrOf(e.loc);
    case 'val':
      return val;
    case 'un': {
      const a = yield* evalExpr(e.a, ctx, val);
      if (e.op === '!') return a === 0 ? 1 : 0;
      noPtr(a, e.span, file);
      return e.op === '-' ? -a | 0 : ~a;
    }
    case 'cond': {
      const c = yield* evalExpr(e.c, ctx, val);
      return c !== 0 ? yield* evalExpr(e.a, ctx, val) : yield* evalExpr(e.b, ctx, val);
    }
    case 'bin': {
      if (e.op === '&&' || e.op === '||') {
        const a = yield* evalExpr(e.a, ctx, val);
        if (e.op === '&&' ? a === 0 : a !== 0) return e.op === '&&' ? 0 : 1;
        const b = yield* evalExpr(e.b, ctx, val);
        return b !== 0 ? 1 : 0;
      }
      const a = yield* evalExpr(e.a, ctx, val);
      const b = yield* evalExpr(e.b, ctx, val);
      return binop(e.op, a, b, e.span, file);
    }
    case 'exec': {
      const a = yield* evalExpr(e.addr, ctx, val);
      return yield { k: 'exec', loc: deref(a, e.span, file), site: site(e.fn, e.span) };
    }
    case 'load': {
      const a = yield* evalExpr(e.addr, ctx, val);
      return yield { k: 'ld', loc: deref(a, e.span, file), site: site(e.fn, e.span) };
    }
    case 'await': {
      const a = yield* evalExpr(e.addr, ctx, val);
      const pred = e.pred;
      // The predicate is CPU-local: evaluate it without yielding (it may use VAL and registers).
      const test = (v: number): boolean => pureEval(pred, ctx, v) !== 0;
      return yield { k: 'await', loc: deref(a, e.span, file), pred: test, site: site(e.fn, e.span) };
    }
    case 'syscall': {
      const args: number[] = [];
      for (const x of e.args) args.push(yield* evalExpr(x, ctx, val));
      if (!ctx.kernel) throw new Error('internal: a system call without the kernel model');
      for (const a of args) noPtr(a, e.span, file);
      return yield* do_syscall_64(ctx.kernel, ctx.cpu, sys_membarrier(ctx.kernel, ctx.cpu, args[0]!, args[1]! >>> 0, args[2]!));
    }
    case 'rmw': {
      const a = yield* evalExpr(e.addr, ctx, val);
      const args: number[] = [];
      for (const x of e.args) args.push(yield* evalExpr(x, ctx, val));
      const loc = deref(a, e.span, file);
      const f = rmwFn(e.op, args, e.span, file);
      const old = yield { k: 'rmw', loc, f, site: site(e.fn, e.span) };
      if (e.ret === 'new') return f(old) ?? old;
      if (e.ret === 'changed') return f(old) === undefined ? 0 : 1;
      return old;
    }
  }
}

function pureEval(e: Expr, ctx: ThreadCtx, val: number): number {
  const g = evalExpr(e, ctx, val);
  const r = g.next();
  if (!r.done) {
    throw new SmpError('SMP103', 'the condition of smp_cond_load_*() must not access shared memory', e.span, ctx.file);
  }
  return r.value;
}

function rmwFn(op: string, args: number[], span: Span, file: string): (old: number) => number | undefined {
  switch (op) {
    case 'xchg':
      return () => args[0]!;
    case 'cmpxchg':
      return (old) => (old === args[0] ? args[1]! : undefined);
    case 'add':
      return (old) => binop('+', old, args[0] ?? 1, span, file);
    case 'add_unless': {
      // atomic_add_unless(v, a, u): add a unless the value is u; atomic_inc_not_zero(v): a=1, u=0.
      const a = args.length === 2 ? args[0]! : 1;
      const u = args.length === 2 ? args[1]! : 0;
      return (old) => (old === u ? undefined : binop('+', old, a, span, file));
    }
    case 'sub':
      return (old) => binop('-', old, args[0] ?? 1, span, file);
    case 'and':
      return (old) => binop('&', old, args[0]!, span, file);
    case 'or':
      return (old) => binop('|', old, args[0]!, span, file);
    default:
      return (old) => binop('^', old, args[0]!, span, file);
  }
}

function noPtr(v: number, span: Span, file: string): void {
  if (isAddr(v)) throw new SmpError('SMP302', 'arithmetic on a pointer value is not supported', span, file);
}

function binop(op: string, a: number, b: number, span: Span, file: string): number {
  if (op === '==') return a === b ? 1 : 0;
  if (op === '!=') return a !== b ? 1 : 0;
  noPtr(a, span, file);
  noPtr(b, span, file);
  switch (op) {
    case '+': return (a + b) | 0;
    case '-': return (a - b) | 0;
    case '*': return Math.imul(a, b);
    case '/':
      if (b === 0) throw new SmpError('SMP301', 'division by zero', span, file);
      return (a / b) | 0;
    case '%':
      if (b === 0) throw new SmpError('SMP301', 'division by zero (remainder)', span, file);
      return a % b | 0;
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '<<': return a << (b & 31);
    case '>>': return a >> (b & 31);
    case '<': return a < b ? 1 : 0;
    case '<=': return a <= b ? 1 : 0;
    case '>': return a > b ? 1 : 0;
    case '>=': return a >= b ? 1 : 0;
    default:
      throw new Error(`internal: unknown operator ${op}`);
  }
}
