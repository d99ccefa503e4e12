// Models: mm/vmscan.c (v6.18) shrink_folio_list() for one anonymous page of the
// process, as kswapd (or a kernel thread in direct reclaim) takes it off the LRU:
// folio_trylock(); for a folio not in the swap cache add_to_swap() (a swap slot,
// and the folio dirty: the slot is fresh); try_to_unmap() with TTU_BATCH_FLUSH
// (the TLB flush deferred into the batch when other CPUs may hold the mm; the
// dirty bit of the cleared PTE marks the folio dirty); if the folio is dirty,
// try_to_unmap_flush_dirty() and then pageout() -> swap_writepage() (the data to
// the slot), else nothing to write (a folio of the swap cache whose slot holds its
// data: a page the scenario starts `clean`); __remove_mapping(); folio_unlock();
// and at the end of the list try_to_unmap_flush() before the freed folios go back
// to the allocator. Here writeback reads the dirty bit: a clean PTE means no
// write, and no flush before the folio is dropped (a CPU with a clean entry cannot
// write without setting the bit, and setting it faults on the cleared PTE).
// With references checked (the scenario's shrink(a); reclaim(a) ignores them, as
// reclaim_pages() does with ignore_references for MADV_PAGEOUT), the folio is aged
// first: folio_check_references() -> folio_referenced() reads and clears the
// accessed bit of the PTE (on x86 without a TLB flush, ptep_clear_flush_young())
// and decides, with PG_referenced, to keep the folio for another trip round the
// inactive list, to activate it, or to reclaim it.
// Leaves out: the LRU lists themselves (an activated folio is off the inactive
// list: a later scan does not reach it, as shrink_active_list(), which would
// deactivate it, is not modelled), MGLRU, the swap cache beyond the pages a
// scenario starts clean (a fault meanwhile waits on the folio lock, see
// do_swap_page(); a page swapped in again is not in it), writeback completion (the
// write is synchronous here), file pages, THP, memcg, and the swap allocator (one
// slot per page).

import type { Op } from '../../machine/ops.js';
import { pte_pfn, pte_present } from '../../machine/paging.js';
import type { Kernel } from '../kernel.js';
import { kfunc } from '../dispatch.js';
import { folio_trylock, folio_unlock } from './filemap.js';
import { pmd_table, zeroPfn } from './memory.js';
import { free_page } from './page_alloc.js';
import { folio_referenced, try_to_unmap_flush, try_to_unmap_flush_dirty, try_to_unmap_one } from './rmap.js';

/** The folio's LRU flags in TlbLayout.folioFlags (include/linux/page-flags.h PG_referenced, PG_active). */
export const PG_referenced = 1;
export const PG_active = 2;

/** enum folio_references (mm/vmscan.c): what folio_check_references() decides. */
export type FolioReferences = 'FOLIOREF_RECLAIM' | 'FOLIOREF_KEEP' | 'FOLIOREF_ACTIVATE';

/**
 * Models: folio_check_references() (mm/vmscan.c, v6.18) for an anonymous folio of
 * the classic LRU (lru_gen_enabled() false): referenced_ptes = folio_referenced();
 * referenced_folio = folio_test_clear_referenced(). A folio some PTE referenced is
 * marked (folio_set_referenced()) and kept for another trip round the inactive list
 * ("all mapped folios start out with page table references from the instantiating
 * fault, so we need to look twice"), or activated if it was marked already; a
 * folio no PTE referenced is reclaimed (an anonymous folio is not file LRU, so no
 * FOLIOREF_RECLAIM_CLEAN). PG_referenced and PG_active are atomic bit operations
 * (locked) under the folio lock.
 */
export const folio_check_references = kfunc(function* folio_check_references(k: Kernel, cpu: number, mm: number, vpn: number, pteLoc: number, pfn: number): Generator<Op, FolioReferences, number> {
  const flags = k.layout.tlb!.folioFlags[vpn]!;
  const referencedPtes = yield* folio_referenced(k, cpu, mm, vpn, pteLoc, pfn);
  const old = yield { k: 'rmw', loc: flags, f: (v) => v & ~PG_referenced, site: { fn: 'folio_check_references(): folio_test_clear_referenced()' } };
  const referencedFolio = (old & PG_referenced) !== 0;
  if (referencedPtes > 0) {
    yield { k: 'rmw', loc: flags, f: (v) => v | PG_referenced, site: { fn: 'folio_check_references(): folio_set_referenced()' }, returns: false };
    if (referencedFolio || referencedPtes > 1) return 'FOLIOREF_ACTIVATE';
    return 'FOLIOREF_KEEP';
  }
  return 'FOLIOREF_RECLAIM';
});

/**
 * Models: shrink_folio_list() (v6.18) for the folio of page vpn of mm: 1 when it was
 * reclaimed, else 0. `ignoreReferences`: reclaim without ageing (reclaim(a)); else
 * folio_check_references() first (shrink(a)).
 */
export const shrink_folio_list = kfunc(function* shrink_folio_list(k: Kernel, cpu: number, mm: number, vpn: number, ignoreReferences = true): Generator<Op, number, number> {
  const T = k.layout.tlb!;
  yield* k.note(`shrink_folio_list(): the folio of page ${vpn}`);
  if (!ignoreReferences) {
    // An activated folio is on the active list: this scan of the inactive list does not meet it.
    const flags = yield* k.READ_ONCE(T.folioFlags[vpn]!, 'folio_test_active(folio)');
    if (flags & PG_active) {
      yield* k.note('shrink_folio_list(): the folio is on the active list (not scanned)');
      return 0;
    }
  }
  if (!(yield* folio_trylock(k, cpu, vpn))) return 0;
  // The folio on the LRU is the one the page maps now (not the zero page, not swapped out).
  const table = yield* pmd_table(k, mm);
  const pteLoc = table >= 0 ? T.tablePte[table]![vpn]! : -1;
  const pte = pteLoc >= 0 ? yield* k.READ_ONCE(pteLoc, 'folio_referenced(): the mapping') : 0;
  if (!pte_present(pte) || pte_pfn(pte) === zeroPfn(k)) {
    yield* folio_unlock(k, cpu, vpn);
    return 0;
  }
  const pfn = pte_pfn(pte);
  if (!ignoreReferences) {
    const references = yield* folio_check_references(k, cpu, mm, vpn, pteLoc, pfn);
    if (references === 'FOLIOREF_ACTIVATE') {
      // activate_locked: folio_set_active(); keep_locked: folio_unlock().
      yield* k.note('shrink_folio_list(): FOLIOREF_ACTIVATE: the folio goes to the active list');
      yield { k: 'rmw', loc: T.folioFlags[vpn]!, f: (v) => v | PG_active, site: { fn: 'shrink_folio_list(): activate_locked: folio_set_active()' }, returns: false };
      yield* folio_unlock(k, cpu, vpn);
      return 0;
    }
    if (references === 'FOLIOREF_KEEP') {
      yield* k.note('shrink_folio_list(): FOLIOREF_KEEP: the folio stays on the inactive list');
      yield* folio_unlock(k, cpu, vpn);
      return 0;
    }
    yield* k.note('shrink_folio_list(): FOLIOREF_RECLAIM: no PTE referenced the folio');
  }
  // folio_test_swapcache(), else add_to_swap(): the folio goes to a fresh swap slot, dirty.
  const inSwapCache = T.swapCache[vpn]! >= 0 && (yield* k.READ_ONCE(T.swapCache[vpn]!, 'folio_test_swapcache(folio)')) !== 0;
  const { dirty } = yield* try_to_unmap_one(k, cpu, mm, vpn, pteLoc, !inSwapCache);
  if (dirty) {
    // folio_test_dirty(): the writable TLB entries must be gone before pageout() reads it.
    if (!k.variant.removed.has('reclaim.flush_dirty')) yield* try_to_unmap_flush_dirty(k, cpu);
    // pageout() -> swap_writepage(): the data to the slot.
    k.counters.pageout[cpu]!++;
    const data = yield* k.READ_ONCE(T.frame[pfn]!, 'pageout(): swap_writepage() reads the folio');
    yield* k.WRITE_ONCE(T.swap[vpn]!, data, 'pageout(): swap_writepage() writes the slot');
  } else {
    yield* k.note('shrink_folio_list(): the folio is clean (its swap slot holds its data): no pageout()');
  }
  // __remove_mapping() (the folio leaves the swap cache); folio_unlock(); the folio goes on the list to free.
  if (inSwapCache) yield* k.WRITE_ONCE(T.swapCache[vpn]!, 0, '__remove_mapping(): __delete_from_swap_cache()');
  // (With references checked the freed folio's LRU flags are clear already: PG_referenced
  // was tested and cleared, PG_active never set; a folio swapped in later starts so too.)
  yield* folio_unlock(k, cpu, vpn);
  // try_to_unmap_flush(), then free_unref_folios().
  yield* try_to_unmap_flush(k, cpu);
  yield* free_page(k, pfn);
  return 1;
});
