// Models: mm/mmap.c and mm/vma.c (v6.18) munmap() of one page of the calling
// process: the page leaves the mm's VMAs, its PTE is cleared; when no mapped page is
// left under the PMD, free_pgtables() takes the page-table page off the PMD and the
// mmu_gather flushes with freed_tables set (so lazy CPUs get the IPI too: their CR3
// still points at the tables, which a speculative walk may read), then frees the
// frame and, last, the page-table page (x86 without paravirt frees it once the
// flush IPIs have been answered).
// And dup_mmap() (mm/mmap.c since it moved out of kernel/fork.c): fork()'s copy
// of the address space.
// And exit_mmap() as far as its paravirt hook: arch_exit_mmap() -> Xen PV's
// xen_exit_mmap() (src/kernel/arch/x86/xen/mmu_pv.ts).
// Leaves out: VMA splitting and merging, ranges of several pages, the mmap_lock,
// mmu notifiers, and MMU_GATHER_RCU_TABLE_FREE (paravirt); VM_DONTCOPY and
// VM_WIPEONFORK (no madvise() sets them here).

import type { CpuCode, Op } from '../../machine/ops.js';
import { pte_pfn, pte_present } from '../../machine/paging.js';
import type { Kernel } from '../kernel.js';
import { kfunc } from '../dispatch.js';
import { flush_tlb_batched_pending, folio_remove_rmap_pte } from './rmap.js';
import { flush_tlb_mm, flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';
import { xen_exit_mmap } from '../arch/x86/xen/mmu_pv.js';
import { copy_page_range, free_pte_table, pmd_table, pte_lock, pte_unlock, ptep_get_and_clear, vma_mapped, VMA_RO_SHIFT, zeroPfn } from './memory.js';

/** Models: SYSCALL_DEFINE2(munmap) (v6.18) for page vpn: 0. */
export const sys_munmap = kfunc(function* sys_munmap(k: Kernel, cpu: number, vpn: number): Generator<Op, number, number> {
  yield* k.note(`munmap(page ${vpn})`);
  yield* do_munmap(k, cpu, k.currentMm(cpu), vpn);
  return 0;
});

/**
 * Models: do_munmap() -> do_vmi_munmap() (v6.18) for page vpn of mm: the VMA goes
 * (under the mmap_lock, held for writing); unmap_region(): unmap_vmas() clears the
 * PTE, free_pgtables() frees the page-table page once nothing is left under it,
 * and tlb_finish_mmu() flushes when anything was gathered (a present PTE cleared,
 * or the table freed), then frees the frame and the table.
 */
export const do_munmap = kfunc(function* do_munmap(k: Kernel, cpu: number, mm: number, vpn: number): CpuCode {
  const T = k.layout.tlb!;
  const vmas = yield* k.READ_ONCE(T.vma[mm]!, 'mm->mm_mt: the VMAs');
  if (!vma_mapped(vmas, vpn)) return;
  const left = vmas & ~(1 << vpn) & ~(1 << (VMA_RO_SHIFT + vpn));
  yield* k.WRITE_ONCE(T.vma[mm]!, left, 'vms_complete_munmap_vmas(): the VMA is gone');
  const table = yield* pmd_table(k, mm);
  if (table < 0) return;
  yield* pte_lock(k, cpu, mm);
  yield* flush_tlb_batched_pending(k, cpu, mm); // zap_pte_range()
  const old = yield* ptep_get_and_clear(k, T.tablePte[table]![vpn]!);
  const freeTable = (left & ((1 << VMA_RO_SHIFT) - 1)) === 0;
  if (freeTable) yield* k.WRITE_ONCE(T.pmd[mm]!, 0, 'free_pgtables(): pmd_clear()');
  yield* pte_unlock(k, cpu, mm);
  // pre-706a1ea65e6f: the page-table page was freed before the TLBs (and paging-structure caches) were flushed.
  const early = freeTable && k.variant.removed.has('tlb.table_free_after_flush');
  if (early) yield* free_pte_table(k, table);
  // tlb_finish_mmu(): the flush (freed_tables when the table went) if anything was gathered, then the pages.
  if (pte_present(old) || freeTable) yield* flush_tlb_mm_range(k, cpu, mm, vpn, freeTable);
  if (pte_present(old) && pte_pfn(old) !== zeroPfn(k)) yield* folio_remove_rmap_pte(k, pte_pfn(old));
  if (freeTable && !early) yield* free_pte_table(k, table);
});

/**
 * Models: dup_mmap(mm, oldmm) (mm/mmap.c, v6.18), run by the parent for fork():
 * with oldmm's mmap_lock held for writing, the child gets a copy of every VMA
 * (__mt_dup(), vm_area_dup()) and of its page table (copy_page_range(), which
 * write-protects the parent's writable PTEs of private pages); then, at `out:`,
 * flush_tlb_mm(oldmm) before the parent's mmap_lock is dropped: every CPU that may
 * hold a writable translation of the parent's pages loses it before fork()
 * returns and before the child can run. The mutant no-fork-flush leaves the flush out.
 */
export const dup_mmap = kfunc(function* dup_mmap(k: Kernel, cpu: number, mm: number, oldmm: number): CpuCode {
  const T = k.layout.tlb!;
  const vmas = yield* k.READ_ONCE(T.vma[oldmm]!, 'for_each_vma(vmi, mpnt): the VMAs of oldmm');
  yield* k.WRITE_ONCE(T.vma[mm]!, vmas, '__mt_dup(), vm_area_dup(): the VMAs of mm');
  if ((vmas & ((1 << VMA_RO_SHIFT) - 1)) !== 0) yield* copy_page_range(k, cpu, mm, oldmm, vmas);
  if (!k.variant.removed.has('dup_mmap.flush_tlb_mm')) yield* flush_tlb_mm(k, cpu, oldmm);
});

/**
 * Models: exit_mmap() (mm/mmap.c, v6.18), called by __mmput() for the last user:
 * here only its first step, arch_exit_mmap(mm) -> paravirt_arch_exit_mmap(), which
 * is xen_exit_mmap() on a Xen PV guest and nothing on native x86. Leaves out the
 * rest: mmu_notifier_release(), unmap_vmas() and free_pgtables() with their
 * mmu_gather flush, and the VMAs (the mm's pages stay mapped: no modelled CPU
 * uses them after its last user exited).
 */
export const exit_mmap = kfunc(function* exit_mmap(k: Kernel, cpu: number, mm: number): CpuCode {
  if (k.layout.xen) yield* xen_exit_mmap(k, cpu, mm);
});
