// The kernel model's public surface, for variant modules: the kernel object,
// its primitives, the UAPI constants and every modelled kernel function (so that a
// replacement can call the original: see dispatch.ts).

export { Kernel, KernelLayout, CALL_FUNCTION_VECTOR, type KernelConfig } from './kernel.js';
export * from './uapi.js';
export { type OverrideFn, type Variant } from './variants.js';
export { kernelFunctionNames, type KernelFunction } from './dispatch.js';
// Every modelled kernel function, by its kernel name.
export * from './sched/membarrier.js';
export * from './sched/core.js';
export * from './sched/idle.js';
export * from './sched/mm.js';
export * from './sched/runqueue.js';
export * from './smp.js';
export * from './exit.js';
export * from './exec.js';
export * from './fork.js';
export * from './kthread.js';
export * from './signal.js';
export * from './rseq.js';
export * from './entry/common.js';
export * from './arch/x86/entry/entry_64.js';
export * from './arch/x86/entry/syscall_64.js';
export * from './arch/x86/kernel/idt.js';
export * from './arch/x86/mm/tlb.js';
export * from './arch/x86/sync_core.js';
export * from './arch/x86/mm/fault.js';
export * from './mm/memory.js';
export * from './mm/madvise.js';
export * from './mm/mmap.js';
export * from './mm/page_alloc.js';

/** What a variant module exports (default export). */
export interface VariantModule {
  name: string;
  description: string;
  /** Labels of barriers or steps to remove, as the built-in mutants do. */
  removed?: string[];
  /** Replacements for kernel functions, by kernel name. */
  overrides?: Record<string, import('./variants.js').OverrideFn>;
}
