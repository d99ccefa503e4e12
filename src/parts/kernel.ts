// The kernel model as the litmus interpreter (src/litmus/program.ts) and a check
// (src/check.ts) call it: loaded only for scenarios that call into the kernel and for
// variant modules (src/parts.ts says how).

export { sys_membarrier } from '../kernel/sched/membarrier.js';
export { sys_madvise } from '../kernel/mm/madvise.js';
export { sys_mprotect } from '../kernel/mm/mprotect.js';
export { sys_mremap } from '../kernel/mm/mremap.js';
export { shrink_folio_list } from '../kernel/mm/vmscan.js';
export { sys_munmap } from '../kernel/mm/mmap.js';
export { try_to_wake_up } from '../kernel/sched/core.js';
export { futex_wait, futex_wake } from '../kernel/futex/waitwake.js';
export { pipe_read, pipe_write } from '../kernel/fs/pipe.js';
export { init_runqueues } from '../kernel/sched/runqueue.js';
export { cpu_startup_entry } from '../kernel/sched/idle.js';
export { idtentry, kernelMode } from '../kernel/entry/common.js';
export { do_syscall_64 } from '../kernel/arch/x86/entry/syscall_64.js';
export { sysvec_handler, sysvec_name } from '../kernel/arch/x86/kernel/idt.js';
export { do_exit } from '../kernel/exit.js';
export { kthread_unuse_mm, kthread_use_mm } from '../kernel/kthread.js';
export { text_poke } from '../kernel/arch/x86/kernel/alternative.js';
export { kernel_clone } from '../kernel/fork.js';
export { do_execve } from '../kernel/exec.js';
export { do_send_sig_info } from '../kernel/signal.js';
export { RseqAbort, rseq_enter_cs, rseq_leave_cs } from '../kernel/rseq.js';
export { loadVariantModule, runWithVariant } from '../kernel/variant-module.js';
/** The API a variant module imports as 'smpcheck'. */
export * as api from '../kernel/index.js';
