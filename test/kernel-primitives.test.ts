// The kernel's primitives of one op (src/kernel/kernel.ts: READ_ONCE(), WRITE_ONCE(),
// cmpxchg(), need_resched(), smp_mb(), ...) are small iterators rather than generators,
// for speed: delegating to one must behave exactly as delegating to the generator
// `function* () { return yield op; }` (the op, then the value sent back, exceptions
// thrown in at the op going on out). The locks yield their primitives' ops themselves:
// the same ops. And the wait-queue list helpers (src/kernel/sched/wait.ts) compute the
// word the list-based definitions give.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../src/machine/ops.js';
import { Kernel, KernelLayout, type KernelConfig } from '../src/kernel/kernel.js';
import { findVariant } from '../src/kernel/variants.js';
import { listAddTail, listDel, listHas, listTasks } from '../src/kernel/sched/wait.js';

function kernel(nrCpus = 2, removed: string[] = []): Kernel {
  const config: KernelConfig = { version: 'v6.18', nrCpus, nohzFull: false, configRseq: true, archHasMembarrierSyncCore: true };
  const firstTask = Array.from({ length: nrCpus }, (_, c) => c + 1);
  const layout = new KernelLayout(0, config, firstTask.map(() => 1), firstTask);
  const base = findVariant('v6.18')!;
  return new Kernel(layout, { ...base, removed: new Set([...base.removed, ...removed]) }, firstTask);
}

/** Runs g, answering each op with the next of `answers`; returns the ops and the result. */
function drive<T>(g: Generator<Op, T, number>, answers: number[]): { ops: Op[]; result: T } {
  const ops: Op[] = [];
  let r = g.next();
  while (!r.done) {
    ops.push(r.value);
    r = g.next(answers.shift() ?? 0);
  }
  return { ops, result: r.value };
}

test('a primitive of one op delegates as a generator would: the op, then the value sent back', () => {
  const k = kernel();
  function* user(): Generator<Op, number[], number> {
    const a = yield* k.READ_ONCE(7, 'READ_ONCE(x)');
    yield* k.WRITE_ONCE(8, a + 1, 'WRITE_ONCE(y)');
    const b = yield* k.cmpxchg(9, 0, 5, 'cmpxchg(z)');
    const c = yield* k.xchg(9, 1);
    yield* k.note('a note', { label: 'L', pairs: 'P' });
    yield* k.smp_mb('some.barrier', 'its.partner');
    const d = yield* k.smp_cond_load_acquire(10, (v) => v !== 0);
    return [a, b, c, d];
  }
  const { ops, result } = drive(user(), [41, 0, 3, 0, 0, 0, 6]);
  assert.deepEqual(result, [41, 3, 0, 6]);
  assert.deepEqual(ops.map((o) => o.k), ['ld', 'st', 'rmw', 'rmw', 'nop', 'mb', 'await']);
  const st = ops[1] as Extract<Op, { k: 'st' }>;
  assert.equal(st.val, 42);
  assert.equal(st.site.fn, 'WRITE_ONCE(y)');
  const cas = ops[2] as Extract<Op, { k: 'rmw' }>;
  assert.equal(cas.f(0), 5);
  assert.equal(cas.f(1), undefined);
  assert.deepEqual(ops[4]!.site, { fn: 'a note', label: 'L', pairs: 'P' });
  assert.deepEqual(ops[5]!.site, { fn: 'smp_mb', label: 'some.barrier', pairs: 'its.partner' });
});

test('a removed barrier and need_resched() without a flag in memory yield nothing', () => {
  const k = kernel(2, ['some.barrier']);
  function* user(): Generator<Op, boolean, number> {
    yield* k.smp_mb('some.barrier', 'its.partner');
    return yield* k.need_resched(0);
  }
  const { ops, result } = drive(user(), []);
  assert.deepEqual(ops, []);
  assert.equal(result, false);
  k.needReschedLocal[1] = true;
  assert.deepEqual(drive(k.need_resched(1), []), { ops: [], result: true });
});

test('an exception thrown in at a primitive\'s op goes on out to the caller', () => {
  const k = kernel();
  class Abort extends Error {}
  function* user(): Generator<Op, string, number> {
    try {
      yield* k.READ_ONCE(3);
      return 'not thrown';
    } catch (e) {
      return e instanceof Abort ? 'caught' : 'other';
    }
  }
  const g = user();
  assert.equal(g.next().done, false);
  assert.deepEqual(g.throw(new Abort()), { value: 'caught', done: true });
  // Uncaught, it leaves the primitive itself as it would leave a generator.
  const p = k.WRITE_ONCE(3, 1);
  p.next();
  assert.throws(() => p.throw(new Abort()), Abort);
  assert.deepEqual(p.next(), { value: undefined, done: true });
});

test('the locks yield the ops of their primitives: wait for the word to be free, take it, release it', () => {
  const k = kernel();
  const { ops } = drive(k.spin_lock_irqsave(5, 1, 'spin_lock_irqsave(&l)'), [0, 0, 1, 0, 0]);
  // Taken at the second try: the first cmpxchg found the lock held (1).
  assert.deepEqual(ops.map((o) => o.k), ['irq', 'await', 'rmw', 'await', 'rmw']);
  const aw = ops[1] as Extract<Op, { k: 'await' }>;
  assert.equal(aw.pred(0), true);
  assert.equal(aw.pred(2), false);
  assert.equal(aw.order, 'acquire');
  const cas = ops[2] as Extract<Op, { k: 'rmw' }>;
  assert.equal(cas.f(0), 2);
  assert.equal(cas.f(1), undefined);
  assert.equal(k.preemptCount[1], 1);
  const un = drive(k.spin_unlock_irqrestore(5, 1, 'spin_unlock_irqrestore(&l)'), []);
  assert.deepEqual(un.ops.map((o) => o.k), ['st', 'irq']);
  assert.equal(k.preemptCount[1], 0);
  const m = drive(k.mutex_lock(6, 0), [0, 0]);
  assert.deepEqual(m.ops.map((o) => [o.k, o.site.fn]), [['await', 'mutex_lock'], ['rmw', 'mutex_lock']]);
  assert.equal(k.sleepLocks[0], 1);
  const mu = drive(k.mutex_unlock(6, 0), [1]);
  assert.equal((mu.ops[0] as Extract<Op, { k: 'rmw' }>).f(1), 0);
  assert.equal((mu.ops[0] as Extract<Op, { k: 'rmw' }>).order, 'release');
  assert.equal(k.sleepLocks[0], 0);
});

test('the wait-queue list helpers give the words of their list-based definitions', () => {
  const fold = (ts: number[]): number => ts.reduceRight((acc, t) => acc * 16 + t, 0);
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const words = [0, 1, 0x21, 0x102, 0x1002, 0x0f0f, 0x7654321, 0x87654321, 0xffffffff, 2 ** 33 + 5];
  for (let i = 0; i < 2000; i++) words.push(next());
  for (const w of words) {
    for (let t = 0; t < 16; t++) {
      assert.equal(listHas(w, t), listTasks(w).includes(t));
      assert.equal(listAddTail(w, t), fold(listTasks(w).concat(t)));
      assert.equal(listDel(w, t), fold(listTasks(w).filter((x) => x !== t)));
    }
  }
});
