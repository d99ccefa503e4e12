// Models: kernel/futex/core.c and kernel/futex/futex.h (v6.18), what futex_wait() and
// futex_wake() share: the hash bucket's waiter count with its barriers (A) and (B),
// the bucket lock, and queueing a futex_q on the bucket's chain.
// The model has one hash bucket for every futex word of the scenario (futex_hash()
// may map distinct keys to one bucket; futex_match() on the key keeps them apart),
// private futexes (the key is the word's address in the process), and tasks of one
// priority (the chain is FIFO, as the plist of equal priorities is).
// Leaves out: get_futex_key()'s page pinning, the private hash of 6.16 and later
// (which bucket is beside the point), PI futexes, requeue, bitsets, timeouts.

import type { CpuCode, Op } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { listAddTail, listDel } from '../sched/wait.js';
import { kfunc } from '../dispatch.js';

/** The bucket's layout, present whenever the scenario calls futex_wait() or futex_wake(). */
function hb(k: Kernel): { lock: number; waiters: number; chain: number } {
  return k.layout.futexHb!;
}

/** Models: futex_hb_waiters_inc() (futex.h, v6.18): atomic_inc(&hb->waiters), then smp_mb__after_atomic(), barrier (A). */
export function* futex_hb_waiters_inc(k: Kernel): CpuCode {
  yield { k: 'rmw', loc: hb(k).waiters, f: (v) => v + 1, site: { fn: 'futex_hb_waiters_inc(): atomic_inc(&hb->waiters)' }, order: 'relaxed', returns: false };
  if (!k.variant.removed.has('futex.A')) yield { k: 'nop', site: { fn: 'smp_mb__after_atomic', label: 'futex.A', pairs: 'futex.B' }, fence: 'mb__after_atomic' };
}

/** Models: futex_hb_waiters_dec() (futex.h, v6.18): atomic_dec(&hb->waiters). */
export function* futex_hb_waiters_dec(k: Kernel): CpuCode {
  yield { k: 'rmw', loc: hb(k).waiters, f: (v) => v - 1, site: { fn: 'futex_hb_waiters_dec(): atomic_dec(&hb->waiters)' }, order: 'relaxed', returns: false };
}

/**
 * Models: futex_hb_waiters_pending() (futex.h, v6.18): smp_mb(), barrier (B), then
 * atomic_read(&hb->waiters): the waker's store to the futex word is ordered before
 * its read of the count, as the waiter's increment is before its read of the word.
 */
export function* futex_hb_waiters_pending(k: Kernel): Generator<Op, boolean, number> {
  yield* k.smp_mb('futex.B', 'futex.A');
  return (yield { k: 'ld', loc: hb(k).waiters, site: { fn: 'futex_hb_waiters_pending(): atomic_read(&hb->waiters)' } }) !== 0;
}

/**
 * Models: futex_q_lock() (core.c, v6.18): the waiter is counted before it takes the
 * lock (so a waker that reads the count does not miss one spinning on the lock),
 * q->lock_ptr = &hb->lock, spin_lock(&hb->lock).
 */
export const futex_q_lock = kfunc(function* futex_q_lock(k: Kernel, cpu: number, task: number): CpuCode {
  yield* futex_hb_waiters_inc(k);
  yield { k: 'st', loc: k.layout.futexLockPtr[task]!, val: 1, site: { fn: 'q->lock_ptr = &hb->lock' } };
  yield* k.spin_lock(hb(k).lock, cpu, 'spin_lock(&hb->lock)');
});

/** Models: futex_q_unlock() (core.c, v6.18): the count back down (b), spin_unlock(&hb->lock). */
export const futex_q_unlock = kfunc(function* futex_q_unlock(k: Kernel, cpu: number): CpuCode {
  yield* futex_hb_waiters_dec(k);
  yield* k.spin_unlock(hb(k).lock, cpu, 'spin_unlock(&hb->lock)');
});

/** Models: futex_queue() -> __futex_queue() (core.c, v6.18): plist_add() of q on the chain, q->task = task, then spin_unlock(&hb->lock). */
export const futex_queue = kfunc(function* futex_queue(k: Kernel, cpu: number, task: number, key: number): CpuCode {
  const H = hb(k);
  const chain = yield { k: 'ld', loc: H.chain, site: { fn: 'plist_add(&q->list, &hb->chain)' } };
  yield { k: 'st', loc: H.chain, val: listAddTail(chain, task), site: { fn: 'plist_add(&q->list, &hb->chain)' } };
  yield { k: 'st', loc: k.layout.futexQ[task]!, val: key + 1, site: { fn: 'q->key, q->list (queued)' } };
  yield* k.spin_unlock(H.lock, cpu, 'spin_unlock(&hb->lock)');
});

/** Models: __futex_unqueue() (core.c, v6.18), under hb->lock: plist_del() of q, and the count down. */
export const __futex_unqueue = kfunc(function* __futex_unqueue(k: Kernel, task: number): CpuCode {
  const H = hb(k);
  const chain = yield { k: 'ld', loc: H.chain, site: { fn: 'plist_del(&q->list, &hb->chain)' } };
  yield { k: 'st', loc: H.chain, val: listDel(chain, task), site: { fn: 'plist_del(&q->list, &hb->chain)' } };
  yield { k: 'st', loc: k.layout.futexQ[task]!, val: 0, site: { fn: 'plist_del(): q->list empty' } };
  yield* futex_hb_waiters_dec(k);
});

/**
 * Models: futex_unqueue() (core.c, v6.18), the waiter after it ran again: q->lock_ptr
 * NULL means a waker unqueued it (returns false: woken); else it takes the lock, and
 * if q->lock_ptr changed meanwhile (a waker was finishing) looks again; else unqueues
 * itself (returns true: a timeout, a signal or a spurious wakeup).
 */
export const futex_unqueue = kfunc(function* futex_unqueue(k: Kernel, cpu: number, task: number): Generator<Op, boolean, number> {
  const loc = k.layout.futexLockPtr[task]!;
  for (;;) {
    const lockPtr = yield { k: 'ld', loc, site: { fn: 'futex_unqueue(): READ_ONCE(q->lock_ptr)' } };
    if (lockPtr === 0) return false;
    yield* k.spin_lock(hb(k).lock, cpu, 'spin_lock(lock_ptr)');
    if ((yield { k: 'ld', loc, site: { fn: 'lock_ptr != q->lock_ptr' } }) !== lockPtr) {
      yield* k.spin_unlock(hb(k).lock, cpu, 'spin_unlock(lock_ptr)');
      continue;
    }
    yield* __futex_unqueue(k, task);
    yield* k.spin_unlock(hb(k).lock, cpu, 'spin_unlock(lock_ptr)');
    return true;
  }
});
