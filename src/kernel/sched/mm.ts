// Models: include/linux/sched/mm.h mmgrab(), mmgrab_lazy_tlb(), mmdrop(),
// mmdrop_lazy_tlb(), mmdrop_lazy_tlb_sched() (v6.18) on x86 with
// CONFIG_MMU_LAZY_TLB_REFCOUNT: a reference count on mm_count, taken with a
// locked increment and dropped with atomic_dec_and_test(), a full barrier the
// scheduler and kthread_use_mm() rely on for membarrier. A mutant that removes
// the drop's label makes it a plain decrement.
// Leaves out: freeing the mm when the count reaches zero.

import type { CpuCode } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';

export function* mmgrab(k: Kernel, mm: number, fn = 'mmgrab'): CpuCode {
  yield { k: 'rmw', loc: k.layout.mmCount[mm]!, f: (v) => v + 1, site: { fn } };
}

/** atomic_dec_and_test(&mm->mm_count): the barrier that `label` names (mutants remove it). */
export function* mmdrop_lazy_tlb(k: Kernel, mm: number, label: string, fn = 'mmdrop_lazy_tlb'): CpuCode {
  const loc = k.layout.mmCount[mm]!;
  if (k.variant.removed.has(label)) {
    const v = yield* k.READ_ONCE(loc, `${fn} (no barrier)`);
    yield* k.WRITE_ONCE(loc, v - 1, `${fn} (no barrier)`);
    return;
  }
  yield { k: 'rmw', loc, f: (v) => v - 1, site: { fn, label, pairs: 'membarrier.a' } };
}
