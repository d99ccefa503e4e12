// Models: fs/exec.c exec_mmap() (v6.18) with kernel/sched/membarrier.c
// membarrier_exec_mmap(): the new program image gets a fresh mm (mm_alloc(): a
// zeroed struct, so no registration), and, under task_lock(), a full barrier
// orders everything the old image did before the clearing of the state, the new
// mm's state and this runqueue's copy are cleared, then tsk->mm and active_mm are
// switched (activate_mm() -> switch_mm_irqs_off()) and the old mm is put.
// Leaves out: de_thread() (the caller has the other threads exit first), the
// mmap lock, exec_mm_release(), mm_cid and LRU hooks.

import type { CpuCode } from '../machine/ops.js';
import type { Kernel } from './kernel.js';
import { switch_mm_irqs_off } from './arch/x86/mm/tlb.js';
import { mmput } from './fork.js';
import { mmdrop_lazy_tlb } from './sched/mm.js';
import { kfunc } from './dispatch.js';

/** Models: mm_alloc() (v6.18): a zeroed mm with one user and one reference. */
export const mm_alloc = kfunc(function* mm_alloc(k: Kernel, mm: number): CpuCode {
  const L = k.layout;
  yield* k.WRITE_ONCE(L.mmMembarrierState[mm]!, 0, 'mm_alloc: memset(mm, 0)');
  yield* k.WRITE_ONCE(L.mmUsers[mm]!, 1, 'mm_init: atomic_set(&mm->mm_users, 1)');
  yield* k.WRITE_ONCE(L.mmCount[mm]!, 1, 'mm_init: atomic_set(&mm->mm_count, 1)');
});

/** Models: membarrier_exec_mmap(mm) (v6.18). */
export const membarrier_exec_mmap = kfunc(function* membarrier_exec_mmap(k: Kernel, cpu: number, mm: number): CpuCode {
  const L = k.layout;
  // "Issue a memory barrier before clearing membarrier_state to guarantee that
  // no memory access prior to exec is reordered after clearing this state."
  yield* k.smp_mb('membarrier_exec_mmap', 'membarrier.a');
  yield* k.WRITE_ONCE(L.mmMembarrierState[mm]!, 0, 'atomic_set(&mm->membarrier_state, 0)');
  yield* k.WRITE_ONCE(L.rqMembarrierState[cpu]!, 0, 'this_cpu_write(runqueues.membarrier_state, 0)');
});

/** Models: exec_mmap(mm) (v6.18) for the current task; `mm` comes from mm_alloc(). */
export const exec_mmap = kfunc(function* exec_mmap(k: Kernel, cpu: number, mm: number): CpuCode {
  const L = k.layout;
  const tsk = k.current(cpu);
  const oldMm = k.mmOf(tsk);
  yield { k: 'rmw', loc: L.taskAllocLock[tsk]!, f: () => 1, site: { fn: 'task_lock' }, order: 'acquire' };
  yield* membarrier_exec_mmap(k, cpu, mm);
  yield { k: 'irq', enable: false, site: { fn: 'local_irq_disable' } };
  const activeMm = k.activeMm[cpu]!;
  k.activeMm[cpu] = mm;
  yield* k.WRITE_ONCE(L.taskMm[tsk]!, mm, 'tsk->mm = mm');
  k.taskMmNow[tsk - 1] = mm;
  yield* switch_mm_irqs_off(k, cpu, activeMm, mm); // activate_mm()
  yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
  yield { k: 'st', loc: L.taskAllocLock[tsk]!, val: 0, site: { fn: 'task_unlock' }, order: 'release' };
  if (oldMm) {
    yield* mmput(k, oldMm);
    return;
  }
  if (activeMm) yield* mmdrop_lazy_tlb(k, activeMm, 'exec_mmap.mmdrop', 'mmdrop_lazy_tlb');
});

/** Models: do_execve() (v6.18), as far as the mm goes: a fresh mm (mm_alloc()), installed by exec_mmap(). */
export const do_execve = kfunc(function* do_execve(k: Kernel, cpu: number, mm: number): CpuCode {
  yield* k.note('execve');
  yield* mm_alloc(k, mm);
  yield* exec_mmap(k, cpu, mm);
});
