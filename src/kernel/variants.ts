// Named kernel variants: the modelled version and changes to it. A variant is
// the default kernel (v6.18) with one named change removed: a historical commit
// undone (pre-COMMIT) or a barrier or step taken out (a mutant). Each differs from
// v6.18 by exactly that change, so a counterexample it produces is due to it alone.

/**
 * A replacement for a modelled kernel function (src/kernel/dispatch.ts): called
 * with the kernel and the function's own arguments, it yields the machine ops the
 * function's code does and returns what the function returns.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OverrideFn = (...args: any[]) => Generator<import('../machine/ops.js').Op, any, number>;

export interface Variant {
  name: string;
  /** The kernel version the variant starts from. */
  base: string;
  /** One line on what the variant changes. */
  description: string;
  /** Barrier labels (see the smp_mb() calls in src/kernel/) and steps ('membarrier.ipi') this variant removes. */
  removed: ReadonlySet<string>;
  /** Replaced kernel functions by kernel name (a user's variant module; see dispatch.ts). */
  overrides?: Readonly<Record<string, OverrideFn>>;
  /** Where a variant module came from. */
  file?: string;
  /** The sha256 of a variant module's source (hex): what a trace records and replay checks. */
  sha256?: string;
}

export const DEFAULT_KERNEL = 'v6.18';

/** The modelled kernel as it was before one commit: that commit's change removed, named by its label. */
const before = (commit: string, label: string, description: string): Variant => ({
  name: `pre-${commit}`, base: DEFAULT_KERNEL, description: `before ${commit}: ${description}`, removed: new Set([label]),
});

/** A design argued on the lists: the modelled kernel with one change, named by its label. */
const design = (name: string, label: string | string[], description: string): Variant => ({
  name, base: DEFAULT_KERNEL, description: `design question: ${description}`, removed: new Set(typeof label === 'string' ? [label] : label),
});

/** A mutant with several barriers removed: the ones that each mask the other on x86. */
const mutants = (name: string, labels: string[], description: string): Variant => ({
  name, base: DEFAULT_KERNEL, description: `mutant: ${description}`, removed: new Set(labels),
});

/** A mutant of the modelled kernel: one barrier or step removed, named by its label. */
const mutant = (name: string, label: string, description: string): Variant => ({
  name, base: DEFAULT_KERNEL, description: `mutant: ${description}`, removed: new Set([label]),
});

const VARIANTS: readonly Variant[] = [
  {
    name: 'v6.18',
    base: 'v6.18',
    description: 'the modelled kernel: kernel/sched/membarrier.c, kernel/smp.c, the scheduler and entry paths and arch/x86/mm/tlb.c as of v6.18',
    removed: new Set(),
  },
  before('a961e40917fb', 'private_expedited.registration', 'PRIVATE_EXPEDITED needs no registration and REGISTER_PRIVATE_EXPEDITED does not exist (EINVAL; 4.14-rc)'),
  before('541676078b52', 'private_expedited.preempt_disable', 'PRIVATE_EXPEDITED calls smp_call_function_many() with preemption enabled, which its smp_processor_id() reports under CONFIG_DEBUG_PREEMPT (4.14, 4.15-rc)'),
  before('c6d68c1c4a4d', 'private_expedited.single_user', 'PRIVATE_EXPEDITED (and RSEQ) of a single-user mm still runs its barriers and its scan instead of returning at once (before 5.4)'),
  before('227a4aadc75b', 'rq.membarrier_state', "no rq->membarrier_state (before 5.4): GLOBAL_EXPEDITED's lock-free scan reads p->mm->membarrier_state of each CPU's task, whose mm its last thread's exit can free meanwhile (use-after-free), and registration waits for a grace period instead of updating the runqueues"),
  {
    name: 'pre-618758ed3a4f',
    base: DEFAULT_KERNEL,
    description: 'before 618758ed3a4f: GLOBAL_EXPEDITED skips every kernel thread (PF_KTHREAD), and kthread_use_mm() of the mm it already borrowed drops no reference, so no barrier (g)',
    removed: new Set(['global_expedited.kthread_mm', 'kthread_use_mm.g']),
  },
  before('2840cf02fae6', 'sync_core.same_mm', "finish_task_switch() core-syncs when rq->prev_mm (the mm a kernel thread borrowed) registered for SYNC_CORE, even when the CPU goes on to another mm, whose CR3 write already serialises (4.16 to 5.3)"),
  before('a493d1ca1a03', 'sync_core_before_usermode.no_irq_shortcut', 'x86 sync_core_before_usermode() returns at once in interrupt context, trusting the IRET that may never come: IRQ exit can switch to another task of the mm, which returns by SYSRET (before 5.10)'),
  before('758c9373d841', 'sync_core.ipi_sync_core', 'PRIVATE_EXPEDITED_SYNC_CORE sends ipi_mb() and relies on the return from the IPI (IRET) to serialise, which IRQ exit can skip by switching to a task that returns by SYSRET (before 5.10)'),
  {
    name: 'v4.16-sync-core',
    base: DEFAULT_KERNEL,
    description: 'history: the SYNC_CORE paths as 70216e18e519 and 10bcc80e9dbc introduced them in 4.16: 2840cf02fae6, a493d1ca1a03, 758c9373d841 and e45cdc71d1fa all undone (the rest of the kernel as modelled)',
    removed: new Set(['sync_core.same_mm', 'sync_core_before_usermode.no_irq_shortcut', 'sync_core.ipi_sync_core', 'sync_core.caller']),
  },
  before('e45cdc71d1fa', 'sync_core.caller', 'PRIVATE_EXPEDITED_SYNC_CORE leaves out the calling CPU (smp_call_function_many()) and takes the single-user shortcut, so the caller returns by SYSRET unserialised (before 5.10)'),
  {
    name: 'pre-5bc78502322a',
    base: DEFAULT_KERNEL,
    description: "before 5bc78502322a: exit_mm() stores current->mm = NULL without smp_mb__after_spinlock() before it (d) and without membarrier_update_current_mm(NULL) (before 5.11)",
    removed: new Set(['exit_mm.d', 'exit_mm.update_current_mm']),
  },
  before('71b3c126e611', 'inc_mm_tlb_gen.mb', "the flusher orders its page-table change before reading mm_cpumask, loaded_mm and is_lazy with no full barrier (CVE-2016-2069; the barrier that commit added is inc_mm_tlb_gen()'s locked add in v6.18, which this variant makes a plain increment)"),
  before('eb66ae030829', 'mremap.flush_under_ptl', "mremap()'s move_ptes() drops the page-table lock before it flushes the old address (CVE-2018-18281): meanwhile another thread can zap the page at its new address and free the frame while a CPU still translates the old address to it"),
  before('209954cbc7d0', 'mm_cpumask.lazy', 'mm_cpumask is exact: switch_mm_irqs_off() clears the CPU\'s bit in the previous mm and always sets it, with a locked op, in the next (before 6.14)'),
  before('706a1ea65e6f', 'tlb.table_free_after_flush', 'a freed page-table page goes back to the allocator before the TLB flush that invalidates the paging-structure caches (the RCU table-free fallback that Jann Horn found, fixed by the tlb-fixes merge of 4.19-rc1)'),
  before('83b0177a6c48', 'switch_mm.switching_mb', "switch_mm_irqs_off() to an mm whose mm_cpumask bit this CPU already has (kept lazily since 209954cbc7d0) runs no full barrier between loaded_mm = LOADED_MM_SWITCHING and its read of tlb_gen (CVE-2025-40174; 6.14 to 6.17)"),
  before('abee7c494d8c', 'use_temporary_mm.leave_mm', "text_poke()'s use_temporary_mm() does not leave lazy TLB mode first (leave_mm()): it takes the lazily borrowed mm as the one to restore, and unuse_temporary_mm() reloads it as an ordinary switch, so a kernel thread keeps that mm loaded, no longer lazy, and gets the flush IPIs of its users (from cefa929c034e until 5.10; the failure seen was on Xen PV)"),
  before('809232619f5b', 'query.rseq_bits', 'MEMBARRIER_CMD_QUERY omits the RSEQ commands (5.10 to 5.16)'),
  before('544a4f2ecd45', 'cmd.get_registrations', 'no MEMBARRIER_CMD_GET_REGISTRATIONS (before 6.3): EINVAL, and QUERY omits it'),
  before('944d5fe50f3f', 'membarrier_ipi_mutex', 'no membarrier_ipi_mutex: concurrent callers run their IPI rounds at once (CVE-2024-26602, before 6.8)'),
  {
    name: 'post-89976cd73739',
    base: DEFAULT_KERNEL,
    description: 'after 89976cd73739 (queued 2026, after v6.18): a targeted command (RSEQ with MEMBARRIER_CMD_FLAG_CPU) takes its target CPU\'s mutex, membarrier_cpu_mutexes[cpu_id], instead of the global membarrier_ipi_mutex, so it does not wait behind a caller stuck on another CPU',
    removed: new Set(['serialize_ipi.global_for_targeted']),
  },
  design('fork-clears-registration', 'dup_mm.membarrier_state', 'fork() gives the child a fresh, unregistered mm (dup_mm() resets membarrier_state) instead of inheriting the registration'),
  design('switch-mm-syncs-same-mm', 'membarrier_switch_mm.same_mm_return', "membarrier_switch_mm() refreshes rq->membarrier_state on a switch within one mm too (without its prev_mm == next_mm return), so a CPU that lazily held an mm while it registered does not keep a stale copy"),
  design('sync-core-unregistered', 'sync_core.registration', 'PRIVATE_EXPEDITED_SYNC_CORE works without REGISTER_PRIVATE_EXPEDITED_SYNC_CORE (is a registration needed? September 2017), so the scheduler does not know the process needs core sync'),
  design('async-flush', ['flush_tlb.sync_ack', 'flush_tlb.wait'], "user TLB flushes go out without waiting (early acknowledgment: a target acknowledges on receipt, then flushes; the 2019 RFC v2 11/12 'async and inline messages for flushing'), so flush_tlb_mm_range() returns, and the caller frees the page, before the targets have flushed"),
  design('early-ack', 'flush_tlb.sync_ack', "user TLB flushes are acknowledged on receipt (the 2019 RFC v2 11/12 as its author describes the flow in thread 004: a target takes the interrupt, copies the csd's info, unlocks the csd, then flushes) and the sender waits for that acknowledgment, not for the flush"),
  design('flush-info-in-csd', 'flush_tlb.info_shared', "a TLB flush's targets read the flush info (mm, range, new_tlb_gen) from a copy the sender puts in the call-function data, not from the sender's per-CPU flush_tlb_info (the 2019 RFC's inline messages)"),
  design('async-flush-inline', ['flush_tlb.sync_ack', 'flush_tlb.wait', 'flush_tlb.info_shared'], "the 2019 RFC v2 as proposed: early acknowledgment with the flush info copied into the call-function data, so that the sender's next flush cannot overwrite what a target has yet to read"),
  before('3ea277194daa', 'tlb_flush_batched', "mprotect(), munmap(), madvise() and mremap() do not know that reclaim cleared a PTE of the mm and deferred its flush (no mm->tlb_flush_batched, no flush_tlb_batched_pending()): finding the PTE already not present they change nothing and flush nothing, and a CPU keeps the stale translation after they return"),
  before('4ce94eabac16', 'flush_tlb.concurrent', 'flush_tlb_mm_range() flushes the local TLB first and only then sends the IPIs and waits for the remote flushes (flush_tlb_others()), instead of flushing locally while the remote CPUs do (before 5.13)'),
  design('sync-core-every-switch', 'finish_task_switch.sync_core_every_switch', "the core sync of the September 2017 RFC (v3) as thread 000 benchmarks it: finish_task_switch() reads the membarrier_state of the mm the CPU now runs after every switch to a user task, and core-syncs when it registered for SYNC_CORE (v6.18 does so only on the way back from a kernel thread that borrowed the mm)"),
  design('sync-core-in-switch-mm', 'finish_task_switch.sync_core', "the core sync for a registered mm moves from finish_task_switch()'s membarrier_mm_sync_core_before_usermode() into x86 switch_mm_irqs_off(), on its unlazy path (the December 2020 proposal)"),
  mutant('no-mb-a', 'membarrier.a', "membarrier's first smp_mb() (a, 'system call entry is not a mb') removed"),
  mutant('no-mb-c', 'membarrier.c', "membarrier's last smp_mb() (c, 'exit from system call is not a mb') removed"),
  mutant('no-ipi', 'membarrier.ipi', 'membarrier() sends no IPI (as if every target had been wrongly left out of the mask)'),
  mutant('no-mmdrop-mb', 'mmdrop', "finish_task_switch()'s mmdrop_lazy_tlb_sched() without its full barrier (a plain decrement)"),
  mutant('no-kthread-use-mm-mb', 'kthread_use_mm.g', "kthread_use_mm()'s mmdrop_lazy_tlb() without its full barrier (g)"),
  mutant('no-switch-to-dsb', 'switch_to.dsb', "arm64's __switch_to() without its DSB ISH, the full barrier after the store to rq->curr on arm64 (kernel/sched/core.c: 'switch_to() for arm64'); no step of x86's"),
  mutant('no-ipi-mb', 'ipi_mb', "the smp_mb() of the IPI handler ipi_mb() removed ('IPIs should be serializing but paranoid')"),
  mutant('no-switch-mm-mb', 'switch_mm.cr3', "switch_mm_irqs_off() to another mm without the full barrier of its CR3 write (the scheduler's barrier after rq->curr on a process switch; on x86 cpumask_set_cpu()'s locked op still orders)"),
  mutants('no-switch-mm-mbs', ['switch_mm.cr3', 'switch_mm.cpumask_set_cpu', 'switch_mm.switching_mb', 'switch_to.dsb'], "a process switch without any full barrier after rq->curr: x86 switch_mm_irqs_off()'s CR3 write, cpumask_set_cpu()'s locked op and the smp_mb() when the bit is already set; arm64 __switch_to()'s DSB"),
  mutant('no-cpumask-set-mb', 'switch_mm.cpumask_set_cpu', "switch_mm_irqs_off() to an mm whose mm_cpumask bit it sets with a plain read and write instead of the locked cpumask_set_cpu() (no barrier)"),
  mutant('no-lazy-freed-ipi', 'flush_tlb.freed_tables_ipi', 'native_flush_tlb_multi() skips lazy CPUs even when page tables are freed (should_flush_tlb() for every flush)'),
  mutant('no-switching-ipi', 'should_flush_tlb.switching', "should_flush_tlb() sends no IPI to a CPU whose loaded_mm is LOADED_MM_SWITCHING (in the middle of switch_mm_irqs_off())"),
  mutant('no-flush-before-pageout', 'reclaim.flush_dirty', "shrink_folio_list() calls pageout() without try_to_unmap_flush_dirty() first: the TLB flush that try_to_unmap() deferred into the batch runs only before the folio is freed, after its data went to swap"),
  design('clear-young-flush', 'ptep_clear_flush_young.no_flush', "ptep_clear_flush_young() flushes the page from the TLBs when it cleared a set accessed bit, as the generic version (mm/pgtable-generic.c) does, instead of x86's clear without a flush: a CPU that uses the page after the clear walks again and sets the bit"),
  mutant('no-unmap-flush', 'reclaim.unmap_flush', "try_to_unmap_one() clears the PTE but neither defers a TLB flush into the batch (set_tlb_ubc_flush_pending()) nor flushes (ptep_clear_flush()): reclaim writes the folio out and frees it while CPUs keep their translations"),
  mutant('no-dirty-check', 'reclaim.pte_dirty', "try_to_unmap_one() ignores the dirty bit of the PTE it cleared: no folio_mark_dirty(), and set_tlb_ubc_flush_pending() never marks the batch writable, so try_to_unmap_flush_dirty() does not flush before pageout()"),
  mutant('no-fork-flush', 'dup_mmap.flush_tlb_mm', "dup_mmap() without flush_tlb_mm(oldmm): fork() write-protects the parent's private PTEs for copy-on-write but leaves the writable translations in the parent's TLBs"),
  mutant('no-wp-copy-flush', 'wp_page_copy.flush', "wp_page_copy() clears the old PTE and sets the new one without ptep_clear_flush()'s flush_tlb_page(): other CPUs keep translating to the old frame"),
  mutant('no-unlazy-mb', 'switch_mm.unlazy', "x86 switch_mm_irqs_off() back from lazy TLB mode to the same mm without its smp_mb() before reading tlb_gen"),
  mutants('no-lazy-switch-mbs', ['mmdrop', 'switch_mm.unlazy', 'switch_to.dsb'], "both full barriers of a switch from a kernel thread back to the mm it borrowed: finish_task_switch()'s mmdrop_lazy_tlb_sched() and the architecture's other one (x86 switch_mm_irqs_off()'s unlazy smp_mb(), arm64 __switch_to()'s DSB)"),
  mutants('no-kthread-use-mm-mbs', ['kthread_use_mm.g', 'switch_mm.unlazy'], "both full barriers after kthread_use_mm()'s store to tsk->mm when the kernel thread adopts the mm it borrowed: mmdrop_lazy_tlb() (g) and x86 switch_mm_irqs_off()'s unlazy smp_mb()"),
  mutant('no-sched-mb', 'sched.before_rq_curr', "__schedule() without smp_mb__after_spinlock() before the store to rq->curr (on x86 the rq lock's locked instruction still orders)"),
  mutant('no-exit-mm-mb', 'exit_mm.d', "exit_mm() without smp_mb__after_spinlock() before current->mm = NULL (on x86 task_lock()'s locked instruction still orders)"),
  mutant('no-kthread-unuse-mm-mb', 'kthread_unuse_mm.d', "kthread_unuse_mm() without smp_mb__after_spinlock() before tsk->mm = NULL (on x86 task_lock() still orders)"),
  mutant('no-futex-mb-b', 'futex.B', "futex_wake() reads hb->waiters without the smp_mb() (B) of futex_hb_waiters_pending(): the store to the futex word may still be in the store buffer"),
  mutant('no-futex-value-check', 'futex_wait_setup.value_check', "futex_wait_setup() queues the waiter without reading the futex word again under hb->lock (futex_get_value_locked())"),
];

export function variants(): readonly Variant[] {
  return VARIANTS;
}

export function findVariant(name: string): Variant | undefined {
  return VARIANTS.find((v) => v.name === name);
}
