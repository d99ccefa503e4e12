// Models: mm/mprotect.c (v6.18) mprotect() of one page of the calling process
// between PROT_READ and PROT_READ | PROT_WRITE: do_mprotect_pkey() ->
// mprotect_fixup() (the VMA's VM_WRITE) -> change_protection() ->
// change_pte_range(), with the mmu_gather of do_mprotect_pkey(): under the
// page-table lock the PTE is taken (ptep_modify_prot_start(), on x86
// ptep_get_and_clear()), changed and put back (ptep_modify_prot_commit()); a
// change that pte_needs_flush() says needs one (a present PTE whose write permission
// changed) is flushed by tlb_finish_mmu() after the lock is dropped. Write comes
// back only for the process's own (exclusive anonymous) page, not for the zero page
// (can_change_pte_writable()).
// Leaves out: other protections (PROT_NONE, PROT_EXEC: refused by the front end),
// VMA splitting and merging, pkeys, soft-dirty and userfaultfd write-protect,
// NUMA hinting, the mmap_lock. flush_tlb_batched_pending() runs under the lock
// first: a PTE that reclaim cleared with its flush deferred is otherwise found not
// present, left alone, and its stale writable translation survives mprotect().

import type { Op } from '../../machine/ops.js';
import { pte_dirty, pte_pfn, pte_present, pte_write, _PAGE_RW } from '../../machine/paging.js';
import type { Kernel } from '../kernel.js';
import { ENOMEM, PROT_WRITE } from '../uapi.js';
import { kfunc } from '../dispatch.js';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';
import { flush_tlb_batched_pending } from './rmap.js';
import { pmd_table, pte_lock, pte_unlock, ptep_get_and_clear, vma_mapped, VMA_RO_SHIFT, zeroPfn } from './memory.js';

/**
 * Models: pte_needs_flush() -> pte_flags_need_flush(..., ignore_access = true)
 * (arch/x86/include/asm/tlbflush.h, v6.18): a PTE that was not present needs none;
 * a changed frame, or a changed write permission, does; so does a dirty bit
 * cleared (flush_on_clear: a dirty TLB entry would write without setting it
 * again), but not one set (the hardware sets it without a fault), and not the
 * accessed bit (see ptep_clear_flush_young()).
 */
export function pte_needs_flush(oldpte: number, newpte: number): boolean {
  if (!pte_present(oldpte)) return false;
  if (pte_pfn(oldpte) !== pte_pfn(newpte)) return true;
  if (pte_dirty(oldpte) && !pte_dirty(newpte)) return true;
  return pte_write(oldpte) !== pte_write(newpte);
}

/** Models: change_pte_range() (v6.18) for page vpn: returns whether the gather needs a flush. */
export const change_pte_range = kfunc(function* change_pte_range(k: Kernel, cpu: number, mm: number, vpn: number, write: boolean): Generator<Op, boolean, number> {
  const table = yield* pmd_table(k, mm);
  if (table < 0) return false;
  const pteLoc = k.layout.tlb!.tablePte[table]![vpn]!;
  yield* pte_lock(k, cpu, mm);
  yield* flush_tlb_batched_pending(k, cpu, mm);
  const pte = yield* k.READ_ONCE(pteLoc, 'ptep_get(pte)');
  if (!pte_present(pte)) {
    // pte_none() or a swap entry: nothing to change (no migration entries here).
    yield* pte_unlock(k, cpu, mm);
    return false;
  }
  const oldpte = yield* ptep_get_and_clear(k, pteLoc); // ptep_modify_prot_start()
  // pte_modify(); with write back, can_change_pte_writable(): only an exclusive anonymous page.
  const newpte = write ? (pte_pfn(oldpte) === zeroPfn(k) ? oldpte : oldpte | _PAGE_RW) : oldpte & ~_PAGE_RW;
  yield* k.WRITE_ONCE(pteLoc, newpte, 'ptep_modify_prot_commit(): set_pte_at()');
  const flush = pte_needs_flush(oldpte, newpte);
  yield* pte_unlock(k, cpu, mm);
  return flush; // tlb_flush_pte_range() when pte_needs_flush()
});

/** Models: SYSCALL_DEFINE3(mprotect) (v6.18) for page vpn and prot PROT_READ or PROT_READ | PROT_WRITE: 0, or -ENOMEM for a page without a VMA. */
export const sys_mprotect = kfunc(function* sys_mprotect(k: Kernel, cpu: number, vpn: number, prot: number): Generator<Op, number, number> {
  const T = k.layout.tlb!;
  const mm = k.currentMm(cpu);
  const write = (prot & PROT_WRITE) !== 0;
  yield* k.note(`mprotect(page ${vpn}, ${write ? 'PROT_READ | PROT_WRITE' : 'PROT_READ'})`);
  const vmas = yield* k.READ_ONCE(T.vma[mm]!, 'mm->mm_mt: the VMA');
  if (!vma_mapped(vmas, vpn)) return -ENOMEM;
  const ro = 1 << (VMA_RO_SHIFT + vpn);
  const next = write ? vmas & ~ro : vmas | ro;
  // mprotect_fixup(): nothing to do when the flags do not change.
  if (next === vmas) return 0;
  yield* k.WRITE_ONCE(T.vma[mm]!, next, 'mprotect_fixup(): vm_flags_reset(vma, newflags)');
  // tlb_gather_mmu(); change_protection(); tlb_finish_mmu(): the flush after the lock.
  if (yield* change_pte_range(k, cpu, mm, vpn, write)) yield* flush_tlb_mm_range(k, cpu, mm, vpn, false);
  return 0;
});
