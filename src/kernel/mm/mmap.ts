// Models: mm/mmap.c and mm/vma.c (v6.18) munmap() of one page of the calling
// process: the page leaves the mm's VMAs, its PTE is cleared; when no mapped page is
// left under the PMD, free_pgtables() takes the page-table page off the PMD and the
// mmu_gather flushes with freed_tables set (so lazy CPUs get the IPI too: their CR3
// still points at the tables, which a speculative walk may read), then frees the
// frame and, last, the page-table page (x86 without paravirt frees it once the
// flush IPIs have been answered).
// Leaves out: VMA splitting and merging, ranges of several pages, the mmap_lock,
// mmu notifiers, and MMU_GATHER_RCU_TABLE_FREE (paravirt).

import type { Op } from '../../machine/ops.js';
import { pte_pfn, pte_present } from '../../machine/paging.js';
import type { Kernel } from '../kernel.js';
import { kfunc } from '../dispatch.js';
import { free_page } from './page_alloc.js';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';
import { free_pte_table, pmd_table, pte_lock, pte_unlock, ptep_get_and_clear, vma_mapped, VMA_RO_SHIFT, zeroPfn } from './memory.js';

/** Models: SYSCALL_DEFINE2(munmap) (v6.18) for page vpn: 0. */
export const sys_munmap = kfunc(function* sys_munmap(k: Kernel, cpu: number, vpn: number): Generator<Op, number, number> {
  const T = k.layout.tlb!;
  const mm = k.currentMm(cpu);
  yield* k.note(`munmap(page ${vpn})`);
  // The page leaves the VMAs (under the mmap_lock, held for writing).
  const vmas = yield* k.READ_ONCE(T.vma[mm]!, 'mm->mm_mt: the VMAs');
  if (!vma_mapped(vmas, vpn)) return 0;
  const left = vmas & ~(1 << vpn) & ~(1 << (VMA_RO_SHIFT + vpn));
  yield* k.WRITE_ONCE(T.vma[mm]!, left, 'vms_complete_munmap_vmas(): the VMA is gone');
  const table = yield* pmd_table(k, mm);
  if (table < 0) return 0;
  // unmap_region(): unmap_vmas() clears the PTE; free_pgtables() frees the table once nothing is left under it.
  yield* pte_lock(k, cpu, mm);
  const old = yield* ptep_get_and_clear(k, T.tablePte[table]![vpn]!);
  const freeTable = (left & ((1 << VMA_RO_SHIFT) - 1)) === 0;
  if (freeTable) yield* k.WRITE_ONCE(T.pmd[mm]!, 0, 'free_pgtables(): pmd_clear()');
  yield* pte_unlock(k, cpu, mm);
  // pre-706a1ea65e6f: the page-table page was freed before the TLBs (and paging-structure caches) were flushed.
  const early = freeTable && k.variant.removed.has('tlb.table_free_after_flush');
  if (early) yield* free_pte_table(k, table);
  // tlb_finish_mmu(): the flush (freed_tables when the table went), then the pages.
  yield* flush_tlb_mm_range(k, cpu, mm, vpn, freeTable);
  if (pte_present(old) && pte_pfn(old) !== zeroPfn(k)) yield* free_page(k, pte_pfn(old));
  if (freeTable && !early) yield* free_pte_table(k, table);
  return 0;
});
