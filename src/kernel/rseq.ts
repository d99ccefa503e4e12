// Models: kernel/rseq.c (v6.18), the part the model needs: a thread in an rseq
// critical section (its rseq area points at the section) that meets an rseq event
// (preemption, migration, a signal, ipi_rseq()) on the way back to user mode is
// moved to its abort handler (rseq_ip_fixup()). The model delivers that as
// RseqAbort, thrown into the thread's code at the op it was about to do.
// Leaves out: the rseq area's fields (cpu_id, mm_cid), rseq_cs validation, and the
// event mask.

import type { Kernel } from './kernel.js';

/**
 * Thrown into a thread's code at the op it was about to do: its rseq critical section
 * aborts. Not an Error, for the reason PageFault is not (src/machine/paging.ts).
 */
export class RseqAbort {
  readonly name = 'RseqAbort';
  readonly message = 'rseq critical section aborted';
}

/** The thread `task` enters a critical section (its rseq->rseq_cs is set): no event pending yet. */
export function rseq_enter_cs(k: Kernel, task: number): void {
  k.rseqCs.add(task);
  k.rseqEvent.delete(task);
}

/** The section committed or aborted: rseq->rseq_cs is cleared. */
export function rseq_leave_cs(k: Kernel, task: number, aborted: boolean): void {
  k.rseqCs.delete(task);
  if (aborted) k.rseqEvent.delete(task);
}
