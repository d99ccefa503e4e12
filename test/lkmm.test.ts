// The Linux-kernel memory model's spinlocks, plain accesses, data-race flag and
// filter clause (src/graph/models/lkmm.ts, src/graph/thread.ts): what they answer,
// how the answer is printed and judged, and their refusal on the other machines.
// herd7's states for scenarios/lkmm are compared in test/graph-engine.test.ts.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSource } from '../src/check.js';
import { SmpError } from '../src/scenario/errors.js';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-lkmm-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const L = (...lines: string[]): string => `${lines.join('\n')}\n`;

const mpPlain = (result: string, p1: string[]): string => L(
  'C MP+plain', '', '(*', ` * ${result}`, ' *)', '', '{}', '',
  'P0(int *x, int *y)', '{', '\t*x = 1;', '\tsmp_store_release(y, 1);', '}', '',
  'P1(int *x, int *y)', '{', '\tint r0;', '\tint r1;', '', ...p1, '}', '', 'exists (1:r0=1 /\\ 1:r1=0)',
);
const racy = ['\tr0 = READ_ONCE(*y);', '\tr1 = *x;'];
const ordered = ['\tr0 = smp_load_acquire(y);', '\tif (r0)', '\t\tr1 = *x;'];

function thrown(f: () => unknown): SmpError {
  try {
    f();
  } catch (e) {
    if (e instanceof SmpError) return e;
    throw e;
  }
  throw new Error('expected an SmpError');
}

test('plain accesses: the data-race flag, and the DATARACE word of a Result line judged against it', async () => {
  const race = checkSource(mpPlain('Result[lkmm]: Sometimes DATARACE', racy), 'mp.litmus', { model: 'lkmm' });
  assert.deepEqual(race.result.flags, ['data-race']);
  assert.equal(race.observation, 'Sometimes');
  assert.equal(race.verdict, 'ok');
  // A race the line does not announce, and an announced race that is not there, are contradictions.
  const unannounced = checkSource(mpPlain('Result[lkmm]: Sometimes', racy), 'mp.litmus', { model: 'lkmm' });
  assert.equal(unannounced.verdict, 'violation');
  const none = checkSource(mpPlain('Result[lkmm]: Never', ordered), 'mp.litmus', { model: 'lkmm' });
  assert.deepEqual(none.result.flags, []);
  assert.equal(none.verdict, 'ok');
  assert.equal(checkSource(mpPlain('Result[lkmm]: Never DATARACE', ordered), 'mp.litmus', { model: 'lkmm' }).verdict, 'violation');
  // The text output prints herd7's Flag line and says what is contradicted.
  const f = join(dir, 'mp-plain.litmus');
  writeFileSync(f, mpPlain('Result[lkmm]: Sometimes', racy));
  const out = await cli([f, '--model', 'lkmm', '--no-time']);
  assert.equal(out.code, 2, 'a violation');
  assert.match(out.out, /^Positive: 1 Negative: 3\nFlag data-race\nCondition /m);
  assert.match(out.out, /^Expected Sometimes \(Result\[lkmm\]\): CONTRADICTED: an execution has a data race \(Flag data-race\)/m);
  const json = JSON.parse((await cli([f, '--model', 'lkmm', '--json', '--no-time'])).out) as { flags: string[]; verdict: string };
  assert.deepEqual(json.flags, ['data-race']);
  assert.equal(json.verdict, 'violation');
});

test('spinlocks: mutual exclusion, trylock, is_locked, a nested lock deadlocks', async () => {
  const counter = (inc: string): string => L(
    'C Counter+locks', '{}',
    `P0(int *x, spinlock_t *l) { int r0; spin_lock(l); r0 = READ_ONCE(*x); ${inc} spin_unlock(l); }`,
    `P1(int *x, spinlock_t *l) { int r0; spin_lock(l); r0 = READ_ONCE(*x); ${inc} spin_unlock(l); }`,
    'exists (x=1)',
  );
  // Inside the lock the two increments are serialised: x ends at 2 always.
  const locked = checkSource(counter('WRITE_ONCE(*x, r0 + 1);'), 'c.litmus', { model: 'lkmm' });
  assert.equal(locked.observation, 'Never');
  assert.equal(locked.result.outcomes.length, 1);
  const tryl = checkSource(L(
    'C Try', '{}',
    'P0(spinlock_t *l) { int r0; int r1; r0 = spin_trylock(l); r1 = spin_is_locked(l); }',
    'P1(spinlock_t *l) { int r0; r0 = spin_trylock(l); }',
    'locations [0:r1]',
    'exists (0:r0=1 /\\ 1:r0=1)',
  ), 't.litmus', { model: 'lkmm' });
  // Both trylocks cannot win (no unlock), one may fail, and the winner sees its lock held.
  assert.equal(tryl.observation, 'Never');
  const states = tryl.result.outcomes.map((o) => o.values.join(','));
  assert.ok(states.length >= 2);
  for (const o of tryl.result.outcomes) {
    const [r0p0, r1p0, r0p1] = o.values as number[];
    assert.ok(r0p0! + r0p1! === 1, `exactly one trylock wins: ${o.values.join(',')}`);
    if (r0p0 === 1) assert.equal(r1p0, 1, 'the winner sees its own lock held');
  }
  // An unlock the path does not hold (a failed trylock, then an unconditional unlock) is refused, not answered.
  const stray = L('C Stray', '{}', 'P0(int *x, spinlock_t *l) { int r0; r0 = spin_trylock(l); WRITE_ONCE(*x, 1); spin_unlock(l); }', 'P1(spinlock_t *l) { spin_lock(l); }', 'exists (x=1)');
  const e = thrown(() => checkSource(stray, 's.litmus', { model: 'lkmm' }));
  assert.equal(e.code, 'SMP103');
  assert.match(e.message, /spin_unlock\(\) of a lock this path of P0 does not hold/);
  const nest = checkSource(L('C Nest', '(* Result[lkmm]: DEADLOCK *)', '{}', 'P0(int *x, spinlock_t *l) { spin_lock(l); spin_lock(l); WRITE_ONCE(*x, 1); }', 'exists (x=1)'), 'n.litmus', { model: 'lkmm' });
  assert.equal(nest.result.positive + nest.result.negative, 0);
  assert.equal(nest.verdict, 'ok');
});

test('SRCU: a lock whose index reaches no unlock is flagged (linux-kernel.bell: unmatched-srcu-lock), and a grace period then orders nothing', async () => {
  const src = (unlock: string): string => L(
    'C S', '{}',
    `P0(int *x, int *y, struct srcu_struct *s) { int r0; r0 = srcu_read_lock(s); WRITE_ONCE(*x, 1); WRITE_ONCE(*y, 1); ${unlock} }`,
    'P1(int *x, int *y, struct srcu_struct *s) { int r0; int r1; r0 = READ_ONCE(*x); synchronize_srcu(s); r1 = READ_ONCE(*y); }',
    'exists (1:r0=1 /\\ 1:r1=0)',
  );
  const matched = checkSource(src('srcu_read_unlock(s, r0);'), 's.litmus', { model: 'lkmm' });
  assert.equal(matched.observation, 'Never');
  assert.deepEqual(matched.result.flags, []);
  const unmatched = checkSource(src('srcu_read_unlock(s, 7);'), 's.litmus', { model: 'lkmm' });
  assert.equal(unmatched.observation, 'Sometimes');
  assert.deepEqual(unmatched.result.flags, ['unmatched-srcu-lock', 'unmatched-srcu-unlock']);
});

test('filter: executions whose final state fails it are left out (herd\'s filter)', async () => {
  const src = (filter: string): string => L(
    'C F', '{}', 'P0(int *x) { WRITE_ONCE(*x, 1); }', 'P1(int *x) { int r0; r0 = READ_ONCE(*x); }',
    'locations [1:r0]', filter, 'exists (x=1)',
  );
  assert.equal(checkSource(src(''), 'f.litmus', { model: 'lkmm' }).result.outcomes.length, 2);
  const f = checkSource(src('filter (1:r0=1)'), 'f.litmus', { model: 'lkmm' });
  assert.equal(f.result.outcomes.length, 1);
  assert.equal(f.observation, 'Always');
});

test('spinlocks, plain accesses, their barriers and filter are refused off lkmm: SMP103 on the machines, SMP112 on the graph engine', async () => {
  const lock = L('C Lock', '{}', 'P0(int *x, spinlock_t *l) { spin_lock(l); WRITE_ONCE(*x, 1); spin_unlock(l); }', 'exists (x=1)');
  const e = thrown(() => checkSource(lock, 'l.litmus', { model: 'x86' }));
  assert.equal(e.code, 'SMP103');
  assert.match(e.message, /spin_lock\(\) is a spinlock operation \(lock\.cat\), which is modelled by the Linux-kernel memory model only: use --model lkmm/);
  assert.equal(thrown(() => checkSource(lock, 'l.litmus', { model: 'arm64' })).code, 'SMP112');
  const plain = L('C Plain', '{}', 'P0(int *x) { *x = 1; }', 'exists (x=1)');
  assert.match(thrown(() => checkSource(plain, 'p.litmus', { model: 'sc' })).message, /a plain C store \(\*x = v\)/);
  const mbAfter = L('C Mb', '{}', 'P0(int *x) { WRITE_ONCE(*x, 1); smp_mb__after_spinlock(); }', 'exists (x=1)');
  assert.match(thrown(() => checkSource(mbAfter, 'm.litmus', { model: 'x86' })).message, /smp_mb__after_spinlock\(\) is a spinlock barrier/);
  const srcu = L('C S', '{}', 'P0(int *x, struct srcu_struct *s) { int r0; r0 = srcu_read_lock(s); WRITE_ONCE(*x, 1); srcu_read_unlock(s, r0); }', 'exists (x=1)');
  assert.match(thrown(() => checkSource(srcu, 's.litmus', { model: 'x86' })).message, /srcu_read_lock\(\) is SRCU/);
  assert.equal(thrown(() => checkSource(srcu, 's.litmus', { model: 'arm64' })).code, 'SMP112');
  const filt = L('C F', '{}', 'P0(int *x) { WRITE_ONCE(*x, 1); }', 'filter (x=1)', 'exists (x=1)');
  assert.match(thrown(() => checkSource(filt, 'f.litmus', { model: 'x86' })).message, /'filter' clause/);
});

test('coherence orders beyond executions_max make the search incomplete, said so, never a crash', async () => {
  const src = L('C W', '{}',
    'P0(int *x) { WRITE_ONCE(*x, 1); WRITE_ONCE(*x, 2); }',
    'P1(int *x) { WRITE_ONCE(*x, 3); WRITE_ONCE(*x, 4); }',
    'P2(int *x) { WRITE_ONCE(*x, 5); WRITE_ONCE(*x, 6); }',
    'exists (x=1)');
  // 6! / (2! 2! 2!) = 90 coherence orders of x.
  assert.equal(checkSource(src, 'w.litmus', { model: 'lkmm' }).result.graphs, 90);
  const r = checkSource(src, 'w.litmus', { model: 'lkmm', bounds: { executionsMax: 50 } });
  assert.equal(r.result.complete, false);
  assert.match(r.result.incompleteReason ?? '', /executions_max=50 reached: the writes to x have more coherence orders than that/);
  assert.equal(r.verdict, 'incomplete');
});
