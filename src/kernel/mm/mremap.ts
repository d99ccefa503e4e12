// Models: mm/mremap.c (v6.18) mremap(old, PAGE_SIZE, PAGE_SIZE,
// MREMAP_MAYMOVE | MREMAP_FIXED, new) of one page of the calling process:
// mremap_to() unmaps whatever is at the new address first (do_munmap()); move_vma()
// makes the new VMA (copy_vma()), move_page_tables() -> move_ptes() moves the PTE
// under the page-table lock (get_and_clear_ptes() at the old address, set_pte_at()
// at the new) and, since eb66ae030829 (CVE-2018-18281), flushes the old address
// (flush_tlb_range()) before it drops the lock; then the old VMA goes (nothing left
// to gather under it: no flush). The page keeps its protection.
// Before eb66ae030829 the flush ran after the lock was dropped: in that window
// another thread can zap the page at its new address and free the frame while a
// CPU still translates the old address to it.
// Leaves out: moves of whole PMDs (the page is one PTE), growing and shrinking,
// MREMAP_DONTUNMAP, userfaultfd, rmap locks (one mapping), the mmap_lock, and the
// split page-table locks (the old and new PTE share one table and one lock here).

import type { Op } from '../../machine/ops.js';
import { pte_present } from '../../machine/paging.js';
import type { Kernel } from '../kernel.js';
import { EFAULT, EINVAL } from '../uapi.js';
import { kfunc } from '../dispatch.js';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';
import { flush_tlb_batched_pending } from './rmap.js';
import { pmd_table, pte_lock, pte_unlock, ptep_get_and_clear, vma_mapped, vma_writable, VMA_RO_SHIFT } from './memory.js';
import { do_munmap } from './mmap.js';

/** Models: move_ptes() (v6.18) for one page: the PTE moved from page from to page to. */
export const move_ptes = kfunc(function* move_ptes(k: Kernel, cpu: number, mm: number, from: number, to: number): Generator<Op, void, number> {
  const T = k.layout.tlb!;
  const table = yield* pmd_table(k, mm);
  if (table < 0) return;
  yield* pte_lock(k, cpu, mm);
  yield* flush_tlb_batched_pending(k, cpu, mm);
  const pte = yield* ptep_get_and_clear(k, T.tablePte[table]![from]!);
  const forceFlush = pte_present(pte);
  yield* k.WRITE_ONCE(T.tablePte[table]![to]!, pte, 'move_ptes(): set_pte_at(new_addr)');
  // eb66ae030829: flush before the lock goes, so nothing can free the page meanwhile.
  const early = !k.variant.removed.has('mremap.flush_under_ptl');
  if (forceFlush && early) yield* flush_tlb_mm_range(k, cpu, mm, from, false);
  yield* pte_unlock(k, cpu, mm);
  if (forceFlush && !early) yield* flush_tlb_mm_range(k, cpu, mm, from, false);
});

/** Models: SYSCALL_DEFINE5(mremap) (v6.18) with MREMAP_MAYMOVE | MREMAP_FIXED of page from to page to: 0, or -EFAULT when from has no VMA. */
export const sys_mremap = kfunc(function* sys_mremap(k: Kernel, cpu: number, from: number, to: number): Generator<Op, number, number> {
  const T = k.layout.tlb!;
  const mm = k.currentMm(cpu);
  yield* k.note(`mremap(page ${from} -> page ${to}, MREMAP_MAYMOVE | MREMAP_FIXED)`);
  if (from === to) return -EINVAL; // the ranges overlap
  if (!vma_mapped(yield* k.READ_ONCE(T.vma[mm]!, 'vma_lookup(old_addr)'), from)) return -EFAULT;
  // mremap_to(): MREMAP_FIXED unmaps the new range first.
  yield* do_munmap(k, cpu, mm, to);
  // move_vma(): copy_vma() makes the new VMA, with the old one's protection.
  const vmas = yield* k.READ_ONCE(T.vma[mm]!, 'copy_vma()');
  const ro = vma_writable(vmas, from) ? 0 : 1 << (VMA_RO_SHIFT + to);
  yield* k.WRITE_ONCE(T.vma[mm]!, vmas | (1 << to) | ro, 'copy_vma(): the new VMA');
  yield* move_ptes(k, cpu, mm, from, to);
  // do_vmi_munmap() of the old range: its PTE is gone already, nothing to flush.
  const now = yield* k.READ_ONCE(T.vma[mm]!, 'do_vmi_munmap(old_addr)');
  yield* k.WRITE_ONCE(T.vma[mm]!, now & ~(1 << from) & ~(1 << (VMA_RO_SHIFT + from)), 'do_vmi_munmap(): the old VMA is gone');
  return 0;
});
