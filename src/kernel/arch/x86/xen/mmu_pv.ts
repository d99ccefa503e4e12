// Models: arch/x86/xen/mmu_pv.c (v6.18), the part of a Xen PV guest's mm hooks
// (pv_ops.mmu) that the text_poke() fix abee7c494d8c was written for, with the
// hypervisor's side of it (`config paravirt=xen-pv;`):
// - xen_write_cr3() -> __xen_write_cr3(): a CR3 write is the MMUEXT_NEW_BASEPTR
//   hypercall in a multicall; once the batch is issued, the callback
//   set_current_cr3() records the pgd in per_cpu(xen_current_cr3).
// - xen_exit_mmap() (pv_ops.mmu.exit_mmap, called by exit_mmap() through
//   arch_exit_mmap()): xen_drop_mm_ref() makes sure no CPU still has the mm's page
//   tables loaded (drop_mm_ref_this_cpu() here, and through an IPI on every other
//   CPU whose xen_current_cr3 is the mm's pgd: leave_mm() if loaded_mm is the mm),
//   then xen_pgd_unpin() unpins the pgd under mm->page_table_lock.
// The hypervisor: a PV guest may only run on page tables Xen has validated. A
// pinned pgd is validated and kept so; unpinning (MMUEXT_UNPIN_TABLE, then
// xen_unpin_page() mapping the table pages writable again in the guest) ends that.
// So Xen refuses (the hypercall fails, and xen_mc_flush() reports the failed
// multicall) a new base pointer (MMUEXT_NEW_BASEPTR) that is an unpinned pgd the
// guest maps writable, and refuses to make the table pages writable while a vCPU
// still has them as its base pointer. The model checks both as one named
// assertion, `XEN: ...`, and counts the failure (kernel observable
// `cpuN:xen_mc_failed`); the run goes on as if the hypercall had worked.
// Leaves out: the multicall batching itself (every batch is issued at once, so
// xen_current_cr3 is set right after the CR3 write and drop_mm_ref_this_cpu()'s
// xen_mc_flush() has nothing left to flush), lazy CPU mode
// (paravirt_start_context_switch()), the user pgd (xen_get_user_pgd(), a 64-bit
// guest's second base pointer, loaded with the kernel one), the pin at
// xen_activate_mm()/xen_dup_mmap() (every mm starts pinned), the PTE and
// page-table updates as hypercalls (set_pte through the hypervisor), and
// mm->page_table_lock (nothing else in the model pins or unpins).

import type { CpuCode } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { kfunc } from '../../../dispatch.js';
import { smp_call_function_many, type IpiHandlers } from '../../../smp.js';
import { leave_mm } from '../mm/tlb.js';

/** xen_page_pinned(mm->pgd): init_mm and text_poke_mm (pinned in poking_init()) are always pinned. */
function pinnedLoc(k: Kernel, mm: number): number | undefined {
  return mm > 0 ? k.layout.xen?.pinned[mm] : undefined;
}

/**
 * Models: xen_write_cr3() -> __xen_write_cr3(true, cr3) (v6.18), the hypervisor's
 * part: Xen takes the pgd as the vCPU's base pointer (a locked update of its
 * record), then validates it: refused if it is not pinned. Called by
 * load_new_mm_cr3() before the CR3 write the machine performs.
 */
export const xen_write_cr3 = kfunc(function* xen_write_cr3(k: Kernel, cpu: number, mm: number): CpuCode {
  const X = k.layout.xen!;
  yield { k: 'rmw', loc: X.guestTable[cpu]!, f: () => mm, site: { fn: `HYPERVISOR_mmuext_op(MMUEXT_NEW_BASEPTR, mm${mm}->pgd)` }, returns: false };
  const loc = pinnedLoc(k, mm);
  if (loc === undefined) return;
  const pinned = yield* k.READ_ONCE(loc, 'Xen: new_guest_cr3(): the pgd is a validated root page table (pinned)');
  if (pinned === 0) {
    k.counters.xen_mc_failed[cpu]!++;
    k.WARN_ON(true, `XEN: CPU${cpu} loads the page tables of mm${mm}, which xen_pgd_unpin() unpinned: the hypervisor refuses the new base pointer (MMUEXT_NEW_BASEPTR fails)`);
  }
});

/** Models: set_current_cr3() (v6.18), the multicall's callback: this_cpu_write(xen_current_cr3, cr3). */
export const set_current_cr3 = kfunc(function* set_current_cr3(k: Kernel, cpu: number, mm: number): CpuCode {
  yield* k.WRITE_ONCE(k.layout.xen!.currentCr3[cpu]!, mm, 'xen_mc_callback(set_current_cr3): this_cpu_write(xen_current_cr3, cr3)');
});

/**
 * Models: drop_mm_ref_this_cpu(info = mm) (v6.18): if this CPU's loaded_mm is the
 * mm, leave_mm(); then, if xen_current_cr3 is still the mm's pgd, xen_mc_flush()
 * (nothing to flush in the model: every multicall is issued at once).
 */
export const drop_mm_ref_this_cpu = kfunc(function* drop_mm_ref_this_cpu(k: Kernel, cpu: number, mm: number): CpuCode {
  if (k.tlbState[cpu]!.loadedMm === mm) yield* leave_mm(k, cpu);
});

const XEN_IPI_HANDLERS: IpiHandlers = {
  drop_mm_ref_this_cpu: (k, cpu, info) => drop_mm_ref_this_cpu(k, cpu, info),
};

/**
 * Models: xen_drop_mm_ref(mm) (v6.18, CONFIG_SMP): drop_mm_ref_this_cpu() here; then
 * the CPUs whose per_cpu(xen_current_cr3) is the mm's pgd ("a vcpu may have a stale
 * reference to our cr3") get drop_mm_ref_this_cpu() by smp_call_function_many()
 * with wait, which skips this CPU. The cpumask allocation does not fail here.
 */
export const xen_drop_mm_ref = kfunc(function* xen_drop_mm_ref(k: Kernel, cpu: number, mm: number): CpuCode {
  const X = k.layout.xen!;
  yield* drop_mm_ref_this_cpu(k, cpu, mm);
  const mask: number[] = [];
  for (let c = 0; c < k.config.nrCpus; c++) {
    if (c === cpu) continue;
    if ((yield* k.READ_ONCE(X.currentCr3[c]!, `per_cpu(xen_current_cr3, ${c})`)) === mm) mask.push(c);
  }
  yield* smp_call_function_many(k, XEN_IPI_HANDLERS, cpu, mask, 'drop_mm_ref_this_cpu', mm);
});

/**
 * Models: xen_pgd_unpin() -> __xen_pgd_unpin() (v6.18): MMUEXT_UNPIN_TABLE, then
 * xen_unpin_page() maps the table pages writable again. The hypervisor's check:
 * no vCPU may still have the pgd as its base pointer (those pages cannot be made
 * writable).
 */
export const xen_pgd_unpin = kfunc(function* xen_pgd_unpin(k: Kernel, cpu: number, mm: number): CpuCode {
  const X = k.layout.xen!;
  yield { k: 'rmw', loc: X.pinned[mm]!, f: () => 0, site: { fn: `xen_pgd_unpin(): HYPERVISOR_mmuext_op(MMUEXT_UNPIN_TABLE, mm${mm}->pgd)` }, returns: false };
  for (let c = 0; c < k.config.nrCpus; c++) {
    const base = yield* k.READ_ONCE(X.guestTable[c]!, `Xen: xen_unpin_page(): vcpu${c}'s base pointer`);
    if (base === mm) {
      k.counters.xen_mc_failed[cpu]!++;
      k.WARN_ON(true, `XEN: xen_pgd_unpin() of mm${mm} while CPU${c} still has its page tables loaded: the hypervisor refuses to make them writable`);
    }
  }
});

/**
 * Models: xen_exit_mmap(mm) (v6.18): get_cpu(); xen_drop_mm_ref(); put_cpu(); then
 * under mm->page_table_lock, if the pgd is pinned (xen_page_pinned()), unpin it.
 */
export const xen_exit_mmap = kfunc(function* xen_exit_mmap(k: Kernel, cpu: number, mm: number): CpuCode {
  k.preempt_disable(cpu);
  yield* xen_drop_mm_ref(k, cpu, mm);
  yield* k.preempt_enable_resched(cpu);
  if ((yield* k.READ_ONCE(k.layout.xen!.pinned[mm]!, 'xen_page_pinned(mm->pgd)')) !== 0) yield* xen_pgd_unpin(k, cpu, mm);
});
