// Models: arch/x86/kernel/idt.c's system vectors (v6.18), as the kernel model uses
// them: the call-function IPI (sysvec_call_function_single() ->
// generic_smp_call_function_single_interrupt()), the reschedule IPI
// (sysvec_reschedule_ipi() -> scheduler_ipi()) and the local timer
// (sysvec_apic_timer_interrupt() -> scheduler_tick()), each inside idtentry().
// A scenario's own handlers take vectors below these (see kernel.ts).

import type { HandlerCode } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { CALL_FUNCTION_VECTOR, RESCHEDULE_VECTOR, TIMER_VECTORS } from '../../../kernel.js';
import type { CpuSched } from '../../../sched/runqueue.js';
import { idtentry } from '../../../entry/common.js';
import { generic_smp_call_function_single_interrupt, type IpiHandlers } from '../../../smp.js';
import { flush_tlb_func } from '../mm/tlb.js';
import { drop_mm_ref_this_cpu } from '../xen/mmu_pv.js';
import { MEMBARRIER_IPI_HANDLERS } from '../../../sched/membarrier.js';
import { scheduler_ipi, scheduler_tick } from '../../../sched/core.js';

/** Every function a call-function request may name: membarrier's handlers, the TLB flush, Xen PV's drop_mm_ref_this_cpu(). */
const CALL_FUNCTION_HANDLERS: IpiHandlers = {
  ...MEMBARRIER_IPI_HANDLERS,
  flush_tlb_func: (k, cpu, info) => flush_tlb_func(k, cpu, info),
  drop_mm_ref_this_cpu: (k, cpu, info) => drop_mm_ref_this_cpu(k, cpu, info),
};

/** The kernel's handler of system vector `vector` on `cpu`, or null for a scenario's own vector. */
export function sysvec_handler(k: Kernel, cpu: number, S: CpuSched, vector: number): HandlerCode | null {
  if (vector === CALL_FUNCTION_VECTOR) return idtentry(k, cpu, S, generic_smp_call_function_single_interrupt(k, CALL_FUNCTION_HANDLERS, cpu));
  if (TIMER_VECTORS.includes(vector)) return idtentry(k, cpu, S, scheduler_tick(k, cpu, S));
  if (vector === RESCHEDULE_VECTOR) return idtentry(k, cpu, S, scheduler_ipi(k));
  return null;
}

/** The name of a system vector's handler for traces, or null for a scenario's own vector. */
export function sysvec_name(vector: number): string | null {
  if (vector === CALL_FUNCTION_VECTOR) return 'generic_smp_call_function_single_interrupt';
  if (TIMER_VECTORS.includes(vector)) return 'timer interrupt';
  if (vector === RESCHEDULE_VECTOR) return 'reschedule IPI';
  return null;
}
