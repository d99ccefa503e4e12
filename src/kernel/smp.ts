// Models: kernel/smp.c (v6.18): smp_call_function_many_cond() behind
// smp_call_function_many() and on_each_cpu_mask(), smp_call_function_single(),
// csd_lock()/csd_lock_wait()/csd_unlock(), and the call-function interrupt
// __flush_smp_call_function_queue().
// Leaves out: the per-CPU call_single_queue is a bitmask of requesting CPUs, not
// an llist of csd nodes, so a target runs pending requests in CPU order rather
// than in the order they were queued; no CSD lock debugging, no
// cpus_read_lock()/hotplug (every CPU stays online), no asynchronous (!wait) calls
// (the early-acknowledge design variants of the TLB flush make one: async-flush does not
// wait for the acknowledgment, early-ack waits for it; see tlb.ts).

import type { CpuCode, Op } from '../machine/ops.js';
import { CALL_FUNCTION_VECTOR, IPI_FUNCS, type IpiFunc, type Kernel } from './kernel.js';
import { kfunc } from './dispatch.js';
import { packFlushInfo } from './arch/x86/mm/tlb.js';

const CSD_FLAG_LOCK = 1;

/** What a CPU runs when asked: ipi_mb(), flush_tlb_func() and friends, defined next to their callers. */
export type IpiHandlers = Partial<Record<Exclude<IpiFunc, 'none'>, (k: Kernel, cpu: number, info: number) => CpuCode>>;

/** Models: kernel/smp.c csd_lock_wait() (v6.18): wait until the csd is free (acquire). */
export const csd_lock_wait = kfunc(function* csd_lock_wait(k: Kernel, sender: number, target: number): CpuCode {
  yield* k.smp_cond_load_acquire(k.layout.csdFlags[sender]![target]!, (v) => (v & CSD_FLAG_LOCK) === 0, 'csd_lock_wait');
});

/** Models: kernel/smp.c csd_lock() (v6.18): wait for the csd, then mark it in use (plain store + smp_wmb). */
export const csd_lock = kfunc(function* csd_lock(k: Kernel, sender: number, target: number): CpuCode {
  yield* csd_lock_wait(k, sender, target);
  yield* k.WRITE_ONCE(k.layout.csdFlags[sender]![target]!, CSD_FLAG_LOCK, 'csd_lock');
});

/** Queue a request on target's call_single_queue; true if the queue was empty (an IPI is needed). */
function* queueRequest(k: Kernel, sender: number, target: number, func: IpiFunc, info: number): Generator<import('../machine/ops.js').Op, boolean, number> {
  yield* csd_lock(k, sender, target);
  if (func === 'flush_tlb_func') k.tlbFlushReq[sender]![target]!++;
  yield* k.WRITE_ONCE(k.layout.csdFunc[sender]![target]!, IPI_FUNCS.indexOf(func), 'csd->func');
  yield* k.WRITE_ONCE(k.layout.csdInfo[sender]![target]!, info, 'csd->info');
  if (func === 'flush_tlb_func' && k.variant.removed.has('flush_tlb.info_shared')) {
    // Design flush-info-in-csd: the flush info itself goes into the call-function data.
    const f = k.flushInfo[sender]!;
    yield* k.WRITE_ONCE(k.layout.tlb!.csdFlushInfo[sender]![target]!, packFlushInfo(f.mm, f.range, f.newTlbGen), 'csd->info: a copy of the flush info');
  }
  // llist_add(): a locked cmpxchg loop on the queue head.
  const old = yield { k: 'rmw', loc: k.layout.callSingleQueue[target]!, f: (v) => v | (1 << sender), site: { fn: 'llist_add' } };
  return old === 0;
}

/** Runs an IPI function on `cpu` (from the interrupt or the caller's own CPU) and counts it. */
function* runHandler(k: Kernel, handlers: IpiHandlers, func: IpiFunc, cpu: number, info: number): CpuCode {
  if (func !== 'none' && func !== 'rcu_quiescent_state') k.counters[func][cpu]!++;
  const h = handlers[func as Exclude<IpiFunc, 'none'>];
  k.BUG_ON(h === undefined, `no handler for the call-function request ${func} on CPU ${cpu}`);
  yield* h!(k, cpu, info);
}

/**
 * Models: kernel/smp.c smp_call_function_many_cond() (v6.18) with SCF_WAIT, run with
 * preemption disabled. `runLocal` is SCF_RUN_LOCAL (on_each_cpu_mask()).
 */
export const smp_call_function_many_cond = kfunc(function* smp_call_function_many_cond(
  k: Kernel, handlers: IpiHandlers, cpu: number, mask: readonly number[], func: IpiFunc, info: number, runLocal: boolean,
  cond?: (k: Kernel, cpu: number, info: number) => Generator<Op, boolean, number>,
): CpuCode {
  // this_cpu = smp_processor_id(): with CONFIG_DEBUG_PREEMPT, a preemptible caller is
  // reported (it could migrate and leave its own CPU in, or another out of, the mask).
  k.WARN_ON(k.preemptCount[cpu] === 0, 'BUG: using smp_processor_id() in preemptible code: smp_call_function_many_cond()');
  // cond_func (on_each_cpu_cond_mask()): asked for each CPU of the mask just before
  // its request is queued, and for the own CPU before running func there.
  const remote: number[] = [];
  const ipi: number[] = [];
  for (const t of mask) {
    if (t === cpu || (cond && !(yield* cond(k, t, info)))) continue;
    remote.push(t);
    if (yield* queueRequest(k, cpu, t, func, info)) ipi.push(t);
  }
  // One send_IPI_mask() for all of them: each target after the first is marked as such (for the simulator's costs).
  for (let i = 0; i < ipi.length; i++) {
    yield { k: 'raise', cpu: ipi[i]!, vector: CALL_FUNCTION_VECTOR, site: { fn: 'send_call_function_ipi_mask' }, ...(i > 0 ? { maskNext: true as const } : {}) };
  }
  if (runLocal && mask.includes(cpu) && (!cond || (yield* cond(k, cpu, info)))) {
    yield* k.local_irq_save();
    yield* runHandler(k, handlers, func, cpu, info);
    yield* k.local_irq_restore();
  }
  // Design async-flush: TLB flush requests go out without SCF_WAIT (the targets acknowledge
  // on receipt, and the flush runs after): the sender does not wait.
  if (func === 'flush_tlb_func' && k.variant.removed.has('flush_tlb.wait')) return;
  // Design early-ack: the sender waits for the acknowledgment, which a target gives on receipt.
  for (const t of remote) yield* csd_lock_wait(k, cpu, t);
  // Property S3: an acknowledged synchronous flush has executed.
  if (func === 'flush_tlb_func' && !k.variant.removed.has('flush_tlb.sync_ack')) {
    for (const t of remote) k.WARN_ON(k.tlbFlushDone[cpu]![t] !== k.tlbFlushReq[cpu]![t], `S3: CPU${t} acknowledged CPU${cpu}'s TLB flush before flushing`);
  }
});

/** Models: kernel/smp.c smp_call_function_many() (v6.18): never runs func on the calling CPU. */
export const smp_call_function_many = kfunc(function* smp_call_function_many(k: Kernel, handlers: IpiHandlers, cpu: number, mask: readonly number[], func: IpiFunc, info: number): CpuCode {
  yield* smp_call_function_many_cond(k, handlers, cpu, mask, func, info, false);
});

/** Models: include/linux/smp.h on_each_cpu_mask() (v6.18): includes the calling CPU if in the mask. */
export const on_each_cpu_mask = kfunc(function* on_each_cpu_mask(k: Kernel, handlers: IpiHandlers, cpu: number, mask: readonly number[], func: IpiFunc, info: number): CpuCode {
  k.preempt_disable(cpu);
  yield* smp_call_function_many_cond(k, handlers, cpu, mask, func, info, true);
  yield* k.preempt_enable_resched(cpu);
});

/**
 * Models: kernel/smp.c on_each_cpu_cond_mask() (v6.18) with wait: func on each CPU
 * of the mask for which cond_func says so (all of them without one), the calling
 * CPU included, with preemption disabled.
 */
export const on_each_cpu_cond_mask = kfunc(function* on_each_cpu_cond_mask(
  k: Kernel, handlers: IpiHandlers, cpu: number, mask: readonly number[], func: IpiFunc, info: number,
  cond?: (k: Kernel, cpu: number, info: number) => Generator<Op, boolean, number>,
): CpuCode {
  k.preempt_disable(cpu);
  yield* smp_call_function_many_cond(k, handlers, cpu, mask, func, info, true, cond);
  yield* k.preempt_enable_resched(cpu);
});

/** Models: kernel/smp.c smp_call_function_single() (v6.18) with wait=1: runs locally, IRQs off, on the own CPU. */
export const smp_call_function_single = kfunc(function* smp_call_function_single(k: Kernel, handlers: IpiHandlers, cpu: number, target: number, func: IpiFunc, info: number): CpuCode {
  if (target === cpu) {
    yield* k.local_irq_save();
    yield* runHandler(k, handlers, func, cpu, info);
    yield* k.local_irq_restore();
    return;
  }
  if (yield* queueRequest(k, cpu, target, func, info)) {
    yield { k: 'raise', cpu: target, vector: CALL_FUNCTION_VECTOR, site: { fn: 'send_call_function_single_ipi' } };
  }
  yield* csd_lock_wait(k, cpu, target);
});

/**
 * Models: kernel/smp.c generic_smp_call_function_single_interrupt() ->
 * __flush_smp_call_function_queue() (v6.18): take the whole queue (llist_del_all,
 * an xchg), run each synchronous request, then csd_unlock() it (smp_store_release).
 */
export const generic_smp_call_function_single_interrupt = kfunc(function* generic_smp_call_function_single_interrupt(k: Kernel, handlers: IpiHandlers, cpu: number): CpuCode {
  k.counters.ipis[cpu]!++;
  const pending = yield { k: 'rmw', loc: k.layout.callSingleQueue[cpu]!, f: () => 0, site: { fn: 'llist_del_all' } };
  for (let s = 0; s < k.config.nrCpus; s++) {
    if ((pending & (1 << s)) === 0) continue;
    const f = yield* k.READ_ONCE_chased(k.layout.csdFunc[s]![cpu]!, 'csd->func'); // the csd: the node llist_del_all() returned
    const info = yield* k.READ_ONCE(k.layout.csdInfo[s]![cpu]!, 'csd->info');
    const func = IPI_FUNCS[f];
    k.BUG_ON(func === undefined || func === 'none', `a call-function request without a function reached CPU ${cpu}`);
    if (func === 'flush_tlb_func' && k.variant.removed.has('flush_tlb.sync_ack')) {
      // Design async-flush: the request is acknowledged first (an asynchronous csd), then run.
      yield { k: 'st', loc: k.layout.csdFlags[s]![cpu]!, val: 0, site: { fn: 'csd_unlock (early acknowledgment)' }, order: 'release' };
      yield* runHandler(k, handlers, func, cpu, info);
      continue;
    }
    yield* runHandler(k, handlers, func, cpu, info);
    yield { k: 'st', loc: k.layout.csdFlags[s]![cpu]!, val: 0, site: { fn: 'csd_unlock' }, order: 'release' };
  }
});
