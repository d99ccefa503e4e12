// Models: arch/x86/include/asm/sync_core.h sync_core() and
// sync_core_before_usermode(), and include/linux/sched/mm.h
// membarrier_mm_sync_core_before_usermode() (v6.18), on x86 without PTI (the
// return-to-user path then writes no CR3) and without X86_FEATURE_SERIALIZE, so
// sync_core() is an IRET to self. Either way it is a core-serialising event: the
// CPU drops what it had fetched and waits for its store buffer.

import type { CpuCode } from '../../../machine/ops.js';
import type { Kernel } from '../../kernel.js';
import { MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE } from '../../uapi.js';
import { kfunc } from '../../dispatch.js';

/** sync_core(): IRET-to-self (iret_to_self()), serialising. `cpuN:sync_core` counts them. */
export const sync_core = kfunc(function* sync_core(k: Kernel, cpu = -1): CpuCode {
  if (cpu >= 0) k.counters.sync_core[cpu]!++;
  yield { k: 'serialize', site: { fn: 'sync_core', label: 'sync_core', pairs: 'membarrier.a' } };
});

/**
 * sync_core_before_usermode(): the return to user mode may be a SYSRET, which is not
 * serialising, so serialise now (with PTI the CR3 write on the way out would do it).
 * pre-a493d1ca1a03: it returned early in interrupt context (in_irq() || in_nmi()),
 * on the theory that an IRET follows; IRQ exit can instead switch to another task
 * of the same mm that returns by SYSRET.
 */
export const sync_core_before_usermode = kfunc(function* sync_core_before_usermode(k: Kernel, cpu = -1): CpuCode {
  if (k.variant.removed.has('sync_core_before_usermode.no_irq_shortcut') && cpu >= 0 && k.inIrq[cpu]! > 0) {
    yield* k.note('sync_core_before_usermode(): in_irq(): return (IRET will follow)');
    return;
  }
  yield* sync_core(k, cpu);
});

/**
 * membarrier_mm_sync_core_before_usermode(mm), from finish_task_switch() when the CPU
 * comes back from a kernel thread that borrowed `mm`: only for the mm the CPU now
 * runs (2840cf02fae6), and only if it registered for SYNC_CORE.
 */
export const membarrier_mm_sync_core_before_usermode = kfunc(function* membarrier_mm_sync_core_before_usermode(k: Kernel, cpu: number, mm: number): CpuCode {
  // pre-2840cf02fae6: no such test; the sync followed rq->prev_mm's registration,
  // even when the CPU went on to another mm (whose CR3 write already serialised).
  if (k.mmOf(k.current(cpu)) !== mm && !k.variant.removed.has('sync_core.same_mm')) return; // current->mm != mm
  const state = yield* k.READ_ONCE(k.layout.mmMembarrierState[mm]!, 'membarrier_mm_sync_core_before_usermode(): membarrier_state');
  if ((state & MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE) === 0) return;
  yield* sync_core_before_usermode(k, cpu);
});
