// Models: kernel/exit.c do_exit() -> exit_mm() (v6.18), as far as membarrier is
// concerned (scenario D of kernel/sched/membarrier.c, commit 5bc78502322a):
// mmap_read_lock() and mmgrab_lazy_tlb() (locked ops on x86), task_lock() (a
// spinlock: locked) and smp_mb__after_spinlock() (barrier d: the exiting
// thread's user accesses are ordered before current->mm = NULL becomes visible),
// then with IRQs off current->mm = NULL and membarrier_update_current_mm(NULL),
// then mmput() (atomic_dec_and_test of mm_users; the last user drops mm_count).
// Leaves out: exit_mm_release() (robust futexes, vfork), the mm owner update,
// freeing the mm's memory, everything else do_exit() does.
// After exit the task stays the CPU's rq->curr (no switch to idle yet): the
// membarrier scan reads its mm as NULL and skips the CPU.

import type { CpuCode } from '../machine/ops.js';
import type { Kernel } from './kernel.js';
import { membarrier_update_current_mm } from './sched/membarrier.js';
import { mmput } from './fork.js';
import { kfunc } from './dispatch.js';
import { enter_lazy_tlb } from './arch/x86/mm/tlb.js';

export const exit_mm = kfunc(function* exit_mm(k: Kernel, cpu: number): CpuCode {
  const L = k.layout;
  const task = k.current(cpu);
  const mm = k.mmOf(task);
  if (!mm) return;
  // mmap_read_lock() is an acquire (down_read()), mmgrab() a relaxed increment: one acquire step.
  yield { k: 'rmw', loc: L.mmCount[mm]!, f: (v) => v + 1, site: { fn: 'mmap_read_lock + mmgrab_lazy_tlb' }, order: 'acquire' };
  yield { k: 'rmw', loc: L.taskAllocLock[task]!, f: () => 1, site: { fn: 'task_lock' }, order: 'acquire' };
  if (!k.variant.removed.has('exit_mm.d')) {
    // barrier() on x86 (task_lock()'s locked instruction is the barrier); smp_mb() on arm64.
    yield { k: 'nop', site: { fn: 'smp_mb__after_spinlock', label: 'exit_mm.d', pairs: 'membarrier.c' }, arm64: ['dmb.full'], fence: 'mb__after_spinlock' };
  }
  // pre-5bc78502322a: neither barrier (d), nor the IRQ-off section, nor the runqueue update.
  const pre5bc = k.variant.removed.has('exit_mm.update_current_mm');
  if (!pre5bc) yield { k: 'irq', enable: false, site: { fn: 'local_irq_disable' } };
  yield* k.WRITE_ONCE(L.taskMm[task]!, 0, 'current->mm = NULL');
  k.taskMmNow[task - 1] = 0;
  if (!pre5bc) yield* membarrier_update_current_mm(k, cpu, 0);
  if (k.layout.config.arch !== 'arm64') yield* enter_lazy_tlb(k, cpu);
  if (!pre5bc) yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
  yield { k: 'st', loc: L.taskAllocLock[task]!, val: 0, site: { fn: 'task_unlock' }, order: 'release' };
  yield* mmput(k, mm, cpu);
});

/** Models: do_exit() (v6.18): here only exit_mm(). */
export const do_exit = kfunc(function* do_exit(k: Kernel, cpu: number): CpuCode {
  yield* k.note('do_exit');
  yield* exit_mm(k, cpu);
});
