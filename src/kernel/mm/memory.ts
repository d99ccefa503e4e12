// Models: mm/memory.c (v6.18) for the scenario's anonymous pages: the page fault
// (handle_mm_fault() -> __pte_alloc(), do_anonymous_page(), do_wp_page() ->
// wp_page_copy()) and the unmapping of a page (zap_page_range_single() with an
// mmu_gather), each under the page-table lock. A read fault on a page that is not
// present maps the shared zero page read-only; a write fault allocates and clears a
// frame; a write to the zero page copies it (copy-on-write): the old translation is
// cleared and flushed (ptep_clear_flush() -> flush_tlb_mm_range()) before the new one
// is set. An mm whose page table was freed (munmap()) gets a new page-table page at
// its next fault.
// Leaves out: VMAs beyond one bitmap of mapped pages per mm (a fault on a page
// without one is SIGSEGV), rmap, LRU, memcg, swap, THP, userfaultfd, NUMA, the
// mmap_lock and the per-VMA locks.

import type { CpuCode, Op } from '../../machine/ops.js';
import { mk_pte, pte_pfn, pte_present, _PAGE_RW } from '../../machine/paging.js';
import { BoundExceeded } from '../../machine/machine.js';
import type { Kernel } from '../kernel.js';
import { kfunc } from '../dispatch.js';
import { alloc_page, clear_user_highpage, free_page } from './page_alloc.js';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';

/** The shared zero page's frame (ZERO_PAGE(0)): the last frame of the layout, never written. */
export const zeroPfn = (k: Kernel): number => k.layout.tlb!.frame.length - 1;

/** pte_offset_map_lock(): the mm's page-table lock (a spinning locked op, as the model's locks do). */
export function* pte_lock(k: Kernel, cpu: number, mm: number): CpuCode {
  yield* k.spin_lock(k.layout.tlb!.ptl[mm]!, cpu, 'pte_offset_map_lock');
}

export function* pte_unlock(k: Kernel, cpu: number, mm: number): CpuCode {
  yield* k.spin_unlock(k.layout.tlb!.ptl[mm]!, cpu, 'pte_unmap_unlock');
}

/** pmd_offset(): the page-table page the mm's PMD points to, or -1 (pmd_none()). */
export function* pmd_table(k: Kernel, mm: number): Generator<Op, number, number> {
  return (yield* k.READ_ONCE(k.layout.tlb!.pmd[mm]!, 'pmd_offset(): *pmd')) - 1;
}

/** set_pte_at(): a plain store of the PTE (through the store buffer). */
function* set_pte_at(k: Kernel, pteLoc: number, pte: number): CpuCode {
  yield* k.WRITE_ONCE(pteLoc, pte, 'set_pte_at');
}

/** ptep_get_and_clear(): xchg() of the PTE with 0 (a locked op: the old value, dirty bit and all). */
export function* ptep_get_and_clear(k: Kernel, pteLoc: number): Generator<Op, number, number> {
  return yield* k.xchg(pteLoc, 0, 'ptep_get_and_clear');
}

/**
 * Models: __pte_alloc() (v6.18): a page-table page for an mm whose PMD has none:
 * taken from the free pages and cleared (pte_alloc_one()), then installed under the
 * lock (pmd_install(): smp_wmb(), then pmd_populate()) unless another CPU installed
 * one meanwhile, in which case it goes back.
 */
export const __pte_alloc = kfunc(function* __pte_alloc(k: Kernel, cpu: number, mm: number): Generator<Op, number, number> {
  const T = k.layout.tlb!;
  const old = yield { k: 'rmw', loc: T.freeTables, f: (v) => (v === 0 ? undefined : v & (v - 1)), site: { fn: 'pte_alloc_one' } };
  if (old === 0) throw new BoundExceeded(`the scenario's page-table pages ran out (tables_max = ${T.tablePte.length})`);
  const table = 31 - Math.clz32(old & -old);
  for (const loc of T.tablePte[table]!) yield* k.WRITE_ONCE(loc, 0, 'pte_alloc_one: clear the page');
  yield* k.WRITE_ONCE(T.tableOwner[table]!, mm, '(check) page-table page owner');
  yield* pte_lock(k, cpu, mm);
  const now = yield* pmd_table(k, mm);
  if (now < 0) yield* k.WRITE_ONCE(T.pmd[mm]!, table + 1, 'pmd_install(): pmd_populate()');
  yield* pte_unlock(k, cpu, mm);
  if (now < 0) return table;
  yield* free_pte_table(k, table);
  return now;
});

/** Models: pte_free() (v6.18): the page-table page goes back to the free pages. */
export const free_pte_table = kfunc(function* free_pte_table(k: Kernel, table: number): CpuCode {
  const T = k.layout.tlb!;
  yield* k.WRITE_ONCE(T.tableOwner[table]!, 0, '(check) page-table page owner');
  yield { k: 'rmw', loc: T.freeTables, f: (v) => v | (1 << table), site: { fn: `pte_free(page table ${table})` } };
});

/**
 * Models: do_anonymous_page() (v6.18): a read maps the zero page read-only; a write
 * allocates and clears a frame first, then maps it unless another CPU mapped the
 * page meanwhile (then the frame goes back).
 */
export const do_anonymous_page = kfunc(function* do_anonymous_page(k: Kernel, cpu: number, mm: number, pteLoc: number, write: boolean): CpuCode {
  if (!write) {
    yield* pte_lock(k, cpu, mm);
    if (!pte_present(yield* k.READ_ONCE(pteLoc, 'pte_none(*vmf->pte)'))) yield* set_pte_at(k, pteLoc, mk_pte(zeroPfn(k), false));
    yield* pte_unlock(k, cpu, mm);
    return;
  }
  const pfn = yield* alloc_page(k);
  yield* clear_user_highpage(k, pfn);
  yield* pte_lock(k, cpu, mm);
  if (pte_present(yield* k.READ_ONCE(pteLoc, 'pte_none(*vmf->pte)'))) {
    yield* pte_unlock(k, cpu, mm);
    yield* free_page(k, pfn);
    return;
  }
  yield* set_pte_at(k, pteLoc, mk_pte(pfn));
  yield* pte_unlock(k, cpu, mm);
});

/**
 * Models: do_wp_page() -> wp_page_copy() (v6.18) for a write to a read-only
 * mapping (the zero page): a new frame with a copy of the data, then, under the
 * lock and if the PTE is still the one that faulted, ptep_clear_flush() (the PTE
 * cleared and the old translation flushed from every CPU) and the new PTE set.
 */
export const wp_page_copy = kfunc(function* wp_page_copy(k: Kernel, cpu: number, mm: number, vpn: number, pteLoc: number, orig: number): CpuCode {
  const T = k.layout.tlb!;
  const pfn = yield* alloc_page(k);
  const data = yield* k.READ_ONCE(T.frame[pte_pfn(orig)]!, 'copy_user_highpage: read');
  yield* k.WRITE_ONCE(T.frame[pfn]!, data, 'copy_user_highpage: write');
  yield* pte_lock(k, cpu, mm);
  if ((yield* k.READ_ONCE(pteLoc, 'pte_same(*vmf->pte, orig_pte)')) !== orig) {
    yield* pte_unlock(k, cpu, mm);
    yield* free_page(k, pfn);
    return;
  }
  // ptep_clear_flush(): clear, then flush_tlb_page() (one page, no page tables freed).
  yield* ptep_get_and_clear(k, pteLoc);
  yield* flush_tlb_mm_range(k, cpu, mm, vpn, false);
  yield* set_pte_at(k, pteLoc, mk_pte(pfn));
  yield* pte_unlock(k, cpu, mm);
});

/**
 * Models: handle_mm_fault() -> handle_pte_fault() (v6.18) for a fault on user page
 * vpn of mm: a page-table page first if the PMD has none (__pte_alloc()); then not
 * present -> do_anonymous_page(); a write to a read-only PTE -> do_wp_page();
 * otherwise another CPU fixed the PTE already (a spurious fault).
 */
export const handle_mm_fault = kfunc(function* handle_mm_fault(k: Kernel, cpu: number, mm: number, vpn: number, write: boolean): CpuCode {
  let table = yield* pmd_table(k, mm);
  if (table < 0) table = yield* __pte_alloc(k, cpu, mm);
  const pteLoc = k.layout.tlb!.tablePte[table]![vpn]!;
  const pte = yield* k.READ_ONCE(pteLoc, 'handle_pte_fault(): vmf->orig_pte');
  if (!pte_present(pte)) {
    yield* do_anonymous_page(k, cpu, mm, pteLoc, write);
    return;
  }
  if (write && (pte & _PAGE_RW) === 0) {
    yield* wp_page_copy(k, cpu, mm, vpn, pteLoc, pte);
    return;
  }
  yield* k.note('handle_pte_fault(): the PTE is already fixed (spurious fault)');
});

/**
 * Models: zap_page_range_single() (v6.18) for one page, with its mmu_gather: the PTE
 * cleared under the lock, then tlb_finish_mmu() flushes the TLBs
 * (flush_tlb_mm_range()) and only then frees the page: a CPU that could still
 * translate to the frame must have flushed first.
 */
export const zap_page_range_single = kfunc(function* zap_page_range_single(k: Kernel, cpu: number, mm: number, vpn: number): CpuCode {
  const table = yield* pmd_table(k, mm);
  if (table < 0) return;
  yield* pte_lock(k, cpu, mm);
  const old = yield* ptep_get_and_clear(k, k.layout.tlb!.tablePte[table]![vpn]!);
  yield* pte_unlock(k, cpu, mm);
  if (!pte_present(old)) return;
  // tlb_finish_mmu() -> tlb_flush_mmu(): the flush, then the gathered pages are freed.
  yield* flush_tlb_mm_range(k, cpu, mm, vpn, false);
  if (pte_pfn(old) !== zeroPfn(k)) yield* free_page(k, pte_pfn(old));
});
