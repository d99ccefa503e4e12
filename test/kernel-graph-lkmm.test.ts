// The kernel model on LKMM (src/graph/kernel.ts with models/lkmm.ts): the kernel's code
// with arm64's architecture paths, whose instructions (DSB, ISB, ERET) are no LKMM
// events, its spinlocks as lock.cat's events and smp_mb__after_spinlock() as LKMM's
// after-spinlock fence. What the portable barriers promise, per scenario.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSource } from '../src/check.js';
import { read } from './helpers.js';

test('scenario A on LKMM: Never on v6.18, Sometimes without the IPI', () => {
  const file = 'scenarios/membarrier/membarrier-A.litmus';
  const ok = checkSource(read(file), file, { model: 'lkmm' });
  assert.ok(ok.result.complete, ok.result.incompleteReason ?? '');
  assert.equal(ok.observation, 'Never');
  const bad = checkSource(read(file), file, { model: 'lkmm', variant: 'no-ipi' });
  assert.equal(bad.observation, 'Sometimes');
  // The witness is an execution graph with LKMM's tags: the IPI is gone, the scan's reads are there.
  assert.match(bad.result.graphTraces?.positive ?? '', /Execution graph on lkmm/);
});

test('a process switch on LKMM: the barrier after rq->curr is the architecture\'s, which LKMM does not have', () => {
  // membarrier.c asks the architecture for a full barrier between the store to rq->curr and
  // the return to user space (arm64: __switch_to()'s dsb(ish)); on LKMM the kernel's portable
  // code alone leaves the outcome possible.
  const file = 'scenarios/membarrier/membarrier-switch-mm.litmus';
  const r = checkSource(read(file), file, { model: 'lkmm' });
  assert.ok(r.result.complete, r.result.incompleteReason ?? '');
  assert.equal(r.observation, 'Sometimes');
  const arm = checkSource(read(file), file, { model: 'arm64' });
  assert.equal(arm.observation, 'Never');
});

test('spinlocks are lock.cat events and smp_mb__after_spinlock() is after-spinlock on LKMM', () => {
  const file = 'scenarios/membarrier/membarrier-D.litmus';
  const r = checkSource(read(file), file, { model: 'lkmm', variant: 'no-exit-mm-mb' });
  const trace = r.result.graphTraces?.positive ?? '';
  assert.match(trace, /task_lock +read-modify-write .*\[lkr write lkw\]/);
  assert.match(trace, /task_unlock +write .*\[ul\]/);
  const d = checkSource(read(file), file, { model: 'lkmm', variant: 'pre-5bc78502322a' });
  assert.doesNotMatch(d.result.graphTraces?.positive ?? '', /after-spinlock/);
  const v = checkSource(read(file), file, { model: 'lkmm' });
  assert.match(v.result.graphTraces?.negative ?? '', /smp_mb__after_spinlock +barrier +\[after-spinlock\]/);
});

test('LKMM-only constructs in a scenario on the kernel model are refused with SMP112', () => {
  const src = `C t\n{}\nP0(int *x) { int r0; r0 = membarrier(MEMBARRIER_CMD_QUERY, 0, 0); *x = 1; }\nP1(int *x) { int r1; r1 = READ_ONCE(*x); }\nexists (1:r1=1)\n`;
  assert.throws(() => checkSource(src, 't.litmus', { model: 'lkmm' }), (e: { code?: string; message?: string }) => e.code === 'SMP112' && /plain C store/.test(e.message ?? ''));
});
