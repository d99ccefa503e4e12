// Models: arch/arm64/kernel/process.c __switch_to() (v6.18): the DSB ISH it
// executes on every task switch, which its comment says membarrier needs: on
// arm64 the scheduler's full barrier after storing rq->curr and before the new
// task returns to user mode is this one (kernel/sched/core.c's comment in
// __schedule() lists "switch_to() for arm64"), because arm64's spin_unlock()
// is only a release. A DSB ISH orders every access before it against every
// access after it, as DMB ISH does, and it also waits for them to complete, so
// that a context synchronisation after it (the ERET back to user mode) orders
// them before the instruction fetches that follow (aarch64hwreqs.cat's DSB-ob
// and CSE-ob): its event is tagged both.

import type { CpuCode } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { kfunc } from '../../../dispatch.js';

export const __switch_to = kfunc(function* __switch_to(k: Kernel, cpu: number): CpuCode {
  void cpu;
  if (k.variant.removed.has('switch_to.dsb')) return;
  yield { k: 'nop', site: { fn: '__switch_to: dsb(ish)', label: 'switch_to.dsb', pairs: 'membarrier.a/membarrier.c' }, arm64: ['dmb.full', 'dsb.full'] };
});
