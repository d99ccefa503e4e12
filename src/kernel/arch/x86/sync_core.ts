// Models: arch/x86/include/asm/sync_core.h sync_core() and
// sync_core_before_usermode(), and include/linux/sched/mm.h
// membarrier_mm_sync_core_before_usermode() (v6.18), on x86 without PTI (the
// return-to-user path then writes no CR3) and without X86_FEATURE_SERIALIZE, so
// sync_core() is an IRET to self. Either way it is a core-serialising event: the
// CPU drops what it had fetched and waits for its store buffer.

import type { CpuCode } from '../../../machine/ops.js';
import type { Kernel } from '../../kernel.js';
import { MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE } from '../../uapi.js';

/** sync_core(): IRET-to-self (iret_to_self()), serialising. */
export function* sync_core(_k: Kernel): CpuCode {
  yield { k: 'serialize', site: { fn: 'sync_core', label: 'sync_core', pairs: 'membarrier.a' } };
}

/**
 * sync_core_before_usermode(): the return to user mode may be a SYSRET, which is not
 * serialising, so serialise now (with PTI the CR3 write on the way out would do it).
 */
export function* sync_core_before_usermode(k: Kernel): CpuCode {
  yield* sync_core(k);
}

/**
 * membarrier_mm_sync_core_before_usermode(mm), from finish_task_switch() when the CPU
 * comes back from a kernel thread that borrowed `mm`: only for the mm the CPU now
 * runs (2840cf02fae6), and only if it registered for SYNC_CORE.
 */
export function* membarrier_mm_sync_core_before_usermode(k: Kernel, cpu: number, mm: number): CpuCode {
  if (k.mmOf(k.current(cpu)) !== mm) return; // current->mm != mm
  const state = yield* k.READ_ONCE(k.layout.mmMembarrierState[mm]!, 'membarrier_mm_sync_core_before_usermode(): membarrier_state');
  if ((state & MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE) === 0) return;
  yield* sync_core_before_usermode(k);
}
