// Models: kernel/sched/wait.c and include/linux/wait.h (v6.18), the part a task
// that sleeps until a condition holds goes through: wait_event_interruptible_exclusive()
// (___wait_event(): prepare_to_wait_event(), the condition checked again, schedule(),
// finish_wait()) and the waker's __wake_up_common_lock() with autoremove_wake_function()
// -> try_to_wake_up(); and set_current_state() of include/linux/sched.h.
//
// Why no wakeup is lost: the sleeper puts itself on the list and sets its state
// under the queue's lock, then tests the condition; the waker makes the condition
// true, then takes the lock and wakes whoever is on the list. Either the waker finds
// the sleeper on the list (and try_to_wake_up() finds its state set, or the sleeper
// still on its runqueue), or the sleeper took the lock after the waker and sees the
// condition. set_current_state()'s barrier pairs with the one after try_to_wake_up()'s
// p->pi_lock for wakers that do not take the queue's lock (wake_up_q() of the futex).
// Leaves out: signals (a task that may block is never signalled in the model),
// timeouts, freezing, non-exclusive waiters and wake functions other than
// autoremove_wake_function(), the wake key (poll masks).

import type { CpuCode, Op } from '../../machine/ops.js';
import type { Kernel, WaitQueueHead } from '../kernel.js';
import { TASK_RUNNING, try_to_wake_up } from './core.js';
import { kfunc } from '../dispatch.js';

// A list as one word: task ids (1..15) four bits each, in order, the first in the lowest bits.
export const listTasks = (list: number): number[] => {
  const out: number[] = [];
  for (let l = list >>> 0; l !== 0; l >>>= 4) out.push(l & 15);
  return out;
};
// The three below walk the word as listTasks() lists it, without making the list.
export const listHas = (list: number, task: number): boolean => {
  for (let l = list >>> 0; l !== 0; l >>>= 4) if ((l & 15) === task) return true;
  return false;
};
export const listAddTail = (list: number, task: number): number => {
  let at = 1;
  for (let l = list >>> 0; l !== 0; l >>>= 4) at *= 16;
  return (list >>> 0) + task * at;
};
export const listDel = (list: number, task: number): number => {
  let out = 0;
  let at = 1;
  for (let l = list >>> 0; l !== 0; l >>>= 4) {
    const t = l & 15;
    if (t === task) continue;
    out += t * at;
    at *= 16;
  }
  return out;
};

/**
 * set_current_state(state) (include/linux/sched.h): smp_store_mb(current->__state,
 * state): the store and a full barrier, an xchg on x86 (a locked op).
 */
export function* set_current_state(k: Kernel, cpu: number, state: number): CpuCode {
  const loc = k.layout.taskState[k.current(cpu)]!;
  yield { k: 'rmw', loc, f: () => state, site: { fn: 'set_current_state(): smp_store_mb(current->__state)', label: 'set_current_state', pairs: 'ttwu.after_pi_lock' } };
}

/** __set_current_state(state): a plain store (the task's own state, back to running). */
export function* __set_current_state(k: Kernel, cpu: number, state: number): CpuCode {
  yield { k: 'st', loc: k.layout.taskState[k.current(cpu)]!, val: state, site: { fn: '__set_current_state(TASK_RUNNING)' } };
}

/** The marker the CPU's task loop takes (cpu_startup_entry()): the task calls schedule() in a sleep state. */
export function* schedule_blocking(fn = 'schedule()'): CpuCode {
  yield { k: 'nop', block: true, site: { fn } };
}

/**
 * Models: prepare_to_wait_event() (v6.18): under wq_head->lock (interrupts off), the
 * task's entry goes on the list (at the tail: exclusive) unless it already is, and
 * set_current_state(state).
 */
export const prepare_to_wait_event = kfunc(function* prepare_to_wait_event(k: Kernel, cpu: number, wq: WaitQueueHead, state: number): CpuCode {
  const task = k.current(cpu);
  yield* k.spin_lock_irqsave(wq.lock, cpu, `spin_lock_irqsave(&${wq.name}.lock)`);
  const list = yield { k: 'ld', loc: wq.head, site: { fn: `list_empty(&wq_entry->entry) [${wq.name}]` } };
  if (!listHas(list, task)) yield { k: 'st', loc: wq.head, val: listAddTail(list, task), site: { fn: `__add_wait_queue_entry_tail(${wq.name})` } };
  yield* set_current_state(k, cpu, state);
  yield* k.spin_unlock_irqrestore(wq.lock, cpu, `spin_unlock_irqrestore(&${wq.name}.lock)`);
});

/**
 * Models: finish_wait() (v6.18): the task's state back to TASK_RUNNING, then, if its
 * entry is still on the list (list_empty_careful(), without the lock: a waker that
 * woke it removed it), off the list under the lock.
 */
export const finish_wait = kfunc(function* finish_wait(k: Kernel, cpu: number, wq: WaitQueueHead): CpuCode {
  const task = k.current(cpu);
  yield* __set_current_state(k, cpu, TASK_RUNNING);
  const seen = yield { k: 'ld', loc: wq.head, site: { fn: `list_empty_careful(&wq_entry->entry) [${wq.name}]` } };
  if (!listHas(seen, task)) return;
  yield* k.spin_lock_irqsave(wq.lock, cpu, `spin_lock_irqsave(&${wq.name}.lock)`);
  const list = yield { k: 'ld', loc: wq.head, site: { fn: `list_del_init(&wq_entry->entry) [${wq.name}]` } };
  yield { k: 'st', loc: wq.head, val: listDel(list, task), site: { fn: `list_del_init(&wq_entry->entry) [${wq.name}]` } };
  yield* k.spin_unlock_irqrestore(wq.lock, cpu, `spin_unlock_irqrestore(&${wq.name}.lock)`);
});

/**
 * Models: wait_event_interruptible_exclusive(wq_head, condition) (include/linux/wait.h,
 * v6.18): might_sleep(); if the condition does not hold, ___wait_event(): for (;;) {
 * prepare_to_wait_event(); if (condition) break; schedule(); } finish_wait().
 * `condition` reads memory (the pipe's head and tail, say). Returns 0 (no signals).
 */
export function* wait_event_interruptible_exclusive(k: Kernel, cpu: number, wq: WaitQueueHead, condition: () => Generator<Op, boolean, number>, state: number): Generator<Op, number, number> {
  yield* k.reschedPoint(cpu, ['voluntary'], 'wait_event(): might_sleep(): cond_resched()');
  if (yield* condition()) return 0;
  for (;;) {
    yield* prepare_to_wait_event(k, cpu, wq, state);
    if (yield* condition()) break;
    yield* schedule_blocking();
  }
  yield* finish_wait(k, cpu, wq);
  return 0;
}

/**
 * Models: __wake_up_sync_key() -> __wake_up_common_lock() -> __wake_up_common() (v6.18)
 * with autoremove_wake_function(), as wake_up_interruptible_sync_poll() calls it: under
 * wq_head->lock (interrupts off), each entry in order is woken by try_to_wake_up(p,
 * TASK_INTERRUPTIBLE); one it woke leaves the list (list_del_init_careful()), and
 * the walk stops after the first exclusive waiter woken (nr_exclusive = 1; every
 * waiter of the model is exclusive). WF_SYNC's hints (wake_affine(), wakeup
 * preemption) are left out with the rest of CFS.
 */
export const __wake_up_sync_key = kfunc(function* __wake_up_sync_key(k: Kernel, cpu: number, wq: WaitQueueHead, state: number): CpuCode {
  yield* k.spin_lock_irqsave(wq.lock, cpu, `spin_lock_irqsave(&${wq.name}.lock)`);
  let list = yield { k: 'ld', loc: wq.head, site: { fn: `__wake_up_common(${wq.name})` } };
  for (const p of listTasks(list)) {
    const woken = yield* try_to_wake_up(k, cpu, p, k.layout.taskNames[p - 1]!, k.layout.taskCpu[p]!, state);
    if (!woken) continue;
    list = listDel(list, p);
    yield { k: 'st', loc: wq.head, val: list, site: { fn: `autoremove_wake_function(): list_del_init_careful() [${wq.name}]` } };
    break;
  }
  yield* k.spin_unlock_irqrestore(wq.lock, cpu, `spin_unlock_irqrestore(&${wq.name}.lock)`);
});
