// The library's lines, as tests: every scenario given, on both machines, with and without
// reduction: the header's expectation holds, and both searches find the same final states,
// the same execution graphs and the same witness counts (checkLine(), one line of a
// header). In `npm test`, test/library.test.ts, test/library-tlb.test.ts,
// test/library-tlb-variants.test.ts and test/tlb-witnesses.test.ts each run a part of the
// library, a test per file, so that the test runner runs them beside the other files; `npm
// run test:full` runs every line as a test of its own (test/full/library-full.ts).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { checkScenario, expectationFor, observedLabel, parseExpectationKey } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import type { Scenario } from '../src/scenario/ast.js';
import { findArm64Insn, findLkmmOnly, needsKernelModel } from '../src/graph/support.js';
import { MODELS } from '../src/machine/machine.js';
import { litmusFiles, read, ROOT } from './helpers.js';

/** The library's scenario files, and which part each belongs to. */
export const libraryFiles = (): string[] => [...litmusFiles('scenarios'), ...litmusFiles('bench/scenarios')];
export const isTlb = (file: string): boolean => relative(ROOT, file).startsWith('scenarios/tlb/');
/** The TLB scenarios that show a behaviour exists (scenarios/tlb/witness-*): test/tlb-witnesses.test.ts. */
export const isTlbWitness = (file: string): boolean => relative(ROOT, file).startsWith('scenarios/tlb/witness-');

// The unreduced search takes about 80 times the reduced one's steps. It is compared
// with the reduced search wherever the reduced search takes at most FULL_STEPS_MAX
// steps (every scenario but the largest kernel ones), which keeps `npm test` within
// its budget; `npm run test:full` (SMPCHECK_TEST_FULL=1) compares them everywhere.
const FULL_STEPS_MAX = process.env.SMPCHECK_TEST_FULL === '1' ? Infinity : 60_000;
// With user pages the ratio is about 200 (walkers and evictors step at any point), so
// there the reduced search's budget for the comparison in `npm test` is smaller.
const FULL_STEPS_MAX_PAGES = process.env.SMPCHECK_TEST_FULL === '1' ? Infinity : 40_000;
const fullStepsMax = (sc: { directives: readonly { name: string }[] }): number => (sc.directives.some((d) => d.name === 'mmap') ? FULL_STEPS_MAX_PAGES : FULL_STEPS_MAX);
// The unreduced search of the largest lines keeps more than the default --memory-max
// (test:full runs with a larger Node heap to match).
const FULL_BOUNDS = process.env.SMPCHECK_TEST_FULL === '1' ? { memoryMax: 12 * 1024 ** 3 } : {};

/** One line of a scenario's header, as the library's tests check it. */
export type Line =
  /** scenarios/lkmm: spinlocks and plain accesses, which only the Linux-kernel memory model gives a meaning to. */
  | { kind: 'lkmm' }
  /** arm64 instructions (cache maintenance, ISB), which only arm64 gives a meaning to. */
  | { kind: 'arm64' }
  /** Result[sc], Result[x86]: the kernel as released. */
  | { kind: 'released'; model: 'sc' | 'x86' }
  /** Result[x86,no-ipi]: a kernel variant (its key as the header writes it). */
  | { kind: 'variant'; key: string };

/** What a line is called in a test's name and in test/data/full-times.json. */
export function lineLabel(l: Line): string {
  return l.kind === 'released' ? l.model : l.kind === 'variant' ? l.key : l.kind;
}

/**
 * The lines of a scenario the tests check: 'released' only those for the kernel as
 * released, 'variants' only those for variants, 'all' both.
 */
export function linesOf(sc: Scenario, rel: string, lines: 'all' | 'released' | 'variants'): Line[] {
  assert.ok(sc.expectations.length > 0, `${rel}: the header states a Result`);
  if (findLkmmOnly(sc)) return lines === 'variants' ? [] : [{ kind: 'lkmm' }];
  if (findArm64Insn(sc)) return lines === 'variants' ? [] : [{ kind: 'arm64' }];
  const out: Line[] = [];
  if (lines !== 'variants') for (const model of MODELS) out.push({ kind: 'released', model });
  for (const e of lines === 'released' ? [] : sc.expectations) {
    const key = parseExpectationKey(e.key, rel);
    assert.ok(typeof key !== 'string', `${rel}: ${String(key)}`);
    if (key.variant === null) continue;
    const model = key.machine ?? 'x86';
    // The graph engine's machines (arm64 lines of kernel scenarios): test/kernel-graph.test.ts.
    if (model !== 'sc' && model !== 'x86') continue;
    out.push({ kind: 'variant', key: e.key });
  }
  return out;
}

/**
 * Checks one line: the header's expectation holds, and (below the size `npm test` allows,
 * everywhere in `npm run test:full`) the unreduced search finds the reduced search's final
 * states, graphs and counts. `diagnostic` hears which comparisons were left out.
 */
export function checkLine(sc: Scenario, rel: string, line: Line, diagnostic: (msg: string) => void): void {
  if (line.kind === 'lkmm') {
    const r = checkScenario(sc, { model: 'lkmm' });
    assert.equal(r.result.complete, true);
    assert.equal(observedLabel(r), expectationFor(sc, 'lkmm'), `${rel} on lkmm`);
    assert.equal(r.verdict, 'ok');
    return;
  }
  if (line.kind === 'arm64') {
    // The user-level ones here, the kernel ones (seconds each) in test/graph-engine-ifetch.test.ts.
    const expected = expectationFor(sc, 'arm64');
    assert.ok(expected !== null, `${rel} states a result for arm64`);
    if (needsKernelModel(sc, 'arm64')) return;
    const r = checkScenario(sc, { model: 'arm64' });
    assert.equal(r.result.complete, true);
    assert.equal(observedLabel(r), expected, `${rel} on arm64`);
    return;
  }
  if (line.kind === 'released') {
    const model = line.model;
    const expected = expectationFor(sc, model);
    assert.ok(expected !== null, `${rel} states a result for ${model}`);
    const dpor = checkScenario(sc, { model, reduction: true });
    const repro = `smpcheck check ${rel} --model ${model} --show-trace`;
    assert.equal(dpor.result.complete, true, `dpor search complete (${repro})`);
    assert.equal(observedLabel(dpor), expected, `dpor observation on ${model} (${repro})`);
    // A CPU waits forever only where the header says so (Result: Deadlock).
    if (expected !== 'Deadlock') assert.equal(dpor.result.deadlocks, 0);
    if (dpor.result.steps > fullStepsMax(sc)) {
      diagnostic(`${model}: ${dpor.result.steps} reduced steps; full search compared by npm run test:full`);
      return;
    }
    const full = checkScenario(sc, { model, reduction: false, bounds: FULL_BOUNDS });
    assert.equal(full.result.complete, true, `full search complete (${repro} --no-reduction)`);
    assert.equal(observedLabel(full), expected, `full observation on ${model} (${repro} --no-reduction)`);
    assert.deepEqual(dpor.result.outcomes, full.result.outcomes, `same final states on ${model}`);
    assert.equal(dpor.result.graphs, full.result.graphs, `same execution graphs on ${model}`);
    assert.equal(dpor.result.positive, full.result.positive);
    assert.equal(dpor.result.negative, full.result.negative);
    assert.equal(dpor.result.deadlocks > 0, full.result.deadlocks > 0);
    // Reduction explores no more executions than there are interleavings.
    assert.ok(BigInt(dpor.result.executions) <= (full.result.interleavings ?? 0n));
    return;
  }
  // Expectations for kernel variants (Result[x86,no-ipi]): both searches, same answer.
  const e = sc.expectations.find((x) => x.key === line.key);
  assert.ok(e !== undefined, `${rel} has no line Result[${line.key}]`);
  const key = parseExpectationKey(e.key, rel);
  assert.ok(typeof key !== 'string' && key.variant !== null, `${rel}: Result[${line.key}] is not a variant's line`);
  const model = key.machine ?? 'x86';
  assert.ok(model === 'sc' || model === 'x86', `${rel}: Result[${line.key}] is for the graph engine`);
  if (key.random !== null) {
    // A line confirmed by seeded random runs (random=RUNS): an existential result only,
    // never a complete search; the header's runs and seed 1 are what checkScenario uses.
    const r = checkScenario(sc, { model, variant: key.variant });
    const repro = `smpcheck check ${rel} --model ${model} --variant ${key.variant} --random ${key.random} --show-trace`;
    assert.equal(r.result.random?.runs, key.random);
    assert.equal(r.result.complete, false);
    assert.equal(observedLabel(r), e.result, `random runs on ${model},${key.variant} (${repro})`);
    assert.equal(r.verdict, 'ok', repro);
    return;
  }
  const repro = `smpcheck check ${rel} --model ${model} --variant ${key.variant} --show-trace`;
  const dpor = checkScenario(sc, { model, variant: key.variant, reduction: true });
  assert.equal(dpor.result.complete, true, `dpor search complete (${repro})`);
  // 'Assertion' lines are confirmed by a failed kernel assertion, the others by the condition.
  assert.equal(observedLabel(dpor), e.result, `dpor on ${model},${key.variant} (${repro})`);
  if (dpor.result.steps > fullStepsMax(sc)) {
    diagnostic(`${model},${key.variant}: ${dpor.result.steps} reduced steps; full search compared by npm run test:full`);
    return;
  }
  const full = checkScenario(sc, { model, variant: key.variant, reduction: false, bounds: FULL_BOUNDS });
  assert.equal(observedLabel(full), e.result, `full on ${model},${key.variant} (${repro} --no-reduction)`);
  // The same assertions failed (each search lists them in the order it found them).
  const failed = (r: typeof dpor): string[] => r.result.assertions.map((a) => a.name).sort();
  assert.deepEqual(failed(dpor), failed(full), `failed assertions on ${model},${key.variant} (${repro} --no-reduction)`);
  assert.deepEqual(dpor.result.outcomes, full.result.outcomes);
  assert.equal(dpor.result.graphs, full.result.graphs);
}

/**
 * One test per file, checking its lines in turn (checkLine()). `lines`: the header's lines
 * for the kernel as released only ('released'), only those for variants ('variants':
 * Result[x86,no-ipi]), or both.
 */
export function libraryTests(files: readonly string[], lines: 'all' | 'released' | 'variants' = 'all'): void {
  for (const file of files) {
    const rel = relative(ROOT, file);
    const what = lines === 'variants' ? 'variant lines: ' : '';
    test(`${rel}: ${what}expectation confirmed and reduction agrees with full search on sc and x86`, (t) => {
      const sc = parseScenario(read(file), rel);
      for (const line of linesOf(sc, rel, lines)) checkLine(sc, rel, line, (m) => t.diagnostic(m));
    });
  }
}
