// Models: arm64's switch_mm() (arch/arm64/include/asm/mmu_context.h and
// arch/arm64/mm/context.c, v6.18), as far as the orderings the model checks
// are concerned. arm64 keeps no mm_cpumask for TLB flushes (TLBI instructions
// are broadcast in hardware) and switch_mm() has no barrier that membarrier
// relies on: check_and_switch_context() picks an ASID with relaxed atomics on
// per-CPU state no other code of the model reads, and cpu_switch_mm() writes
// TTBR0_EL1 (with an ISB: a context synchronisation, not a memory barrier).
// So the switch is one step in a trace and no event on the machine. The full
// barrier an arm64 context switch gives membarrier is __switch_to()'s DSB
// (arch/arm64/kernel/process.ts).
// Leaves out: ASID rollover (flush_context()), the TTBR0 PAN emulation, CnP.

import type { CpuCode } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { kfunc } from '../../../dispatch.js';

/** Models: switch_mm(prev, next, tsk) on arm64 (v6.18): __switch_mm(next) when the mm changes. */
export const switch_mm = kfunc(function* switch_mm(k: Kernel, cpu: number, prev: number, next: number): CpuCode {
  void cpu;
  if (prev === next) return;
  yield* k.note(`switch_mm: check_and_switch_context(mm${next}), cpu_switch_mm() (TTBR0_EL1, ISB)`);
});
