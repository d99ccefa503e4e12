// Models: arch/x86/mm/fault.c exc_page_fault() (v6.18) for a user access to one of
// the scenario's pages: handle_mm_fault() on the current mm; the access is retried
// after the exception returns (IRET). A kernel thread without an mm has no user
// address space to fault in: that is a kernel bug (BUG_ON).
// A fault on a page no VMA maps (after munmap()), or a write to a page whose VMA
// is read-only (after mprotect(PROT_READ): access_error()), is SIGSEGV: the model
// ends the faulting thread there (force_sig(); the rest of the process goes on).
// Leaves out: kernel-address faults, signal delivery and the rest of the process's
// death, spurious fault checks of the TLB, and the mmap_lock / per-VMA lock.

import type { Op } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { kfunc } from '../../../dispatch.js';
import { handle_mm_fault, vma_mapped, vma_writable } from '../../../mm/memory.js';

/** Returns false for SIGSEGV (no VMA maps the page). */
export const exc_page_fault = kfunc(function* exc_page_fault(k: Kernel, cpu: number, vpn: number, write: boolean): Generator<Op, boolean, number> {
  const mm = k.currentMm(cpu);
  k.BUG_ON(mm === 0, `a user access to page ${vpn} from a task without an mm (a kernel thread that did not kthread_use_mm())`);
  yield* k.note(`exc_page_fault(): ${write ? 'write' : 'read'} of page ${vpn}`);
  const vmas = yield* k.READ_ONCE(k.layout.tlb!.vma[mm]!, 'lock_vma_under_rcu(): the VMA');
  if (!vma_mapped(vmas, vpn)) {
    yield* k.note('bad_area(): force_sig(SIGSEGV): the thread ends here');
    return false;
  }
  if (write && !vma_writable(vmas, vpn)) {
    yield* k.note('access_error(): a write to a VMA without VM_WRITE: bad_area_access_error(), force_sig(SIGSEGV): the thread ends here');
    return false;
  }
  yield* handle_mm_fault(k, cpu, mm, vpn, write);
  return true;
});
