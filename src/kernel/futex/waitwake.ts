// Models: kernel/futex/waitwake.c (v6.18): futex_wait() and futex_wake() of private
// futexes, the FUTEX_WAIT and FUTEX_WAKE operations of sys_futex() (kernel/futex/syscalls.c).
//
// The guarantee (the ordering comment at the top of waitwake.c): a waiter blocks only
// if the futex word still holds the value it expects when it is queued, and a waker
// that changed the word finds every waiter that did not see the change. The waiter
// counts itself in hb->waiters (a), barrier (A), takes hb->lock and reads the word
// again; the waker writes the word (in user space, before the call), barrier (B),
// and reads hb->waiters: store buffering between (waiters, word), which the two
// barriers forbid. Without (B) on x86, or without the value check anywhere, a waiter
// can sleep forever after futex_wake() returned (scenarios/sched/futex-lost-wakeup.litmus).
//
// In v6.18 futex_wait_setup() also sets the task state and queues the futex_q
// (futex_queue()) before dropping the lock; futex_do_wait() then calls schedule()
// unless a waker already unqueued it. (Older kernels set the state and queue in
// futex_wait_queue(), after futex_wait_setup() returned with the lock held: the same
// steps in the same order.)
// Leaves out: timeouts, signals (-ERESTARTSYS), FUTEX_BITSET, the wake_q's own
// cmpxchg (wake_q_add_safe()) and task references.

import type { Op } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { EAGAIN } from '../uapi.js';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, try_to_wake_up } from '../sched/core.js';
import { __set_current_state, listTasks, schedule_blocking, set_current_state } from '../sched/wait.js';
import { __futex_unqueue, futex_hb_waiters_pending, futex_q_lock, futex_q_unlock, futex_queue, futex_unqueue } from './core.js';
import { kfunc } from '../dispatch.js';

/**
 * Models: futex_wait_setup() (v6.18) for the calling task: futex_q_lock(), the word
 * read again under the lock (futex_get_value_locked()); a value other than `val`
 * returns -EWOULDBLOCK (-EAGAIN) with the lock dropped; else set_current_state(
 * TASK_INTERRUPTIBLE) and futex_queue(), which drops the lock. The mutant
 * no-futex-value-check queues without reading the word.
 */
export const futex_wait_setup = kfunc(function* futex_wait_setup(k: Kernel, cpu: number, uaddr: number, val: number): Generator<Op, number, number> {
  const task = k.current(cpu);
  yield* futex_q_lock(k, cpu, task);
  if (!k.variant.removed.has('futex_wait_setup.value_check')) {
    const uval = yield { k: 'ld', loc: uaddr, site: { fn: 'futex_get_value_locked(&uval, uaddr)' } };
    if (uval !== val) {
      yield* futex_q_unlock(k, cpu);
      return -EAGAIN;
    }
  }
  yield* set_current_state(k, cpu, TASK_INTERRUPTIBLE);
  yield* futex_queue(k, cpu, task, uaddr);
  return 0;
});

/**
 * Models: futex_wait() -> __futex_wait() (v6.18) without a timeout: futex_wait_setup(),
 * then futex_do_wait(): schedule() unless the futex_q is already off the chain (a
 * waker came first), __set_current_state(TASK_RUNNING); futex_unqueue() tells a
 * wakeup (returns 0) from a spurious one (again from the start).
 */
export const futex_wait = kfunc(function* futex_wait(k: Kernel, cpu: number, uaddr: number, val: number): Generator<Op, number, number> {
  const task = k.current(cpu);
  for (;;) {
    const ret = yield* futex_wait_setup(k, cpu, uaddr, val);
    if (ret !== 0) return ret;
    // futex_do_wait()
    const queued = yield { k: 'ld', loc: k.layout.futexQ[task]!, site: { fn: 'futex_do_wait(): plist_node_empty(&q->list)' } };
    if (queued !== 0) yield* schedule_blocking('futex_do_wait(): schedule()');
    yield* __set_current_state(k, cpu, TASK_RUNNING);
    if (!(yield* futex_unqueue(k, cpu, task))) return 0;
  }
});

/**
 * Models: futex_wake() (v6.18): no waiter counted in the bucket (futex_hb_waiters_pending(),
 * after barrier (B)) returns 0 at once; else under hb->lock each futex_q of this key,
 * in order, is unqueued (__futex_wake_mark(): __futex_unqueue(), then
 * smp_store_release(&q->lock_ptr, NULL)) and put on the wake_q, up to nr_wake; after
 * the lock, wake_up_q() wakes each (wake_up_process() -> try_to_wake_up()). Returns
 * how many it woke (nr_wake 0 or less wakes one, as without FLAGS_STRICT).
 */
export const futex_wake = kfunc(function* futex_wake(k: Kernel, cpu: number, uaddr: number, nrWake: number): Generator<Op, number, number> {
  const L = k.layout;
  const H = L.futexHb!;
  if (!(yield* futex_hb_waiters_pending(k))) return 0;
  yield* k.spin_lock(H.lock, cpu, 'spin_lock(&hb->lock)');
  const chain = yield { k: 'ld', loc: H.chain, site: { fn: 'plist_for_each_entry_safe(this, next, &hb->chain, list)' } };
  const wakeQ: number[] = [];
  for (const p of listTasks(chain)) {
    const key = yield { k: 'ld', loc: L.futexQ[p]!, site: { fn: 'futex_match(&this->key, &key)' } };
    if (key !== uaddr + 1) continue;
    // futex_wake_mark() -> __futex_wake_mark()
    yield* __futex_unqueue(k, p);
    yield { k: 'st', loc: L.futexLockPtr[p]!, val: 0, site: { fn: 'smp_store_release(&q->lock_ptr, NULL)' }, order: 'release' };
    wakeQ.push(p);
    // if (++ret >= nr_wake) break: a FUTEX_WAKE of nr_wake <= 0 still wakes one.
    if (wakeQ.length >= nrWake) break;
  }
  yield* k.spin_unlock(H.lock, cpu, 'spin_unlock(&hb->lock)');
  // wake_up_q()
  for (const p of wakeQ) yield* try_to_wake_up(k, cpu, p, L.taskNames[p - 1]!, L.taskCpu[p]!, TASK_NORMAL);
  return wakeQ.length;
});
