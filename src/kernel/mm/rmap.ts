// Models: mm/rmap.c (v6.18) try_to_unmap_one() for an anonymous page of the
// scenario with TTU_BATCH_FLUSH (reclaim), and the deferred flush it may leave
// in current->tlb_ubc: set_tlb_ubc_flush_pending(), try_to_unmap_flush(),
// try_to_unmap_flush_dirty(). The page has one mapping (the process's mm), which
// the rmap walk finds under the page-table lock. And the anonymous rmap of a
// folio that fork() shares (include/linux/rmap.h): its mapcount and
// PageAnonExclusive, in memory in scenarios that fork (KernelConfig.cow):
// folio_add_new_anon_rmap(), folio_try_dup_anon_rmap_pte(),
// folio_remove_rmap_pte() with the folio_put() that frees the frame.
// The mm remembers that a flush was deferred (mm->tlb_flush_batched, since
// 3ea277194daa "mm, mprotect: flush TLB if potentially racing with a parallel
// reclaim leaving stale TLB entries"): mprotect(), the zap of madvise() and
// munmap(), and mremap() call flush_tlb_batched_pending() under the page-table
// lock, so that a PTE they find already cleared by reclaim is not left with a
// stale translation when they return.
// And the accessed-bit side of the rmap walk for page ageing: folio_referenced()
// -> rmap_walk() -> folio_referenced_one() -> ptep_clear_flush_young_notify()
// (on x86 ptep_clear_flush_young(), which clears the bit without a TLB flush:
// src/kernel/arch/x86/mm/pgtable.ts).
// Leaves out: mmu notifiers, hugetlb, KSM, device-exclusive and migration
// entries, MGLRU (lru_gen_look_around(); the model is the classic active/inactive
// LRU, CONFIG_LRU_GEN off or lru_gen_enabled() false), page idle tracking
// (folio_test_clear_young()), VM_LOCKED VMAs and rmap lock contention (-1); the reset of tlb_flush_batched when pending grows past
// TLB_FLUSH_BATCH_PENDING_LARGE (a scenario defers a few flushes at most).

import type { CpuCode, Op } from '../../machine/ops.js';
import { pte_dirty, pte_pfn, pte_present, swp_entry_to_pte } from '../../machine/paging.js';
import type { Kernel } from '../kernel.js';
import { FOLIO_ANON_EXCLUSIVE, FOLIO_MAPCOUNT_MASK } from '../kernel.js';
import { free_page } from './page_alloc.js';
import { kfunc } from '../dispatch.js';
import { arch_tlbbatch_add_pending, arch_tlbbatch_flush, flush_tlb_mm, flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';
import { pte_lock, pte_unlock, ptep_get_and_clear } from './memory.js';
import { ptep_clear_flush_young } from '../arch/x86/mm/pgtable.js';

/**
 * Models: should_defer_flush() -> arch_tlbbatch_should_defer() (v6.18, x86): defer
 * (batch) the flush only when a CPU other than this one is in mm_cpumask.
 */
export const should_defer_flush = kfunc(function* should_defer_flush(k: Kernel, cpu: number, mm: number): Generator<Op, boolean, number> {
  const bits = yield* k.READ_ONCE(k.layout.tlb!.cpumask[mm]!, 'arch_tlbbatch_should_defer(): cpumask_any_but(mm_cpumask(mm), cpu)');
  return (bits & ~(1 << cpu)) !== 0;
});

/**
 * Models: set_tlb_ubc_flush_pending() (v6.18): for a PTE that was present, add the
 * mm to the batch and mark a flush required; a dirty PTE also marks the batch
 * writable ("the caller must use try_to_unmap_flush_dirty() or
 * try_to_unmap_flush() before the page is freed").
 */
export const set_tlb_ubc_flush_pending = kfunc(function* set_tlb_ubc_flush_pending(k: Kernel, cpu: number, mm: number, pteval: number, vpn: number): CpuCode {
  // (The mutant no-dirty-check ignores the dirty bit here and in try_to_unmap_one().)
  if (!pte_present(pteval)) return; // !pte_accessible()
  yield* arch_tlbbatch_add_pending(k, cpu, mm, vpn);
  const ubc = k.tlbUbc[cpu]!;
  ubc.flushRequired = true;
  // barrier(); atomic_inc(&mm->tlb_flush_batched): one more deferred flush (pre-3ea277194daa: untracked).
  if (!k.variant.removed.has('tlb_flush_batched')) {
    yield { k: 'rmw', loc: k.layout.tlb!.tlbFlushBatched[mm]!, f: (v) => v + 1, site: { fn: 'atomic_inc(&mm->tlb_flush_batched)' } };
  }
  if (pte_dirty(pteval) && !k.variant.removed.has('reclaim.pte_dirty')) ubc.writable = true;
});

/** TLB_FLUSH_BATCH_FLUSHED_SHIFT and TLB_FLUSH_BATCH_PENDING_MASK (include/linux/mm_types.h). */
export const TLB_FLUSH_BATCH_FLUSHED_SHIFT = 16;
export const TLB_FLUSH_BATCH_PENDING_MASK = (1 << (TLB_FLUSH_BATCH_FLUSHED_SHIFT - 1)) - 1;

/**
 * Models: flush_tlb_batched_pending(mm) (mm/rmap.c, v6.18), called under the
 * page-table lock by a path that changes or clears PTEs: if reclaim deferred a
 * flush of this mm that no one has caught up with (pending != flushed), flush the
 * whole mm now (on x86 flush_tlb_mm()), then record the pendings as flushed
 * unless another was deferred meanwhile (atomic_cmpxchg()). The PTL orders it
 * against try_to_unmap_one(), which clears the PTE and counts the deferral under
 * the same lock. Before 3ea277194daa (pre-3ea277194daa) there was no such check.
 */
export const flush_tlb_batched_pending = kfunc(function* flush_tlb_batched_pending(k: Kernel, cpu: number, mm: number): CpuCode {
  if (k.variant.removed.has('tlb_flush_batched')) return;
  const loc = k.layout.tlb!.tlbFlushBatched[mm]!;
  const batch = yield* k.READ_ONCE(loc, 'atomic_read(&mm->tlb_flush_batched)');
  const pending = batch & TLB_FLUSH_BATCH_PENDING_MASK;
  const flushed = batch >> TLB_FLUSH_BATCH_FLUSHED_SHIFT;
  if (pending === flushed) return;
  yield* flush_tlb_mm(k, cpu, mm);
  const caught = pending | (pending << TLB_FLUSH_BATCH_FLUSHED_SHIFT);
  yield { k: 'rmw', loc, f: (v) => (v === batch ? caught : undefined), site: { fn: 'atomic_cmpxchg(&mm->tlb_flush_batched, batch, pending | pending << FLUSHED_SHIFT)' } };
});

/** Models: try_to_unmap_flush() (v6.18): the deferred flush, if one is pending. */
export const try_to_unmap_flush = kfunc(function* try_to_unmap_flush(k: Kernel, cpu: number): CpuCode {
  const ubc = k.tlbUbc[cpu]!;
  if (!ubc.flushRequired) return;
  yield* arch_tlbbatch_flush(k, cpu);
  ubc.flushRequired = false;
  ubc.writable = false;
});

/**
 * Models: try_to_unmap_flush_dirty() (v6.18): the deferred flush now if a cleared
 * PTE was dirty: a CPU may still hold a writable entry, and a write through it
 * after pageout() has read the page would be lost.
 */
export const try_to_unmap_flush_dirty = kfunc(function* try_to_unmap_flush_dirty(k: Kernel, cpu: number): CpuCode {
  if (k.tlbUbc[cpu]!.writable) yield* try_to_unmap_flush(k, cpu);
});

/**
 * Models: try_to_unmap_one() (v6.18) with TTU_BATCH_FLUSH for an anonymous page
 * whose swap slot is allocated: under the page-table lock the PTE is cleared,
 * with its flush deferred (ptep_get_and_clear(), set_tlb_ubc_flush_pending()) or
 * done at once (ptep_clear_flush()), and replaced by the swap entry. The dirty bit
 * of the PTE it cleared (read and cleared in one locked xchg, so that no CPU can
 * set it after the read: a CPU with a clean entry faults instead) goes to the
 * folio: "Set the dirty flag on the folio now the PTE is gone", folio_mark_dirty().
 * Returns the old PTE and whether the folio is dirty now.
 */
export const try_to_unmap_one = kfunc(function* try_to_unmap_one(k: Kernel, cpu: number, mm: number, vpn: number, pteLoc: number, folioDirty: boolean): Generator<Op, { pteval: number; dirty: boolean }, number> {
  yield* pte_lock(k, cpu, mm);
  const defer = yield* should_defer_flush(k, cpu, mm);
  const pteval = yield* ptep_get_and_clear(k, pteLoc);
  let dirty = folioDirty;
  if (pte_dirty(pteval) && !k.variant.removed.has('reclaim.pte_dirty')) {
    if (!dirty) yield* k.note('try_to_unmap_one(): pte_dirty(pteval): folio_mark_dirty()');
    dirty = true;
  }
  if (k.variant.removed.has('reclaim.unmap_flush')) {
    // The mutant no-unmap-flush: the PTE cleared, no flush done or deferred.
  } else if (defer) yield* set_tlb_ubc_flush_pending(k, cpu, mm, pteval, vpn);
  // Else ptep_clear_flush(): clear, then flush_tlb_page() (one page, no tables freed).
  else if (pte_present(pteval)) yield* flush_tlb_mm_range(k, cpu, mm, vpn, false);
  yield* k.WRITE_ONCE(pteLoc, swp_entry_to_pte(vpn), 'set_pte_at(): the swap entry');
  yield* pte_unlock(k, cpu, mm);
  return { pteval, dirty };
});

/**
 * Models: folio_add_new_anon_rmap() (v6.18) with RMAP_EXCLUSIVE: a new anonymous
 * folio (a fault's fresh or copied page) is mapped once and exclusive. A store
 * before the PTE that maps it is set.
 */
export const folio_add_new_anon_rmap = kfunc(function* folio_add_new_anon_rmap(k: Kernel, pfn: number): CpuCode {
  const loc = k.layout.tlb!.folio[pfn];
  if (loc !== undefined) yield* k.WRITE_ONCE(loc, 1 | FOLIO_ANON_EXCLUSIVE, 'folio_add_new_anon_rmap(): mapcount 1, SetPageAnonExclusive');
});

/**
 * Models: folio_try_dup_anon_rmap_pte() (v6.18), for copy_present_ptes() at
 * fork(): one more mapping, and the page is no longer exclusive
 * (ClearPageAnonExclusive: "the page is shared with the child"). A locked op
 * (atomic_inc of the mapcount). The model has no GUP pins, so it never fails.
 */
export const folio_try_dup_anon_rmap_pte = kfunc(function* folio_try_dup_anon_rmap_pte(k: Kernel, pfn: number): CpuCode {
  const loc = k.layout.tlb!.folio[pfn]!;
  yield { k: 'rmw', loc, f: (v) => (v & FOLIO_MAPCOUNT_MASK) + 1, site: { fn: 'folio_try_dup_anon_rmap_pte(): mapcount + 1, ClearPageAnonExclusive' } };
});

/**
 * Models: folio_remove_rmap_pte() and folio_put() (v6.18) for an anonymous folio
 * whose PTE was cleared and flushed: the mapping goes, and the frame is freed with
 * the last one. Without fork() in the scenario the folio had one mapping: freed at once.
 */
export const folio_remove_rmap_pte = kfunc(function* folio_remove_rmap_pte(k: Kernel, pfn: number): CpuCode {
  const loc = k.layout.tlb!.folio[pfn];
  if (loc === undefined) {
    yield* free_page(k, pfn);
    return;
  }
  const old = yield { k: 'rmw', loc, f: (v) => ((v & FOLIO_MAPCOUNT_MASK) <= 1 ? 0 : v - 1), site: { fn: 'folio_remove_rmap_pte(): mapcount - 1' } };
  if ((old & FOLIO_MAPCOUNT_MASK) <= 1) yield* free_page(k, pfn); // folio_put(): the last reference
});

/**
 * Models: folio_referenced_one() (mm/rmap.c, v6.18) for the folio's one mapping,
 * the process's mm, without MGLRU: page_vma_mapped_walk() finds the PTE (map_pte()
 * reads it without the lock to see whether it may map the folio, then takes the
 * page-table lock), and for a present PTE ptep_clear_flush_young_notify() reads and
 * clears its accessed bit: one reference if it was set. The lock is dropped when
 * the walk ends. Returns the references found (0 or 1).
 */
export const folio_referenced_one = kfunc(function* folio_referenced_one(k: Kernel, cpu: number, mm: number, vpn: number, pteLoc: number, pfn: number): Generator<Op, number, number> {
  // map_pte() -> check_pte(): the PTE still maps this folio (else not mapped here).
  const seen = yield* k.READ_ONCE(pteLoc, 'page_vma_mapped_walk(): map_pte(): ptep_get()');
  if (!pte_present(seen) || pte_pfn(seen) !== pfn) return 0;
  yield* pte_lock(k, cpu, mm);
  const pte = yield* k.READ_ONCE(pteLoc, 'folio_referenced_one(): pte_present(ptep_get(pvmw.pte))');
  let referenced = 0;
  if (pte_present(pte) && pte_pfn(pte) === pfn && (yield* ptep_clear_flush_young(k, cpu, mm, vpn, pteLoc))) referenced++;
  yield* pte_unlock(k, cpu, mm);
  return referenced;
});

/**
 * Models: folio_referenced(folio, is_locked = 1, ...) (mm/rmap.c, v6.18) for an
 * anonymous folio reclaim holds locked: rmap_walk() over its mappings with
 * folio_referenced_one(); the number of mappings that referenced it. The folio has
 * one mapping here (reclaim of a folio fork() shares is refused, program.ts).
 */
export const folio_referenced = kfunc(function* folio_referenced(k: Kernel, cpu: number, mm: number, vpn: number, pteLoc: number, pfn: number): Generator<Op, number, number> {
  return yield* folio_referenced_one(k, cpu, mm, vpn, pteLoc, pfn);
});
