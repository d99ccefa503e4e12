// Models: kernel/fork.c copy_mm(), dup_mm(), mmget() and mmput() (v6.18), as far
// as membarrier is concerned: a thread (CLONE_VM) shares its parent's mm and takes
// a user reference; a fork gets a copy of the parent's mm, and dup_mm() copies
// the whole struct, mm->membarrier_state included (mm_init() does not reset it),
// so a forked child inherits the parent's registrations.
// The variant `fork-clears-registration` resets the copy's state, as a design
// where registration is per process image would.
// With user pages dup_mm() copies the address space too (dup_mmap(): the VMAs, the
// page table with the parent's private pages write-protected for copy-on-write,
// and the flush of the parent's TLBs), where the scenario's forked process touches
// a page (KernelConfig.cow). A forked process that never names a page is modelled
// without that copy: what it never reads cannot show it, and on the parent's side
// the write-protection and dup_mmap()'s flush only take translations away, which a
// speculative walk could bring back before any later change of the PTE. (This keeps
// switch-mm-stale-asid, where fork() only makes a CPU run another mm, as it was.)
// Leaves out: the rest of what copy_mm() does for the address space (the pgd, LDT,
// exe file, accounting); mm_count reaching zero only marks the mm free (nothing
// reuses it), and exit_mmap() beyond its paravirt hook (a child that exits keeps
// its pages mapped; mm/mmap.ts).

import type { CpuCode } from '../machine/ops.js';
import type { Kernel } from './kernel.js';
import { mmdrop } from './sched/mm.js';
import { kfunc } from './dispatch.js';
import { dup_mmap, exit_mmap } from './mm/mmap.js';

/** Models: mmget() (v6.18): one more user of the address space (atomic_inc). */
export const mmget = kfunc(function* mmget(k: Kernel, mm: number): CpuCode {
  yield { k: 'rmw', loc: k.layout.mmUsers[mm]!, f: (v) => v + 1, site: { fn: 'mmget' }, order: 'relaxed', returns: false };
});

/**
 * Models: mmput() (v6.18): drop a user reference (atomic_dec_and_test); the last
 * user tears the address space down (__mmput() -> exit_mmap(), on `cpu`; only
 * exit_mm() passes it) and drops the mm_count reference the users held
 * (__mmput() -> mmdrop()).
 */
export const mmput = kfunc(function* mmput(k: Kernel, mm: number, cpu = -1): CpuCode {
  const L = k.layout;
  const old = yield { k: 'rmw', loc: L.mmUsers[mm]!, f: (v) => v - 1, site: { fn: 'mmput' } };
  if (old !== 1) return;
  yield* k.note('__mmput');
  if (cpu >= 0) yield* exit_mmap(k, cpu, mm);
  yield* mmdrop(k, mm);
});

/**
 * Models: dup_mm(tsk, oldmm) (v6.18): allocate_mm(), memcpy(mm, oldmm) and
 * mm_init() (mm_users = mm_count = 1), then dup_mmap() where the scenario has user
 * pages. `mm` is the new mm's id, `cpu` the parent's CPU.
 */
export const dup_mm = kfunc(function* dup_mm(k: Kernel, oldmm: number, mm: number, cpu: number): CpuCode {
  const L = k.layout;
  const state = yield* k.READ_ONCE(L.mmMembarrierState[oldmm]!, 'memcpy(mm, oldmm)');
  const inherited = k.variant.removed.has('dup_mm.membarrier_state') ? 0 : state;
  yield* k.WRITE_ONCE(L.mmMembarrierState[mm]!, inherited, k.variant.removed.has('dup_mm.membarrier_state') ? 'mm_init: membarrier_state = 0 (variant)' : 'memcpy(mm, oldmm)');
  yield* k.WRITE_ONCE(L.mmUsers[mm]!, 1, 'mm_init: atomic_set(&mm->mm_users, 1)');
  yield* k.WRITE_ONCE(L.mmCount[mm]!, 1, 'mm_init: atomic_set(&mm->mm_count, 1)');
  if (L.tlb && L.tlb.folio.length > 0) yield* dup_mmap(k, cpu, mm, oldmm);
});

/**
 * Models: copy_mm(clone_flags, tsk) (v6.18), run by the parent on its CPU for a
 * new task `child`: CLONE_VM shares the mm (mmget()), otherwise dup_mm() into
 * `newMm`. A kernel thread's child has no mm.
 */
export const copy_mm = kfunc(function* copy_mm(k: Kernel, cpu: number, child: number, cloneVm: boolean, newMm: number): CpuCode {
  const L = k.layout;
  const oldmm = k.currentMm(cpu);
  let mm = 0;
  if (oldmm) {
    if (cloneVm) {
      yield* mmget(k, oldmm);
      mm = oldmm;
    } else {
      yield* dup_mm(k, oldmm, newMm, cpu);
      mm = newMm;
    }
  }
  yield* k.WRITE_ONCE(L.taskMm[child]!, mm, 'tsk->mm = mm');
  k.taskMmNow[child - 1] = mm;
});

/**
 * Models: wake_up_new_task(p) (v6.18): the new task becomes runnable. It takes
 * p->pi_lock and the runqueue lock (locked ops on x86, so a full barrier); here
 * the child has its own CPU, which waits for this store before switching to it.
 */
export const wake_up_new_task = kfunc(function* wake_up_new_task(k: Kernel, child: number): CpuCode {
  yield { k: 'rmw', loc: k.layout.taskWoken[child]!, f: () => 1, site: { fn: 'wake_up_new_task' } };
});

/** The child's CPU: idle until wake_up_new_task() makes the task runnable. */
export function* waitForNewTask(k: Kernel, child: number): CpuCode {
  yield* k.smp_cond_load_acquire(k.layout.taskWoken[child]!, (v) => v === 1, 'idle: wait for wake_up_new_task');
}

/**
 * Models: kernel_clone() (v6.18) as fork(Pn) / clone(Pn) reach it: copy_mm() (a
 * copy of the mm for fork(), the same mm for clone(CLONE_VM)), then
 * wake_up_new_task(). `child` is the new task's id, `name` its thread's name.
 */
export const kernel_clone = kfunc(function* kernel_clone(k: Kernel, cpu: number, child: number, name: string, how: 'fork' | 'clone', mm: number): CpuCode {
  yield* k.note(how === 'fork' ? `fork(): child ${name}` : `clone(CLONE_VM): thread ${name}`);
  yield* copy_mm(k, cpu, child, how === 'clone', mm);
  yield* wake_up_new_task(k, child);
});
