// The operations code running on a modelled CPU yields to the machine. A load,
// store or read-modify-write of a user page (paging.ts) is translated by the
// machine through the CPU's TLB; a translation that faults is thrown into the
// code as a PageFault at that op.
// CPU code (litmus threads and kernel functions) is a generator: it yields one Op
// at every access to shared state or machine event and receives the op's result.
// Everything between two yields is CPU-local computation.

/** Where an op came from, for traces: the kernel function or primitive, and a source position. */
export interface OpSite {
  fn: string; // 'WRITE_ONCE', 'smp_mb', 'membarrier_private_expedited', ...
  line?: number;
  col?: number;
  /** Barrier label (STYLE.md rule 2), e.g. 'membarrier.a'. */
  label?: string;
  /** The label of the barrier this one pairs with. */
  pairs?: string;
}

import type { Fence, Order } from '../scenario/ast.js';

export type RmwFn = (old: number) => number | undefined; // undefined: no write (failed cmpxchg)

/**
 * A load or store of a location only its own thread can reach (privateLocations() in
 * src/litmus/program.ts): `priv`. No other CPU, interrupt handler or kernel path reads
 * or writes it, so the machine writes such a store to memory at once (no other CPU
 * could see it waiting in the store buffer) and runs the access with the step before
 * it, not as a step of its own (Machine.fuse, docs/scale.md). `local`: the code from
 * the access to the thread's next op is the scenario's own (register arithmetic), as
 * for a no-op's `local`; where an interrupt could come in, only such an access is merged.
 */
export interface Own {
  priv?: true;
  local?: true;
}

/**
 * What the graph engine (src/graph/kernel.ts) needs of an op on a weak machine; the
 * machine ignores it. `order`: the access's ordering as the kernel primitive has it
 * (READ_ONCE 'once', smp_load_acquire 'acquire', smp_store_release 'release', a fully
 * ordered atomic 'mb', a relaxed one 'relaxed'); unset: 'once' for a load or store,
 * 'mb' for a read-modify-write. `deps`: the earlier loads (the op objects they
 * yielded) this access depends on, by address, by the value it stores, or by a
 * branch that decides it is made (arm64 and LKMM keep these orders).
 */
export interface Deps {
  addr?: readonly Op[];
  data?: readonly Op[];
  ctrl?: readonly Op[];
}
export interface WeakInfo {
  order?: Order;
  deps?: Deps;
  /**
   * Set on a load by the code that received its value when it branches on it (the
   * kernel's READ_ONCE_ctrl()): every later event of the CPU depends on the load by
   * control, as herd's ctrl relation has it (ctrl; po).
   */
  branch?: boolean;
}

export type Op =
  /**
   * `chased`: the load's address is a pointer an earlier load of the CPU read (a csd
   * from the call-single queue, a flush_tlb_info from csd->info, a PTE from its PMD),
   * so it cannot issue before that load completes. Only the timing simulator reads it
   * (src/sim/engine.ts, memory-level parallelism); the machine and the checkers ignore it.
   */
  | ({ k: 'ld'; loc: number; site: OpSite; chased?: true } & WeakInfo & Own)
  | ({ k: 'st'; loc: number; val: number; site: OpSite; tlbFlushStart?: readonly number[] } & WeakInfo & Own)
  /**
   * Full fence (smp_mb on x86: MFENCE or a locked op): waits for the own store buffer to drain.
   * `fence`: the kernel primitive it stands for (default smp_mb()).
   */
  | { k: 'mb'; site: OpSite; fence?: Fence }
  /**
   * A compiler-only barrier on this machine (barrier(), smp_rmb/smp_wmb on x86): a visible no-op step.
   * With `resched`, kernel code asks to call schedule() here: the program's scheduler takes the
   * op (cpu_startup_entry() in src/kernel/sched/idle.ts) and the machine never sees it.
   * With `block`, kernel code calls schedule() after setting its task's state to sleep
   * (set_current_state()): the same, and __schedule() may block the task.
   */
  | {
    k: 'nop'; site: OpSite; resched?: true; block?: true; tlbFlushDone?: true;
    /**
     * The code that yielded it changes nothing another context reads before its next
     * op (a barrier() followed by more of the scenario's own statements): the machine
     * may run it with that op even where an interrupt could come in (Machine.fuse).
     */
    local?: true;
    /** A barrier that is a no-op on this machine (smp_rmb() on x86): what it is on a weaker one. */
    fence?: Fence;
    /** An arm64 instruction of an arm64 path with no x86 counterpart (DSB ISH in __switch_to()): its event tags there. */
    arm64?: readonly string[];
  }
  /**
   * Locked read-modify-write: drains the store buffer, then reads and writes memory
   * atomically. `tlbFlushStart`: the op starts a TLB flush of these PTE locations
   * (inc_mm_tlb_gen()); the machine checks property S1 against them once the flush
   * is done (a `nop` with `tlbFlushDone`). `frameFree`: the op gives page frame
   * `frameFree` back to the allocator (free_page()); the machine then checks that no
   * TLB entry made before it is used to reach the frame.
   */
  | ({ k: 'rmw'; loc: number; f: RmwFn; site: OpSite; tlbFlushStart?: readonly number[]; frameFree?: number; /** false: an atomic that returns nothing (atomic_or()). */ returns?: boolean } & WeakInfo)
  /** Blocking load: enabled only when `pred` holds of the value it would read (spin-wait loops). */
  | ({ k: 'await'; loc: number; pred: (v: number) => boolean; site: OpSite } & WeakInfo)
  | { k: 'irq'; enable: boolean; site: OpSite }
  /** Make interrupt `vector` pending on `cpu` (an IPI); not a barrier. */
  /**
   * `maskNext`: a further target of the same send_IPI_mask() as the raise just before
   * (arch_send_call_function_ipi_mask()): the timing simulator charges it
   * ipi_send_mask_extra_ns instead of a send of its own; the machine ignores it.
   */
  | { k: 'raise'; cpu: number; vector: number; site: OpSite; maskNext?: true }
  /**
   * arm64 cache maintenance by a scenario thread (the graph engine only): DC CVAU
   * (clean the data cache line of `loc` to the point of unification) or IC IVAU
   * (invalidate the instruction cache line of `loc`, broadcast to the inner-shareable
   * domain). The machine (sc, x86) never meets it: scenarios with it are refused there.
   */
  | { k: 'cmo'; op: 'dc.cvau' | 'ic.ivau'; loc: number; site: OpSite }
  /** Execute the code at code location `loc`: yields the version this CPU has fetched (maybe stale). */
  | { k: 'exec'; loc: number; site: OpSite }
  /**
   * A core-serialising event (x86: IRET, SERIALIZE/CPUID in sync_core(), a CR3 write):
   * waits for the own store buffer to drain like a full fence, then the CPU drops
   * what it had fetched and refetches every code location from memory.
   */
  | { k: 'serialize'; site: OpSite }
  /**
   * MOV to CR3 (paging.ts): the CPU walks address space `mm` with PCID `asid` from
   * now on; without NOFLUSH (`flush`) the PCID's TLB entries are dropped. Serialising
   * like `serialize` (`barrier: false`: a mutant's write that is not).
   */
  | { k: 'cr3'; mm: number; asid: number; flush: boolean; barrier?: false; site: OpSite }
  /** INVLPG: drops the TLB entry of the current PCID for page `vpn`; serialising. */
  | { k: 'invlpg'; vpn: number; site: OpSite };

export type CpuCode = Generator<Op, void, number>;
/** An interrupt handler's code: it may return PREEMPTED (machine.ts) when it switched tasks. */
export type HandlerCode = Generator<Op, void | number, number>;

export type OpKind = Op['k'];
