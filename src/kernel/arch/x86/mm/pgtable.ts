// Models: arch/x86/mm/pgtable.c (v6.18) ptep_test_and_clear_young() and
// ptep_clear_flush_young(), the accessed-bit half of page ageing on x86: the
// kernel reads and clears a PTE's accessed bit, and on x86 it does so WITHOUT a
// TLB flush. The function's own comment gives the reason: clearing the accessed
// bit without a flush does not corrupt data on x86; it can only make ageing
// inaccurate (a CPU that keeps using its cached translation does not set the bit
// again, so a hot page may look old and be reclaimed by mistake), which the kernel
// accepts as rare; the entry goes at the next context switch or VM operation
// anyway. The variant clear-young-flush is the generic version instead
// (mm/pgtable-generic.c ptep_clear_flush_young(): flush_tlb_page() when the bit was
// set), which other architectures use.
// Leaves out: the PMD and PUD forms (no huge pages), mmu notifiers
// (ptep_clear_flush_young_notify() adds mmu_notifier_clear_flush_young(), which
// has no subscriber here).

import type { Op } from '../../../../machine/ops.js';
import { pte_young, _PAGE_ACCESSED } from '../../../../machine/paging.js';
import type { Kernel } from '../../../kernel.js';
import { kfunc } from '../../../dispatch.js';
import { flush_tlb_mm_range } from './tlb.js';

/**
 * Models: ptep_test_and_clear_young() (arch/x86/mm/pgtable.c, v6.18): a plain read
 * of the PTE first; only if it is young, test_and_clear_bit(_PAGE_BIT_ACCESSED), a
 * locked bit clear that returns whether the bit was still set (a CPU's walk may set
 * it between the two: the locked op sees that).
 */
export const ptep_test_and_clear_young = kfunc(function* ptep_test_and_clear_young(k: Kernel, pteLoc: number): Generator<Op, boolean, number> {
  const pte = yield* k.READ_ONCE(pteLoc, 'ptep_test_and_clear_young(): pte_young(*ptep)');
  if (!pte_young(pte)) return false;
  const old = yield { k: 'rmw', loc: pteLoc, f: (v) => v & ~_PAGE_ACCESSED, site: { fn: 'ptep_test_and_clear_young(): test_and_clear_bit(_PAGE_BIT_ACCESSED)' } };
  return pte_young(old);
});

/**
 * Models: ptep_clear_flush_young() (arch/x86/mm/pgtable.c, v6.18): on x86 just
 * ptep_test_and_clear_young(), no flush (see the file header). Variant
 * clear-young-flush: the generic form, which flushes the page when the bit was set
 * (flush_tlb_page(): flush_tlb_mm_range() of one page, no tables freed).
 */
export const ptep_clear_flush_young = kfunc(function* ptep_clear_flush_young(k: Kernel, cpu: number, mm: number, vpn: number, pteLoc: number): Generator<Op, boolean, number> {
  const young = yield* ptep_test_and_clear_young(k, pteLoc);
  if (young && k.variant.removed.has('ptep_clear_flush_young.no_flush')) yield* flush_tlb_mm_range(k, cpu, mm, vpn, false);
  return young;
});
