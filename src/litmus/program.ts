// Runs a parsed litmus scenario on the machine: each thread becomes a generator
// that yields one machine op per shared access, through the kernel's mapping of
// its primitives onto the machine (arch.ts). This file is the front end's
// interpreter and the scenario's plan (tasks, processes, placement); what a CPU
// does with its tasks (scheduling, system calls, interrupt entry and exit) is the
// kernel model's (src/kernel/sched/idle.ts cpu_startup_entry(), src/kernel/entry/).

import {
  ADDR_BASE, addrOf, isAddr, type Expr, type KernelObservable, type Observable, type Scenario, type Stmt, type Thread,
} from '../scenario/ast.js';
import { SmpError, type Span } from '../scenario/errors.js';
import { PROCS_MAX, type ModelName, type ProgramInstance } from '../machine/machine.js';
import type { CpuCode, HandlerCode, Op, OpSite } from '../machine/ops.js';
import { fenceOp } from './arch.js';
import { kernelModel, type KernelModelPart } from '../parts.js';
import { Kernel, KernelLayout, TIMER_VECTORS, type KernelConfig } from '../kernel/kernel.js';
import { PROT_READ, PROT_WRITE } from '../kernel/uapi.js';
import { is_swap_pte, pte_pfn, pte_present, _PAGE_ACCESSED, _PAGE_DIRTY, type Paging } from '../machine/paging.js';
import { DEFAULT_KERNEL, findVariant, type Variant } from '../kernel/variants.js';
import type { UserCode } from '../kernel/sched/idle.js';
import { directiveSettings, KTHREAD } from '../scenario/directives.js';
import type { LocScope } from '../explore/state.js';

/**
 * The kernel model's functions (src/parts/kernel.ts), loaded only for scenarios that
 * call into the kernel (src/parts.ts): bound by the constructor of the first program
 * that uses the kernel, and used only by code that runs with a kernel.
 */
let K: KernelModelPart;

/** What the explorer needs from any program: litmus now, the kernel model next. */
export interface Program {
  readonly name: string;
  /** The kernel's spinlock words (LKMM gives them lock.cat's events). */
  readonly spinlocks?: ReadonlySet<number>;
  readonly nCpus: number;
  readonly init: readonly number[];
  readonly hasHandlers: boolean;
  readonly model: ModelName;
  /** Locations that hold code (write_code/exec_code), fetched by each CPU. */
  readonly codeLocs?: readonly number[];
  /** Address translation, for scenarios with user pages (`mmap`). */
  readonly paging?: Paging | null;
  /** Names of the observed registers and locations, herd order ('0:r0', 'x'). */
  readonly observedNames: readonly string[];
  /**
   * Each CPU's code depends on nothing but what that CPU is given (the values its reads
   * return, the interrupts it takes): no task moves between CPUs, so no code state passes
   * from one CPU to another outside memory. The graph engine then replays CPUs alone.
   */
  readonly cpuLocalCode?: boolean;
  /**
   * No-op steps run with the op after them (Machine.fuse; default true). False only
   * where the test shows that merging them changes counts, not outcomes.
   */
  fuse?: boolean;
  instantiate(): Instance;
  formatValue(v: number): string;
  /** A value of location loc (rq->curr values are tasks); formatValue when absent. */
  formatLocValue?(loc: number, v: number): string;
  locName(loc: number): string;
  /** What location loc is: one the scenario names, the kernel's own, or code (write_code/exec_code). */
  locScope?(loc: number): LocScope;
  handlerName(vector: number): string;
}

export interface Instance extends ProgramInstance {
  /** Observed values in a final state. */
  observe(mem: ArrayLike<number>): number[];
  /** The kernel's WARN_ON()s that fired so far in this execution. */
  warnings(): readonly string[];
  /** Per thread: the iterations of its loops (`loop N { }`) begun so far. */
  readonly loopMarks?: readonly number[];
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
  get spinlocks(): ReadonlySet<number> | undefined {
    return this.kernelLayout?.spinlocks;
  }
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
  readonly cpuLocalCode: boolean;
  fuse = true;
  /** Threads that may block (futex_wait(), pipes), the futex words and the pipes (locations). */
  private readonly blocking: BlockingPlan;
  /** The mm each fork() and execve() statement creates. */
  private readonly mmOfStmt: ReadonlyMap<Stmt, number>;
  /** Timer ticks per CPU that runs more than one task (`preempt N;`). */
  private readonly ticks: number;
  /** Task names by task id - 1 (kernel scenarios). */
  private taskNames: string[] = [];
  /** User pages (`mmap`): location -> page number. */
  private readonly pageOf: ReadonlyMap<number, number>;
  readonly paging: Paging | null = null;
  /** Locations only one thread can reach (privateLocations()): their accesses are marked `priv`. */
  readonly privateLocs: ReadonlySet<number>;

  constructor(
    readonly scenario: Scenario, readonly model: ModelName, variant: Variant = findVariant(DEFAULT_KERNEL)!, readonly arch: 'x86' | 'arm64' = 'x86',
    /** The processes the machine may have (smpcheck sim, which tracks none in masks, lifts the explorers' limit). */
    readonly procsMax = PROCS_MAX,
  ) {
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
    // A thread placed on several CPUs carries its code (its generator, its registers) from one to another.
    this.cpuLocalCode = this.migratable.size === 0;
    // A thread that may migrate is placed by 'cpu' directives; what it cannot be combined with is refused there.
    const refuse = (msg: string): SmpError => new SmpError('SMP109', `${msg}: not supported together`, scenario.directives.find((x) => x.name === 'cpu')!.span, scenario.file);
    for (const t of this.migratable) {
      if (this.spawned.has(t)) throw refuse(`P${t} is placed on several CPUs (it may migrate) and started by fork()/clone()`);
      if (this.sleepers.has(t)) throw refuse(`P${t} is placed on several CPUs (it may migrate) and woken by wake_up()`);
      if (signalled.has(t)) throw refuse(`P${t} is placed on several CPUs (it may migrate) and signalled by tgkill()`);
    }
    this.blocking = planBlocking(scenario, settings.kthreads, new Set(settings.pages));
    for (const [t, b] of this.blocking.blockers) {
      const why = `P${t} may block (${b.how}())`;
      const no = (msg: string): SmpError => new SmpError('SMP109', `${why} and ${msg}: not supported together`, b.span, scenario.file);
      if (this.migratable.has(t)) throw no('is placed on several CPUs (it may migrate)');
      if (this.sleepers.has(t)) throw no('starts asleep until wake_up()');
      if (signalled.has(t)) throw no('is signalled by tgkill()');
      const c = this.placement.findIndex((list) => list.includes(t));
      if (this.placement[c]!.some((x) => this.migratable.has(x))) throw no(`CPU ${c} runs a thread that may migrate`);
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
    const usesKernel = usesKernelModel(scenario);
    const user = scenario.locations.map((l) => l.init);
    this.pageOf = new Map(settings.pages.map((loc, v) => [loc, v]));
    if (usesKernel) {
      K = kernelModel();
      const config: KernelConfig = {
        version: variant.base, arch, nrCpus: this.nCpus, nohzFull: false, configRseq: true, archHasMembarrierSyncCore: true,
        preempt: settings.preemptModel, syscallExit: settings.syscallExit, paravirt: settings.paravirt, showSysret: scenario.codeLocs.length > 0,
        pages: settings.pages.map((loc) => ({ name: scenario.locations[loc]!.name, init: scenario.locations[loc]!.init, mapped: !settings.unmapped.includes(loc), clean: settings.clean.includes(loc) })),
        cow: procs.forkedThreads.some((t) => touchesPages(t, settings.pages)),
        ageing: scenario.threads.some((t) => callsSyscall(t, 'shrink')),
      };
      const sleepers = [...this.sleepers].map((t) => ({ task: t + 1, cpu: this.wakeCpu.get(t)! }));
      const migratable = [...this.migratable].map((t) => ({ task: t + 1, runningOn: startCpu.get(t)! }));
      const newTasks = [...this.spawned].map((t) => t + 1);
      // Tasks are named after their threads (P2), anonymous kernel threads kthread1, kthread2, ...
      this.taskNames = taskMms.map((_, i) => (i < scenario.threads.length ? `P${i}` : `kthread${i - scenario.threads.length + 1}`));
      this.kernelLayout = new KernelLayout(user.length, config, taskMms, this.firstTask, {
        nrMms: procs.nrMms, alive: taskMms.map((_, i) => !this.spawned.has(i)), newTasks, taskNames: this.taskNames, sleepers, migratable,
        signalled: [...signalled].map((t) => t + 1),
        blockers: [...this.blocking.blockers].map(([t, b]) => ({ task: t + 1, cpu: this.placement.findIndex((list) => list.includes(t)), futex: b.futex })),
        futex: this.blocking.futex,
        pipes: this.blocking.pipes.map((loc) => scenario.locations[loc]!.name),
      });
      this.init = [...user, ...this.kernelLayout.init];
      const T = this.kernelLayout.tlb;
      if (T) {
        const vpnOf = user.map((_, loc) => this.pageOf.get(loc) ?? -1);
        const cr3Mm = this.firstTask.map((t) => (t === 0 ? 0 : taskMms[t - 1]!));
        this.paging = { vpnOf, nPages: T.nPages, pmdLoc: T.pmd, tablePte: T.tablePte, tableOwner: T.tableOwner, frameLoc: T.frame, cr3Mm };
        const procs = this.nCpus * (5 + T.nPages);
        if (procs > procsMax) {
          throw new SmpError('SMP109', `${this.nCpus} CPUs with ${T.nPages} user pages need ${procs} processes (four per CPU, a page walker per CPU and page, a paging-structure-cache evictor per CPU): at most ${procsMax}`, scenario.directives.find((d) => d.name === 'mmap')!.span, scenario.file);
        }
      }
    } else {
      this.kernelLayout = null;
      this.init = user;
    }
    this.hasHandlers = scenario.handlers.length > 0 || usesKernel;
    this.privateLocs = privateLocations(scenario, new Set([...scenario.codeLocs, ...settings.pages]));
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
    const pageOf = this.pageOf;
    const pipeOf = new Map(this.blocking.pipes.map((loc, i) => [loc, i]));
    const sched = kernel ? K.init_runqueues({ placement, taskIds, spawned, sleepers, migratable }) : [];
    // Each thread's context, kept across migrations (cpu_startup_entry() moves it).
    const ctxs = new Map<number, ThreadCtx>();
    const priv = this.privateLocs;
    const loopMarks = sc.threads.map(() => 0);
    const user: UserCode = {
      start: (t, cpu) => {
        const ctx: ThreadCtx = { model, file, cpu, kernel, mmOfStmt, wakeCpu, pageOf, pipeOf, regs: regs[t]!, thread: t, loopMarks, priv, localStmt: false, rseqDepth: 0 };
        ctxs.set(t, ctx);
        return runThread(sc.threads[t]!, ctx);
      },
      moved: (t, cpu) => {
        ctxs.get(t)!.cpu = cpu;
      },
    };
    return {
      // Without the kernel model a CPU runs its one thread; with it, the kernel's CPU loop runs the CPU's tasks.
      task: (cpu: number): CpuCode => (kernel ? K.cpu_startup_entry(kernel, cpu, sched[cpu]!, user, firstTask[cpu] === 0) : user.start(placement[cpu]![0]!, cpu)),
      handler: (cpu: number, vector: number): HandlerCode => {
        const sys = kernel ? K.sysvec_handler(kernel, cpu, sched[cpu]!, vector) : null;
        if (sys) return sys;
        const h = sc.handlers[vector]!;
        const code = runThread(h, { regs: h.regs.map((r) => r.init), model, file, cpu, kernel, mmOfStmt, wakeCpu, pageOf, pipeOf, inHandler: true, priv: NO_LOCS, localStmt: false, rseqDepth: 0 });
        return kernel ? K.idtentry(kernel, cpu, sched[cpu]!, code) : handlerThenIret(code);
      },
      warnings: (): readonly string[] => kernel?.warnings ?? [],
      loopMarks,
      // A property the machine checks (S1) fails like a kernel WARN_ON(): recorded, the run goes on.
      warn: (name: string): void => kernel?.WARN_ON(true, name),
      count: (name: 'tlb_spec_flushed', cpu: number): void => {
        if (kernel) kernel.counters[name][cpu]!++;
      },
      initialPending: (cpu: number): number =>
        // A CPU with more than one task to run takes up to `preempt N` timer ticks.
        (placement[cpu]!.length > 1 ? TIMER_VECTORS.slice(0, ticks).reduce((m, v) => m | (1 << v), 0) : 0),
      observe: (mem: ArrayLike<number>): number[] =>
        sc.observed.map((o) => (o.k === 'reg' ? regs[o.thread]![o.reg]! : o.k === 'loc' ? this.finalValue(mem, o.loc) : kernelFact(kernel!, mem, o.cpu, o.name))),
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
    const L = this.kernelLayout;
    if (L?.isRqCurr(loc)) return v === 0 ? 'idle' : (this.taskNames[v - 1] ?? `task${v}`);
    if (L?.isTaskMm(loc)) return v === 0 ? 'NULL' : `mm${v}`;
    if (L?.isLoadedMm(loc)) return v === 0 ? 'init_mm' : v < 0 ? 'LOADED_MM_SWITCHING' : `mm${v}`;
    if (L?.isPte(loc)) {
      if (is_swap_pte(v)) return `swap entry of page ${pte_pfn(v)}`;
      return pte_present(v) ? `frame ${pte_pfn(v)}${v & 2 ? '' : ' (read-only)'}${v & _PAGE_DIRTY ? '' : ', clean'}${v & _PAGE_ACCESSED ? '' : ', old'}` : 'none';
    }
    if (L?.isPmd(loc)) return v === 0 ? 'none' : `page table ${v - 1}`;
    return this.formatValue(v);
  }

  /**
   * A location's value in a final state: a user page (`mmap`) reads through the
   * process's page table (the frame its PTE maps; a page reclaim swapped out, its
   * swap slot; a page not mapped reads as the zero-filled page a fault would give it).
   */
  finalValue(mem: ArrayLike<number>, loc: number): number {
    const vpn = this.pageOf.get(loc);
    const T = this.kernelLayout?.tlb;
    if (vpn === undefined || !T) return mem[loc]!;
    const table = mem[T.pmd[1]!]! - 1;
    const pte = table >= 0 ? mem[T.tablePte[table]![vpn]!]! : 0;
    if (is_swap_pte(pte)) return mem[T.swap[vpn]!]!;
    return pte_present(pte) ? mem[T.frame[pte_pfn(pte)]!]! : 0;
  }

  locName(loc: number): string {
    return this.scenario.locations[loc]?.name ?? this.kernelLayout?.nameOf(loc) ?? `loc${loc}`;
  }

  locScope(loc: number): LocScope {
    if (this.codeLocs.includes(loc)) return 'code';
    return loc < this.scenario.locations.length ? 'scenario' : 'kernel';
  }

  handlerName(vector: number): string {
    if (this.kernelLayout) {
      const sys = K.sysvec_name(vector);
      if (sys) return sys;
    }
    return this.scenario.handlers[vector]?.name ?? `vector${vector}`;
  }
}

/** Does the scenario run on the kernel model: system calls, tasks placed on CPUs, kernel threads or user pages? */
export function usesKernelModel(sc: Scenario): boolean {
  const settings = directiveSettings(sc);
  return sc.usesKernel || settings.placement !== null || settings.kthreads.size > 0 || settings.pages.length > 0;
}

export function observableName(sc: Scenario, o: Observable): string {
  if (o.k === 'kernel') return `cpu${o.cpu}:${o.name}`;
  return o.k === 'reg' ? `${o.thread}:${sc.threads[o.thread]!.regs[o.reg]!.name}` : sc.locations[o.loc]!.name;
}

/** The final value of a kernel observable (`cpu1:ipi_mb`). */
function kernelFact(k: Kernel, mem: ArrayLike<number>, cpu: number, name: KernelObservable): number {
  if (name === 'membarrier_state') return mem[k.layout.rqMembarrierState[cpu]!]!;
  return k.counters[name][cpu]!;
}

/** Which threads may block, and on what (futex_wait(), pipe_read(), pipe_write()). */
interface BlockingPlan {
  /** Thread id -> the first call that may block it, and whether it calls futex_wait(). */
  blockers: Map<number, { how: string; span: Span; futex: boolean }>;
  /** The scenario calls futex_wait() or futex_wake(). */
  futex: boolean;
  /** The locations that name pipes, in order of first use. */
  pipes: number[];
}

/** Every call into the kernel model (a syscall expression) in a list of statements. */
function* kernelCallsIn(stmts: readonly Stmt[]): Generator<Extract<Expr, { k: 'syscall' }>> {
  const inExpr = function* (e: Expr): Generator<Extract<Expr, { k: 'syscall' }>> {
    switch (e.k) {
      case 'syscall':
        yield e;
        for (const a of e.args) yield* inExpr(a);
        return;
      case 'bin':
        yield* inExpr(e.a);
        yield* inExpr(e.b);
        return;
      case 'un':
        yield* inExpr(e.a);
        return;
      case 'cond':
        yield* inExpr(e.c);
        yield* inExpr(e.a);
        yield* inExpr(e.b);
        return;
      case 'load': case 'exec':
        yield* inExpr(e.addr);
        return;
      case 'rmw':
        yield* inExpr(e.addr);
        for (const a of e.args) yield* inExpr(a);
        return;
      case 'await':
        yield* inExpr(e.addr);
        return;
      default:
    }
  };
  for (const st of stmts) {
    switch (st.k) {
      case 'assign': case 'eval':
        yield* inExpr(st.e);
        break;
      case 'store':
        yield* inExpr(st.addr);
        yield* inExpr(st.e);
        break;
      case 'if':
        yield* inExpr(st.c);
        yield* kernelCallsIn(st.then);
        yield* kernelCallsIn(st.else);
        break;
      case 'rseq':
        yield* kernelCallsIn(st.body);
        yield* kernelCallsIn(st.abort);
        break;
      case 'loop':
        yield* kernelCallsIn(st.body);
        break;
      default:
    }
  }
}

/**
 * The threads that may block and what on: a thread that calls futex_wait(), pipe_read()
 * or pipe_write() (a write waits when the pipe is full). The futex word and the pipe
 * must be named by a location (not a pointer in a register); a futex word is not a user
 * page (`mmap`), a pipe is neither a futex word nor a user page; kernel threads and
 * interrupt handlers make none of these calls.
 */
function planBlocking(sc: Scenario, kthreads: ReadonlySet<number>, pages: ReadonlySet<number>): BlockingPlan {
  const blockers = new Map<number, { how: string; span: Span; futex: boolean }>();
  const futexWords = new Set<number>();
  const pipes: number[] = [];
  let futex = false;
  const bodies: { t: Thread; handler: boolean }[] = [...sc.threads.map((t) => ({ t, handler: false })), ...sc.handlers.map((t) => ({ t, handler: true }))];
  for (const { t, handler } of bodies) {
    for (const c of kernelCallsIn(t.body)) {
      if (c.name !== 'futex_wait' && c.name !== 'futex_wake' && c.name !== 'pipe_read' && c.name !== 'pipe_write') continue;
      if (handler) throw new SmpError('SMP103', `${c.name}() in an interrupt handler is not supported`, c.span, sc.file);
      if (kthreads.has(t.id)) throw new SmpError('SMP109', `${c.name}() is a system call of user threads: P${t.id} is a kernel thread`, c.span, sc.file);
      const a = c.args[0]!;
      if (a.k !== 'addr') throw new SmpError('SMP103', `${c.name}() of a pointer held in a register is not modelled: name the location (${c.name}(x, ...))`, a.span, sc.file);
      const isFutex = c.name === 'futex_wait' || c.name === 'futex_wake';
      if (pages.has(a.loc)) throw new SmpError('SMP103', `${c.name}() on a user page (\`mmap\`) is not modelled`, a.span, sc.file);
      if (isFutex) {
        if (pipes.includes(a.loc)) throw new SmpError('SMP109', `'${sc.locations[a.loc]!.name}' is a pipe: it cannot also be a futex word`, a.span, sc.file);
        futexWords.add(a.loc);
        futex = true;
      } else {
        if (futexWords.has(a.loc)) throw new SmpError('SMP109', `'${sc.locations[a.loc]!.name}' is a futex word: it cannot also be a pipe`, a.span, sc.file);
        if (!pipes.includes(a.loc)) pipes.push(a.loc);
      }
      if (c.name === 'futex_wake') continue;
      const b = blockers.get(t.id) ?? { how: c.name, span: c.span, futex: false };
      if (c.name === 'futex_wait') b.futex = true;
      blockers.set(t.id, b);
    }
  }
  return { blockers, futex, pipes };
}

/**
 * Processes of a scenario: which threads fork(Pn)/clone(Pn) start, and the mm each
 * fork() and execve() creates (mm 1 is the process of the threads that start at
 * the beginning). Checks: the started thread exists, is started once, is not a
 * kernel thread, no thread starts itself through a chain, and execve() runs only
 * in a process with one thread (de_thread() is not modelled).
 */
function planProcesses(sc: Scenario, kthreads: ReadonlySet<number>, taskMms: number[]): {
  spawned: Set<number>; sleepers: Set<number>; signalled: Set<number>; mmOfStmt: Map<Stmt, number>; nrMms: number; forkedThreads: Thread[];
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
      if (st.k === 'loop') walk(st.body, thread);
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
      if (st.k === 'text_poke') {
        // __text_poke() runs under text_mutex, which sleeps: not from an interrupt handler.
        if (thread === null) throw new SmpError('SMP103', 'text_poke() in an interrupt handler is not supported (it takes text_mutex)', st.span, sc.file);
        if (!kthreads.has(thread)) throw new SmpError('SMP109', `text_poke() is for kernel threads here: declare the thread with 'kthread P${thread};'`, st.span, sc.file);
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
  return { spawned, sleepers, signalled, mmOfStmt, nrMms, forkedThreads: sc.threads.filter((t) => proc(t.id) !== 0) };
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
    } else if (st.k === 'loop') {
      yield* raises(st.body);
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
  /** The user pages (`mmap`): location -> page number. */
  pageOf: ReadonlyMap<number, number>;
  /** The pipes: location -> pipe index (KernelLayout.pipes). */
  pipeOf: ReadonlyMap<number, number>;
  /** The code is an interrupt handler's. */
  inHandler?: boolean;
  /** The locations only this thread reaches (LitmusProgram.privateLocs; none for a handler). */
  priv: ReadonlySet<number>;
  /**
   * Set at each statement: the statement and the one after it in its block are the
   * scenario's own (ownStatement()) and the statement is outside an rseq critical
   * section, so an access to a private location in it may be `local` (Own in ops.ts).
   */
  localStmt: boolean;
  /** How many rseq bodies the code is in: an abort there skips what an access merged early would have done. */
  rseqDepth: number;
  /** The thread's id, and per thread the loop iterations begun so far (Instance.loopMarks). */
  thread?: number;
  loopMarks?: number[];
}

/**
 * A shared location as an access reaches it: a user page (`mmap`) only from a
 * task's plain loads, stores and read-modify-writes (the machine translates those).
 */
function accessLoc(a: number, span: Span, ctx: ThreadCtx, what: 'access' | 'wait'): number {
  const loc = deref(a, span, ctx.file);
  if (ctx.pageOf.size > 0 && ctx.pageOf.has(loc)) {
    if (what === 'wait') throw new SmpError('SMP103', 'smp_cond_load_*() on a user page is not modelled (the wait reads memory, not through a TLB)', span, ctx.file);
    if (ctx.inHandler) throw new SmpError('SMP103', 'an interrupt handler that accesses a user page is not modelled', span, ctx.file);
  }
  return loc;
}

function runThread(t: Thread, ctx: ThreadCtx): CpuCode {
  return execBlock(t.body, ctx);
}

/** A scenario's interrupt handler on a machine without the kernel model: the handler, then IRET. */
function* handlerThenIret(h: CpuCode): HandlerCode {
  yield* h;
  yield { k: 'serialize', site: { fn: 'IRET' } };
}

/** A block of statements entered by `if` or `loop` within one execBlock(): where to go on after it. */
interface Frame {
  block: Stmt[];
  next: number;
  /** The loop whose body the block is, and the iteration it runs (null: an `if`'s branch). */
  loop: Extract<Stmt, { k: 'loop' }> | null;
  iteration: number;
}

/**
 * Runs `stmts`. The blocks of `if` and `loop` run in the same generator (a stack of
 * frames, not a generator per block): every op the thread yields passes through one
 * generator of the interpreter less per level of nesting. Expressions that access no
 * shared memory are evaluated without a generator (pureValue()); a statement whose
 * expression is one access or one system call yields the op, or delegates to the
 * kernel's generator, itself. `rseq` runs its body in a nested execBlock() (its abort
 * is an exception caught around the body).
 */
function execBlock(stmts: Stmt[], ctx: ThreadCtx): Generator<Op, void, number> {
  return execStmts(stmts, ctx);
}

function* execStmts(stmts: Stmt[], ctx: ThreadCtx): Generator<Op, void, number> {
  const { regs, model, file } = ctx;
  const frames: Frame[] = [];
  let block = stmts;
  let next = 0;
  for (;;) {
    if (next >= block.length) {
      // The end of a block: the next iteration of its loop, or back to the enclosing block.
      const f = frames.pop();
      if (f === undefined) return;
      if (f.loop !== null && ++f.iteration < f.loop.n && !ctx.exited) {
        // An iteration begins: smpcheck sim timestamps it (no step of the machine).
        if (ctx.loopMarks && ctx.thread !== undefined) ctx.loopMarks[ctx.thread]!++;
        frames.push(f);
        next = 0;
        continue;
      }
      block = f.block;
      next = f.next;
      continue;
    }
    const s = block[next++]!;
    if (ctx.exited) return;
    if (ctx.priv.size > 0) {
      const after = block[next];
      ctx.localStmt = ctx.rseqDepth === 0 && after !== undefined && ownStatement(s) && ownStatement(after);
    }
    switch (s.k) {
      case 'assign': {
        const e = s.e;
        if (isPure(e)) regs[s.reg] = pureValue(e, ctx, 0);
        else if (e.k === 'load' && isPure(e.addr)) regs[s.reg] = yield loadOp(e, ctx, pureValue(e.addr, ctx, 0));
        else if (e.k === 'syscall' && e.args.every(isPure)) regs[s.reg] = yield* syscall(e, ctx, e.args.map((x) => pureValue(x, ctx, 0)));
        else regs[s.reg] = yield* evalExpr(e, ctx, 0);
        break;
      }
      case 'store': {
        const a = isPure(s.addr) ? pureValue(s.addr, ctx, 0) : yield* evalExpr(s.addr, ctx, 0);
        const v = isPure(s.e) ? pureValue(s.e, ctx, 0) : yield* evalExpr(s.e, ctx, 0);
        const loc = accessLoc(a, s.span, ctx, 'access');
        yield ctx.priv.has(loc)
          ? { k: 'st', loc, val: v, site: site(s.fn, s.span), order: s.order, priv: true, ...(ctx.localStmt ? { local: true as const } : {}) }
          : { k: 'st', loc, val: v, site: site(s.fn, s.span), order: s.order };
        break;
      }
      case 'fence':
        if (fenceOp(model, s.fence) === 'nop') {
          // A barrier that is no instruction on this machine. When the statement after it
          // is the scenario's own (no call into the kernel, no rseq, no end of its block),
          // nothing between it and that statement's first op is seen by another context.
          const after = block[next];
          yield { k: 'nop', site: site(s.fn, s.span), fence: s.fence, ...(after !== undefined && ownStatement(after) ? { local: true as const } : {}) };
        } else yield { k: 'mb', site: site(s.fn, s.span), fence: s.fence };
        break;
      case 'eval': {
        const e = s.e;
        if (isPure(e)) pureValue(e, ctx, 0);
        else if (e.k === 'syscall' && e.args.every(isPure)) yield* syscall(e, ctx, e.args.map((x) => pureValue(x, ctx, 0)));
        else yield* evalExpr(e, ctx, 0);
        break;
      }
      case 'insn': {
        // arm64 instructions: only the kernel model on the arm64 graph engine runs them (refused
        // elsewhere before a program is built: findArm64Insn() in src/graph/support.ts).
        if (ctx.kernel?.config.arch !== 'arm64') throw new Error(`internal: ${s.fn}() reached a machine other than arm64`);
        if (s.op === 'dc_cvau' || s.op === 'ic_ivau') {
          const a = yield* evalExpr(s.addr!, ctx, 0);
          yield { k: 'cmo', op: s.op === 'dc_cvau' ? 'dc.cvau' : 'ic.ivau', loc: deref(a, s.span, file), site: site(s.fn, s.span) };
        } else {
          yield { k: 'nop', site: site(s.fn, s.span), arm64: s.op === 'isb' ? ['isb'] : ['dmb.full', 'dsb.full'] };
        }
        break;
      }
      case 'if': {
        const c = isPure(s.c) ? pureValue(s.c, ctx, 0) : yield* evalExpr(s.c, ctx, 0);
        frames.push({ block, next, loop: null, iteration: 0 });
        block = c !== 0 ? s.then : s.else;
        next = 0;
        break;
      }
      case 'loop':
        if (0 < s.n && !ctx.exited) {
          // An iteration begins: smpcheck sim timestamps it (no step of the machine).
          if (ctx.loopMarks && ctx.thread !== undefined) ctx.loopMarks[ctx.thread]!++;
          frames.push({ block, next, loop: s, iteration: 0 });
          block = s.body;
          next = 0;
        }
        break;
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
        yield* K.kernelMode(ctx.kernel, ctx.cpu, s.use ? K.kthread_use_mm(ctx.kernel, ctx.cpu, 1) : K.kthread_unuse_mm(ctx.kernel, ctx.cpu, 1));
        break;
      case 'text_poke':
        if (!ctx.kernel) throw new Error('internal: text_poke() without the kernel model');
        if (ctx.kernel.layout.taskMms[ctx.kernel.current(ctx.cpu) - 1] !== 0) {
          throw new SmpError('SMP109', `text_poke() is for kernel threads here: declare the thread with 'kthread P${ctx.kernel.current(ctx.cpu) - 1};'`, s.span, file);
        }
        yield* K.kernelMode(ctx.kernel, ctx.cpu, K.text_poke(ctx.kernel, ctx.cpu));
        break;
      case 'spawn': {
        yield* K.do_syscall_64(ctx.kernel!, ctx.cpu, K.kernel_clone(ctx.kernel!, ctx.cpu, s.thread + 1, `P${s.thread}`, s.how, ctx.mmOfStmt.get(s) ?? 0));
        break;
      }
      case 'execve': {
        yield* K.do_syscall_64(ctx.kernel!, ctx.cpu, K.do_execve(ctx.kernel!, ctx.cpu, ctx.mmOfStmt.get(s)!));
        break;
      }
      case 'signal': {
        // tgkill(Pn): a system call that sends thread Pn a signal.
        yield* K.do_syscall_64(ctx.kernel!, ctx.cpu, K.do_send_sig_info(ctx.kernel!, ctx.cpu, s.thread + 1, `P${s.thread}`, ctx.wakeCpu.get(s.thread)!));
        break;
      }
      case 'wake': {
        // wake_up(Pn): a system call that wakes a sleeping thread (futex_wake(), say).
        yield* K.do_syscall_64(ctx.kernel!, ctx.cpu, K.try_to_wake_up(ctx.kernel!, ctx.cpu, s.thread + 1, `P${s.thread}`, ctx.wakeCpu.get(s.thread)!));
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
        K.rseq_enter_cs(k, task);
        try {
          ctx.rseqDepth++;
          try {
            yield* execBlock(s.body, ctx);
          } finally {
            ctx.rseqDepth--;
          }
          const a = yield* evalExpr(s.commit.addr, ctx, 0);
          const v = yield* evalExpr(s.commit.e, ctx, 0);
          yield { k: 'st', loc: deref(a, s.commit.span, file), val: v, site: site('rseq_commit', s.commit.span) };
          K.rseq_leave_cs(k, task, false);
        } catch (e) {
          if (!(e instanceof K.RseqAbort)) throw e;
          K.rseq_leave_cs(k, task, true);
          yield { k: 'nop', site: site('rseq: abort (the thread continues at the abort handler)', s.span) };
          yield* execBlock(s.abort, ctx);
        }
        break;
      }
      case 'exit':
        if (!ctx.kernel) throw new Error('internal: exit() without the kernel model');
        yield* K.kernelMode(ctx.kernel, ctx.cpu, K.do_exit(ctx.kernel, ctx.cpu));
        ctx.exited = true;
        return;
    }
  }
}

function deref(a: number, span: Span, file: string): number {
  if (!isAddr(a)) {
    throw new SmpError('SMP303', `dereference of the integer ${a}, which is not the address of a shared location`, span, file);
  }
  return a - ADDR_BASE;
}

/** Expressions that access no shared memory (numbers, registers, addresses, VAL, operators on them). */
const PURE = new WeakMap<Expr, boolean>();

/** No call into the kernel model anywhere in the expression. */
function noSyscall(e: Expr): boolean {
  switch (e.k) {
    case 'num':
    case 'reg':
    case 'addr':
    case 'val':
      return true;
    case 'un':
      return noSyscall(e.a);
    case 'bin':
      return noSyscall(e.a) && noSyscall(e.b);
    case 'cond':
      return noSyscall(e.c) && noSyscall(e.a) && noSyscall(e.b);
    case 'load':
    case 'exec':
    case 'spin':
      return noSyscall(e.addr);
    case 'await':
      return noSyscall(e.addr) && noSyscall(e.pred);
    case 'rmw':
      return noSyscall(e.addr) && e.args.every(noSyscall);
    case 'syscall':
      return false;
  }
}

/**
 * A statement that runs only the scenario's own code up to its first op: an
 * assignment, store, barrier or expression with no system call in it. (Everything
 * else may enter the kernel model, whose state an interrupt handler reads.)
 */
function ownStatement(s: Stmt): boolean {
  switch (s.k) {
    case 'assign':
    case 'eval':
      return noSyscall(s.e);
    case 'store':
      return noSyscall(s.addr) && noSyscall(s.e);
    case 'fence':
      return true;
    default:
      return false;
  }
}

function isPure(e: Expr): boolean {
  let p = PURE.get(e);
  if (p === undefined) {
    switch (e.k) {
      case 'num':
      case 'reg':
      case 'addr':
      case 'val':
        p = true;
        break;
      case 'un':
        p = isPure(e.a);
        break;
      case 'bin':
        p = isPure(e.a) && isPure(e.b);
        break;
      case 'cond':
        p = isPure(e.c) && isPure(e.a) && isPure(e.b);
        break;
      default:
        p = false;
    }
    PURE.set(e, p);
  }
  return p;
}

/** The value of a pure expression (isPure()): evalExpr() without a generator, and the same errors. */
function pureValue(e: Expr, ctx: ThreadCtx, val: number): number {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'reg':
      return ctx.regs[e.reg]!;
    case 'addr':
      return addrOf(e.loc);
    case 'val':
      return val;
    case 'un': {
      const a = pureValue(e.a, ctx, val);
      if (e.op === '!') return a === 0 ? 1 : 0;
      noPtr(a, e.span, ctx.file);
      return e.op === '-' ? -a | 0 : ~a;
    }
    case 'cond':
      return pureValue(e.c, ctx, val) !== 0 ? pureValue(e.a, ctx, val) : pureValue(e.b, ctx, val);
    case 'bin': {
      if (e.op === '&&' || e.op === '||') {
        const a = pureValue(e.a, ctx, val);
        if (e.op === '&&' ? a === 0 : a !== 0) return e.op === '&&' ? 0 : 1;
        return pureValue(e.b, ctx, val) !== 0 ? 1 : 0;
      }
      const a = pureValue(e.a, ctx, val);
      const b = pureValue(e.b, ctx, val);
      return binop(e.op, a, b, e.span, ctx.file);
    }
    default:
      throw new Error(`internal: ${e.k} is not a pure expression`);
  }
}

/** The load op of `e` from address a. */
function loadOp(e: Extract<Expr, { k: 'load' }>, ctx: ThreadCtx, a: number): Op {
  const loc = accessLoc(a, e.span, ctx, 'access');
  if (ctx.priv.has(loc)) return { k: 'ld', loc, site: site(e.fn, e.span), order: e.order, priv: true, ...(ctx.localStmt ? { local: true as const } : {}) };
  return { k: 'ld', loc, site: site(e.fn, e.span), order: e.order };
}

const NO_LOCS: ReadonlySet<number> = new Set();

/**
 * The locations only one thread can reach: named, in that thread's code only, as the
 * address of its own loads, stores, read-modify-writes and waits, and nowhere as a
 * value (no pointer to them in any code, initial value, register or system call's
 * argument: with no arithmetic on pointers, code reaches a location only through its
 * name or a pointer that holds its address). No interrupt handler names them, and the
 * kernel model reaches a scenario's location only through a system call's argument
 * (futexes, pipes) or a user page, so no kernel path reaches them either. Excluded:
 * `excluded` (code and user pages, which the machine reaches by instruction fetch and
 * page walks), an rseq commit's target (the commit store is not marked) and a location
 * of a spinlock or a cache-maintenance instruction.
 *
 * An access to such a location touches nothing another context reads: the machine
 * runs it with the step before it (Machine.fuse), and a store to it goes to memory at
 * once (docs/scale.md, "Private locations").
 */
export function privateLocations(sc: Scenario, excluded: ReadonlySet<number>): Set<number> {
  const owner = new Map<number, number>(); // loc -> the thread that names it, or -1: not private
  const use = (loc: number, t: number): void => {
    const o = owner.get(loc);
    owner.set(loc, o === undefined || o === t ? t : -1);
  };
  const shared = (loc: number): void => {
    owner.set(loc, -1);
  };
  const ACCESS = new Set(['load', 'rmw', 'await', 'store']);
  const walk = (x: unknown, t: number, asAddress: boolean): void => {
    if (Array.isArray(x)) {
      for (const y of x) walk(y, t, false);
      return;
    }
    if (x === null || typeof x !== 'object') return;
    const node = x as { k?: string; loc?: number } & Record<string, unknown>;
    if (node.k === 'addr') {
      if (asAddress && t >= 0) use(node.loc!, t);
      else shared(node.loc!);
      return;
    }
    for (const key of Object.keys(node)) {
      if (key === 'span' || key === 'nSpan' || key === 'cpuSpan') continue;
      // A name anywhere else (an rseq commit's target, a system call's argument,
      // exec_code(), a spinlock, a value) is not a private use.
      walk(node[key], t, key === 'addr' && node.k !== undefined && ACCESS.has(node.k));
    }
  };
  for (const th of sc.threads) {
    walk(th.body, th.id, false);
    for (const r of th.regs) if (isAddr(r.init)) shared(r.init - ADDR_BASE);
  }
  for (const h of sc.handlers) {
    walk(h.body, -1, false);
    for (const r of h.regs) if (isAddr(r.init)) shared(r.init - ADDR_BASE);
  }
  sc.locations.forEach((l, i) => {
    if (isAddr(l.init)) shared(l.init - ADDR_BASE);
    if (l.spinlock) shared(i);
  });
  const out = new Set<number>();
  for (const [loc, t] of owner) if (t >= 0 && !excluded.has(loc)) out.add(loc);
  return out;
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
      const a = isPure(e.a) ? pureValue(e.a, ctx, val) : yield* evalExpr(e.a, ctx, val);
      if (e.op === '!') return a === 0 ? 1 : 0;
      noPtr(a, e.span, file);
      return e.op === '-' ? -a | 0 : ~a;
    }
    case 'cond': {
      const c = isPure(e.c) ? pureValue(e.c, ctx, val) : yield* evalExpr(e.c, ctx, val);
      return c !== 0 ? (isPure(e.a) ? pureValue(e.a, ctx, val) : yield* evalExpr(e.a, ctx, val)) : (isPure(e.b) ? pureValue(e.b, ctx, val) : yield* evalExpr(e.b, ctx, val));
    }
    case 'bin': {
      if (e.op === '&&' || e.op === '||') {
        const a = isPure(e.a) ? pureValue(e.a, ctx, val) : yield* evalExpr(e.a, ctx, val);
        if (e.op === '&&' ? a === 0 : a !== 0) return e.op === '&&' ? 0 : 1;
        const b = isPure(e.b) ? pureValue(e.b, ctx, val) : yield* evalExpr(e.b, ctx, val);
        return b !== 0 ? 1 : 0;
      }
      const a = isPure(e.a) ? pureValue(e.a, ctx, val) : yield* evalExpr(e.a, ctx, val);
      const b = isPure(e.b) ? pureValue(e.b, ctx, val) : yield* evalExpr(e.b, ctx, val);
      return binop(e.op, a, b, e.span, file);
    }
    case 'exec': {
      const a = isPure(e.addr) ? pureValue(e.addr, ctx, val) : yield* evalExpr(e.addr, ctx, val);
      return yield { k: 'exec', loc: deref(a, e.span, file), site: site(e.fn, e.span) };
    }
    case 'load': {
      const a = isPure(e.addr) ? pureValue(e.addr, ctx, val) : yield* evalExpr(e.addr, ctx, val);
      return yield loadOp(e, ctx, a);
    }
    case 'spin':
      // Refused before a program gets here (check.ts: lkmm-only constructs).
      throw new Error(`internal: ${e.fn}() reached the machine engine`);
    case 'await': {
      const a = isPure(e.addr) ? pureValue(e.addr, ctx, val) : yield* evalExpr(e.addr, ctx, val);
      const pred = e.pred;
      // The predicate is CPU-local: evaluate it without yielding (it may use VAL and registers).
      const test = (v: number): boolean => pureEval(pred, ctx, v) !== 0;
      return yield { k: 'await', loc: accessLoc(a, e.span, ctx, 'wait'), pred: test, site: site(e.fn, e.span), order: e.order };
    }
    case 'syscall': {
      const args: number[] = [];
      for (const x of e.args) args.push(isPure(x) ? pureValue(x, ctx, val) : yield* evalExpr(x, ctx, val));
      return yield* syscall(e, ctx, args);
    }
    case 'rmw': {
      const a = isPure(e.addr) ? pureValue(e.addr, ctx, val) : yield* evalExpr(e.addr, ctx, val);
      const args: number[] = [];
      for (const x of e.args) args.push(isPure(x) ? pureValue(x, ctx, val) : yield* evalExpr(x, ctx, val));
      const loc = accessLoc(a, e.span, ctx, 'access');
      const f = rmwFn(e.op, args, e.span, file);
      const old = yield { k: 'rmw', loc, f, site: site(e.fn, e.span), order: e.order, returns: e.ret !== 'none' };
      if (e.ret === 'new') return f(old) ?? old;
      if (e.ret === 'changed') return f(old) === undefined ? 0 : 1;
      return old;
    }
  }
}

/**
 * The kernel code of system call `e` with its arguments' values: a plain function
 * (the checks and the calls of the kernel functions happen when it is called), whose
 * generator the caller delegates to.
 */
function syscall(e: Extract<Expr, { k: 'syscall' }>, ctx: ThreadCtx, args: number[]): Generator<Op, number, number> {
  const file = ctx.file;
  if (!ctx.kernel) throw new Error('internal: a system call without the kernel model');
  if (e.name === 'futex_wait' || e.name === 'futex_wake') {
    // sys_futex(uaddr, FUTEX_WAIT_PRIVATE, val) / (uaddr, FUTEX_WAKE_PRIVATE, nr_wake).
    const uaddr = deref(args[0]!, e.span, file);
    noPtr(args[1]!, e.span, file);
    const k = ctx.kernel;
    return K.do_syscall_64(k, ctx.cpu, e.name === 'futex_wait' ? K.futex_wait(k, ctx.cpu, uaddr, args[1]!) : K.futex_wake(k, ctx.cpu, uaddr, args[1]!));
  }
  if (e.name === 'pipe_read' || e.name === 'pipe_write') {
    // read(fd, &v, sizeof(int)) / write(fd, &v, sizeof(int)) on the pipe: ksys_read() -> vfs_read() -> pipe_read().
    const P = ctx.kernel.layout.pipes[ctx.pipeOf.get(deref(args[0]!, e.span, file))!]!;
    const k = ctx.kernel;
    if (e.name === 'pipe_read') return K.do_syscall_64(k, ctx.cpu, K.pipe_read(k, ctx.cpu, P));
    return K.do_syscall_64(k, ctx.cpu, K.pipe_write(k, ctx.cpu, P, args[1]!));
  }
  if (e.name !== 'membarrier') {
    // The page is the first argument: a pointer to a location of the `mmap` directive.
    const vpn = ctx.pageOf.get(deref(args[0]!, e.span, file)) ?? -1;
    if (vpn < 0) throw new SmpError('SMP303', `${e.name}() of a location that is not a user page: name it in the 'mmap' directive`, e.span, file);
    if (e.name === 'mremap') {
      const to = ctx.pageOf.get(deref(args[1]!, e.span, file)) ?? -1;
      if (to < 0) throw new SmpError('SMP303', `mremap() to a location that is not a user page: name it in the 'mmap' directive`, e.span, file);
    } else {
      for (const a of args.slice(1)) noPtr(a, e.span, file);
    }
    const kthread = ctx.kernel.layout.taskMms[ctx.kernel.current(ctx.cpu) - 1] === 0;
    if (e.name === 'reclaim' || e.name === 'shrink') {
      // kswapd's shrink_folio_list() on the page's folio, which the process's mm maps:
      // reclaim(a) with ignore_references, shrink(a) with folio_check_references().
      if (!kthread) throw new SmpError('SMP109', `${e.name}() is for kernel threads (kswapd): declare the thread with 'kthread P${ctx.kernel.current(ctx.cpu) - 1};'`, e.span, file);
      // try_to_unmap() of a folio that fork() shared would walk every mm that maps it: not modelled.
      if (ctx.kernel.layout.tlb!.folio.length > 0) throw new SmpError('SMP103', `${e.name}() in a scenario that fork()s a process with user pages is not modelled (the rmap walk covers one mapping)`, e.span, file);
      return K.kernelMode(ctx.kernel, ctx.cpu, K.shrink_folio_list(ctx.kernel, ctx.cpu, 1, vpn, e.name === 'reclaim'));
    }
    if (kthread) throw new SmpError('SMP109', `${e.name}() is a system call of user threads: P${ctx.kernel.current(ctx.cpu) - 1} is a kernel thread`, e.span, file);
    if (e.name === 'munmap') return K.do_syscall_64(ctx.kernel, ctx.cpu, K.sys_munmap(ctx.kernel, ctx.cpu, vpn));
    if (e.name === 'mremap') {
      const to = ctx.pageOf.get(deref(args[1]!, e.span, file))!;
      return K.do_syscall_64(ctx.kernel, ctx.cpu, K.sys_mremap(ctx.kernel, ctx.cpu, vpn, to));
    }
    if (e.name === 'mprotect') {
      const prot = args[1]!;
      if (prot !== PROT_READ && prot !== (PROT_READ | PROT_WRITE)) {
        throw new SmpError('SMP103', `mprotect() with protection ${prot} is not modelled: PROT_READ or PROT_READ | PROT_WRITE`, e.span, file);
      }
      return K.do_syscall_64(ctx.kernel, ctx.cpu, K.sys_mprotect(ctx.kernel, ctx.cpu, vpn, prot));
    }
    return K.do_syscall_64(ctx.kernel, ctx.cpu, K.sys_madvise(ctx.kernel, ctx.cpu, vpn, args[1]!));
  }
  for (const a of args) noPtr(a, e.span, file);
  return K.do_syscall_64(ctx.kernel, ctx.cpu, K.sys_membarrier(ctx.kernel, ctx.cpu, args[0]!, args[1]! >>> 0, args[2]!));
}

function pureEval(e: Expr, ctx: ThreadCtx, val: number): number {
  if (isPure(e)) return pureValue(e, ctx, val);
  const g = evalExpr(e, ctx, val);
  const r = g.next();
  if (!r.done) {
    throw new SmpError('SMP103', 'the condition of smp_cond_load_*() must not access shared memory', e.span, ctx.file);
  }
  return r.value;
}

export function rmwFn(op: string, args: number[], span: Span, file: string): (old: number) => number | undefined {
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

export function binop(op: string, a: number, b: number, span: Span, file: string): number {
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

/** Does a thread's body call the kernel-model function `name` (a syscall node) anywhere? */
function callsSyscall(t: Thread, name: string): boolean {
  const seen = (x: unknown): boolean => {
    if (Array.isArray(x)) return x.some(seen);
    if (x === null || typeof x !== 'object') return false;
    const node = x as { k?: unknown; name?: unknown };
    if (node.k === 'syscall' && node.name === name) return true;
    return Object.entries(x).some(([key, v]) => key !== 'span' && seen(v));
  };
  return seen(t.body);
}

/**
 * Does a thread name one of the user pages anywhere in its body (an access, a
 * system call on it)? A forked process none of whose threads does is modelled
 * without the copy of the page table (KernelConfig.cow): what it never touches
 * cannot show the copy.
 */
function touchesPages(t: Thread, pages: readonly number[]): boolean {
  const seen = (x: unknown): boolean => {
    if (Array.isArray(x)) return x.some(seen);
    if (x === null || typeof x !== 'object') return false;
    const node = x as { k?: unknown; loc?: unknown };
    if (node.k === 'addr' && typeof node.loc === 'number' && pages.includes(node.loc)) return true;
    return Object.entries(x).some(([key, v]) => key !== 'span' && seen(v));
  };
  return seen(t.body);
}
