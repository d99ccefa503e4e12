// Models: kernel/kthread.c kthread_use_mm() and kthread_unuse_mm() (v6.18):
// a kernel thread adopts a user mm to access user memory, and drops it. The
// membarrier scan skips a CPU whose current task has no mm, so both need a full
// barrier on the right side of the store to tsk->mm (scenario E of
// kernel/sched/membarrier.c, commit 618758ed3a4f): after the store in
// kthread_use_mm() (mmdrop_lazy_tlb() of the previous active_mm, barrier g), and
// before it in kthread_unuse_mm() (smp_mb__after_spinlock(), barrier d).
// Leaves out: PF_KTHREAD checks and WARN_ONs, the mm_cid, LRU generation hooks.

import type { CpuCode } from '../machine/ops.js';
import type { Kernel } from './kernel.js';
import { membarrier_update_current_mm } from './sched/membarrier.js';
import { enter_lazy_tlb, switch_mm_irqs_off } from './arch/x86/mm/tlb.js';
import { mmdrop_lazy_tlb, mmgrab } from './sched/mm.js';
import { kfunc } from './dispatch.js';

export const kthread_use_mm = kfunc(function* kthread_use_mm(k: Kernel, cpu: number, mm: number): CpuCode {
  const L = k.layout;
  const tsk = k.current(cpu);
  yield* mmgrab(k, mm, 'mmgrab');
  yield { k: 'rmw', loc: L.taskAllocLock[tsk]!, f: () => 1, site: { fn: 'task_lock' }, order: 'acquire' };
  yield { k: 'irq', enable: false, site: { fn: 'local_irq_disable' } };
  const activeMm = k.activeMm[cpu]!;
  k.activeMm[cpu] = mm;
  yield* k.WRITE_ONCE(L.taskMm[tsk]!, mm, 'tsk->mm = mm');
  k.taskMmNow[tsk - 1] = mm;
  yield* membarrier_update_current_mm(k, cpu, mm);
  yield* switch_mm_irqs_off(k, cpu, activeMm, mm);
  yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
  yield { k: 'st', loc: L.taskAllocLock[tsk]!, val: 0, site: { fn: 'task_unlock' }, order: 'release' };
  // "A full memory barrier for membarrier {PRIVATE,GLOBAL}_EXPEDITED is
  // implicitly provided by mmdrop_lazy_tlb()."
  if (activeMm) yield* mmdrop_lazy_tlb(k, activeMm, 'kthread_use_mm.g');
});

export const kthread_unuse_mm = kfunc(function* kthread_unuse_mm(k: Kernel, cpu: number, mm: number): CpuCode {
  const L = k.layout;
  const tsk = k.current(cpu);
  yield { k: 'rmw', loc: L.taskAllocLock[tsk]!, f: () => 1, site: { fn: 'task_lock' }, order: 'acquire' };
  if (!k.variant.removed.has('kthread_unuse_mm.d')) {
    yield* k.smp_mb__after_spinlock({ label: 'kthread_unuse_mm.d', pairs: 'membarrier.c' });
  }
  yield { k: 'irq', enable: false, site: { fn: 'local_irq_disable' } };
  yield* k.WRITE_ONCE(L.taskMm[tsk]!, 0, 'tsk->mm = NULL');
  k.taskMmNow[tsk - 1] = 0;
  yield* membarrier_update_current_mm(k, cpu, 0);
  yield* mmgrab(k, mm, 'mmgrab_lazy_tlb');
  yield* enter_lazy_tlb(k, cpu);
  yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
  yield { k: 'st', loc: L.taskAllocLock[tsk]!, val: 0, site: { fn: 'task_unlock' }, order: 'release' };
  yield* mmdrop_lazy_tlb(k, mm, 'kthread_unuse_mm.mmdrop', 'mmdrop');
});
