// Random runs (check --random N --seed S, src/explore/random.ts): seeded PCT runs that
// prove only what they find. The same seed gives the same output; an existential
// expectation is confirmed by what was found, a universal one never; a header line asks
// for it with random=RUNS.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSource, type CheckResult } from '../src/check.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, read } from './helpers.js';

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

/** Two random searches with the same runs and seed: the same result, never complete. */
function assertSampled(a: CheckResult, b: CheckResult, runs: number, seed: number): void {
  assert.deepEqual(a.result.outcomes, b.result.outcomes);
  assert.deepEqual(a.result.witnesses, b.result.witnesses);
  assert.equal(a.result.steps, b.result.steps);
  assert.equal(a.result.states, b.result.states);
  assert.equal(a.result.complete, false);
  assert.equal(a.result.executions, runs);
  assert.deepEqual(a.result.random, { runs, seed });
  assert.match(a.result.incompleteReason ?? '', new RegExp(`random search of ${runs} runs \\(seed ${seed}\\) proves only what it found`));
}

/** Every final state the random search found, the exhaustive search found. */
function assertFoundIn(sampled: CheckResult, full: CheckResult): void {
  const key = (o: { values: number[] }): string => o.values.join(',');
  assert.ok(sampled.result.outcomes.length > 0);
  for (const o of sampled.result.outcomes) assert.ok(full.result.outcomes.some((f) => key(f) === key(o)), key(o));
}

test('random runs: the same seed gives the same result, and the search is never complete', async () => {
  const go = (seed: number) => checkSource(SB('Sometimes'), 'SB.litmus', { model: 'x86', random: { runs: 300, seed } });
  const a = go(7);
  assertSampled(a, go(7), 300, 7);
  // Every final state random runs find is one the exhaustive search finds.
  assertFoundIn(a, checkSource(SB('Sometimes'), 'SB.litmus', { model: 'x86' }));
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

test('random=RUNS in a header: only for Assertion or Sometimes on a named machine (arm64 and lkmm for the kernel model)', async () => {
  const bad = [
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[x86,random=100]: Never'), /SMP107.*confirms only what exists/],
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[random=100]: Sometimes'), /SMP107.*needs a machine/],
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[x86,random=0]: Sometimes'), /SMP107.*at least one run/],
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[x86,random=1,random=2]: Sometimes'), /SMP107.*more than once/],
    [SB('Sometimes').replace('Result[x86]: Sometimes', 'Result[arm64,random=100]: Sometimes'), /SMP107.*samples runs of the kernel model/],
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

// The kernel model on the graph engine (arm64, lkmm): runs of PctRuns in src/graph/kernel.ts.
const WITNESS = 'scenarios/sync-core/witness-irq-exit-resched.litmus';
const JIT = 'scenarios/sync-core/jit-reclaim-ipi-cachesync-plain.litmus';

test('random runs of the kernel model on arm64: seeded, never complete, and only what the exhaustive search finds', () => {
  const src = read(JIT);
  const go = (seed: number) => checkSource(src, JIT, { model: 'arm64', random: { runs: 150, seed } });
  const a = go(3);
  assertSampled(a, go(3), 150, 3);
  // Runs assume every dependency: what they find, the search under either assumption finds.
  const full = checkSource(src, JIT, { model: 'arm64' });
  assert.equal(full.result.complete, true);
  assertFoundIn(a, full);
  for (const x of a.result.assertions) assert.ok(full.result.assertions.some((f) => f.name === x.name), x.name);
  // A run that ends waiting proves no deadlock under the dependencies it assumes: none is reported.
  assert.equal(a.result.deadlocks, 0);
});

test('random=RUNS on arm64: the interrupt-exit witness that the exhaustive search cannot reach', async () => {
  const src = read(WITNESS);
  assert.match(src, /Result\[arm64,random=500\]: Sometimes/);
  const r = checkSource(src, WITNESS, { model: 'arm64' });
  assert.equal(r.result.random?.runs, 500);
  assert.ok(r.result.positive > 0 && r.result.negative > 0);
  assert.equal(r.verdict, 'ok');
  const cliRun = await cli(['check', WITNESS, '--model', 'arm64', '--random', '300', '--seed', '1', '--no-time', '--show-trace']);
  assert.match(cliRun.out, /Executions 300 \(graph engine: random runs, seed 1\)/);
  // The trace names arm64's return from the interrupt.
  assert.match(cliRun.out, /ERET/);
  assert.doesNotMatch(cliRun.out, /IRET/);
});
