// Models: mm/memory.c (v6.18) for the scenario's anonymous pages: the page fault
// (handle_mm_fault() -> __pte_alloc(), do_anonymous_page(), do_swap_page(),
// do_wp_page() -> wp_page_copy() or wp_page_reuse()), the unmapping of a page
// (zap_page_range_single() with an mmu_gather) and fork()'s copy of the page table
// (copy_page_range()), each under the page-table lock. A
// read fault on a page that is not present maps the shared zero page read-only; a
// write fault allocates and clears a frame; a write to the zero page copies it
// (copy-on-write): the old translation is cleared and flushed (ptep_clear_flush() ->
// flush_tlb_mm_range()) before the new one is set; a write to a read-only PTE of the
// process's own page (after mprotect() took write away and gave it back) makes the
// PTE writable again without a flush (x86 treats the old read-only entry's fault as
// spurious). A page reclaim swapped out is read back from its swap slot. An mm
// whose page table was freed (munmap()) gets a new page-table page at its next fault.
// After fork() parent and child map the same frame read-only; a write in either
// copies it (wp_page_copy(), with ptep_clear_flush()) while the folio is shared,
// and takes it back writable (wp_page_reuse()) once it is exclusive again.
// Leaves out: VMAs beyond two bitmaps per mm (mapped pages, read-only pages; a fault
// on a page without a VMA, or a write to a read-only one, is SIGSEGV), rmap beyond
// a folio's mapcount and PageAnonExclusive (no reference count apart from them: no
// GUP pins, so fork() never copies a page at once), LRU, memcg, THP, userfaultfd,
// NUMA, the mmap_lock and the per-VMA locks (a fault during fork() does not wait for
// dup_mmap() to finish: it only sees the PTE earlier or later); do_swap_page() waits
// on the folio lock for a reclaim in progress and then reads the slot, where the
// kernel would find the folio in the swap cache first (the same data: reclaim
// writes the slot under that lock).

import type { CpuCode, Op } from '../../machine/ops.js';
import { is_swap_pte, mk_pte, pte_pfn, pte_present, pte_write, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_RW } from '../../machine/paging.js';
import { BoundExceeded } from '../../machine/machine.js';
import type { Kernel } from '../kernel.js';
import { kfunc } from '../dispatch.js';
import { alloc_page, clear_user_highpage, free_page } from './page_alloc.js';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';
import { folio_lock, folio_unlock } from './filemap.js';
import { flush_tlb_batched_pending, folio_add_new_anon_rmap, folio_remove_rmap_pte, folio_try_dup_anon_rmap_pte } from './rmap.js';
import { FOLIO_ANON_EXCLUSIVE, FOLIO_MAPCOUNT_MASK } from '../kernel.js';

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

/**
 * ptep_get_and_clear() (arch/x86/include/asm/pgtable.h, v6.18: native_ptep_get_and_clear()):
 * xchg() of the PTE with 0, a locked op that returns the old value with its accessed
 * and dirty bits: no CPU can set either bit between the read and the clear (the
 * hardware's update of a bit walks again and finds the PTE gone). ptep_get_and_clear_full()
 * is the same on x86 for a PTE of a live mm.
 */
export function* ptep_get_and_clear(k: Kernel, pteLoc: number, fn = 'ptep_get_and_clear'): Generator<Op, number, number> {
  return yield* k.xchg(pteLoc, 0, fn);
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
 * Models: do_anonymous_page() (v6.18), for a fault that found the PTE none: a read
 * maps the zero page read-only; a write allocates and clears a frame first, then
 * maps it unless the PTE is no longer none under the lock (another CPU mapped the
 * page, or reclaim left a swap entry: the frame goes back and the access retries).
 */
export const do_anonymous_page = kfunc(function* do_anonymous_page(k: Kernel, cpu: number, mm: number, pteLoc: number, write: boolean): CpuCode {
  if (!write) {
    yield* pte_lock(k, cpu, mm);
    if ((yield* k.READ_ONCE(pteLoc, 'vmf_pte_changed(): pte_none(*vmf->pte)')) === 0) yield* set_pte_at(k, pteLoc, mk_pte(zeroPfn(k), false));
    yield* pte_unlock(k, cpu, mm);
    return;
  }
  const pfn = yield* alloc_page(k);
  yield* clear_user_highpage(k, pfn);
  yield* pte_lock(k, cpu, mm);
  if ((yield* k.READ_ONCE(pteLoc, 'vmf_pte_changed(): pte_none(*vmf->pte)')) !== 0) {
    yield* pte_unlock(k, cpu, mm);
    yield* free_page(k, pfn);
    return;
  }
  yield* folio_add_new_anon_rmap(k, pfn);
  yield* set_pte_at(k, pteLoc, mk_pte(pfn));
  yield* pte_unlock(k, cpu, mm);
});

/**
 * Models: do_wp_page() -> wp_page_copy() (v6.18) for a write to a read-only
 * mapping of the zero page or of a folio fork() shared: a new frame with a copy of
 * the data (__wp_page_copy_user()), then, under the lock and if the PTE is still
 * the one that faulted, ptep_clear_flush() (the PTE cleared and the old
 * translation flushed from every CPU: "Clear the pte entry and flush it first,
 * before updating the pte with the new entry, to keep TLBs on different CPUs in
 * sync"), the new folio's rmap and the new PTE; then the old folio loses this
 * mapping (folio_remove_rmap_pte(), and folio_put() frees it with its last). The
 * mutant no-wp-copy-flush clears the PTE without the flush.
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
  if (!k.variant.removed.has('wp_page_copy.flush')) yield* flush_tlb_mm_range(k, cpu, mm, vpn, false);
  yield* folio_add_new_anon_rmap(k, pfn);
  yield* set_pte_at(k, pteLoc, mk_pte(pfn));
  yield* pte_unlock(k, cpu, mm);
  if (pte_pfn(orig) !== zeroPfn(k)) yield* folio_remove_rmap_pte(k, pte_pfn(orig));
});

/**
 * Models: do_wp_page() (v6.18) for a write fault on a read-only PTE of an
 * anonymous folio in a scenario that forks (KernelConfig.cow), entered as the
 * kernel enters it, with the page-table lock held and the PTE rechecked: the folio
 * is reused (wp_page_reuse()) if PageAnonExclusive, or if this is its only mapping
 * (wp_can_reuse_anon_folio(), which then sets PageAnonExclusive); otherwise the
 * lock is dropped and wp_page_copy() copies it. The kernel's test is the folio's
 * reference count under the folio lock; here the mapcount (no other references).
 */
export const do_wp_page = kfunc(function* do_wp_page(k: Kernel, cpu: number, mm: number, vpn: number, pteLoc: number, orig: number): CpuCode {
  const T = k.layout.tlb!;
  if (pte_pfn(orig) === zeroPfn(k)) {
    yield* wp_page_copy(k, cpu, mm, vpn, pteLoc, orig);
    return;
  }
  const loc = T.folio[pte_pfn(orig)];
  if (loc === undefined) {
    yield* wp_page_reuse(k, cpu, mm, pteLoc, orig);
    return;
  }
  yield* pte_lock(k, cpu, mm);
  if ((yield* k.READ_ONCE(pteLoc, 'pte_same(*vmf->pte, vmf->orig_pte)')) !== orig) {
    yield* pte_unlock(k, cpu, mm);
    return;
  }
  const f = yield* k.READ_ONCE(loc, 'PageAnonExclusive(vmf->page) || wp_can_reuse_anon_folio()');
  if ((f & FOLIO_ANON_EXCLUSIVE) !== 0 || (f & FOLIO_MAPCOUNT_MASK) === 1) {
    if ((f & FOLIO_ANON_EXCLUSIVE) === 0) yield { k: 'rmw', loc, f: (v) => v | FOLIO_ANON_EXCLUSIVE, site: { fn: 'SetPageAnonExclusive(vmf->page)' } };
    yield* k.WRITE_ONCE(pteLoc, orig | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED, 'wp_page_reuse(): ptep_set_access_flags(): pte_mkwrite(pte_mkdirty(pte_mkyoung()))');
    yield* pte_unlock(k, cpu, mm);
    return;
  }
  yield* pte_unlock(k, cpu, mm);
  yield* wp_page_copy(k, cpu, mm, vpn, pteLoc, orig);
});

/** VMA bits: bit vpn: page vpn is mapped; bit VMA_RO_SHIFT + vpn: its VMA lacks VM_WRITE (mprotect(PROT_READ)). */
export const VMA_RO_SHIFT = 8;
export const vma_mapped = (vmas: number, vpn: number): boolean => (vmas & (1 << vpn)) !== 0;
export const vma_writable = (vmas: number, vpn: number): boolean => (vmas & (1 << (VMA_RO_SHIFT + vpn))) === 0;

/**
 * Models: wp_page_reuse() (v6.18), reached from do_wp_page() for a write to a
 * read-only PTE of an exclusive anonymous page (mapped writable again by the
 * fault, not by mprotect()): under the lock, if the PTE is still the one that
 * faulted, ptep_set_access_flags() stores it writable and dirty. No flush: a CPU
 * with the old read-only entry takes a fault, which x86 finds spurious.
 */
export const wp_page_reuse = kfunc(function* wp_page_reuse(k: Kernel, cpu: number, mm: number, pteLoc: number, orig: number): CpuCode {
  yield* pte_lock(k, cpu, mm);
  if ((yield* k.READ_ONCE(pteLoc, 'pte_same(*vmf->pte, orig_pte)')) === orig) {
    yield* k.WRITE_ONCE(pteLoc, orig | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED, 'ptep_set_access_flags(): pte_mkwrite(pte_mkdirty(pte_mkyoung()))');
  }
  yield* pte_unlock(k, cpu, mm);
});

/**
 * Models: do_swap_page() (v6.18) for a page reclaim swapped out: the folio lock
 * (waiting for a reclaim in progress), a new frame with the slot's data
 * (swap_read_folio()), then under the page-table lock, if the PTE is still the swap
 * entry, the PTE: writable if the VMA is (the folio is exclusive), dirty only for
 * a write fault.
 */
export const do_swap_page = kfunc(function* do_swap_page(k: Kernel, cpu: number, mm: number, vpn: number, pteLoc: number, orig: number, write: boolean): CpuCode {
  const T = k.layout.tlb!;
  yield* folio_lock(k, cpu, vpn);
  const pfn = yield* alloc_page(k);
  const data = yield* k.READ_ONCE(T.swap[vpn]!, 'swap_read_folio(): read the slot');
  yield* k.WRITE_ONCE(T.frame[pfn]!, data, 'swap_read_folio(): the folio\'s data');
  yield* pte_lock(k, cpu, mm);
  if ((yield* k.READ_ONCE(pteLoc, 'pte_same(*vmf->pte, vmf->orig_pte)')) !== orig) {
    yield* pte_unlock(k, cpu, mm);
    yield* free_page(k, pfn);
    yield* folio_unlock(k, cpu, vpn);
    return;
  }
  const vmas = yield* k.READ_ONCE(T.vma[mm]!, 'vma->vm_flags & VM_WRITE');
  const rw = vma_writable(vmas, vpn);
  yield* folio_add_new_anon_rmap(k, pfn);
  yield* set_pte_at(k, pteLoc, mk_pte(pfn, rw, rw && write));
  yield* pte_unlock(k, cpu, mm);
  yield* folio_unlock(k, cpu, vpn);
});

/**
 * Models: handle_mm_fault() -> handle_pte_fault() (v6.18) for a fault on user page
 * vpn of mm: a page-table page first if the PMD has none (__pte_alloc()); then not
 * present -> do_anonymous_page(), or do_swap_page() for a swap entry; a write to a
 * read-only PTE -> do_wp_page() (a copy of the zero page, or the reuse of the
 * process's own page); otherwise another CPU fixed the PTE already, or the fault
 * came from a stale TLB entry (a spurious fault).
 */
export const handle_mm_fault = kfunc(function* handle_mm_fault(k: Kernel, cpu: number, mm: number, vpn: number, write: boolean): CpuCode {
  let table = yield* pmd_table(k, mm);
  if (table < 0) table = yield* __pte_alloc(k, cpu, mm);
  const pteLoc = k.layout.tlb!.tablePte[table]![vpn]!;
  const pte = yield* k.READ_ONCE_chased(pteLoc, 'handle_pte_fault(): vmf->orig_pte'); // the PTE page the PMD points to
  if (!pte_present(pte)) {
    if (is_swap_pte(pte)) yield* do_swap_page(k, cpu, mm, vpn, pteLoc, pte, write);
    else yield* do_anonymous_page(k, cpu, mm, pteLoc, write);
    return;
  }
  if (write && !pte_write(pte)) {
    yield* do_wp_page(k, cpu, mm, vpn, pteLoc, pte);
    return;
  }
  yield* k.note('handle_pte_fault(): the PTE is already fixed (spurious fault)');
});

/**
 * Models: zap_page_range_single() (v6.18) for one page, with its mmu_gather: the PTE
 * cleared under the lock (zap_pte_range() -> zap_present_ptes():
 * ptep_get_and_clear_full(), which reads the accessed and dirty bits with the clear),
 * then tlb_finish_mmu() flushes the TLBs (flush_tlb_mm_range()) and only then frees
 * the page: a CPU that could still translate to the frame must have flushed first.
 * The bits read go nowhere for an anonymous folio, the only kind the model has:
 * zap_present_folio_ptes() passes them on (folio_mark_dirty() for a dirty PTE,
 * folio_mark_accessed() for a young one) only when !folio_test_anon(folio), since
 * an anonymous page that is zapped is discarded, its data with it.
 */
export const zap_page_range_single = kfunc(function* zap_page_range_single(k: Kernel, cpu: number, mm: number, vpn: number): CpuCode {
  const table = yield* pmd_table(k, mm);
  if (table < 0) return;
  yield* pte_lock(k, cpu, mm);
  yield* flush_tlb_batched_pending(k, cpu, mm); // zap_pte_range()
  const old = yield* ptep_get_and_clear(k, k.layout.tlb!.tablePte[table]![vpn]!, 'zap_present_ptes(): ptep_get_and_clear_full()');
  yield* pte_unlock(k, cpu, mm);
  if (!pte_present(old)) return;
  // tlb_finish_mmu() -> tlb_flush_mmu(): the flush, then the gathered pages are freed.
  yield* flush_tlb_mm_range(k, cpu, mm, vpn, false);
  if (pte_pfn(old) !== zeroPfn(k)) yield* folio_remove_rmap_pte(k, pte_pfn(old));
});

/**
 * Models: copy_page_range() -> copy_pte_range() -> copy_present_ptes() (v6.18)
 * for fork()'s copy of the pages `vmas` maps, run by dup_mmap() with the parent's
 * mmap_lock held for writing: the child's page-table page (pte_alloc_map_lock()),
 * then under both page-table locks, per present PTE of the parent: the folio gets
 * its second mapping (folio_try_dup_anon_rmap_pte(), not for the zero page); a
 * writable PTE of the private (copy-on-write) mapping is write-protected in the
 * parent (ptep_set_wrprotect(): a locked bit clear, which keeps a dirty bit the
 * hardware sets meanwhile) and the child's copy is read-only too
 * (__copy_present_ptes(): "write protect it both processes"). The parent's TLBs
 * may still hold the writable translation: dup_mmap() flushes them. A swap entry
 * is copied as it is (copy_nonpresent_pte()).
 */
export const copy_page_range = kfunc(function* copy_page_range(k: Kernel, cpu: number, dstMm: number, srcMm: number, vmas: number): CpuCode {
  const T = k.layout.tlb!;
  const src = yield* pmd_table(k, srcMm);
  if (src < 0) return; // pmd_none(): nothing mapped yet
  const dst = yield* __pte_alloc(k, cpu, dstMm);
  yield* pte_lock(k, cpu, dstMm);
  yield* pte_lock(k, cpu, srcMm); // spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING)
  for (let v = 0; v < T.nPages; v++) {
    if (!vma_mapped(vmas, v)) continue;
    const srcPte = T.tablePte[src]![v]!;
    let pte = yield* k.READ_ONCE(srcPte, 'ptep_get(src_pte)');
    if (pte === 0) continue; // pte_none()
    if (pte_present(pte)) {
      if (pte_pfn(pte) !== zeroPfn(k)) yield* folio_try_dup_anon_rmap_pte(k, pte_pfn(pte));
      if (pte_write(pte)) {
        yield { k: 'rmw', loc: srcPte, f: (x) => x & ~_PAGE_RW, site: { fn: 'wrprotect_ptes(src_mm): ptep_set_wrprotect() (locked clear_bit(_PAGE_BIT_RW))' } };
        pte &= ~_PAGE_RW;
      }
    }
    yield* k.WRITE_ONCE(T.tablePte[dst]![v]!, pte, pte_present(pte) ? 'set_ptes(dst_mm): the read-only copy' : 'copy_nonpresent_pte(): the swap entry');
  }
  yield* pte_unlock(k, cpu, srcMm);
  yield* pte_unlock(k, cpu, dstMm);
});
