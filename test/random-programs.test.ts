// Random litmus programs, checked three ways: DPOR, the explicit-state search
// without reduction, and a small reference interpreter written here from the
// textbook definitions of SC and x86-TSO (it shares no code with the engine).
// All three must produce the same set of final states.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkSource } from '../src/check.js';
import type { ModelName } from '../src/machine/machine.js';
import { instr, programArb, reference, render, renderIrq } from './reference.js';

function engineFinals(src: string, model: ModelName, reduction: boolean): Set<string> {
  const r = checkSource(src, 'random.litmus', { model, reduction });
  assert.equal(r.result.complete, true);
  return new Set(r.result.outcomes.map((o) => o.values.join(',')));
}

for (const model of ['sc', 'x86'] as const) {
  test(`random programs on ${model}: DPOR = full search = reference interpreter`, () => {
    fc.assert(
      fc.property(programArb, (threads) => {
        const src = render(threads);
        const ref = reference(threads, model);
        const dpor = engineFinals(src, model, true);
        const full = engineFinals(src, model, false);
        assert.deepEqual([...dpor].sort(), [...ref].sort(), `DPOR vs reference on ${model}:\n${src}`);
        assert.deepEqual([...full].sort(), [...ref].sort(), `full search vs reference on ${model}:\n${src}`);
      }),
      { seed: 20261122, numRuns: 300, endOnFailure: true },
    );
  });
}

// Interrupts: random handlers raised on random CPUs, with interrupts masked at
// random; the reduced search must agree with the full search.
const irqProgramArb = fc.record({
  threads: fc.array(
    fc.array(
      fc.oneof(
        instr,
        fc.constant({ k: 'raise' as const }),
        fc.constant({ k: 'cli' as const }),
        fc.record({ k: fc.constant('await' as const), loc: fc.integer({ min: 0, max: 2 }), val: fc.integer({ min: 0, max: 2 }) }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    { minLength: 2, maxLength: 2 },
  ),
  handler: fc.array(instr, { minLength: 1, maxLength: 2 }),
  target: fc.integer({ min: 0, max: 1 }),
});

test('random programs with interrupts and waits: DPOR = full search on both machines', () => {
  fc.assert(
    fc.property(irqProgramArb, ({ threads, handler, target }) => {
      const src = renderIrq(threads, handler, target);
      for (const model of ['sc', 'x86'] as const) {
        const a = checkSource(src, 'random-irq.litmus', { model, reduction: true });
        const b = checkSource(src, 'random-irq.litmus', { model, reduction: false });
        assert.equal(a.result.complete && b.result.complete, true);
        assert.deepEqual(a.result.outcomes, b.result.outcomes, `DPOR vs full on ${model}:\n${src}`);
        assert.equal(a.result.graphs, b.result.graphs, `graph counts on ${model}:\n${src}`);
        assert.equal(a.result.deadlocks > 0, b.result.deadlocks > 0, `deadlock found by both or neither on ${model}:\n${src}`);
      }
    }),
    { seed: 7, numRuns: 200, endOnFailure: true },
  );
});
