// Random kernel scenarios (test/kernel-fuzz.ts): the reduced search finds what the
// unreduced one finds, on both machines. A few programs here, with the unreduced search
// bounded so that `npm test` stays short; `npm run fuzz:kernel -- --runs N --seed S`
// runs a campaign of any size (README, "What is checked").

// The engine is called directly: the kernel model is loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareSearches, kernelProgramArb, renderKernel } from './kernel-fuzz.js';

const SEED = 20261205;
const RUNS = 16;
const STATES_MAX = 60_000;

test('random kernel scenarios (membarrier, shared CPUs, preemption, kernel threads, user pages): reduced = unreduced on both machines', () => {
  let agreed = 0;
  fc.assert(
    fc.property(kernelProgramArb, (p) => {
      const src = renderKernel(p);
      const v = compareSearches(src, 'random-kernel.litmus', STATES_MAX);
      assert.notEqual(v.status, 'disagree', `${v.detail} on ${v.model}\n${src}\nSaved as F.litmus, compare \`smpcheck check F.litmus --model ${v.model}\` with \`... --no-reduction\`; this test again: node --test dist/test/kernel-fuzz.test.js`);
      if (v.status === 'agree') agreed++;
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  // Not a vacuous pass: most programs fit the bound.
  assert.ok(agreed >= RUNS / 2, `only ${agreed} of ${RUNS} programs fit ${STATES_MAX} unreduced states`);
});
