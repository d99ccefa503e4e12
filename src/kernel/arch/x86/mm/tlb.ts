// Models: arch/x86/mm/tlb.c switch_mm_irqs_off() (v6.18), as far as membarrier
// is concerned: switching to a different mm writes CR3, which is serialising and
// a full barrier ("Writing to CR3 provides that full memory barrier and core
// serializing instruction"); switching between threads of the same mm (or back
// from a kernel thread that borrowed it) writes nothing and gives no barrier.
// Leaves out: TLB generations and flushing, PCID/ASID, mm_cpumask, LAM.

import type { CpuCode } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE } from '../../../uapi.js';
import { sync_core } from '../sync_core.js';
import { kfunc } from '../../../dispatch.js';

/**
 * `unlazy`: the CPU comes back from a kernel thread that borrowed prevMm. The design
 * variant sync-core-in-switch-mm (the December 2020 proposal) core-syncs there for a
 * registered mm, instead of membarrier_mm_sync_core_before_usermode() in
 * finish_task_switch().
 */
export const switch_mm_irqs_off = kfunc(function* switch_mm_irqs_off(k: Kernel, cpu: number, prevMm: number, nextMm: number, unlazy = false): CpuCode {
  if (prevMm === nextMm) {
    yield* k.note('switch_mm_irqs_off (same mm: no CR3 write)');
    if (unlazy && k.variant.removed.has('finish_task_switch.sync_core')) {
      const state = yield* k.READ_ONCE(k.layout.mmMembarrierState[nextMm]!, 'switch_mm_irqs_off (unlazy): membarrier_state');
      if (state & MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE) yield* sync_core(k, cpu);
    }
    return;
  }
  // load_new_mm_cr3(): a CR3 write, serialising (a full barrier, and the CPU refetches).
  if (k.variant.removed.has('switch_mm.cr3')) return;
  yield { k: 'serialize', site: { fn: 'load_new_mm_cr3', label: 'switch_mm.cr3', pairs: 'membarrier.a' } };
});
