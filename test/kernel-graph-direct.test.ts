// The arm64 predicate computed directly on kernel graphs (src/graph/models/arm64-direct.ts)
// against the predicate in relation algebra (src/graph/models/arm64.ts), which follows
// herd's aarch64.cat term by term: on every consistency check of these searches both
// decide, and a disagreement fails the search. The scenarios cover acquire and release
// (locks), DMB of each kind, value-returning and relaxed atomics, IPIs and interrupt
// entry, ERET, and graphs both predicates reject; under both dependency assumptions.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSource } from '../src/check.js';
import { read } from './helpers.js';

for (const [file, variant, expected] of [
  ['scenarios/membarrier/membarrier-A.litmus', 'v6.18', 'Never'],
  ['scenarios/membarrier/membarrier-A.litmus', 'no-ipi', 'Sometimes'],
  ['scenarios/membarrier/membarrier-B.litmus', 'no-ipi', 'Sometimes'],
  ['scenarios/membarrier/membarrier-switch-mm.litmus', 'v6.18', 'Never'],
  ['scenarios/sched/futex-lost-wakeup.litmus', 'v6.18', null],
] as const) {
  test(`${file} on arm64 (${variant}): the direct predicate agrees with aarch64.cat's on every check`, () => {
    const counter = { checks: 0 };
    const r = checkSource(read(file), file, { model: 'arm64', variant, crossCheckPredicate: counter });
    assert.ok(r.result.complete, r.result.incompleteReason ?? '');
    assert.ok(counter.checks > 100, `only ${counter.checks} checks`);
    if (expected) assert.equal(r.observation, expected);
  });
}
