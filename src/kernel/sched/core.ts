// Models: kernel/sched/core.c __schedule(), context_switch(), finish_task_switch()
// and kernel/sched/sched.h membarrier_switch_mm() (v6.18), on x86 with
// CONFIG_MMU_LAZY_TLB_REFCOUNT. Only what membarrier depends on is modelled: the
// runqueue lock, the store to rq->curr and the barriers around it, the lazy-TLB
// hand-over of active_mm to and from kernel threads, the runqueue copy of the
// membarrier state, and the mm reference drop that supplies the barrier after
// rq->curr on a kernel-thread -> user switch.
// Also try_to_wake_up() for a task asleep in a system call, and the
// TIF_NEED_RESCHED flag it and the tick set; and blocking: a task that calls
// schedule() in a sleep state (futex_wait(), a pipe's wait_event()) leaves its
// runqueue in __schedule() (try_to_block_task()) and comes back when
// try_to_wake_up() enqueues it again (p->__state and p->on_rq in memory).
// Also pick_next_task() over the model's runqueue (runqueue.ts: the scenario's
// `cpu N runs ...` order decides the next task), schedule() and scheduler_tick().
// Leaves out: scheduling classes and load balancing (a task placed on several CPUs
// moves by the idle pull of do_idle()), the task state machine beyond
// asleep/runnable, accounting, RCU and rseq hooks, core scheduling.

import type { CpuCode, HandlerCode, Op } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { ON_CPU_DONE, ON_CPU_PINNED } from '../kernel.js';
import type { CpuSched, SchedEntry } from './runqueue.js';
import { enter_lazy_tlb, switch_mm_irqs_off } from '../arch/x86/mm/tlb.js';
import { mmdrop_lazy_tlb, mmgrab } from './mm.js';
import { membarrier_mm_sync_core_before_usermode } from '../arch/x86/sync_core.js';
import { RESCHEDULE_VECTOR } from '../kernel.js';
import { kfunc } from '../dispatch.js';
import { switch_mm } from '../arch/arm64/mm/context.js';
import { __switch_to } from '../arch/arm64/kernel/process.js';

/** Models: kernel/sched/sched.h membarrier_switch_mm() (v6.18). */
export const membarrier_switch_mm = kfunc(function* membarrier_switch_mm(k: Kernel, cpu: number, prevMm: number, nextMm: number): CpuCode {
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
});

/** Models: finish_task_switch(prev) (v6.18). */
export const finish_task_switch = kfunc(function* finish_task_switch(k: Kernel, cpu: number): CpuCode {
  const mm = k.prevMm[cpu]!;
  k.prevMm[cpu] = 0;
  // finish_lock_switch(): raw_spin_rq_unlock_irq(): a release store, then IRQs on.
  yield { k: 'st', loc: k.layout.rqLock[cpu]!, val: 0, site: { fn: 'raw_spin_rq_unlock' }, order: 'release' };
  yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
  if (mm) {
    // Design sync-core-in-switch-mm: the core sync moved to switch_mm_irqs_off().
    // (CONFIG_ARCH_HAS_SYNC_CORE_BEFORE_USERMODE is x86's: arm64 returns to user mode by ERET.)
    if (!k.variant.removed.has('finish_task_switch.sync_core') && k.layout.config.arch !== 'arm64') yield* membarrier_mm_sync_core_before_usermode(k, cpu, mm);
    yield* mmdrop_lazy_tlb(k, mm, 'mmdrop', 'mmdrop_lazy_tlb_sched');
  } else if (k.variant.removed.has('finish_task_switch.sync_core_every_switch') && k.mmOf(k.current(cpu)) !== 0 && k.layout.config.arch !== 'arm64') {
    // Design sync-core-every-switch: the core sync follows every switch to a user task
    // whose mm registered for SYNC_CORE, not only the return from a kernel thread.
    yield* membarrier_mm_sync_core_before_usermode(k, cpu, k.mmOf(k.current(cpu)));
  }
});

/** Models: context_switch(rq, prev, next) (v6.18), then switch_to() and finish_task_switch(). */
export const context_switch = kfunc(function* context_switch(k: Kernel, cpu: number, prev: number, next: number): CpuCode {
  const prevMm = k.mmOf(prev);
  const nextMm = k.mmOf(next);
  const prevActive = k.activeMm[cpu]!;
  const arm64 = k.layout.config.arch === 'arm64';
  if (nextMm === 0) {
    // To a kernel thread: borrow prev's mm lazily (arm64's enter_lazy_tlb() only
    // points the saved TTBR0 at the zero page: no step).
    if (!arm64) yield* enter_lazy_tlb(k, cpu);
    k.activeMm[cpu] = prevActive;
    if (prevMm) yield* mmgrab(k, prevActive, 'mmgrab_lazy_tlb');
  } else {
    // To user.
    yield* membarrier_switch_mm(k, cpu, prevActive, nextMm);
    if (arm64) yield* switch_mm(k, cpu, prevActive, nextMm);
    else yield* switch_mm_irqs_off(k, cpu, prevActive, nextMm, !prevMm);
    k.activeMm[cpu] = nextMm;
    if (!prevMm) k.prevMm[cpu] = prevActive; // will mmdrop_lazy_tlb() in finish_task_switch()
  }
  if (arm64) yield* __switch_to(k, cpu);
  else yield* k.note('switch_to');
  k.counters.switches[cpu]!++;
  k.curr[cpu] = next;
  yield* finish_task_switch(k, cpu);
});

/** Task states (include/linux/sched.h, v6.18): TASK_NORMAL is what wake_up_process() wakes. */
export const TASK_RUNNING = 0;
export const TASK_INTERRUPTIBLE = 0x1;
export const TASK_UNINTERRUPTIBLE = 0x2;
export const TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;
export const TASK_WAKING = 0x200;

/**
 * raw_spin_rq_lock() of CPU `rqCpu`'s runqueue, from `cpu`. Where no other CPU ever
 * takes it (no task of the scenario blocks) the owner's locked op simply takes it;
 * where try_to_wake_up() may take it from another CPU, it spins like any lock.
 */
export function* raw_spin_rq_lock(k: Kernel, cpu: number, rqCpu: number, fn = 'rq_lock'): CpuCode {
  const loc = k.layout.rqLock[rqCpu]!;
  if (!k.layout.rqLockShared) {
    yield { k: 'rmw', loc, f: () => 1, site: { fn }, order: 'acquire' };
    return;
  }
  for (;;) {
    yield* k.smp_cond_load_acquire(loc, (v) => v === 0, fn);
    if ((yield* k.cmpxchg(loc, 0, cpu + 1, fn, 'acquire')) === 0) return;
  }
}

/**
 * The choice of __schedule() when the current task called schedule() itself with its
 * state set to sleep: given whether the task blocked, the task to switch to (0: idle).
 */
export type SchedPick = (blocked: boolean) => Generator<Op, number, number>;

/**
 * Models: try_to_block_task() -> block_task() -> __block_task() (v6.18): the task that
 * called schedule() in a sleep state leaves its runqueue: smp_store_release(&p->on_rq,
 * 0), after which try_to_wake_up() may enqueue it again (it reads p->on_rq after
 * p->__state; the control dependencies of both sides order the two). Leaves out:
 * signal_pending_state() (the model sends no signal to a task that may block) and
 * DELAY_DEQUEUE (the task is dequeued at once, as one with no negative lag is).
 */
export const try_to_block_task = kfunc(function* try_to_block_task(k: Kernel, cpu: number, p: number): Generator<Op, boolean, number> {
  yield { k: 'st', loc: k.layout.taskOnRq[p]!, val: 0, site: { fn: 'block_task(): smp_store_release(&p->on_rq, 0)' } };
  k.counters.blocks[cpu]!++;
  return true;
});

/**
 * Models: __schedule() (v6.18) when the current task gives up the CPU: IRQs off,
 * rq_lock() (a locked op on x86, so a full barrier) and smp_mb__after_spinlock()
 * (barrier() on x86): the full barrier after user-space accesses and before storing
 * rq->curr (scenario C, barrier d). `next` is the task picked before (a preemption,
 * SM_PREEMPT, or a switch from the idle task), or, for a task that called schedule()
 * in a sleep state (SM_NONE), a SchedPick: then __schedule() reads prev->__state under
 * the lock and, unless a wakeup already set it back to TASK_RUNNING, blocks the task
 * (try_to_block_task()) before pick_next_task(). Returns the task switched to.
 */
export const __schedule = kfunc(function* __schedule(k: Kernel, cpu: number, next: number | SchedPick, clearResched = true): Generator<Op, number, number> {
  const L = k.layout;
  const prev = k.curr[cpu]!;
  yield { k: 'irq', enable: false, site: { fn: 'local_irq_disable' } };
  yield* raw_spin_rq_lock(k, cpu, cpu);
  if (!k.variant.removed.has('sched.before_rq_curr')) {
    // barrier() on x86 (the lock's locked instruction is the barrier); smp_mb() on arm64.
    yield { k: 'nop', site: { fn: 'smp_mb__after_spinlock', label: 'sched.before_rq_curr', pairs: 'membarrier.c' }, arm64: ['dmb.full'], fence: 'mb__after_spinlock' };
  }
  let nextId: number;
  let clear = clearResched;
  if (typeof next === 'number') {
    nextId = next;
  } else {
    const prevState = yield { k: 'ld', loc: L.taskState[prev]!, site: { fn: 'prev_state = READ_ONCE(prev->__state)' } };
    const blocked = prevState !== TASK_RUNNING && (yield* try_to_block_task(k, cpu, prev));
    nextId = yield* next(blocked);
    // To the idle task the flag stays: the idle loop polls it, and a wakeup may already have set it.
    clear = nextId !== 0;
  }
  // clear_tsk_need_resched(prev); clear_preempt_need_resched(). Not when the CPU goes
  // idle: the idle loop polls the flag, and a wakeup may already have set it.
  if (clear) {
    k.needReschedLocal[cpu] = false;
    const loc = L.needResched[cpu];
    if (loc !== undefined) yield { k: 'st', loc, val: 0, site: { fn: 'clear_tsk_need_resched(prev)' } };
  }
  if (prev === nextId) {
    yield { k: 'st', loc: L.rqLock[cpu]!, val: 0, site: { fn: 'raw_spin_rq_unlock' }, order: 'release' };
    yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
    return nextId;
  }
  // RCU_INIT_POINTER(rq->curr, next): the membarrier scan reads it without the lock.
  yield { k: 'st', loc: L.rqCurr[cpu]!, val: nextId, site: { fn: 'RCU_INIT_POINTER(rq->curr, next)' } };
  yield* context_switch(k, cpu, prev, nextId);
  return nextId;
});

/**
 * Models: try_to_wake_up(p, state) (v6.18), called on `cpu`, for task p of CPU `target`.
 *
 * A task that starts asleep (`wake_up(Pn)`): p->pi_lock (a locked op, and with
 * smp_mb__after_spinlock() a full barrier), ttwu_do_activate() makes p runnable on
 * its CPU, and wakeup_preempt() asks that CPU to reschedule: resched_curr() sets
 * TIF_NEED_RESCHED and, for another CPU, sends the reschedule IPI.
 *
 * A task that ran and blocked (futex_wait(), a pipe), whose p->__state and p->on_rq
 * are in memory: under p->pi_lock (interrupts off) and smp_mb__after_spinlock(), the
 * one that pairs with set_current_state()'s barrier on the sleeper's side so that the
 * waker's condition store is ordered before its read of p->__state,
 * ttwu_state_match() reads p->__state: a task already TASK_RUNNING is not woken
 * (returns false). Then smp_rmb() and p->on_rq: a task still on its runqueue (it has
 * not reached __schedule()'s block yet) is woken where it is (ttwu_runnable(): its
 * state back to TASK_RUNNING under its rq lock, so __schedule() will not block it,
 * and its CPU asked to reschedule if the task is not the one running there);
 * else p->__state = TASK_WAKING and ttwu_queue() enqueues it on its CPU under that
 * CPU's rq lock (ttwu_do_activate(): p->on_rq = 1, wakeup_preempt(), p->__state =
 * TASK_RUNNING). select_task_rq() gives the task's own CPU: a task that may block
 * is placed on one CPU (nr_cpus_allowed == 1).
 *
 * The model always asks the CPU to reschedule (the woken task preempts at the CPU's
 * next chance: an interrupt's or a system call's exit, or the idle loop). Leaves out:
 * the wakelist path (TTWU_QUEUE, ttwu_queue_wakelist()), and the wait for p->on_cpu
 * (smp_cond_load_acquire(&p->on_cpu, !VAL)): the task is enqueued on the CPU it
 * blocked on, whose rq lock __schedule() holds until the switch away from it is
 * done, so ttwu_queue()'s rq_lock() already waits for that.
 */
export const try_to_wake_up = kfunc(function* try_to_wake_up(k: Kernel, cpu: number, p: number, name: string, target: number, state = TASK_NORMAL): Generator<Op, boolean, number> {
  const L = k.layout;
  yield* k.note(`try_to_wake_up(${name})`);
  if (L.taskState[p] === undefined) {
    yield { k: 'rmw', loc: L.taskPiLock[p]!, f: () => 1, site: { fn: 'raw_spin_lock_irqsave(&p->pi_lock)' }, order: 'acquire' };
    yield { k: 'st', loc: L.taskWoken[p]!, val: 1, site: { fn: 'ttwu_do_activate(): p->__state = TASK_RUNNING' } };
    yield { k: 'st', loc: L.needResched[target]!, val: 1, site: { fn: `resched_curr(): set_tsk_need_resched(cpu${target}'s current)` } };
    if (target !== cpu) yield { k: 'raise', cpu: target, vector: RESCHEDULE_VECTOR, site: { fn: 'smp_send_reschedule' } };
    yield { k: 'st', loc: L.taskPiLock[p]!, val: 0, site: { fn: 'raw_spin_unlock_irqrestore(&p->pi_lock)' }, order: 'release' };
    return true;
  }
  yield* k.spin_lock_irqsave(L.taskPiLock[p]!, cpu, 'raw_spin_lock_irqsave(&p->pi_lock)');
  yield* k.smp_mb__after_spinlock({ label: 'ttwu.after_pi_lock', pairs: 'set_current_state' });
  let success = false;
  const s = yield { k: 'ld', loc: L.taskState[p]!, site: { fn: 'ttwu_state_match(): READ_ONCE(p->__state)' } };
  if ((s & state) !== 0) {
    success = true;
    yield { k: 'nop', site: { fn: 'smp_rmb' }, fence: 'rmb' };
    const onRq = yield { k: 'ld', loc: L.taskOnRq[p]!, site: { fn: 'READ_ONCE(p->on_rq)' } };
    if (!(onRq !== 0 && (yield* ttwu_runnable(k, cpu, p, target)))) {
      // smp_acquire__after_ctrl_dep() is smp_rmb() (include/asm-generic/barrier.h).
      yield { k: 'nop', site: { fn: 'smp_acquire__after_ctrl_dep' }, fence: 'rmb' };
      yield { k: 'st', loc: L.taskState[p]!, val: TASK_WAKING, site: { fn: 'WRITE_ONCE(p->__state, TASK_WAKING)' } };
      yield* ttwu_queue(k, cpu, p, target);
    }
  }
  yield* k.spin_unlock_irqrestore(L.taskPiLock[p]!, cpu, 'raw_spin_unlock_irqrestore(&p->pi_lock)');
  return success;
});

/**
 * Models: ttwu_runnable() (v6.18): p is still queued (it has not blocked): under its
 * rq lock, if it still is, wakeup_preempt() unless p is running there (task_on_cpu():
 * the model reads rq->curr, which the lock keeps stable), then ttwu_do_wakeup().
 * Returns whether p was still queued.
 */
export const ttwu_runnable = kfunc(function* ttwu_runnable(k: Kernel, cpu: number, p: number, target: number): Generator<Op, boolean, number> {
  const L = k.layout;
  yield* raw_spin_rq_lock(k, cpu, target, '__task_rq_lock()');
  const queued = (yield { k: 'ld', loc: L.taskOnRq[p]!, site: { fn: 'task_on_rq_queued(p)' } }) !== 0;
  if (queued) {
    // Preempted between set_current_state() and schedule() (preempt=full), p waits on the runqueue: ask its CPU to switch.
    if ((yield { k: 'ld', loc: L.rqCurr[target]!, site: { fn: 'task_on_cpu(rq, p)' } }) !== p) yield* resched_curr(k, cpu, target);
    yield { k: 'st', loc: L.taskState[p]!, val: TASK_RUNNING, site: { fn: 'ttwu_do_wakeup(): WRITE_ONCE(p->__state, TASK_RUNNING)' } };
  }
  yield { k: 'st', loc: L.rqLock[target]!, val: 0, site: { fn: '__task_rq_unlock()' } };
  return queued;
});

/**
 * Models: wakeup_preempt() -> resched_curr() (v6.18) of CPU `target` from `cpu`:
 * TIF_NEED_RESCHED set with an atomic op (set_ti_thread_flag() on this CPU,
 * set_nr_and_not_polling()'s fetch_or for another; locked on x86, so the flag is in
 * memory before the IPI can be taken), and the reschedule IPI for another CPU (the
 * model sends it to a polling idle CPU too).
 */
function* resched_curr(k: Kernel, cpu: number, target: number): CpuCode {
  const fn = target === cpu ? 'resched_curr(): set_ti_thread_flag(TIF_NEED_RESCHED)' : `resched_curr(): set_nr_and_not_polling(cpu${target}'s current)`;
  yield { k: 'rmw', loc: k.layout.needResched[target]!, f: (v) => v | 1, site: { fn } };
  if (target !== cpu) yield { k: 'raise', cpu: target, vector: RESCHEDULE_VECTOR, site: { fn: 'smp_send_reschedule' } };
}

/**
 * Models: ttwu_queue() -> ttwu_do_activate() (v6.18): under the target CPU's rq lock,
 * activate_task() (p->on_rq = 1), wakeup_preempt() -> resched_curr() (TIF_NEED_RESCHED,
 * and the reschedule IPI for another CPU), ttwu_do_wakeup() (p->__state = TASK_RUNNING).
 */
export const ttwu_queue = kfunc(function* ttwu_queue(k: Kernel, cpu: number, p: number, target: number): CpuCode {
  const L = k.layout;
  yield* raw_spin_rq_lock(k, cpu, target);
  yield { k: 'st', loc: L.taskOnRq[p]!, val: 1, site: { fn: 'activate_task(): WRITE_ONCE(p->on_rq, TASK_ON_RQ_QUEUED)' } };
  yield* resched_curr(k, cpu, target);
  yield { k: 'st', loc: L.taskState[p]!, val: TASK_RUNNING, site: { fn: 'ttwu_do_wakeup(): WRITE_ONCE(p->__state, TASK_RUNNING)' } };
  k.counters.wakeups[target]!++;
  yield { k: 'st', loc: L.rqLock[target]!, val: 0, site: { fn: 'rq_unlock()' } };
});

// ---- choosing and switching tasks --------------------------------------------------------

/**
 * Can entry x run now on `cpu`? A `sleep` task once this CPU reads its wakeup from
 * memory (`take`); a child of fork()/clone() only in the list's order (do_idle());
 * a shared task (placed on several CPUs) when its p->on_cpu says it is free for this
 * CPU: `peek` reads it, `take` takes the task with a cmpxchg (and the caller switches to it).
 */
export function* taskRunnable(k: Kernel, cpu: number, S: CpuSched, x: SchedEntry, mode: 'peek' | 'take'): Generator<Op, boolean, number> {
  if (x.shared) {
    if (S.doneShared.has(x)) return false;
    const loc = k.layout.taskOnCpu[x.id]!;
    const free = (v: number): boolean => v === 0 || v === ON_CPU_PINNED + cpu;
    // A load first: only a task seen free is taken (a locked cmpxchg, which can still fail).
    let v = yield { k: 'ld', loc, site: { fn: 'p->on_cpu' } };
    if (mode === 'take' && free(v)) {
      v = yield { k: 'rmw', loc, f: (old) => (free(old) ? cpu + 1 : undefined), site: { fn: 'pick_next_task(): take the task (p->on_cpu)' } };
    }
    if (v === ON_CPU_DONE) S.doneShared.add(x);
    return free(v);
  }
  if (x.state === 'preempted') return true;
  if (x.state === 'blocked') {
    // Enqueued again by try_to_wake_up() (ttwu_do_activate(): p->on_rq = 1).
    if (mode !== 'take') return false;
    return (yield { k: 'ld', loc: k.layout.taskOnRq[x.id]!, site: { fn: 'pick_next_task(): p->on_rq' } }) !== 0;
  }
  if (x.state !== 'new') return false;
  if (x.start === 'run') return true;
  if (x.start === 'sleep' && !x.woken && mode === 'take') {
    x.woken = (yield { k: 'ld', loc: k.layout.taskWoken[x.id]!, site: { fn: 'pick_next_task(): p->__state' } }) === 1;
  }
  return x.start === 'sleep' && x.woken;
}

/**
 * Models: pick_next_task() (v6.18) when the current task is preempted: the next
 * runnable entry after it, in the list's cyclic order; -1 if none. A task that may
 * migrate is a candidate when it is free for this CPU (its p->on_cpu says so).
 * Leaves out: scheduling classes and weights (the scenario's order decides).
 */
export const pick_next_task = kfunc(function* pick_next_task(k: Kernel, cpu: number, S: CpuSched, mode: 'peek' | 'take'): Generator<Op, number, number> {
  const n = S.entries.length;
  for (let d = 1; d < n; d++) {
    const j = (S.cur + d) % n;
    if (yield* taskRunnable(k, cpu, S, S.entries[j]!, mode)) return j;
  }
  return -1;
});

/**
 * Models: schedule() (v6.18) on `cpu` to entry j (-1: the idle task): keep the
 * CPU-local kernel state of a task that is switched out, __schedule() with
 * preemption off, then restore the next task's state. A task that may migrate is
 * released (p->on_cpu) unless it was preempted in the kernel, where it stays.
 * With j = 'block' the current task calls schedule() in a sleep state: __schedule()
 * blocks it (unless a wakeup came first) and picks the next entry under the rq lock;
 * the blocked entry waits for try_to_wake_up() to enqueue it again. Returns the
 * entry switched to (the current one when it did not block; -1 the idle task).
 */
export const schedule = kfunc(function* schedule(k: Kernel, cpu: number, S: CpuSched, j: number | 'block', clearResched = true): Generator<Op, number, number> {
  const prev = S.running ? S.entries[S.cur] : undefined;
  S.running = false;
  const save = (e: SchedEntry): void => {
    e.kernelDepth = k.kernelDepth[cpu]!;
    e.preemptCount = k.preemptCount[cpu]!;
    e.sleepLocks = k.sleepLocks[cpu]!;
  };
  if (prev && (prev.state === 'preempted' || j === 'block')) save(prev);
  k.kernelDepth[cpu] = 1;
  k.preemptCount[cpu] = 1;
  k.sleepLocks[cpu] = 0;
  let to: number;
  if (j === 'block') {
    let picked = S.cur;
    yield* __schedule(k, cpu, function* pick(blocked: boolean): Generator<Op, number, number> {
      if (!blocked) return prev!.id;
      picked = yield* pick_next_task(k, cpu, S, 'take');
      return picked < 0 ? 0 : S.entries[picked]!.id;
    });
    to = picked;
    if (to !== S.cur) {
      prev!.state = 'blocked';
      prev!.resume = 'none';
    }
  } else {
    yield* __schedule(k, cpu, j < 0 ? 0 : S.entries[j]!.id, clearResched);
    to = j;
  }
  if (prev?.shared && prev.state === 'preempted') {
    // finish_task_switch(): prev->on_cpu = 0; preempted in the kernel, it stays on this CPU.
    const val = prev.kernelDepth > 0 ? ON_CPU_PINNED + cpu : 0;
    yield { k: 'st', loc: k.layout.taskOnCpu[prev.id]!, val, site: { fn: 'finish_task_switch(): smp_store_release(&prev->on_cpu, 0)' } };
  }
  if (to < 0) return -1;
  const e = S.entries[to]!;
  const back = e.state === 'preempted' || e.state === 'blocked' || to === S.cur && j === 'block';
  k.kernelDepth[cpu] = back ? e.kernelDepth : 0;
  k.preemptCount[cpu] = back ? e.preemptCount : 0;
  k.sleepLocks[cpu] = back ? e.sleepLocks : 0;
  S.cur = to;
  S.running = true;
  return to;
});

/**
 * Models: scheduler_tick() (v6.18), from the timer interrupt: another task is
 * runnable on this CPU, so ask for a reschedule (resched_curr(): this CPU's own
 * TIF_NEED_RESCHED); irqentry_exit() acts on it. A child of fork()/clone() not yet
 * started and a task still asleep are not candidates.
 */
export const scheduler_tick = kfunc(function* scheduler_tick(k: Kernel, cpu: number, S: CpuSched): HandlerCode {
  yield { k: 'nop', site: { fn: 'timer interrupt: scheduler_tick()' } };
  if (!S.running) return;
  if ((yield* pick_next_task(k, cpu, S, 'peek')) < 0) return;
  k.needReschedLocal[cpu] = true;
});

/** Models: scheduler_ipi() (v6.18), the reschedule IPI: nothing to do here; its irqentry_exit() reschedules. */
export const scheduler_ipi = kfunc(function* scheduler_ipi(k: Kernel): HandlerCode {
  yield* k.note('scheduler_ipi()');
});
