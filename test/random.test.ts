// Random runs (check --random N --seed S, src/explore/random.ts): seeded PCT runs that
// prove only what they find. The same seed gives the same output; an existential
// expectation is confirmed by what was found, a universal one never; a header line asks
// for it with random=RUNS.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSource } from '../src/check.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-random-'));
let n = 0;
/** Runs the CLI on a scenario written to a file of its own. */
const run = async (src: string, args: string[]) => {
  const file = join(dir, `t${n++}.litmus`);
  writeFileSync(file, src);
  return await cli(['check', file, ...args]);
};

const L = (...lines: string[]): string => `${lines.join('\n')}\n`;
const SB = (result: string): string => L(
  'C SB', '(*', ` * Result[x86]: ${result}`, ' *)', '{ x = 0; y = 0; }',
  'P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }',
  'P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }',
  'exists (0:r0=0 /\\ 1:r0=0)',
);

test('random runs: the same seed gives the same result, and the search is never complete', async () => {
  const go = (seed: number) => checkSource(SB('Sometimes'), 'SB.litmus', { model: 'x86', random: { runs: 300, seed } });
  const a = go(7);
  const b = go(7);
  assert.deepEqual(a.result.outcomes, b.result.outcomes);
  assert.deepEqual(a.result.witnesses, b.result.witnesses);
  assert.equal(a.result.steps, b.result.steps);
  assert.equal(a.result.complete, false);
  assert.match(a.result.incompleteReason ?? '', /random search of 300 runs \(seed 7\) proves only what it found/);
  assert.equal(a.result.executions, 300);
  // Every final state random runs find is one the exhaustive search finds.
  const full = checkSource(SB('Sometimes'), 'SB.litmus', { model: 'x86' });
  const key = (o: { values: number[] }): string => o.values.join(',');
  for (const o of a.result.outcomes) assert.ok(full.result.outcomes.some((f) => key(f) === key(o)), key(o));
});

test('random runs confirm Sometimes when both sides were found, and never confirm Never', async () => {
  const some = checkSource(SB('Sometimes'), 'SB.litmus', { model: 'x86', random: { runs: 300, seed: 1 } });
  assert.ok(some.result.positive > 0 && some.result.negative > 0, 'both sides of SB found on x86');
  assert.equal(some.verdict, 'ok');
  // On sc the outcome does not exist: random runs cannot prove that.
  const never = checkSource(SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[sc]: Never'), 'SB.litmus', { model: 'sc', random: { runs: 300, seed: 1 } });
  assert.equal(never.result.positive, 0);
  assert.equal(never.verdict, 'incomplete');
});

test('random=RUNS in a header: only for Assertion or Sometimes on a named machine of the machine engine', async () => {
  const bad = [
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[x86,random=100]: Never'), /SMP107.*confirms only what exists/],
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[random=100]: Sometimes'), /SMP107.*needs a machine/],
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[x86,random=0]: Sometimes'), /SMP107.*at least one run/],
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[x86,random=1,random=2]: Sometimes'), /SMP107.*more than once/],
  ] as const;
  for (const [src, re] of bad) {
    const r = await run(src, ['--no-time']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, re);
  }
  const ok = await run(SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[x86,random=200]: Sometimes'), ['--no-time']);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /Executions 200 \(random runs, seed 1\)/);
  assert.match(ok.out, /Expected Sometimes \(Result\[x86,random=200\]\): confirmed by the final states found on both sides of the condition/);
});

test('--random and --seed: coded errors for what they cannot go with', async () => {
  for (const [args, re] of [
    [['--seed', '3'], /--seed seeds --random/],
    [['--random', '10', '--no-reduction'], /--random samples runs of the machine engine/],
    [['--random', '10', '--model', 'arm64'], /--random samples runs of the machine engine/],
    [['--random', '0'], /--random takes a positive integer/],
    [['--random', '5', '--seed', '-1'], /--seed takes an integer/],
  ] as const) {
    const r = await run(SB('Sometimes'), [...args]);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
});
