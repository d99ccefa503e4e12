import type { Order } from '../scenario/ast.js';
// The modelled kernel's objects and their place in the machine's memory.
//
// Every piece of kernel state that more than one CPU touches (mm->membarrier_state,
// rq->curr, rq->membarrier_state, task->mm, call-function data, the membarrier
// mutex) is a machine location, so kernel code runs on the machine's memory model
// like user code and its barriers matter. Pointers are small integers: task t
// (1-based), mm m (1-based), 0 is NULL.
//
// A litmus scenario's threads are one process (mm 1): litmus thread Pn is task n+1,
// a thread of mm 1. Operation scripts (src/host/model.ts) create more processes
// with fork() and exec(), each a new mm. Without `cpu N runs ...` directives Pn runs alone on CPU n; with them a
// CPU runs its tasks one after the other, kernel threads (mm NULL) included,
// switching with __schedule() (src/kernel/sched/core.ts).

import type { CpuCode, Op, OpSite } from '../machine/ops.js';
import { AssertionFailed } from '../machine/machine.js';
import type { Variant } from './variants.js';
import { mk_pte, TLB_NR_DYN_ASIDS } from '../machine/paging.js';

export interface KernelConfig {
  version: string;
  /**
   * The architecture whose paths the kernel runs (default x86). arm64 runs on the graph
   * engine only (src/graph/kernel.ts): where its paths differ from x86's, the kernel
   * code asks this (__switch_to()'s DSB, the return to user mode by ERET).
   */
  arch?: 'x86' | 'arm64';
  /** num_online_cpus() == nr_cpu_ids: every CPU of the machine is online. */
  nrCpus: number;
  /** tick_nohz_full_enabled() */
  nohzFull: boolean;
  /** CONFIG_RSEQ */
  configRseq: boolean;
  /** CONFIG_ARCH_HAS_MEMBARRIER_SYNC_CORE (x86: yes) */
  archHasMembarrierSyncCore: boolean;
  /**
   * CONFIG_PREEMPT_NONE / _VOLUNTARY / _FULL (`config preempt=...;`, default none):
   * where a task whose CPU needs a reschedule gives the CPU up. none: on the way
   * back to user mode (system call or interrupt return); voluntary: also at
   * might_sleep() points (mutex_lock()); full: also on an interrupt's return to
   * preemptible kernel code (preempt_schedule_irq()) and at preempt_enable().
   */
  preempt?: PreemptModel;
  /**
   * How system calls return to user mode (`config syscall_exit=...;`): by SYSRET,
   * the fast path, not serialising (default), or by IRET, the slow path, serialising.
   */
  syscallExit?: 'sysret' | 'iret';
  /**
   * `config paravirt=xen-pv;`: the kernel runs as a Xen PV guest (pv_ops.mmu of
   * arch/x86/xen/mmu_pv.c): CR3 writes are hypercalls the hypervisor checks
   * against the pinned page tables, and exit_mmap() calls xen_exit_mmap()
   * (src/kernel/arch/x86/xen/mmu_pv.ts). Default: native x86.
   */
  paravirt?: 'none' | 'xen-pv';
  /**
   * The scenario runs code (write_code/exec_code): returns to user mode by SYSRET are
   * shown as steps. Elsewhere a SYSRET does nothing the machine can see, and a step
   * for it would only add interleavings.
   */
  showSysret?: boolean;
  /**
   * User pages of the process (`mmap a b;`): their names and initial values. With
   * pages, the TLB state that other CPUs read (loaded_mm, is_lazy, mm_cpumask,
   * tlb_gen, the flush info) lives in memory; without, no CPU reads another's TLB
   * state, and it stays CPU-local (no steps), like a per-CPU variable only its
   * owner touches.
   */
  pages?: readonly { name: string; init: number; mapped?: boolean; clean?: boolean }[];
  /**
   * The scenario fork()s a process with user pages: an anonymous folio may be mapped
   * by two mms (copy-on-write), so its mapcount and PageAnonExclusive live in memory
   * (TlbLayout.folio). Without a fork every folio has its one mapping, and the rmap
   * bookkeeping does nothing a step could show.
   */
  cow?: boolean;
  /**
   * The scenario ages pages (shrink(a)): each page's folio has its LRU flags
   * (PG_referenced, PG_active) in memory (TlbLayout.folioFlags).
   */
  ageing?: boolean;
}

/**
 * mm->context.ctx_id: unique per mm and never reused (mm ids are not reused in the
 * model either); init_mm's is 1, and 0 marks an empty ASID slot.
 */
export const ctx_id = (mm: number): number => mm + 1;

/** TlbLayout.folio: PageAnonExclusive, above the mapcount. */
export const FOLIO_ANON_EXCLUSIVE = 0x100;
export const FOLIO_MAPCOUNT_MASK = 0xff;

/** Where the TLB shootdown state lives (scenarios with user pages). */
export interface TlbLayout {
  nPages: number;
  /** pmd[mm]: the PMD entry of mm (0: none, t + 1: page-table page t). */
  pmd: number[];
  /** tablePte[t][vpn]: the PTE of page vpn in page-table page t. */
  tablePte: number[][];
  /** tableOwner[t]: a check location: the mm page-table page t belongs to (0: free), for property S2. */
  tableOwner: number[];
  /** The free page-table pages, a bitmap. */
  freeTables: number;
  /** Per mm: which pages are mapped (the VMAs, a bitmap): munmap() clears a page's bit. */
  vma: number[];
  /** Per mm: the page-table lock (pte_offset_map_lock()). */
  ptl: number[];
  /**
   * Per mm: mm->tlb_flush_batched (mm/rmap.c, since 3ea277194daa): reclaim's
   * deferred flushes, pending in the low bits, flushed from bit
   * TLB_FLUSH_BATCH_FLUSHED_SHIFT up.
   */
  tlbFlushBatched: number[];
  /** frame[pfn]: the data word of page frame pfn (pfn < nPages: the pages' first frames; then free frames). */
  frame: number[];
  /** The free page frames, a bitmap (the page allocator's free lists). */
  freeFrames: number;
  /** Per mm: mm->context.tlb_gen and mm_cpumask(mm) (a bitmap of CPUs). */
  tlbGen: number[];
  cpumask: number[];
  /** Per CPU: cpu_tlbstate.loaded_mm and cpu_tlbstate_shared.is_lazy. */
  loadedMm: number[];
  isLazy: number[];
  /** Per CPU: its flush_tlb_info (the sender's; targets read it). */
  info: { mm: number; range: number; newTlbGen: number; freedTables: number }[];
  /** Per page: its swap slot (the data reclaim wrote out) and its folio's lock (PG_locked). */
  swap: number[];
  folioLock: number[];
  /**
   * Per page: its folio is in the swap cache, clean, its data in its slot
   * (folio_test_swapcache(); a page the scenario starts `clean`), until reclaim
   * frees it; -1 (never in it) for the other pages.
   */
  swapCache: number[];
  /**
   * csdFlushInfo[sender][target]: the flush info copied into the call-function data
   * (design flush-info-in-csd: mm, range and new_tlb_gen packed in one word).
   */
  csdFlushInfo: number[][];
  /**
   * folio[pfn] (scenarios that fork, KernelConfig.cow; else empty): the anonymous
   * folio of frame pfn: its mapcount (the PTEs that map it) in the low byte and
   * PageAnonExclusive (FOLIO_ANON_EXCLUSIVE); 0 for a free frame.
   */
  folio: number[];
  /**
   * folioFlags[vpn] (scenarios that age pages, KernelConfig.ageing; else empty): the
   * LRU flags of the folio page vpn maps, PG_referenced and PG_active (mm/vmscan.ts).
   */
  folioFlags: number[];
}

export const PREEMPT_MODELS = ['none', 'voluntary', 'full'] as const;
export type PreemptModel = (typeof PREEMPT_MODELS)[number];

// Interrupt vectors of the kernel model. The machine takes the lowest pending vector
// first, so the numbers follow the x86 local APIC's priorities (a higher vector wins
// there): RESCHEDULE_VECTOR (0xfd) before CALL_FUNCTION_VECTOR (0xfc) before
// LOCAL_TIMER_VECTOR (0xec). A scenario's own handlers take vectors 0..7.

/** The reschedule IPI (x86 RESCHEDULE_VECTOR): smp_send_reschedule() after a remote wakeup. */
export const RESCHEDULE_VECTOR = 26;

/** The call-function interrupt (x86 CALL_FUNCTION_SINGLE_VECTOR / CALL_FUNCTION_VECTOR). */
export const CALL_FUNCTION_VECTOR = 27;

/** Timer interrupt vectors: `preempt N;` makes the first N pending on CPUs with several tasks. */
export const TIMER_VECTORS: readonly number[] = [28, 29, 30];

/** Functions a CPU can be asked to run through smp_call_function_*(). */
export const IPI_FUNCS = ['none', 'ipi_mb', 'ipi_sync_core', 'ipi_rseq', 'ipi_sync_rq_state', 'rcu_quiescent_state', 'flush_tlb_func', 'drop_mm_ref_this_cpu'] as const;
export type IpiFunc = (typeof IPI_FUNCS)[number];

/** Values of KernelLayout.taskOnCpu besides 0 (runnable anywhere) and c+1 (running on CPU c). */
export const ON_CPU_PINNED = 100;
export const ON_CPU_DONE = 255;

/** The per-CPU event counts a scenario's condition can read (`cpu1:ipi_mb`). */
export type KernelCounter = 'ipi_mb' | 'ipi_sync_core' | 'ipi_rseq' | 'ipi_sync_rq_state' | 'ipis' | 'switches' | 'irq_resched' | 'sync_core' | 'migrations'
  | 'flush_tlb_func' | 'flush_tlb_caught_up' | 'pageout' | 'blocks' | 'wakeups' | 'drop_mm_ref_this_cpu' | 'xen_mc_failed' | 'tlb_spec_flushed';

/** The model's pipes hold PIPE_BUFFERS buffers of one value each (fs/pipe.ts). */
export const PIPE_BUFFERS = 4;

/** A wait queue (include/linux/wait.h struct wait_queue_head): its lock and its list of waiting tasks. */
export interface WaitQueueHead {
  name: string;
  lock: number;
  /** The list, as one word: the waiting tasks' ids in order, four bits each, the first in the lowest bits. */
  head: number;
}

/** Where a pipe lives (fs/pipe.ts): struct pipe_inode_info of a one-way pipe with both ends open. */
export interface PipeLayout {
  name: string;
  mutex: number;
  /** pipe->head_tail: head in the low 16 bits, tail in the high 16 (one word, as the lockless readers read it). */
  headTail: number;
  /** The buffers' data (one value each). */
  bufs: number[];
  rdWait: WaitQueueHead;
  wrWait: WaitQueueHead;
}

/** Where each kernel object lives in memory. */
export class KernelLayout {
  readonly names: string[] = [];
  readonly init: number[] = [];
  readonly mmMembarrierState: number[] = []; // index: mm id
  readonly mmUsers: number[] = [];
  readonly mmCount: number[] = [];
  /** Per mm: a check location set by __mmdrop() when the mm is freed (use-after-free detection). */
  readonly mmFreed: number[] = [];
  readonly taskMm: number[] = []; // index: task id
  readonly taskAllocLock: number[] = [];
  /** Per new task (a child of fork/clone): set by wake_up_new_task(); its CPU waits for it. */
  readonly taskWoken: number[] = [];
  /**
   * Per task that may migrate: where it runs (p->on_cpu with p->cpu, as one word):
   * 0 runnable anywhere, c+1 running on CPU c, ON_CPU_PINNED + c runnable on CPU c only
   * (preempted in the kernel), ON_CPU_DONE finished. A CPU takes the task with a cmpxchg.
   */
  readonly taskOnCpu: number[] = [];
  /** Per task that tgkill() targets: TIF_SIGPENDING, and sighand->siglock. */
  readonly taskSigpending: number[] = [];
  readonly taskSiglock: number[] = [];
  /** Per task woken by wake_up(): p->pi_lock, taken by try_to_wake_up(). */
  readonly taskPiLock: number[] = [];
  /**
   * Per CPU that runs a task another CPU wakes: TIF_NEED_RESCHED of the CPU's
   * current task (set by the waker's resched_curr(), cleared by __schedule(), polled
   * by the idle loop). CPUs without such a task keep the flag CPU-local (Kernel.needResched).
   */
  readonly needResched: number[] = [];
  readonly rqCurr: number[] = []; // index: cpu
  readonly rqMembarrierState: number[] = [];
  readonly rqLock: number[] = [];
  /** The spinlocks' words (pi_lock, alloc_lock, siglock, rq locks, wait-queue and futex hash-bucket locks, page-table locks). */
  readonly spinlocks = new Set<number>();
  readonly callSingleQueue: number[] = [];
  readonly csdFlags: number[][] = []; // [sender][target]
  readonly csdFunc: number[][] = [];
  readonly csdInfo: number[][] = [];
  readonly membarrierIpiMutex: number;
  /** Per CPU: membarrier_cpu_mutexes[cpu] (post-89976cd73739: targeted commands take it instead). */
  readonly membarrierCpuMutex: number[] = [];
  /** Not kernel state: the model's check that SERIALIZE_IPI() rounds never overlap. */
  readonly membarrierIpiRounds: number;
  /** The TLB shootdown state, when the scenario has user pages. */
  readonly tlb: TlbLayout | null = null;
  /**
   * A Xen PV guest (`config paravirt=xen-pv;`): per CPU the guest's
   * per_cpu(xen_current_cr3) (the mm whose pgd the CPU's CR3 holds, as the guest
   * records it once the hypercall is issued; mm ids, 0 init_mm) and the
   * hypervisor's record of the vCPU's base pointer (a check location: the mm whose
   * pgd Xen has as the vCPU's root page table); per mm whether its pgd is pinned
   * (PG_pinned; a check location for the hypervisor's side too).
   */
  readonly xen: { currentCr3: number[]; guestTable: number[]; pinned: number[] } | null = null;

  /**
   * Per task that may block (futex_wait(), a pipe): p->__state (TASK_RUNNING 0, or the
   * sleep state set_current_state() stored) and p->on_rq (1 queued on its runqueue, 0
   * dequeued by __schedule() when it blocked), and the CPU it runs on (task_cpu(p)).
   */
  readonly taskState: number[] = [];
  readonly taskOnRq: number[] = [];
  readonly taskCpu: number[] = [];
  /**
   * Another CPU may take a CPU's rq->__lock (try_to_wake_up() of a task that blocked):
   * the CPU's own rq_lock() then spins like any lock instead of simply taking it.
   */
  readonly rqLockShared: boolean = false;
  /**
   * The futex hash bucket (kernel/futex/, one bucket for every futex word of the
   * scenario: futex_hash() may map distinct keys to one bucket, and the key match
   * keeps them apart): hb->lock, hb->waiters and hb->chain (the queued tasks in order, as a WaitQueueHead list).
   */
  readonly futexHb: { lock: number; waiters: number; chain: number } | null = null;
  /** Per task that calls futex_wait(): its futex_q's plist node (the key's location + 1 while queued, 0 empty) and q->lock_ptr (1: &hb->lock, 0: NULL). */
  readonly futexQ: number[] = [];
  readonly futexLockPtr: number[] = [];
  /** The pipes, by index. */
  readonly pipes: PipeLayout[] = [];
  /** Task names by id (index task id - 1). */
  readonly taskNames: readonly string[];
  /**
   * Locations that share one cache line in the kernel, in groups (every other
   * location is a line of its own). For the timing simulator's cache model only
   * (src/sim/engine.ts); the checker's machines ignore it. Each group cites the
   * declaration that puts its fields in one line.
   */
  readonly cacheLines: number[][] = [];

  /** How many mms the layout has (ids 1..nrMms). */
  readonly nrMms: number;

  /**
   * @param taskMms the mm of each task (index task id - 1; 0 for a kernel thread);
   *   for a task that does not exist yet (a child of fork/clone), the mm it will get
   * @param firstTask the task each CPU runs first (0: idle)
   * @param extra more mms than the tasks name (for exec), and which tasks exist at
   *   the start (default: all); mm_users counts the tasks that exist, and an mm
   *   nobody uses yet has mm_count 0 (not allocated)
   */
  constructor(readonly base: number, readonly config: KernelConfig, readonly taskMms: readonly number[], firstTask: readonly number[],
    extra: {
      nrMms?: number; alive?: readonly boolean[]; newTasks?: readonly number[]; taskNames?: readonly string[];
      /** Tasks that start asleep and are woken by wake_up(), with their CPUs. */
      sleepers?: readonly { task: number; cpu: number }[];
      /** Tasks that tgkill() signals. */
      signalled?: readonly number[];
      /** Tasks that may migrate, with the CPU each starts running on (-1: none). */
      migratable?: readonly { task: number; runningOn: number }[];
      /** Tasks that may block (futex_wait(), pipes), with their CPUs; which of them call futex_wait(). */
      blockers?: readonly { task: number; cpu: number; futex: boolean }[];
      /** The scenario calls futex_wait() or futex_wake(). */
      futex?: boolean;
      /** The scenario's pipes, by name. */
      pipes?: readonly string[];
    } = {}) {
    // The mm each CPU's CR3 holds at the start: its first task's (init_mm for an idle CPU or a kernel thread).
    const loadedAtStart = (c: number): number => (firstTask[c] ? taskMms[firstTask[c]! - 1] ?? 0 : 0);
    const alloc = (name: string, init: number): number => {
      this.names.push(name);
      this.init.push(init);
      return base + this.names.length - 1;
    };
    /** A spinlock's word (0: free): what LKMM's lock.cat models (kernel/locking/spinlock.c's raw spinlocks). */
    const spinlock = (name: string): number => {
      const l = alloc(name, 0);
      this.spinlocks.add(l);
      return l;
    };
    this.nrMms = Math.max(1, extra.nrMms ?? 0, ...taskMms);
    for (let m = 1; m <= this.nrMms; m++) {
      const users = taskMms.filter((tm, i) => tm === m && (extra.alive?.[i] ?? true)).length;
      this.mmMembarrierState[m] = alloc(`mm${m}->membarrier_state`, 0);
      this.mmUsers[m] = alloc(`mm${m}->mm_users`, users);
      this.mmCount[m] = alloc(`mm${m}->mm_count`, users > 0 || m === 1 ? 1 : 0);
      this.mmFreed[m] = alloc(`(check) mm${m} freed`, 0);
    }
    taskMms.forEach((mm, i) => {
      const name = extra.taskNames?.[i] ?? `task${i + 1}`;
      this.taskMm[i + 1] = alloc(`${name}->mm`, extra.newTasks?.includes(i + 1) ? 0 : mm);
      this.taskAllocLock[i + 1] = spinlock(`${name}->alloc_lock`);
      if (extra.newTasks?.includes(i + 1)) this.taskWoken[i + 1] = alloc(`${name}->__state (woken)`, 0);
      if (extra.signalled?.includes(i + 1)) {
        this.taskSigpending[i + 1] = alloc(`${name}: TIF_SIGPENDING`, 0);
        this.taskSiglock[i + 1] = spinlock(`${name}->sighand->siglock`);
      }
      const mig = extra.migratable?.find((x) => x.task === i + 1);
      if (mig) this.taskOnCpu[i + 1] = alloc(`${name}->on_cpu`, mig.runningOn >= 0 ? mig.runningOn + 1 : 0);
      if (extra.sleepers?.some((x) => x.task === i + 1)) {
        this.taskWoken[i + 1] = alloc(`${name}->__state (woken)`, 0);
        this.taskPiLock[i + 1] = spinlock(`${name}->pi_lock`);
      }
      const b = extra.blockers?.find((x) => x.task === i + 1);
      if (b) {
        this.taskState[i + 1] = alloc(`${name}->__state`, 0);
        this.taskOnRq[i + 1] = alloc(`${name}->on_rq`, 1);
        this.taskPiLock[i + 1] ??= spinlock(`${name}->pi_lock`);
        this.taskCpu[i + 1] = b.cpu;
        if (b.futex) {
          this.futexQ[i + 1] = alloc(`${name}: futex_q.list (queued on)`, 0);
          this.futexLockPtr[i + 1] = alloc(`${name}: futex_q.lock_ptr`, 0);
        }
      }
    });
    this.taskNames = taskMms.map((_, i) => extra.taskNames?.[i] ?? `task${i + 1}`);
    if (extra.futex) this.futexHb = { lock: spinlock('hb->lock'), waiters: alloc('hb->waiters', 0), chain: alloc('hb->chain', 0) };
    for (const name of extra.pipes ?? []) {
      const wq = (w: string): WaitQueueHead => ({ name: `${name}->${w}`, lock: spinlock(`${name}->${w}.lock`), head: alloc(`${name}->${w}.head`, 0) });
      this.pipes.push({
        name, mutex: alloc(`${name}->mutex`, 0), headTail: alloc(`${name}->head_tail`, 0),
        bufs: Array.from({ length: PIPE_BUFFERS }, (_, j) => alloc(`${name}->bufs[${j}]`, 0)), rdWait: wq('rd_wait'), wrWait: wq('wr_wait'),
      });
    }
    this.rqLockShared = (extra.blockers?.length ?? 0) > 0;
    const wakeable = new Set([...(extra.sleepers ?? []), ...(extra.blockers ?? [])].map((x) => x.cpu));
    for (let c = 0; c < config.nrCpus; c++) {
      this.rqCurr[c] = alloc(`rq${c}->curr`, firstTask[c] ?? 0);
      this.rqMembarrierState[c] = alloc(`rq${c}->membarrier_state`, 0);
      this.rqLock[c] = spinlock(`rq${c}->__lock`);
      this.callSingleQueue[c] = alloc(`call_single_queue[${c}]`, 0);
      if (wakeable.has(c)) this.needResched[c] = alloc(`cpu${c}: TIF_NEED_RESCHED`, 0);
    }
    for (let s = 0; s < config.nrCpus; s++) {
      this.csdFlags[s] = [];
      this.csdFunc[s] = [];
      this.csdInfo[s] = [];
      for (let t = 0; t < config.nrCpus; t++) {
        this.csdFlags[s]![t] = alloc(`csd[${s}->${t}].flags`, 0);
        this.csdFunc[s]![t] = alloc(`csd[${s}->${t}].func`, 0);
        this.csdInfo[s]![t] = alloc(`csd[${s}->${t}].info`, 0);
        // include/linux/smp_types.h (smp.h before 5.10): call_single_data_t is aligned to
        // its own size, 32 bytes, so that it never straddles two lines (966a967116e6, 4.14):
        // llist node, flags, func and info are one line.
        this.cacheLines.push([this.csdFlags[s]![t]!, this.csdFunc[s]![t]!, this.csdInfo[s]![t]!]);
      }
    }
    this.membarrierIpiMutex = alloc('membarrier_ipi_mutex', 0);
    for (let c = 0; c < config.nrCpus; c++) this.membarrierCpuMutex[c] = alloc(`membarrier_cpu_mutexes[${c}]`, 0);
    this.membarrierIpiRounds = alloc('(check) membarrier IPI rounds in flight', 0);
    const pages = config.pages ?? [];
    if (pages.length > 0) {
      const n = pages.length;
      const t: TlbLayout = {
        nPages: n, pmd: [-1], tablePte: [], tableOwner: [], freeTables: 0, vma: [0], ptl: [0], tlbFlushBatched: [0], frame: [], freeFrames: 0, tlbGen: [0], cpumask: [0],
        loadedMm: [], isLazy: [], info: [], swap: [], folioLock: [], swapCache: [], csdFlushInfo: [], folio: [], folioFlags: [],
      };
      // Frames: page v starts in frame v; as many free frames again for faults to
      // take; the last is the shared zero page (mapped read-only, never written).
      for (let f = 0; f < 2 * n; f++) t.frame[f] = alloc(`frame ${f}`, f < n ? pages[f]!.init : 0);
      t.frame[2 * n] = alloc('zero page', 0);
      // A page not mapped at the start (`unmapped`) has no VMA and no PTE, and its frame is free.
      let free = 0;
      for (let f = n; f < 2 * n; f++) free |= 1 << f;
      pages.forEach((p, v) => {
        if (p.mapped === false) free |= 1 << v;
      });
      t.freeFrames = alloc('free page frames', free);
      // Page-table pages: one per mm and a spare; the process's (mm 1) is table 0, which maps the pages at the start.
      const nTables = this.nrMms + 1;
      for (let tb = 0; tb < nTables; tb++) {
        t.tablePte[tb] = pages.map((p, v) => alloc(`page table ${tb}: PTE of ${p.name}`, tb === 0 && p.mapped !== false ? mk_pte(v, true, !p.clean, !p.clean) : 0));
        t.tableOwner[tb] = alloc(`(check) page table ${tb} owner`, tb === 0 ? 1 : 0);
      }
      let freeTables = 0;
      for (let tb = 1; tb < nTables; tb++) freeTables |= 1 << tb;
      t.freeTables = alloc('free page-table pages', freeTables);
      for (let m = 1; m <= this.nrMms; m++) {
        t.pmd[m] = alloc(`mm${m}: PMD`, m === 1 ? 1 : 0);
        const mapped = pages.reduce((bits, p, v) => (p.mapped === false ? bits : bits | (1 << v)), 0);
        t.vma[m] = alloc(`mm${m}: VMAs (mapped pages)`, m === 1 ? mapped : 0);
        t.ptl[m] = spinlock(`mm${m}->page_table_lock`);
        t.tlbFlushBatched[m] = alloc(`mm${m}->tlb_flush_batched`, 0);
        t.tlbGen[m] = alloc(`mm${m}->context.tlb_gen`, 0);
        let mask = 0;
        for (let c = 0; c < config.nrCpus; c++) if (loadedAtStart(c) === m) mask |= 1 << c;
        t.cpumask[m] = alloc(`mm_cpumask(mm${m})`, mask);
      }
      for (let s = 0; s < config.nrCpus; s++) {
        t.csdFlushInfo[s] = [];
        for (let u = 0; u < config.nrCpus; u++) t.csdFlushInfo[s]![u] = alloc(`csd[${s}->${u}].flush_info (copied)`, 0);
      }
      for (let v = 0; v < n; v++) {
        t.swap[v] = alloc(`swap slot of ${pages[v]!.name}`, pages[v]!.clean ? pages[v]!.init : 0);
        t.folioLock[v] = alloc(`folio lock of ${pages[v]!.name} (PG_locked)`, 0);
        t.swapCache[v] = pages[v]!.clean ? alloc(`folio of ${pages[v]!.name} in the swap cache (PG_swapcache)`, 1) : -1;
        if (config.ageing) t.folioFlags[v] = alloc(`folio of ${pages[v]!.name}: PG_referenced, PG_active`, 0);
      }
      // A page mapped at the start is an exclusive anonymous folio mapped once (mapcount 1).
      if (config.cow) for (let f = 0; f < 2 * n; f++) t.folio[f] = alloc(`folio of frame ${f}: mapcount, PageAnonExclusive`, f < n && pages[f]!.mapped !== false ? 1 | FOLIO_ANON_EXCLUSIVE : 0);
      for (let c = 0; c < config.nrCpus; c++) {
        t.loadedMm[c] = alloc(`cpu${c}: cpu_tlbstate.loaded_mm`, loadedAtStart(c));
        t.isLazy[c] = alloc(`cpu${c}: cpu_tlbstate_shared.is_lazy`, 0);
        t.info[c] = {
          mm: alloc(`flush_tlb_info[${c}].mm`, 0), range: alloc(`flush_tlb_info[${c}].start/end`, 0),
          newTlbGen: alloc(`flush_tlb_info[${c}].new_tlb_gen`, 0), freedTables: alloc(`flush_tlb_info[${c}].freed_tables`, 0),
        };
        // arch/x86/mm/tlb.c: DEFINE_PER_CPU_SHARED_ALIGNED(struct flush_tlb_info, flush_tlb_info)
        // (3db6d5a5ecaf, 5.2; before it an on-stack struct __aligned(SMP_CACHE_BYTES)): mm,
        // start, end, new_tlb_gen, stride_shift and freed_tables fit one 64-byte line.
        const I = t.info[c]!;
        this.cacheLines.push([I.mm, I.range, I.newTlbGen, I.freedTables]);
      }
      this.tlb = t;
    }
    if (config.paravirt === 'xen-pv') {
      const x = { currentCr3: [] as number[], guestTable: [] as number[], pinned: [] as number[] };
      for (let c = 0; c < config.nrCpus; c++) {
        x.currentCr3[c] = alloc(`cpu${c}: xen_current_cr3`, loadedAtStart(c));
        x.guestTable[c] = alloc(`(check) Xen: vcpu${c} base pointer`, loadedAtStart(c));
      }
      // Every mm's pgd is pinned from the start (xen_activate_mm(), xen_dup_mmap()).
      for (let m = 1; m <= this.nrMms; m++) x.pinned[m] = alloc(`(check) Xen: mm${m}->pgd pinned`, 1);
      this.xen = x;
    }
  }

  /** Is loc a PTE (its values are page-table entries)? */
  isPte(loc: number): boolean {
    return this.tlb?.tablePte.some((row) => row.includes(loc)) ?? false;
  }

  /** Is loc a PMD entry (its values are page-table pages)? */
  isPmd(loc: number): boolean {
    return this.tlb?.pmd.includes(loc) ?? false;
  }

  /** Is loc some CPU's cpu_tlbstate.loaded_mm (its values are mms)? */
  isLoadedMm(loc: number): boolean {
    return this.tlb?.loadedMm.includes(loc) ?? false;
  }

  /** Is loc some CPU's rq->curr (its values are task ids)? */
  isRqCurr(loc: number): boolean {
    return this.rqCurr.includes(loc);
  }

  /** Is loc some task's ->mm (its values are mm ids, 0 for NULL)? */
  isTaskMm(loc: number): boolean {
    return this.taskMm.includes(loc);
  }

  nameOf(loc: number): string | undefined {
    return this.names[loc - this.base];
  }
}

/**
 * What `yield* k.READ_ONCE(...)` and the other primitives of one op delegate to: the op
 * (or none), then the result, as the generator `function* () { return yield op; }`
 * would give them, without a generator object and a generator's resumption per op
 * (what the primitives cost the engine was mostly that). `result` says what the
 * delegation evaluates to: the value the op read, nothing, whether the value is
 * nonzero, or (no op) `value`.
 */
const READ = 0;
const VOID = 1;
const NONZERO = 2;
const VALUE = 3;
type Result = typeof READ | typeof VOID | typeof NONZERO | typeof VALUE;

class OneOp<R> implements Generator<Op, R, number> {
  /** 0: not started; 1: the op yielded; 2: finished. */
  private state = 0;
  constructor(private readonly op: Op | null, private readonly result: Result, private readonly value?: R) {}

  next(v?: number): IteratorResult<Op, R> {
    if (this.state === 0 && this.op !== null) {
      this.state = 1;
      return { value: this.op, done: false };
    }
    const was = this.state;
    this.state = 2;
    if (was === 2 || this.result === VOID) return { value: undefined as R, done: true };
    if (this.result === VALUE) return { value: this.value as R, done: true };
    if (this.result === NONZERO) return { value: ((v as number) !== 0) as R, done: true };
    return { value: v as R, done: true };
  }

  return(value: R): IteratorResult<Op, R> {
    this.state = 2;
    return { value, done: true };
  }

  // An exception thrown in at the op goes on out, as from a generator without a try there.
  throw(e: unknown): IteratorResult<Op, R> {
    this.state = 2;
    throw e;
  }

  [Symbol.iterator](): Generator<Op, R, number> {
    return this;
  }
}

/** The lock word is free (the wait of mutex_lock() and spin_lock()). */
const unlocked = (v: number): boolean => v === 0;

/** One execution's kernel: the layout, the variant, and helpers that yield machine ops. */
export class Kernel {
  /** Per CPU: `current` (a CPU-local fact: the task this CPU runs; 0 idle). */
  readonly curr: number[];
  /** Per CPU: current->active_mm (the mm a kernel thread borrows lazily). */
  readonly activeMm: number[];
  /** Per CPU: rq->prev_mm, set by context_switch() for finish_task_switch(). */
  readonly prevMm: number[];

  /** Per task (index task id - 1): task->mm as the task's own CPU knows it (only it writes it). */
  readonly taskMmNow: number[];

  /** Per CPU: > 0 while the task context runs kernel code (system call, switch): not preempted by a tick. */
  readonly kernelDepth: number[];

  /** Per CPU: preempt_count() of the task context (a CPU-local fact; no step). */
  readonly preemptCount: number[];

  /**
   * Per CPU: sleeping locks (mutexes) the task context holds. The model's mutex_lock()
   * waits by spinning, so a task is not preempted while it holds one: a waiter on
   * the same CPU would spin forever where the kernel would let the owner run.
   */
  readonly sleepLocks: number[];

  /** Per CPU: inside a hardware interrupt handler (in_irq()). */
  readonly inIrq: number[];

  /** Per CPU: how deep the task context nests local_irq_save() (spin_lock_irqsave()): only the outermost disables and restores. */
  readonly irqSaveDepth: number[];

  /** Per CPU without a TIF_NEED_RESCHED location: the flag, set by this CPU's own scheduler_tick(). */
  readonly needReschedLocal: boolean[];

  /**
   * Per CPU, what happened there (CPU-local facts, no memory access), for the
   * condition's kernel observables (`cpu1:ipi_mb`): handler runs, call-function
   * interrupts taken, context switches.
   */
  readonly counters: Record<KernelCounter, number[]>;

  /** Tasks inside an rseq critical section (their rseq_cs is set), and tasks with an rseq event pending. */
  readonly rseqCs = new Set<number>();
  readonly rseqEvent = new Set<number>();

  /** The WARN_ON()s that fired in this execution, in order. */
  readonly warnings: string[] = [];

  /**
   * Per CPU, the TLB state only the CPU itself reads (arch/x86/mm/tlb.c
   * cpu_tlbstate): loaded_mm and is_lazy as this CPU last wrote them (other CPUs read
   * the memory copies, which exist with user pages), loaded_mm_asid, next_asid,
   * ctxs[] (the mm each ASID slot holds and the generation it has caught up to),
   * and the CPUs' own bits of mm_cpumask() (only the CPU sets or clears its bit).
   */
  readonly tlbState: {
    loadedMm: number; isLazy: boolean; loadedMmAsid: number; nextAsid: number;
    ctxs: { ctxId: number; tlbGen: number }[]; cpumask: Set<number>;
  }[];

  /** Per CPU: what its flush_tlb_info asks, as the sender itself reads it (should_flush_tlb()). */
  readonly flushInfo: { mm: number; freedTables: boolean; range: number; newTlbGen: number }[];

  /**
   * Per CPU: the reclaiming task's current->tlb_ubc (mm/rmap.c), the TLB flush its
   * try_to_unmap() deferred: whether one is pending, whether a PTE it cleared was
   * dirty (writable), and the CPUs to flush (arch_tlbflush_unmap_batch.cpumask).
   * Task-local: the reclaiming thread does not migrate.
   */
  readonly tlbUbc: { flushRequired: boolean; writable: boolean; cpumask: number }[];

  /** Not kernel state, for property S3: flush requests [sender][target] queued, and run to their end. */
  readonly tlbFlushReq: number[][];
  readonly tlbFlushDone: number[][];

  constructor(readonly layout: KernelLayout, readonly variant: Variant, firstTask: readonly number[]) {
    this.taskMmNow = [...layout.taskMms];
    this.preemptCount = firstTask.map(() => 0);
    this.kernelDepth = firstTask.map(() => 0);
    const zeros = (): number[] => firstTask.map(() => 0);
    this.counters = {
      ipi_mb: zeros(), ipi_sync_core: zeros(), ipi_rseq: zeros(), ipi_sync_rq_state: zeros(), ipis: zeros(), switches: zeros(),
      irq_resched: zeros(), sync_core: zeros(), migrations: zeros(), flush_tlb_func: zeros(), flush_tlb_caught_up: zeros(), pageout: zeros(),
      blocks: zeros(), wakeups: zeros(), drop_mm_ref_this_cpu: zeros(), xen_mc_failed: zeros(), tlb_spec_flushed: zeros(),
    };
    this.sleepLocks = zeros();
    this.inIrq = zeros();
    this.irqSaveDepth = zeros();
    this.needReschedLocal = firstTask.map(() => false);
    this.curr = [...firstTask];
    this.activeMm = firstTask.map((t) => (t === 0 ? 0 : layout.taskMms[t - 1]!));
    this.prevMm = firstTask.map(() => 0);
    this.flushInfo = firstTask.map(() => ({ mm: 0, freedTables: false, range: 0, newTlbGen: 0 }));
    this.tlbUbc = firstTask.map(() => ({ flushRequired: false, writable: false, cpumask: 0 }));
    this.tlbFlushReq = firstTask.map(() => firstTask.map(() => 0));
    this.tlbFlushDone = firstTask.map(() => firstTask.map(() => 0));
    this.tlbState = firstTask.map((t) => {
      const mm = t === 0 ? 0 : layout.taskMms[t - 1]!;
      // (A loop: Array.from() with a callback costs several times more, once per run.)
      const ctxs: { ctxId: number; tlbGen: number }[] = [{ ctxId: ctx_id(mm), tlbGen: 0 }];
      for (let i = 1; i < TLB_NR_DYN_ASIDS; i++) ctxs.push({ ctxId: 0, tlbGen: 0 });
      return { loadedMm: mm, isLazy: false, loadedMmAsid: 0, nextAsid: 1, ctxs, cpumask: new Set(mm ? [mm] : []) };
    });
  }

  get config(): KernelConfig {
    return this.layout.config;
  }

  get preemptModel(): PreemptModel {
    return this.layout.config.preempt ?? 'none';
  }

  /** need_resched(): TIF_NEED_RESCHED of this CPU's current task (a load where another CPU may set it). */
  need_resched(cpu: number, fn = 'need_resched()'): Generator<Op, boolean, number> {
    if (this.needReschedLocal[cpu]) return new OneOp<boolean>(null, VALUE, true);
    const loc = this.layout.needResched[cpu];
    if (loc === undefined) return new OneOp<boolean>(null, VALUE, false);
    return new OneOp<boolean>({ k: 'ld', loc, site: { fn } }, NONZERO);
  }

  /** Can the task context give up the CPU here (no preempt_disable(), no mutex held)? */
  preemptible(cpu: number): boolean {
    return this.preemptCount[cpu] === 0 && this.sleepLocks[cpu] === 0;
  }

  /**
   * A point where kernel code may call schedule() when need_resched() is set (the
   * marker op is taken by the CPU's task loop, cpu_startup_entry() in sched/idle.ts, and never
   * reaches the machine): cond_resched() under voluntary, preempt_schedule() under full.
   */
  *reschedPoint(cpu: number, when: PreemptModel[], fn: string): CpuCode {
    if (!when.includes(this.preemptModel) || !this.preemptible(cpu)) return;
    if (yield* this.need_resched(cpu)) yield { k: 'nop', resched: true, site: { fn } };
  }

  /** preempt_enable() (v6.18): under preempt=full, the end of the section may reschedule at once. */
  *preempt_enable_resched(cpu: number): CpuCode {
    this.preempt_enable(cpu);
    if (this.preemptModel === 'full') yield* this.reschedPoint(cpu, ['full'], 'preempt_enable(): preempt_schedule()');
  }

  current(cpu: number): number {
    return this.curr[cpu]!;
  }

  /**
   * WARN_ON(): the kernel prints a warning and goes on, and so does the model: the
   * warning is recorded (once per name) and the run continues to its end, so the
   * search explores every execution around it. A run with a warning is a violation
   * named by `what`.
   */
  WARN_ON(cond: boolean, what: string): void {
    if (cond && !this.warnings.includes(what)) this.warnings.push(what);
  }

  /** preempt_disable()/preempt_enable(): CPU-local bookkeeping, no memory access. */
  preempt_disable(cpu: number): void {
    this.preemptCount[cpu]!++;
  }

  preempt_enable(cpu: number): void {
    this.preemptCount[cpu]!--;
  }

  /** BUG_ON(): the kernel stops; the run ends here and is a violation named by `what`. */
  BUG_ON(cond: boolean, what: string): void {
    if (cond) throw new AssertionFailed(what);
  }

  /** current->mm as this CPU knows it (task->mm only changes on its own CPU in this model). */
  currentMm(cpu: number): number {
    return this.mmOf(this.curr[cpu]!);
  }

  mmOf(task: number): number {
    return task === 0 ? 0 : this.taskMmNow[task - 1]!;
  }

  // ---- primitives, in the kernel's words -------------------------------------------------

  /** smp_mb() with its label and the label of its partner (STYLE.md rule 2). */
  smp_mb(label: string, pairs?: string, fn = 'smp_mb'): CpuCode {
    if (this.variant.removed.has(label)) return new OneOp<void>(null, VOID);
    return new OneOp<void>({ k: 'mb', site: { fn, label, pairs } }, VOID);
  }

  READ_ONCE(loc: number, fn = 'READ_ONCE'): Generator<Op, number, number> {
    return new OneOp<number>({ k: 'ld', loc, site: { fn } }, READ);
  }

  /**
   * A load whose address an earlier load gave (a pointer chase: `csd->func` of the
   * llist node llist_del_all() returned, `f->mm` of the csd's info). The same load to
   * the machine and the checkers; the timing simulator does not let it overlap the
   * miss it depends on (src/sim/engine.ts, memory-level parallelism).
   */
  READ_ONCE_chased(loc: number, fn = 'READ_ONCE'): Generator<Op, number, number> {
    return new OneOp<number>({ k: 'ld', loc, site: { fn }, chased: true }, READ);
  }

  /**
   * READ_ONCE() whose value the code branches on at once (`if (READ_ONCE(x) == ...)`):
   * every later access of the CPU depends on it by control. arm64 keeps that order for
   * a later store, and for a later load after a context synchronisation (ISB, ERET).
   */
  *READ_ONCE_ctrl(loc: number, fn = 'READ_ONCE'): Generator<Op, number, number> {
    const op: Op = { k: 'ld', loc, site: { fn } };
    const v = yield op;
    op.branch = true;
    return v;
  }

  WRITE_ONCE(loc: number, val: number, fn = 'WRITE_ONCE'): CpuCode {
    return new OneOp<void>({ k: 'st', loc, val, site: { fn } }, VOID);
  }

  /** atomic_or(): a locked op on x86 (and a full barrier there). */
  atomic_or(loc: number, bits: number, fn = 'atomic_or'): CpuCode {
    // Relaxed and returning nothing (arm64: STSET).
    return new OneOp<void>({ k: 'rmw', loc, f: (old) => old | bits, site: { fn }, order: 'relaxed', returns: false }, VOID);
  }

  xchg(loc: number, val: number, fn = 'xchg', order: Order = 'mb'): Generator<Op, number, number> {
    return new OneOp<number>({ k: 'rmw', loc, f: () => val, site: { fn }, order }, READ);
  }

  cmpxchg(loc: number, old: number, val: number, fn = 'cmpxchg', order: Order = 'mb'): Generator<Op, number, number> {
    return new OneOp<number>({ k: 'rmw', loc, f: (v) => (v === old ? val : undefined), site: { fn }, order }, READ);
  }

  /** smp_cond_load_acquire(): waits (an await step) until pred holds; returns the value. */
  smp_cond_load_acquire(loc: number, pred: (v: number) => boolean, fn = 'smp_cond_load_acquire'): Generator<Op, number, number> {
    return new OneOp<number>({ k: 'await', loc, pred, site: { fn }, order: 'acquire' }, READ);
  }

  local_irq_save(): CpuCode {
    return new OneOp<void>({ k: 'irq', enable: false, site: { fn: 'local_irq_save' } }, VOID);
  }

  local_irq_restore(): CpuCode {
    return new OneOp<void>({ k: 'irq', enable: true, site: { fn: 'local_irq_restore' } }, VOID);
  }

  /**
   * smp_mb__after_spinlock(): nothing on x86, whose lock acquisition is a locked
   * instruction and already a full barrier (arch/x86/include/asm/barrier.h leaves it
   * empty); smp_mb() on arm64 (arch/arm64/include/asm/spinlock.h), a DMB ISH; LKMM's
   * after-spinlock fence (linux-kernel.def).
   */
  smp_mb__after_spinlock(site?: Partial<OpSite>): CpuCode {
    return new OneOp<void>({ k: 'nop', site: { fn: 'smp_mb__after_spinlock', ...site }, arm64: ['dmb.full'], fence: 'mb__after_spinlock' }, VOID);
  }

  /** A kernel step with no effect on shared state but worth seeing in a trace. */
  note(fn: string, site?: Partial<OpSite>): CpuCode {
    return new OneOp<void>({ k: 'nop', site: { fn, ...site } }, VOID);
  }

  // The locks below yield the ops of the primitives they are made of (smp_cond_load_acquire(),
  // cmpxchg(), xchg(), preempt_enable_resched()) themselves: the same ops, one generator
  // fewer for each to pass through.

  /**
   * mutex_lock(): might_sleep() (a voluntary preemption point), then acquire with a
   * locked cmpxchg, waiting while another CPU holds it.
   */
  *mutex_lock(loc: number, cpu: number): CpuCode {
    if (this.preemptModel === 'voluntary') yield* this.reschedPoint(cpu, ['voluntary'], 'mutex_lock(): might_sleep(): cond_resched()');
    for (;;) {
      // smp_cond_load_acquire(loc, !VAL), then cmpxchg_acquire(loc, 0, owner).
      yield { k: 'await', loc, pred: unlocked, site: { fn: 'mutex_lock' }, order: 'acquire' };
      const owner = cpu + 1;
      const old = yield { k: 'rmw', loc, f: (v) => (v === 0 ? owner : undefined), site: { fn: 'mutex_lock' }, order: 'acquire' };
      if (old === 0) break;
    }
    this.sleepLocks[cpu]!++;
  }

  /**
   * spin_lock(): preemption off, then a locked cmpxchg, spinning while another CPU
   * holds the lock (arch_spin_lock() of the queued spinlock, as one waiting step).
   */
  *spin_lock(loc: number, cpu: number, fn = 'spin_lock'): CpuCode {
    this.preempt_disable(cpu);
    for (;;) {
      yield { k: 'await', loc, pred: unlocked, site: { fn }, order: 'acquire' };
      const owner = cpu + 1;
      const old = yield { k: 'rmw', loc, f: (v) => (v === 0 ? owner : undefined), site: { fn }, order: 'acquire' };
      if (old === 0) break;
    }
  }

  /** spin_unlock(): a release store (a plain store on x86), then preemption back on. */
  *spin_unlock(loc: number, cpu: number, fn = 'spin_unlock'): CpuCode {
    yield { k: 'st', loc, val: 0, site: { fn }, order: 'release' };
    // preempt_enable_resched()
    this.preempt_enable(cpu);
    if (this.preemptModel === 'full') yield* this.reschedPoint(cpu, ['full'], 'preempt_enable(): preempt_schedule()');
  }

  /** spin_lock_irqsave(): interrupts off (the outermost of nested saves), then spin_lock(). */
  *spin_lock_irqsave(loc: number, cpu: number, fn = 'spin_lock_irqsave'): CpuCode {
    if (this.irqSaveDepth[cpu]!++ === 0) yield { k: 'irq', enable: false, site: { fn: 'local_irq_save' } };
    // spin_lock(), written out rather than delegated to: each op of a lock is resumed
    // through one generator fewer, which smpcheck sim's speed depends on (README, timing simulator).
    this.preempt_disable(cpu);
    for (;;) {
      yield { k: 'await', loc, pred: unlocked, site: { fn }, order: 'acquire' };
      const owner = cpu + 1;
      const old = yield { k: 'rmw', loc, f: (v) => (v === 0 ? owner : undefined), site: { fn }, order: 'acquire' };
      if (old === 0) break;
    }
  }

  /** spin_unlock_irqrestore(): the release store, interrupts back on (the outermost restore), preemption back on. */
  *spin_unlock_irqrestore(loc: number, cpu: number, fn = 'spin_unlock_irqrestore'): CpuCode {
    yield { k: 'st', loc, val: 0, site: { fn }, order: 'release' };
    if (--this.irqSaveDepth[cpu]! === 0) yield { k: 'irq', enable: true, site: { fn: 'local_irq_restore' } };
    // preempt_enable_resched()
    this.preempt_enable(cpu);
    if (this.preemptModel === 'full') yield* this.reschedPoint(cpu, ['full'], 'preempt_enable(): preempt_schedule()');
  }

  /** mutex_unlock(): a release (a locked op on x86). */
  *mutex_unlock(loc: number, cpu: number): CpuCode {
    // xchg_release(loc, 0)
    yield { k: 'rmw', loc, f: () => 0, site: { fn: 'mutex_unlock' }, order: 'release' };
    this.sleepLocks[cpu]!--;
  }
}
