// The kernel model's public surface, for variant modules: the kernel object,
// its primitives, the UAPI constants and the modelled functions (so that a
// replacement can call the original).

export { Kernel, KernelLayout, CALL_FUNCTION_VECTOR, type KernelConfig } from './kernel.js';
export * from './uapi.js';
export { OVERRIDABLE, type OverridableName, type OverrideFn, type Variant } from './variants.js';
export {
  ipi_mb, ipi_sync_core, ipi_rseq, membarrier_global_expedited, membarrier_private_expedited,
  sync_runqueues_membarrier_state, membarrier_update_current_mm, sys_membarrier, MEMBARRIER_IPI_HANDLERS,
} from './sched/membarrier.js';
export { membarrier_switch_mm, finish_task_switch, __schedule } from './sched/core.js';
export { switch_mm_irqs_off } from './arch/x86/mm/tlb.js';
export { exit_mm, do_exit } from './exit.js';
export { kthread_use_mm, kthread_unuse_mm } from './kthread.js';
export { smp_call_function_many, smp_call_function_single, on_each_cpu_mask } from './smp.js';
export { mmgrab, mmdrop_lazy_tlb } from './sched/mm.js';

/** What a variant module exports (default export). */
export interface VariantModule {
  name: string;
  description: string;
  /** Labels of barriers or steps to remove, as the built-in mutants do. */
  removed?: string[];
  /** Replacements for kernel functions, by kernel name. */
  overrides?: Partial<Record<import('./variants.js').OverridableName, import('./variants.js').OverrideFn>>;
}
