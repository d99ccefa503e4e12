// Models: include/linux/sched/mm.h mmgrab(), mmgrab_lazy_tlb(), mmdrop(),
// mmdrop_lazy_tlb(), mmdrop_lazy_tlb_sched() (v6.18) on x86 with
// CONFIG_MMU_LAZY_TLB_REFCOUNT: a reference count on mm_count, taken with a
// locked increment and dropped with atomic_dec_and_test(), a full barrier the
// scheduler and kthread_use_mm() rely on for membarrier. A mutant that removes
// the drop's label makes it a plain decrement.
// The drop that takes the count to zero frees the mm (__mmdrop()): the model marks
// it freed in a check location, which a lock-free reader of another task's mm
// (mm_deref()) reads first, so a use-after-free is a named kernel assertion.
// Leaves out: what freeing does besides (page tables, the allocator).

import type { CpuCode } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { kfunc } from '../dispatch.js';

export const mmgrab = kfunc(function* mmgrab(k: Kernel, mm: number, fn = 'mmgrab'): CpuCode {
  yield { k: 'rmw', loc: k.layout.mmCount[mm]!, f: (v) => v + 1, site: { fn }, order: 'relaxed', returns: false }; // atomic_inc()
});

/** atomic_dec_and_test(&mm->mm_count): the barrier that `label` names (mutants remove it). */
export const mmdrop_lazy_tlb = kfunc(function* mmdrop_lazy_tlb(k: Kernel, mm: number, label: string, fn = 'mmdrop_lazy_tlb'): CpuCode {
  const loc = k.layout.mmCount[mm]!;
  if (k.variant.removed.has(label)) {
    const v = yield* k.READ_ONCE(loc, `${fn} (no barrier)`);
    yield* k.WRITE_ONCE(loc, v - 1, `${fn} (no barrier)`);
    if (v === 1) yield* __mmdrop(k, mm);
    return;
  }
  const old = yield { k: 'rmw', loc, f: (v) => v - 1, site: { fn, label, pairs: 'membarrier.a' } };
  if (old === 1) yield* __mmdrop(k, mm);
});

/** mmdrop(mm): atomic_dec_and_test(&mm->mm_count), and __mmdrop() at zero. */
export const mmdrop = kfunc(function* mmdrop(k: Kernel, mm: number, fn = 'mmdrop'): CpuCode {
  const old = yield { k: 'rmw', loc: k.layout.mmCount[mm]!, f: (v) => v - 1, site: { fn } };
  if (old === 1) yield* __mmdrop(k, mm);
});

/** Models: __mmdrop(mm): the mm is freed (marked in its check location). */
export const __mmdrop = kfunc(function* __mmdrop(k: Kernel, mm: number): CpuCode {
  yield { k: 'rmw', loc: k.layout.mmFreed[mm]!, f: () => 1, site: { fn: `__mmdrop(mm${mm}): mm freed` } };
});

/**
 * A lock-free dereference of another task's mm (`p->mm->field`) that nothing keeps
 * alive: a WARN_ON names the use-after-free when the mm was freed before the read.
 */
export function* mm_deref(k: Kernel, mm: number, what: string): CpuCode {
  const freed = yield { k: 'ld', loc: k.layout.mmFreed[mm]!, site: { fn: `(check) mm${mm} freed?` } };
  k.WARN_ON(freed !== 0, `use-after-free: ${what} reads an mm that __mmdrop() freed`);
}
