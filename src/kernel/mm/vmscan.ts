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
// Leaves out: the LRU scan and its ageing (folio_referenced() and the accessed
// bit: the page is taken whatever its use), the swap cache beyond the pages a
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
import { try_to_unmap_flush, try_to_unmap_flush_dirty, try_to_unmap_one } from './rmap.js';

/** Models: shrink_folio_list() (v6.18) for the folio of page vpn of mm: 1 when it was reclaimed, else 0. */
export const shrink_folio_list = kfunc(function* shrink_folio_list(k: Kernel, cpu: number, mm: number, vpn: number): Generator<Op, number, number> {
  const T = k.layout.tlb!;
  yield* k.note(`shrink_folio_list(): the folio of page ${vpn}`);
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
  yield* folio_unlock(k, cpu, vpn);
  // try_to_unmap_flush(), then free_unref_folios().
  yield* try_to_unmap_flush(k, cpu);
  yield* free_page(k, pfn);
  return 1;
});
