// Models: kernel/sched/core.c __schedule(), context_switch(), finish_task_switch()
// and kernel/sched/sched.h membarrier_switch_mm() (v6.18), on x86 with
// CONFIG_MMU_LAZY_TLB_REFCOUNT. Only what membarrier depends on is modelled: the
// runqueue lock, the store to rq->curr and the barriers around it, the lazy-TLB
// hand-over of active_mm to and from kernel threads, the runqueue copy of the
// membarrier state, and the mm reference drop that supplies the barrier after
// rq->curr on a kernel-thread -> user switch.
// Also try_to_wake_up() for a task asleep in a system call, and the
// TIF_NEED_RESCHED flag it and the tick set.
// Leaves out: pick_next_task() (the scenario's `cpu N runs ...` order decides the
// next task; src/litmus/program.ts decides when to switch), the task state machine
// beyond asleep/runnable, accounting, RCU and rseq hooks, core scheduling, migration.

import type { CpuCode } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { switch_mm_irqs_off } from '../arch/x86/mm/tlb.js';
import { mmdrop_lazy_tlb, mmgrab } from './mm.js';
import { membarrier_mm_sync_core_before_usermode } from '../arch/x86/sync_core.js';
import { RESCHEDULE_VECTOR } from '../kernel.js';

/** Models: kernel/sched/sched.h membarrier_switch_mm() (v6.18). */
export function* membarrier_switch_mm(k: Kernel, cpu: number, prevMm: number, nextMm: number): CpuCode {
  const replaced = k.override('membarrier_switch_mm');
  if (replaced) return yield* replaced(k, cpu, prevMm, nextMm);
  // A switch within one mm keeps the runqueue's copy as it is, even when it is stale
  // (registered while another CPU lazily held the mm); the design variant
  // switch-mm-syncs-same-mm drops this return.
  if (prevMm === nextMm && !k.variant.removed.has('membarrier_switch_mm.same_mm_return')) return;
  if (k.variant.removed.has('rq.membarrier_state')) return; // pre-227a4aadc75b: no runqueue copy
  const L = k.layout;
  const state = yield* k.READ_ONCE(L.mmMembarrierState[nextMm]!, 'atomic_read(&next_mm->membarrier_state)');
  const rqState = yield* k.READ_ONCE(L.rqMembarrierState[cpu]!, 'READ_ONCE(rq->membarrier_state)');
  if (rqState === state) return;
  yield* k.WRITE_ONCE(L.rqMembarrierState[cpu]!, state, 'WRITE_ONCE(rq->membarrier_state)');
}

/** Models: finish_task_switch(prev) (v6.18). */
export function* finish_task_switch(k: Kernel, cpu: number): CpuCode {
  const replaced = k.override('finish_task_switch');
  if (replaced) return yield* replaced(k, cpu);
  const mm = k.prevMm[cpu]!;
  k.prevMm[cpu] = 0;
  // finish_lock_switch(): raw_spin_rq_unlock_irq(): a release store, then IRQs on.
  yield { k: 'st', loc: k.layout.rqLock[cpu]!, val: 0, site: { fn: 'raw_spin_rq_unlock' } };
  yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
  if (mm) {
    // Design sync-core-in-switch-mm: the core sync moved to switch_mm_irqs_off().
    if (!k.variant.removed.has('finish_task_switch.sync_core')) yield* membarrier_mm_sync_core_before_usermode(k, cpu, mm);
    yield* mmdrop_lazy_tlb(k, mm, 'mmdrop', 'mmdrop_lazy_tlb_sched');
  }
}

/** Models: context_switch(rq, prev, next) (v6.18), then switch_to() and finish_task_switch(). */
function* context_switch(k: Kernel, cpu: number, prev: number, next: number): CpuCode {
  const prevMm = k.mmOf(prev);
  const nextMm = k.mmOf(next);
  const prevActive = k.activeMm[cpu]!;
  if (nextMm === 0) {
    // To a kernel thread: borrow prev's mm lazily.
    yield* k.note('enter_lazy_tlb');
    k.activeMm[cpu] = prevActive;
    if (prevMm) yield* mmgrab(k, prevActive, 'mmgrab_lazy_tlb');
  } else {
    // To user.
    yield* membarrier_switch_mm(k, cpu, prevActive, nextMm);
    yield* switch_mm_irqs_off(k, cpu, prevActive, nextMm, !prevMm);
    k.activeMm[cpu] = nextMm;
    if (!prevMm) k.prevMm[cpu] = prevActive; // will mmdrop_lazy_tlb() in finish_task_switch()
  }
  yield* k.note('switch_to');
  k.counters.switches[cpu]!++;
  k.curr[cpu] = next;
  yield* finish_task_switch(k, cpu);
}

/**
 * Models: __schedule() (v6.18) when the current task gives up the CPU and
 * `next` is picked: IRQs off, rq_lock() (a locked op on x86, so a full
 * barrier) and smp_mb__after_spinlock() (barrier() on x86): the full barrier
 * after user-space accesses and before storing rq->curr (scenario C, barrier d).
 */
export function* __schedule(k: Kernel, cpu: number, next: number, clearResched = true): CpuCode {
  const L = k.layout;
  const prev = k.curr[cpu]!;
  yield { k: 'irq', enable: false, site: { fn: 'local_irq_disable' } };
  yield { k: 'rmw', loc: L.rqLock[cpu]!, f: () => 1, site: { fn: 'rq_lock' } };
  if (!k.variant.removed.has('sched.before_rq_curr')) {
    yield* k.note('smp_mb__after_spinlock', { label: 'sched.before_rq_curr', pairs: 'membarrier.c' });
  }
  // clear_tsk_need_resched(prev); clear_preempt_need_resched(). Not when the CPU goes
  // idle: the idle loop polls the flag, and a wakeup may already have set it.
  if (clearResched) {
    k.needReschedLocal[cpu] = false;
    const loc = L.needResched[cpu];
    if (loc !== undefined) yield { k: 'st', loc, val: 0, site: { fn: 'clear_tsk_need_resched(prev)' } };
  }
  if (prev === next) {
    yield { k: 'st', loc: L.rqLock[cpu]!, val: 0, site: { fn: 'raw_spin_rq_unlock' } };
    yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
    return;
  }
  // RCU_INIT_POINTER(rq->curr, next): the membarrier scan reads it without the lock.
  yield { k: 'st', loc: L.rqCurr[cpu]!, val: next, site: { fn: 'RCU_INIT_POINTER(rq->curr, next)' } };
  yield* context_switch(k, cpu, prev, next);
}

/**
 * Models: try_to_wake_up(p) (v6.18) for task p asleep in a system call, woken by a
 * task on `cpu` (futex_wake(), say): p->pi_lock (a locked op, and with
 * smp_mb__after_spinlock() a full barrier), ttwu_do_activate() makes p runnable on
 * its CPU `target`, and wakeup_preempt() asks that CPU to reschedule: resched_curr()
 * sets TIF_NEED_RESCHED and, for another CPU, sends the reschedule IPI. The model
 * always asks (the woken task preempts at the CPU's next chance: an interrupt's or a
 * system call's exit); the wakelist path (TTWU_QUEUE) is left out.
 */
export function* try_to_wake_up(k: Kernel, cpu: number, p: number, name: string, target: number): CpuCode {
  const L = k.layout;
  yield* k.note(`try_to_wake_up(${name})`);
  yield { k: 'rmw', loc: L.taskPiLock[p]!, f: () => 1, site: { fn: 'raw_spin_lock_irqsave(&p->pi_lock)' } };
  yield { k: 'st', loc: L.taskWoken[p]!, val: 1, site: { fn: 'ttwu_do_activate(): p->__state = TASK_RUNNING' } };
  yield { k: 'st', loc: L.needResched[target]!, val: 1, site: { fn: `resched_curr(): set_tsk_need_resched(cpu${target}'s current)` } };
  if (target !== cpu) yield { k: 'raise', cpu: target, vector: RESCHEDULE_VECTOR, site: { fn: 'smp_send_reschedule' } };
  yield { k: 'st', loc: L.taskPiLock[p]!, val: 0, site: { fn: 'raw_spin_unlock_irqrestore(&p->pi_lock)' } };
}
