// Models: arch/x86/mm/tlb.c (v6.18) and arch/x86/include/asm/tlbflush.h: the
// context switch of the address space (switch_mm_irqs_off(), enter_lazy_tlb(),
// choose_new_asid(), leave_mm(), and the temporary mm of text_poke():
// use_temporary_mm()/unuse_temporary_mm()) and the TLB shootdown
// (flush_tlb_mm_range(), native_flush_tlb_multi(), should_flush_tlb(),
// flush_tlb_func()), on x86-64 with PCID and without PTI or INVLPGB.
//
// State: cpu_tlbstate.loaded_mm (LOADED_MM_SWITCHING during a switch),
// loaded_mm_asid, next_asid and ctxs[] {ctx_id, tlb_gen} per CPU;
// cpu_tlbstate_shared.is_lazy; mm->context.tlb_gen and mm_cpumask(mm), which is
// kept lazily (209954cbc7d0: a CPU keeps its bit when it switches away; a flush
// that reaches it for an mm it no longer runs clears it); the per-CPU
// flush_tlb_info of a sender. What other CPUs read is in memory in scenarios with
// user pages (KernelLayout.tlb); elsewhere nothing reads it remotely and it stays
// CPU-local (Kernel.tlbState), while every barrier is a step either way.
//
// The orderings (../shared/reference/tlb-shootdown.md §3.4): the flusher's
// inc_mm_tlb_gen() (a locked add) orders its PTE write before its reads of
// mm_cpumask, loaded_mm and is_lazy; the switcher's cpumask_set_cpu() (locked) or
// smp_mb() orders its store to loaded_mm before its read of tlb_gen; the CR3 write
// is serialising and orders later TLB fills after all of it; the unlazy path's
// smp_mb() orders is_lazy = false before the read of tlb_gen.
//
// Leaves out: INVLPGB and global ASIDs, PTI (user PCIDs, invalidate_other),
// LAM, cond_mitigation() (IBPB), the once-a-second trim of stale cpumask bits
// (the model has no time: trim_cpumask is never set), the single-page-flush
// ceiling (scenarios flush one page or all), paravirt flush hooks (a Xen PV
// guest's CR3 write is modelled: src/kernel/arch/x86/xen/mmu_pv.ts), kernel-address
// flushes. Without PTI no path modelled here issues INVPCID (v6.18 uses it for the
// user PCID in native_flush_tlb_one_user() and for native_flush_tlb_global()):
// scenarios/tlb/README.md says why leaving it out changes no verdict.

import type { CpuCode, Op } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { ctx_id } from '../../../kernel.js';
import { MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE } from '../../../uapi.js';
import { TLB_NR_DYN_ASIDS } from '../../../../machine/paging.js';
import { sync_core } from '../sync_core.js';
import { on_each_cpu_cond_mask, type IpiHandlers } from '../../../smp.js';
import { kfunc } from '../../../dispatch.js';
import { set_current_cr3, xen_write_cr3 } from '../xen/mmu_pv.js';

/** cpu_tlbstate.loaded_mm while switch_mm_irqs_off() changes CR3 ((struct mm_struct *)1). */
export const LOADED_MM_SWITCHING = -1;
/** end == TLB_FLUSH_ALL: a full flush of the mm (flush_tlb_info's start/end hold a page, or this). */
export const TLB_FLUSH_ALL = -1;
/** TLB_GENERATION_INVALID: a request without a generation (arch_tlbbatch_flush()). */
export const TLB_GENERATION_INVALID = 0;

/** this_cpu_write() of TLB state that other CPUs read: a store when it lives in memory. */
function* this_cpu_write_shared(loc: number | undefined, val: number, fn: string): CpuCode {
  if (loc !== undefined) yield { k: 'st', loc, val, site: { fn } };
}

/**
 * Models: enter_lazy_tlb() (v6.18): the scheduler switches to a kernel thread; the
 * CPU keeps the user's page tables loaded (lazy TLB mode) unless it holds init_mm.
 */
export const enter_lazy_tlb = kfunc(function* enter_lazy_tlb(k: Kernel, cpu: number): CpuCode {
  const T = k.tlbState[cpu]!;
  if (T.loadedMm === 0) {
    yield* k.note('enter_lazy_tlb (init_mm loaded: nothing to do)');
    return;
  }
  T.isLazy = true;
  const loc = k.layout.tlb?.isLazy[cpu];
  if (loc === undefined) yield* k.note('enter_lazy_tlb: this_cpu_write(cpu_tlbstate_shared.is_lazy, true)');
  else yield* this_cpu_write_shared(loc, 1, 'enter_lazy_tlb: this_cpu_write(cpu_tlbstate_shared.is_lazy, true)');
});

/**
 * Models: choose_new_asid() (v6.18, with PCID): the ASID slot that already holds
 * `next` (a flush is needed if it is behind next_tlb_gen), else the next slot round
 * robin, flushed. CPU-local: no step.
 */
export const choose_new_asid = kfunc(function* choose_new_asid(k: Kernel, cpu: number, next: number, nextTlbGen: number): Generator<Op, { asid: number; needFlush: boolean }, number> {
  const T = k.tlbState[cpu]!;
  for (let asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
    if (T.ctxs[asid]!.ctxId !== ctx_id(next)) continue;
    return { asid, needFlush: T.ctxs[asid]!.tlbGen < nextTlbGen };
  }
  let asid = T.nextAsid++;
  if (asid >= TLB_NR_DYN_ASIDS) {
    asid = 0;
    T.nextAsid = 1;
  }
  return { asid, needFlush: true };
});

/**
 * Models: load_new_mm_cr3() (v6.18): the CR3 write, with the flush or with NOFLUSH.
 * "Many callers of this function expect that load_cr3() is serializing and orders
 * TLB fills with respect to the mm_cpumask writes" (and membarrier expects a full
 * barrier and core serialisation on a switch to another mm). The mutant
 * no-switch-mm-mb takes the barrier out of the write.
 */
export const load_new_mm_cr3 = kfunc(function* load_new_mm_cr3(k: Kernel, cpu: number, mm: number, asid: number, needFlush: boolean): CpuCode {
  const barrier = !k.variant.removed.has('switch_mm.cr3');
  // A Xen PV guest: write_cr3() is xen_write_cr3(), a hypercall the hypervisor checks.
  if (k.layout.xen) yield* xen_write_cr3(k, cpu, mm);
  yield { k: 'cr3', mm, asid, flush: needFlush, ...(barrier ? {} : { barrier: false }), site: { fn: 'load_new_mm_cr3', label: 'switch_mm.cr3', pairs: 'membarrier.a/inc_mm_tlb_gen' } };
  if (k.layout.xen) yield* set_current_cr3(k, cpu, mm);
});

/** atomic64_read(&mm->context.tlb_gen): a load where flushers may change it; 0 where no one flushes. */
function* read_tlb_gen(k: Kernel, mm: number): Generator<Op, number, number> {
  const loc = k.layout.tlb?.tlbGen[mm];
  if (loc === undefined || mm === 0) return 0;
  return yield { k: 'ld', loc, site: { fn: 'atomic64_read(&next->context.tlb_gen)' } };
}

/**
 * Models: switch_mm_irqs_off(prev, next, tsk) (v6.18), called with interrupts off.
 * `prevMm` is the scheduler's idea of the previous mm (its active_mm); the
 * function works from what the CPU has loaded (cpu_tlbstate.loaded_mm). `unlazy`:
 * the scheduler comes back from a kernel thread (the December 2020 proposal,
 * design sync-core-in-switch-mm, core-syncs there).
 */
export const switch_mm_irqs_off = kfunc(function* switch_mm_irqs_off(k: Kernel, cpu: number, prevMm: number, next: number, unlazy = false): CpuCode {
  void prevMm;
  const T = k.tlbState[cpu]!;
  const L = k.layout.tlb;
  const realPrev = T.loadedMm;
  const prevAsid = T.loadedMmAsid;
  const wasLazy = T.isLazy;
  if (wasLazy) {
    T.isLazy = false;
    yield* this_cpu_write_shared(L?.isLazy[cpu], 0, 'switch_mm_irqs_off: this_cpu_write(cpu_tlbstate_shared.is_lazy, false)');
  }
  let asid: number;
  let needFlush: boolean;
  let nextTlbGen: number;
  if (realPrev === next) {
    // Design sync-core-in-switch-mm: the core sync for a registered mm moves here.
    if (unlazy && next !== 0 && k.variant.removed.has('finish_task_switch.sync_core')) {
      const state = yield* k.READ_ONCE(k.layout.mmMembarrierState[next]!, 'switch_mm_irqs_off (unlazy): membarrier_state');
      if (state & MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE) yield* sync_core(k, cpu);
    }
    if (!wasLazy) {
      // Another thread of the same process: nothing to do (no CR3 write, no barrier).
      yield* k.note('switch_mm_irqs_off (same mm: no CR3 write)');
      return;
    }
    // Back from lazy mode: read tlb_gen to see whether flushes were missed; the
    // barrier pairs with the flusher's inc_mm_tlb_gen() (it skipped this CPU as lazy).
    yield* k.smp_mb('switch_mm.unlazy', 'inc_mm_tlb_gen');
    nextTlbGen = yield* read_tlb_gen(k, next);
    if (T.ctxs[prevAsid]!.tlbGen === nextTlbGen) return;
    asid = prevAsid;
    needFlush = true;
  } else {
    // Let nmi_uaccess_okay() (and the flushers' should_flush_tlb()) know CR3 is changing.
    T.loadedMm = LOADED_MM_SWITCHING;
    yield* this_cpu_write_shared(L?.loadedMm[cpu], LOADED_MM_SWITCHING, 'switch_mm_irqs_off: this_cpu_write(cpu_tlbstate.loaded_mm, LOADED_MM_SWITCHING)');
    // pre-209954cbc7d0: mm_cpumask was exact: stop receiving flushes for the previous mm.
    if (k.variant.removed.has('mm_cpumask.lazy') && realPrev > 0) yield* cpumask_clear_cpu(k, cpu, realPrev, 'cpumask_clear_cpu(cpu, mm_cpumask(prev))');
    // Start receiving flush IPIs, then read tlb_gen: a full barrier either way.
    if (next !== 0 && !T.cpumask.has(next)) {
      T.cpumask.add(next);
      yield* cpumask_set_cpu(k, cpu, next);
    } else if (!k.variant.removed.has('switch_mm.switching_mb')) {
      // 83b0177a6c48: the bit was already set (mm_cpumask is kept lazily), so no locked op.
      yield* k.smp_mb('switch_mm.switching_mb', 'inc_mm_tlb_gen');
    }
    nextTlbGen = yield* read_tlb_gen(k, next);
    ({ asid, needFlush } = yield* choose_new_asid(k, cpu, next, nextTlbGen));
  }
  if (needFlush) T.ctxs[asid] = { ctxId: ctx_id(next), tlbGen: nextTlbGen };
  yield* load_new_mm_cr3(k, cpu, next, asid, needFlush);
  // barrier(): the CR3 write before loaded_mm.
  T.loadedMm = next;
  T.loadedMmAsid = asid;
  yield* this_cpu_write_shared(L?.loadedMm[cpu], next, 'switch_mm_irqs_off: this_cpu_write(cpu_tlbstate.loaded_mm, next)');
});

/**
 * Models: leave_mm() (v6.18): a CPU in lazy TLB mode drops the mm it borrowed and
 * loads init_mm (switch_mm(NULL, &init_mm, NULL)); nothing to do on init_mm; a
 * WARN_ON() if the CPU is not lazy. Called with interrupts off here
 * (use_temporary_mm()), so switch_mm()'s own local_irq_save() changes nothing and
 * is not a step.
 */
export const leave_mm = kfunc(function* leave_mm(k: Kernel, cpu: number): CpuCode {
  const T = k.tlbState[cpu]!;
  if (T.loadedMm === 0) return;
  k.WARN_ON(!T.isLazy, 'leave_mm(): WARN_ON(!this_cpu_read(cpu_tlbstate_shared.is_lazy))');
  yield* switch_mm_irqs_off(k, cpu, T.loadedMm, 0);
});

/**
 * text_poke_mm (arch/x86/kernel/alternative.c, v6.18): the temporary mm text_poke()
 * maps the page to patch in. Its id comes after the scenario's mms; it maps no user
 * page of the scenario (its PMD, TLB generation and mm_cpumask are not in the
 * layout: only the poking CPU loads it, under text_mutex, and unuse_temporary_mm()
 * takes the CPU's bit out of its mask again, so no flush ever reaches another CPU).
 */
export const text_poke_mm = (k: Kernel): number => k.layout.nrMms + 1;

/**
 * Models: use_temporary_mm(temp_mm) (arch/x86/mm/tlb.c, v6.18): switch this CPU to
 * a temporary mm and return the mm to switch back to, with interrupts off (the
 * caller, __text_poke(), has them off). First, if the CPU is in lazy TLB mode,
 * leave_mm(): otherwise the mm to switch back to is the one the CPU only borrows,
 * and switching back to it leaves the CPU on it without lazy mode (abee7c494d8c,
 * "x86/alternative: Don't call text_poke() in lazy TLB mode", 5.10). Variant
 * pre-abee7c494d8c: no leave_mm(); the lazily borrowed mm is what loaded_mm says,
 * and unuse_temporary_mm() reloads it as an ordinary switch, not lazily.
 * Leaves out: the hardware breakpoints (hw_breakpoint_disable()).
 */
export const use_temporary_mm = kfunc(function* use_temporary_mm(k: Kernel, cpu: number, tempMm: number): Generator<Op, number, number> {
  const T = k.tlbState[cpu]!;
  if (!k.variant.removed.has('use_temporary_mm.leave_mm')) {
    if (T.isLazy) yield* leave_mm(k, cpu);
  }
  const prevMm = T.loadedMm; // this_cpu_read(cpu_tlbstate.loaded_mm)
  yield* k.note(`use_temporary_mm(): prev_mm = loaded_mm = mm${prevMm}${T.isLazy ? ' (lazy)' : ''}`);
  yield* switch_mm_irqs_off(k, cpu, prevMm, tempMm);
  return prevMm;
});

/**
 * Models: unuse_temporary_mm(prev_mm) (arch/x86/mm/tlb.c, v6.18): take this CPU's
 * bit out of the temporary mm's mm_cpumask (so that flushing that mm sends no IPI
 * anywhere), then switch back to prev_mm: an ordinary switch from the temporary
 * mm, which leaves the CPU not lazy.
 */
export const unuse_temporary_mm = kfunc(function* unuse_temporary_mm(k: Kernel, cpu: number, prevMm: number): CpuCode {
  const T = k.tlbState[cpu]!;
  yield* cpumask_clear_cpu(k, cpu, T.loadedMm, 'cpumask_clear_cpu(smp_processor_id(), mm_cpumask(this_cpu_read(cpu_tlbstate.loaded_mm)))');
  yield* switch_mm_irqs_off(k, cpu, T.loadedMm, prevMm);
});

/** cpumask_set_cpu(cpu, mm_cpumask(mm)): a locked bit set (a full barrier on x86). */
function* cpumask_set_cpu(k: Kernel, cpu: number, mm: number): CpuCode {
  const loc = k.layout.tlb?.cpumask[mm];
  const site = { fn: 'cpumask_set_cpu(cpu, mm_cpumask(next))', label: 'switch_mm.cpumask_set_cpu', pairs: 'inc_mm_tlb_gen' };
  if (k.variant.removed.has('switch_mm.cpumask_set_cpu')) {
    // The mutant: a plain read-modify-write, no barrier.
    if (loc === undefined) return;
    const v = yield* k.READ_ONCE(loc, 'cpumask_set_cpu (no barrier): read');
    yield* k.WRITE_ONCE(loc, v | (1 << cpu), 'cpumask_set_cpu (no barrier): write');
    return;
  }
  if (loc === undefined) yield { k: 'mb', site }; // nobody reads the mask: the locked op's barrier is what remains
  else yield { k: 'rmw', loc, f: (v) => v | (1 << cpu), site };
}

/** cpumask_clear_cpu(cpu, mm_cpumask(mm)): a locked bit clear (memory only: a flush reached the CPU). */
function* cpumask_clear_cpu(k: Kernel, cpu: number, mm: number, fn = 'cpumask_clear_cpu(smp_processor_id(), mm_cpumask(f->mm))'): CpuCode {
  k.tlbState[cpu]!.cpumask.delete(mm);
  const loc = k.layout.tlb?.cpumask[mm];
  if (loc === undefined) yield { k: 'mb', site: { fn } }; // nobody reads the mask: the locked op's barrier is what remains
  else yield { k: 'rmw', loc, f: (v) => v & ~(1 << cpu), site: { fn } };
}

/** The PTEs a flush of `range` covers (every page-table page's), one array per layout and range: the op only reads it. */
const flushedPtesCache = new WeakMap<readonly (readonly number[])[], Map<number, readonly number[]>>();
function flushedPtes(tablePte: readonly (readonly number[])[], range: number): readonly number[] {
  let byRange = flushedPtesCache.get(tablePte);
  if (byRange === undefined) flushedPtesCache.set(tablePte, (byRange = new Map()));
  let ptes = byRange.get(range);
  if (ptes === undefined) byRange.set(range, (ptes = tablePte.flatMap((row) => row.filter((_, v) => range === TLB_FLUSH_ALL || v === range))));
  return ptes;
}

/**
 * Models: inc_mm_tlb_gen() (v6.18): atomic64_inc_return(), a locked add and so a
 * full barrier: "[it] orders the page table writes before the reads of
 * mm_cpumask()" and pairs with switch_mm_irqs_off(). pre-71b3c126e611 takes the
 * flusher's barrier away (a plain increment), as the flush paths were before that
 * commit added one.
 */
export const inc_mm_tlb_gen = kfunc(function* inc_mm_tlb_gen(k: Kernel, mm: number, range = TLB_FLUSH_ALL): Generator<Op, number, number> {
  const loc = k.layout.tlb!.tlbGen[mm]!;
  // For property S1 (checked by the machine): the PTEs this flush covers. Every
  // page-table page's, not only the mm's own (tables move between mms): after
  // fork() a flush of the parent also marks the child's PTE of the page, which is
  // only sound while the child's PTE does not change under a TLB entry of the
  // child's at the same time (true of the library's scenarios: the children there
  // read, or write only after the parent's flushes have returned).
  const ptes = flushedPtes(k.layout.tlb!.tablePte, range);
  if (k.variant.removed.has('inc_mm_tlb_gen.mb')) {
    const v = yield* k.READ_ONCE(loc, 'inc_mm_tlb_gen: read (no barrier)');
    yield { k: 'st', loc, val: v + 1, tlbFlushStart: ptes, site: { fn: 'inc_mm_tlb_gen: write (no barrier)' } };
    return v + 1;
  }
  const old = yield { k: 'rmw', loc, f: (v) => v + 1, tlbFlushStart: ptes, site: { fn: 'inc_mm_tlb_gen', label: 'inc_mm_tlb_gen', pairs: 'switch_mm.cpumask_set_cpu/switch_mm.switching_mb/switch_mm.unlazy' } };
  return old + 1;
});

/**
 * Models: should_flush_tlb(cpu, info) (v6.18), asked by the sender about CPU `t`:
 * no IPI to a lazy CPU (it catches up when it switches back, see
 * switch_mm_irqs_off()), nor to one that runs another mm; an IPI when the CPU is
 * in the middle of a switch or runs the mm.
 */
export const should_flush_tlb = kfunc(function* should_flush_tlb(k: Kernel, t: number, info: number): Generator<Op, boolean, number> {
  const L = k.layout.tlb!;
  const loaded = yield* k.READ_ONCE(L.loadedMm[t]!, `should_flush_tlb(): per_cpu(cpu_tlbstate.loaded_mm, ${t})`);
  // smp_rmb(): loaded_mm before is_lazy (a compiler barrier on x86).
  if ((yield* k.READ_ONCE(L.isLazy[t]!, `should_flush_tlb(): per_cpu(cpu_tlbstate_shared.is_lazy, ${t})`)) !== 0) {
    yield* k.note(`should_flush_tlb(${t}): lazy, skipped`);
    return false;
  }
  const mm = k.flushInfo[info]!.mm;
  if (mm === 0) return true;
  // The CPU is between its store of LOADED_MM_SWITCHING and its CR3 write: it may
  // have read tlb_gen before this flush bumped it (mutant no-switching-ipi skips it).
  if (loaded === LOADED_MM_SWITCHING && !k.variant.removed.has('should_flush_tlb.switching')) return true;
  if (loaded === mm) return true;
  yield* k.note(`should_flush_tlb(${t}): runs another mm, skipped`);
  return false;
});

/**
 * Models: flush_tlb_func(info) (v6.18), on the sender's CPU or in the
 * call-function interrupt of a target, with interrupts off. `info` is the sending
 * CPU (whose flush_tlb_info the target reads). The generation logic: nothing to do
 * if this CPU has caught up to f->new_tlb_gen (or to the mm's generation); a
 * partial flush (INVLPG) only when the request is the one generation this CPU is
 * behind and the latest; else a full flush of the ASID; either way the CPU's
 * generation becomes the mm's.
 */
export const flush_tlb_func = kfunc(function* flush_tlb_func(k: Kernel, cpu: number, info: number): CpuCode {
  yield* flush_tlb_func_body(k, cpu, info);
  k.tlbFlushDone[info]![cpu] = k.tlbFlushReq[info]![cpu]!; // for property S3
});

/**
 * The flush info a remote target reads: in the sender's per-CPU flush_tlb_info, or
 * (design flush-info-in-csd, the 2019 RFC's inline messages) a copy in the
 * call-function data, which a next flush of the sender cannot overwrite before the
 * target has read it. Packed in one word: mm, range + 1 and new_tlb_gen.
 */
export const packFlushInfo = (mm: number, range: number, newTlbGen: number): number => mm | ((range + 1) << 4) | (newTlbGen << 8);

function* flush_tlb_func_body(k: Kernel, cpu: number, info: number): CpuCode {
  const L = k.layout.tlb!;
  const T = k.tlbState[cpu]!;
  const I = L.info[info]!;
  const loaded = T.loadedMm;
  const asid = T.loadedMmAsid;
  let copied: { mm: number; range: number; newTlbGen: number } | null = null;
  if (info !== cpu && k.variant.removed.has('flush_tlb.info_shared')) {
    const w = yield* k.READ_ONCE(L.csdFlushInfo[info]![cpu]!, 'f = csd->info (the copy)');
    copied = { mm: w & 15, range: ((w >> 4) & 15) - 1, newTlbGen: w >> 8 };
  }
  // A target's f is csd->info: its first read chases that pointer.
  const fMm = copied ? copied.mm : info !== cpu ? yield* k.READ_ONCE_chased(I.mm, 'f->mm') : yield* k.READ_ONCE(I.mm, 'f->mm');
  if (fMm !== 0 && fMm !== loaded) {
    // The CPU switched away from f->mm: trim its stale bit in the lazy mm_cpumask.
    yield* cpumask_clear_cpu(k, cpu, fMm);
    return;
  }
  if (loaded === 0) return; // init_mm: no user translations
  if (T.isLazy) {
    // "We're in lazy mode. We need to at least flush our paging-structure cache to
    // avoid speculatively reading garbage into our TLB": switch to init_mm.
    yield* switch_mm_irqs_off(k, cpu, loaded, 0);
    return;
  }
  const localTlbGen = T.ctxs[asid]!.tlbGen;
  const newTlbGen = copied ? copied.newTlbGen : yield* k.READ_ONCE(I.newTlbGen, 'f->new_tlb_gen');
  if (newTlbGen !== TLB_GENERATION_INVALID && newTlbGen <= localTlbGen) {
    k.counters.flush_tlb_caught_up[cpu]!++;
    yield* k.note('flush_tlb_func(): already caught up to f->new_tlb_gen');
    return;
  }
  // Read as late as possible (the line is contended).
  const mmTlbGen = yield* k.READ_ONCE(L.tlbGen[loaded]!, 'atomic64_read(&loaded_mm->context.tlb_gen)');
  // Generations never run ahead of the mm's (property S4).
  k.WARN_ON(localTlbGen > mmTlbGen, 'S4: a CPU\'s TLB generation ran ahead of its mm\'s (flush_tlb_func(): local_tlb_gen > mm_tlb_gen)');
  k.WARN_ON(newTlbGen > mmTlbGen, 'S4: a flush request\'s generation ran ahead of its mm\'s (flush_tlb_func(): f->new_tlb_gen > mm_tlb_gen)');
  if (localTlbGen === mmTlbGen) {
    // A concurrent flush already caught this CPU up.
    k.counters.flush_tlb_caught_up[cpu]!++;
    yield* k.note('flush_tlb_func(): local_tlb_gen == mm_tlb_gen, nothing to do');
    return;
  }
  const range = copied ? copied.range : yield* k.READ_ONCE(I.range, 'f->start, f->end');
  if (range !== TLB_FLUSH_ALL && newTlbGen === localTlbGen + 1 && newTlbGen === mmTlbGen) {
    yield* flush_tlb_one_user(k, cpu, range);
  } else {
    yield* flush_tlb_local(k, cpu);
  }
  T.ctxs[asid]!.tlbGen = mmTlbGen;
}

/** Models: flush_tlb_one_user(addr) (v6.18): INVLPG of one user page, serialising. */
export const flush_tlb_one_user = kfunc(function* flush_tlb_one_user(k: Kernel, cpu: number, vpn: number): CpuCode {
  void cpu;
  yield { k: 'invlpg', vpn, site: { fn: 'flush_tlb_one_user' } };
});

/** Models: flush_tlb_local() (v6.18): a CR3 write of the loaded mm and ASID without NOFLUSH. */
export const flush_tlb_local = kfunc(function* flush_tlb_local(k: Kernel, cpu: number): CpuCode {
  const T = k.tlbState[cpu]!;
  yield { k: 'cr3', mm: T.loadedMm, asid: T.loadedMmAsid, flush: true, site: { fn: 'flush_tlb_local' } };
});

/** The sender's own flush_tlb_func(), with interrupts off (it may not be reentered). */
function* flush_tlb_func_irqs_off(k: Kernel, cpu: number): CpuCode {
  yield* k.local_irq_save();
  k.counters.flush_tlb_func[cpu]!++;
  yield* flush_tlb_func(k, cpu, cpu);
  yield* k.local_irq_restore();
}

/** The call-function table the TLB flush runs with (only flush_tlb_func). */
const TLB_IPI_HANDLERS: IpiHandlers = { flush_tlb_func: (k, cpu, info) => flush_tlb_func(k, cpu, info) };

/**
 * Models: native_flush_tlb_multi(cpumask, info) (v6.18): when page tables are
 * freed every CPU of the mask gets the IPI, lazy ones included (their CR3 still
 * points at the tables, which a speculative walk may read); otherwise
 * should_flush_tlb() decides per CPU. Both run flush_tlb_func() on the sender too,
 * after sending the IPIs and before waiting (SCF_RUN_LOCAL, the concurrent flush of
 * 4ce94eabac16).
 */
export const native_flush_tlb_multi = kfunc(function* native_flush_tlb_multi(k: Kernel, cpu: number, mask: readonly number[], info: number): CpuCode {
  // Mutant no-lazy-freed-ipi: lazy CPUs skipped even when page tables are freed.
  const freed = k.flushInfo[info]!.freedTables && !k.variant.removed.has('flush_tlb.freed_tables_ipi');
  const cond = freed ? undefined : should_flush_tlb;
  yield* on_each_cpu_cond_mask(k, TLB_IPI_HANDLERS, cpu, mask, 'flush_tlb_func', info, cond);
});

/**
 * Models: get_flush_tlb_info() (v6.18): fill this CPU's flush_tlb_info, which the
 * targets read (mm 0 is NULL: flush whatever mm a target runs).
 */
function* get_flush_tlb_info(k: Kernel, cpu: number, mm: number, range: number, freedTables: boolean, newTlbGen: number): CpuCode {
  const I = k.layout.tlb!.info[cpu]!;
  k.flushInfo[cpu] = { mm, freedTables, range, newTlbGen };
  yield* k.WRITE_ONCE(I.mm, mm, 'info->mm');
  yield* k.WRITE_ONCE(I.range, range, 'info->start, info->end');
  yield* k.WRITE_ONCE(I.newTlbGen, newTlbGen, 'info->new_tlb_gen');
  yield* k.WRITE_ONCE(I.freedTables, freedTables ? 1 : 0, 'info->freed_tables');
}

/**
 * Models: flush_tlb_mm_range(mm, start, end, stride_shift, freed_tables) (v6.18):
 * bump the mm's generation, fill this CPU's flush_tlb_info, and flush the CPUs of
 * mm_cpumask (this one included, when it runs the mm). `range` is a page or
 * TLB_FLUSH_ALL.
 */
export const flush_tlb_mm_range = kfunc(function* flush_tlb_mm_range(k: Kernel, cpu: number, mm: number, range: number, freedTables: boolean): CpuCode {
  const L = k.layout.tlb!;
  k.preempt_disable(cpu); // get_cpu()
  const newTlbGen = yield* inc_mm_tlb_gen(k, mm, range);
  yield* get_flush_tlb_info(k, cpu, mm, range, freedTables, newTlbGen);
  // cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids: another CPU may hold the mm.
  const bits = yield* k.READ_ONCE(L.cpumask[mm]!, 'mm_cpumask(mm)');
  const mask: number[] = [];
  for (let c = 0; c < k.config.nrCpus; c++) if (bits & (1 << c)) mask.push(c);
  if (k.variant.removed.has('flush_tlb.concurrent')) {
    // pre-4ce94eabac16: the local flush first, then flush_tlb_others() to the other CPUs.
    if (k.tlbState[cpu]!.loadedMm === mm) {
      yield* flush_tlb_func_irqs_off(k, cpu);
    }
    const others = mask.filter((c) => c !== cpu);
    if (others.length > 0) yield* native_flush_tlb_multi(k, cpu, others, cpu);
  } else if (mask.some((c) => c !== cpu)) {
    yield* native_flush_tlb_multi(k, cpu, mask, cpu);
  } else if (k.tlbState[cpu]!.loadedMm === mm) {
    yield* flush_tlb_func_irqs_off(k, cpu);
  }
  yield { k: 'nop', tlbFlushDone: true, site: { fn: 'flush_tlb_mm_range(): done' } };
  yield* k.preempt_enable_resched(cpu); // put_cpu()
});

/**
 * Models: flush_tlb_mm(mm) (arch/x86/include/asm/tlbflush.h, v6.18): the whole mm,
 * flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, 0, true), with freed_tables set (so lazy
 * CPUs get the IPI too).
 */
export const flush_tlb_mm = kfunc(function* flush_tlb_mm(k: Kernel, cpu: number, mm: number): CpuCode {
  yield* flush_tlb_mm_range(k, cpu, mm, TLB_FLUSH_ALL, true);
});

/**
 * Models: arch_tlbbatch_add_pending() (arch/x86/include/asm/tlbflush.h, v6.18,
 * without INVLPGB): reclaim defers the flush of a PTE it cleared: the mm's
 * generation goes up (the locked add orders the PTE's clearing before the read of
 * mm_cpumask, as in flush_tlb_mm_range()) and the mm's CPUs join the batch.
 */
export const arch_tlbbatch_add_pending = kfunc(function* arch_tlbbatch_add_pending(k: Kernel, cpu: number, mm: number, vpn: number): CpuCode {
  yield* inc_mm_tlb_gen(k, mm, vpn);
  const bits = yield* k.READ_ONCE(k.layout.tlb!.cpumask[mm]!, 'cpumask_or(&batch->cpumask, &batch->cpumask, mm_cpumask(mm))');
  k.tlbUbc[cpu]!.cpumask |= bits;
});

/**
 * Models: arch_tlbbatch_flush() (arch/x86/mm/tlb.c, v6.18, without INVLPGB): one
 * request to flush everything (flush_tlb_info with mm NULL and no generation) to
 * the batch's CPUs: through flush_tlb_multi() when another CPU is in it (lazy CPUs
 * are skipped by should_flush_tlb(): they catch up at their next switch), else
 * flush_tlb_func() here with interrupts off. Then the batch is empty.
 */
export const arch_tlbbatch_flush = kfunc(function* arch_tlbbatch_flush(k: Kernel, cpu: number): CpuCode {
  const batch = k.tlbUbc[cpu]!;
  k.preempt_disable(cpu); // get_cpu()
  yield* get_flush_tlb_info(k, cpu, 0, TLB_FLUSH_ALL, false, TLB_GENERATION_INVALID);
  const mask: number[] = [];
  for (let c = 0; c < k.config.nrCpus; c++) if (batch.cpumask & (1 << c)) mask.push(c);
  if (mask.some((c) => c !== cpu)) yield* native_flush_tlb_multi(k, cpu, mask, cpu);
  else if (mask.includes(cpu)) yield* flush_tlb_func_irqs_off(k, cpu);
  batch.cpumask = 0; // cpumask_clear(&batch->cpumask)
  yield { k: 'nop', tlbFlushDone: true, site: { fn: 'arch_tlbbatch_flush(): done' } };
  yield* k.preempt_enable_resched(cpu); // put_flush_tlb_info(); put_cpu()
});
