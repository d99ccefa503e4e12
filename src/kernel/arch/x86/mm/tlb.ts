// Models: arch/x86/mm/tlb.c switch_mm_irqs_off() (v6.18), as far as membarrier
// is concerned: switching to a different mm writes CR3, which is serialising and
// a full barrier ("Writing to CR3 provides that full memory barrier and core
// serializing instruction"); switching between threads of the same mm (or back
// from a kernel thread that borrowed it) writes nothing and gives no barrier.
// Leaves out: TLB generations and flushing, PCID/ASID, mm_cpumask, LAM.

import type { CpuCode } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';

export function* switch_mm_irqs_off(k: Kernel, _cpu: number, prevMm: number, nextMm: number): CpuCode {
  const replaced = k.override('switch_mm_irqs_off');
  if (replaced) return yield* replaced(k, _cpu, prevMm, nextMm);
  if (prevMm === nextMm) {
    yield* k.note('switch_mm_irqs_off (same mm: no CR3 write)');
    return;
  }
  // load_new_mm_cr3(): a CR3 write, serialising (a full barrier, and the CPU refetches).
  if (k.variant.removed.has('switch_mm.cr3')) return;
  yield { k: 'serialize', site: { fn: 'load_new_mm_cr3', label: 'switch_mm.cr3', pairs: 'membarrier.a' } };
}
