// Models: fs/pipe.c (v6.18) pipe_read() and pipe_write() of an anonymous pipe with
// both ends open, for messages of one value (an int, as `perf bench sched pipe`
// sends): the reader sleeps on pipe->rd_wait while the pipe is empty, the writer on
// pipe->wr_wait while it is full, each through wait_event_interruptible_exclusive()
// with the pipe's mutex dropped, and each wakes the other with
// wake_up_interruptible_sync_poll() after dropping the mutex. pipe->head and
// pipe->tail are one word (union pipe_index, pipe->head_tail), written under the
// mutex and read without it by pipe_readable() and pipe_writable().
// The model's pipe has PIPE_BUFFERS buffers of one value each (kernel.ts): a write
// takes a buffer (no merging into the last one, which a small write does in the
// kernel), so the pipe is full after PIPE_BUFFERS writes without a read; a read
// takes one value. Leaves out: O_NONBLOCK, signals, closed ends (SIGPIPE, EOF),
// splice, watch queues, fasync and poll (pipe->poll_usage), page allocation and
// copy faults.

import type { Op } from '../../machine/ops.js';
import type { Kernel, PipeLayout } from '../kernel.js';
import { PIPE_BUFFERS } from '../kernel.js';
import { TASK_INTERRUPTIBLE } from '../sched/core.js';
import { __wake_up_sync_key, wait_event_interruptible_exclusive } from '../sched/wait.js';
import { kfunc } from '../dispatch.js';

const headOf = (ht: number): number => ht & 0xffff;
const tailOf = (ht: number): number => ht >>> 16;
const pack = (head: number, tail: number): number => ((head & 0xffff) | ((tail & 0xffff) << 16)) >>> 0;
const pipe_empty = (ht: number): boolean => headOf(ht) === tailOf(ht);
const pipe_full = (ht: number): boolean => ((headOf(ht) - tailOf(ht)) & 0xffff) >= PIPE_BUFFERS;

/** pipe_readable() (v6.18): the head and tail read at once, without the mutex (the writers are never gone in the model). */
function* pipe_readable(P: PipeLayout): Generator<Op, boolean, number> {
  const ht = yield { k: 'ld', loc: P.headTail, site: { fn: `pipe_readable(): READ_ONCE(${P.name}->head_tail)` } };
  return !pipe_empty(ht);
}

/** pipe_writable() (v6.18): likewise (the readers are never gone in the model). */
function* pipe_writable(P: PipeLayout): Generator<Op, boolean, number> {
  const ht = yield { k: 'ld', loc: P.headTail, site: { fn: `pipe_writable(): READ_ONCE(${P.name}->head_tail)` } };
  return !pipe_full(ht);
}

/** wake_up_interruptible_sync_poll(wq_head, ...) (include/linux/wait.h): __wake_up_sync_key() for TASK_INTERRUPTIBLE sleepers. */
function wake_up_interruptible_sync_poll(k: Kernel, cpu: number, wq: PipeLayout['rdWait']): Generator<Op, void, number> {
  return __wake_up_sync_key(k, cpu, wq, TASK_INTERRUPTIBLE);
}

/**
 * Models: pipe_read() (v6.18) of one value: under pipe->mutex, the head and tail;
 * a value to read is taken from the tail's buffer and the tail advances (the pipe
 * was full: the writer will be woken); an empty pipe drops the mutex and waits on
 * rd_wait for pipe_readable(), then takes the mutex again and looks again. After the
 * mutex is dropped, the writers are woken if the pipe was full, and the next reader
 * if one waited and values are left. Returns the value read.
 */
export const pipe_read = kfunc(function* pipe_read(k: Kernel, cpu: number, P: PipeLayout): Generator<Op, number, number> {
  yield* k.mutex_lock(P.mutex, cpu);
  let wakeWriter = false;
  let wakeNextReader = false;
  let value: number;
  for (;;) {
    const ht = yield { k: 'ld', loc: P.headTail, site: { fn: `smp_load_acquire(&${P.name}->head), ${P.name}->tail` } };
    if (!pipe_empty(ht)) {
      const tail = tailOf(ht);
      value = yield { k: 'ld', loc: P.bufs[tail % PIPE_BUFFERS]!, site: { fn: `copy_page_to_iter(${P.name}->bufs[tail])` }, chased: true }; // indexed by the tail just read
      wakeWriter ||= pipe_full(ht);
      yield { k: 'st', loc: P.headTail, val: pack(headOf(ht), tail + 1), site: { fn: `pipe_update_tail(): ${P.name}->tail = tail + 1` } };
      break;
    }
    yield* k.mutex_unlock(P.mutex, cpu);
    yield* wait_event_interruptible_exclusive(k, cpu, P.rdWait, () => pipe_readable(P), TASK_INTERRUPTIBLE);
    wakeWriter = false;
    wakeNextReader = true;
    yield* k.mutex_lock(P.mutex, cpu);
  }
  if (wakeNextReader) {
    const ht = yield { k: 'ld', loc: P.headTail, site: { fn: `pipe_empty(${P.name}->head, ${P.name}->tail)` } };
    if (pipe_empty(ht)) wakeNextReader = false;
  }
  yield* k.mutex_unlock(P.mutex, cpu);
  if (wakeWriter) yield* wake_up_interruptible_sync_poll(k, cpu, P.wrWait);
  if (wakeNextReader) yield* wake_up_interruptible_sync_poll(k, cpu, P.rdWait);
  return value;
});

/**
 * Models: pipe_write() (v6.18) of one value: under pipe->mutex, was_empty from the
 * head and tail; a free buffer is taken (pipe->head = head + 1, then the value copied
 * into it); a full pipe drops the mutex, wakes the readers if it was empty, waits on
 * wr_wait for pipe_writable(), then takes the mutex again and looks again. After the
 * mutex is dropped, the readers are woken if the pipe was empty (a sync wakeup), and
 * the next writer if one waited and the pipe is not full. Returns the bytes written.
 */
export const pipe_write = kfunc(function* pipe_write(k: Kernel, cpu: number, P: PipeLayout, value: number): Generator<Op, number, number> {
  yield* k.mutex_lock(P.mutex, cpu);
  let ht = yield { k: 'ld', loc: P.headTail, site: { fn: `${P.name}->head, ${P.name}->tail` } };
  let wasEmpty = pipe_empty(ht);
  let wakeNextWriter = false;
  for (;;) {
    if (!pipe_full(ht)) {
      const head = headOf(ht);
      yield { k: 'st', loc: P.headTail, val: pack(head + 1, tailOf(ht)), site: { fn: `${P.name}->head = head + 1` } };
      yield { k: 'st', loc: P.bufs[head % PIPE_BUFFERS]!, val: value, site: { fn: `copy_page_from_iter(${P.name}->bufs[head])` } };
      ht = pack(head + 1, tailOf(ht));
      break;
    }
    yield* k.mutex_unlock(P.mutex, cpu);
    if (wasEmpty) yield* wake_up_interruptible_sync_poll(k, cpu, P.rdWait);
    yield* wait_event_interruptible_exclusive(k, cpu, P.wrWait, () => pipe_writable(P), TASK_INTERRUPTIBLE);
    yield* k.mutex_lock(P.mutex, cpu);
    ht = yield { k: 'ld', loc: P.headTail, site: { fn: `${P.name}->head, ${P.name}->tail` } };
    wasEmpty = pipe_empty(ht);
    wakeNextWriter = true;
  }
  if (wakeNextWriter && pipe_full(ht)) wakeNextWriter = false;
  yield* k.mutex_unlock(P.mutex, cpu);
  if (wasEmpty) yield* wake_up_interruptible_sync_poll(k, cpu, P.rdWait);
  if (wakeNextWriter) yield* wake_up_interruptible_sync_poll(k, cpu, P.wrWait);
  return 4;
});
