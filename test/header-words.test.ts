// The kernel's own header words (tools/memory-model/scripts/judgelitmus.sh): `Result: DEADLOCK`,
// `Result: Maybe` and `Result: ... DATARACE` are read and judged; a refused construct also
// prints herd7's `Unknown macro` line, so the kernel's scripts say what smpcheck does not know.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSource, observedLabel } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { cli } from './helpers.js';

const L = (...lines: string[]): string => lines.join('\n');
const dir = mkdtempSync(join(tmpdir(), 'smpcheck-header-words-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** P0 waits for x=1, which nobody writes: every execution ends blocked. */
const stuck = (result: string): string =>
  L('C stuck', '(*', ` * Result: ${result}`, ' *)', '{}', 'P0(int *x) { int r0; r0 = smp_cond_load_acquire(x, VAL == 1); }', 'exists (0:r0=1)');
/** SB: the outcome r0=0, r0=0 is Sometimes on x86, Never on sc. */
const sb = (...header: string[]): string =>
  L('C sb', '(*', ...header.map((h) => ` * ${h}`), ' *)', '{}',
    'P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }',
    'P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }', 'exists (0:r0=0 /\\ 1:r0=0)');
/** P0 waits forever only in the executions where P1 reads y=1 and so never writes x. */
const sometimesStuck = L('C maybe-stuck', '(*', ' * Result: DEADLOCK', ' *)', '{}',
  'P0(int *x) { int r0; r0 = smp_cond_load_acquire(x, VAL == 1); }',
  'P1(int *x, int *y) { int r0; r0 = READ_ONCE(*y); if (r0 == 0) WRITE_ONCE(*x, 1); }',
  'P2(int *y) { WRITE_ONCE(*y, 1); }', 'exists (0:r0=1)');

test('the parser reads DEADLOCK, Maybe and a trailing DATARACE', async () => {
  const sc = parseScenario(L('C T', '(*', ' * Result[sc]: Maybe', ' * Result[x86]: Sometimes DATARACE', ' * Result: DEADLOCK', ' *)', '{}', 'P0(int *x) { }', 'exists (x=1)'));
  assert.deepEqual(sc.expectations.map((e) => [e.key, e.result, e.datarace ?? false]), [
    ['sc', 'Maybe', false], ['x86', 'Sometimes', true], ['', 'DEADLOCK', false],
  ]);
});

test('Result: DEADLOCK holds when no execution completes, and is contradicted by one that does', async () => {
  const ok = checkSource(stuck('DEADLOCK'), 'stuck.litmus', { model: 'x86' });
  assert.equal(ok.result.positive + ok.result.negative, 0);
  assert.ok(ok.result.deadlocks > 0);
  assert.equal(ok.verdict, 'ok');
  assert.equal(observedLabel(ok), 'DEADLOCK');
  // The same file expecting Never is a liveness failure (herd's `Never 0 0` is what judgelitmus.sh calls a deadlock).
  assert.equal(checkSource(stuck('Never'), 'stuck.litmus', { model: 'x86' }).verdict, 'liveness');
  // Some executions deadlock, others complete: not the kernel's DEADLOCK.
  const partly = checkSource(sometimesStuck, 'maybe-stuck.litmus', { model: 'sc' });
  assert.ok(partly.result.deadlocks > 0 && partly.result.positive + partly.result.negative > 0);
  assert.equal(partly.verdict, 'violation');
  const r = await cli([file('stuck.litmus', stuck('DEADLOCK')), '--no-time']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Observation stuck Never 0 0$/m);
  assert.match(r.out, /^Expected DEADLOCK \(Result\): confirmed$/m);
});

test('Result: Maybe accepts any observation but not a deadlock or a failed assertion', async () => {
  for (const model of ['sc', 'x86'] as const) {
    const r = checkSource(sb('Result: Maybe'), 'sb.litmus', { model });
    assert.equal(r.verdict, 'ok', model);
    assert.equal(r.observation, model === 'sc' ? 'Never' : 'Sometimes');
  }
  assert.equal(checkSource(stuck('Maybe'), 'stuck.litmus', { model: 'x86' }).verdict, 'liveness');
  const out = await cli([file('sb-maybe.litmus', sb('Result: Maybe')), '--no-time']);
  assert.equal(out.code, 0);
  assert.match(out.out, /^Expected Maybe \(Result\): consistent \(Maybe: any observation\)$/m);
  const suite = await cli(['suite', join(dir, 'sb-maybe.litmus'), '--no-time']);
  assert.equal(suite.code, 0, suite.err);
  assert.match(suite.out, /sb\s+x86\s+Maybe\s+Sometimes\s+\d+\s+\d+\s+consistent/);
});

test('Result: ... DATARACE: the outcome is judged, and a contradiction is noted but forgiven', async () => {
  // Right outcome: confirmed as without the word.
  const right = checkSource(sb('Result[x86]: Sometimes DATARACE'), 'sb.litmus', { model: 'x86' });
  assert.equal(right.verdict, 'ok');
  assert.equal(right.expectedDatarace, true);
  // Wrong outcome: a violation without DATARACE, forgiven with it (as judgelitmus.sh does).
  assert.equal(checkSource(sb('Result[x86]: Never'), 'sb.litmus', { model: 'x86' }).verdict, 'violation');
  const forgiven = checkSource(sb('Result[x86]: Never DATARACE'), 'sb.litmus', { model: 'x86' });
  assert.equal(forgiven.verdict, 'ok');
  const out = await cli([file('sb-race.litmus', sb('Result[x86]: Never DATARACE')), '--model', 'x86', '--no-time']);
  assert.equal(out.code, 0);
  assert.match(out.out, /^Expected Never DATARACE \(Result\[x86\]\): not matched, forgiven \(DATARACE: .*\)$/m);
  // smpcheck detects no data race, so it never prints herd's `Flag data-race` (judgelitmus.sh then says 'not modeled').
  assert.doesNotMatch(out.out, /Flag data-race/);
});

test('a refused construct prints herd7\'s Unknown macro line, which judgelitmus.sh turns into "does not know"', async () => {
  const f = file('lock.litmus', L('C lock', '{}', 'P0(int *x) { raw_spin_lock(x); }', 'exists (x=1)'));
  const r = await cli([f]);
  assert.equal(r.code, 1);
  assert.match(r.err, /error\[SMP103\] raw_spin_lock\(\) is not supported/);
  const line = r.err.split('\n').find((l) => l.includes(': Unknown macro '));
  assert.equal(line, `Warning: File "${f}": Unknown macro raw_spin_lock (User error)`);
  // judgelitmus.sh: sed -e 's/^.*: Unknown macro //' -e 's/ (User error).*$//'
  assert.equal(line!.replace(/^.*: Unknown macro /, '').replace(/ \(User error\).*$/, ''), 'raw_spin_lock');
  // A construct without a name of its own is named by the word under the caret.
  const loop = await cli([file('loop.litmus', L('C loop', '{}', 'P0(int *x) { while (1) { } }', 'exists (x=1)'))]);
  assert.match(loop.err, /: Unknown macro while \(User error\)$/m);
  // Other errors print no such line.
  const other = await cli([file('bad.litmus', L('C bad', '{}', 'P0(int *x) { WRITE_ONCE(*y, 1); }', 'exists (x=1)'))]);
  assert.equal(other.code, 1);
  assert.doesNotMatch(other.err, /Unknown macro/);
});
