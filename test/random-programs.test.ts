// Random litmus programs, checked three ways: DPOR, the explicit-state search
// without reduction, and a small reference interpreter written here from the
// textbook definitions of SC and x86-TSO (it shares no code with the engine).
// All three must produce the same set of final states.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkSource } from '../src/check.js';
import type { ModelName } from '../src/machine/machine.js';
import { irqProgramArb, programArb, reference, render, renderIrq } from './reference.js';

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

// One execution per graph: on programs of loads, stores, fences and atomics the reduced
// search explores each execution graph the full search finds exactly once. On x86 this
// rests on two things (docs/scale.md, "Race-only conflicts"): a load that its own store
// buffer forwards wakes no sleeping drain of another CPU (it was CoWR's second run), and
// the graph of a run says which write each read read.
test('random programs on both machines: one execution per graph, the graphs of the full search', () => {
  fc.assert(
    fc.property(programArb, (threads) => {
      const src = render(threads);
      for (const model of ['sc', 'x86'] as const) {
        const a = checkSource(src, 'random.litmus', { model, reduction: true });
        const b = checkSource(src, 'random.litmus', { model, reduction: false });
        assert.equal(a.result.graphs, b.result.graphs, `graphs, reduced and not, on ${model}:\n${src}`);
        assert.equal(a.result.executions, a.result.graphs, `executions per graph on ${model}:\n${src}`);
      }
    }),
    { seed: 20261205, numRuns: 300, endOnFailure: true },
  );
});

/** On both machines: the reduced search finds the final states, graphs and deadlocks of the full one. */
function dporMatchesFull(src: string, file: string): void {
  for (const model of ['sc', 'x86'] as const) {
    const a = checkSource(src, file, { model, reduction: true });
    const b = checkSource(src, file, { model, reduction: false });
    assert.equal(a.result.complete && b.result.complete, true);
    assert.deepEqual(a.result.outcomes, b.result.outcomes, `DPOR vs full on ${model}:\n${src}`);
    assert.equal(a.result.graphs, b.result.graphs, `graph counts on ${model}:\n${src}`);
    assert.equal(a.result.deadlocks > 0, b.result.deadlocks > 0, `deadlock found by both or neither on ${model}:\n${src}`);
  }
}

// Interrupts: random handlers raised on random CPUs, with interrupts masked at
// random; the reduced search must agree with the full search.
test('random programs with interrupts and waits: DPOR = full search on both machines', () => {
  fc.assert(
    fc.property(irqProgramArb, ({ threads, handler, target }) => {
      dporMatchesFull(renderIrq(threads, handler, target), 'random-irq.litmus');
    }),
    { seed: 7, numRuns: 200, endOnFailure: true },
  );
});

// Code: random writes of new versions of the code (write_code), runs of it
// (exec_code), data accesses and interrupts whose return (IRET) serialises; the
// reduced search, with its instruction-fetch processes, must agree with the full one.
type CodeInstr = { k: 'wcode'; val: number } | { k: 'exec' } | { k: 'st' | 'ld'; loc: number } | { k: 'mb' } | { k: 'raise' };
const codeInstr: fc.Arbitrary<CodeInstr> = fc.oneof(
  fc.record({ k: fc.constant('wcode' as const), val: fc.integer({ min: 2, max: 3 }) }),
  fc.constant({ k: 'exec' as const }),
  fc.constant({ k: 'exec' as const }),
  fc.record({ k: fc.constantFrom('st' as const, 'ld' as const), loc: fc.integer({ min: 0, max: 1 }) }),
  fc.constant({ k: 'mb' as const }),
  fc.constant({ k: 'raise' as const }),
);

function renderCode(threads: CodeInstr[][]): string {
  const lines = ['C random-code', '', '{ code=1; }', '', 'irq h(int *code, int *x, int *y)', '{', '\tWRITE_ONCE(*y, 1);', '}', ''];
  const observed: string[] = [];
  threads.forEach((t, ti) => {
    lines.push(`P${ti}(int *code, int *x, int *y)`, '{', '\tint r0;', '\tint r1;', '\tint r2;', '\tint r3;');
    let r = 0;
    for (const i of t) {
      if (i.k === 'wcode') lines.push(`\twrite_code(code, ${i.val});`);
      else if (i.k === 'exec') lines.push(`\tr${r++} = exec_code(code);`);
      else if (i.k === 'st') lines.push(`\tWRITE_ONCE(*${i.loc === 0 ? 'x' : 'y'}, 1);`);
      else if (i.k === 'ld') lines.push(`\tr${r++} = READ_ONCE(*${i.loc === 0 ? 'x' : 'y'});`);
      else if (i.k === 'mb') lines.push('\tsmp_mb();');
      else lines.push(`\traise_irq(${1 - ti}, h);`);
    }
    for (let k = 0; k < r; k++) observed.push(`${ti}:r${k}=0`);
    lines.push('}', '');
  });
  lines.push(`exists (${observed.length > 0 ? observed.join(' \\/ ') : 'code=1'})`, '');
  return lines.join('\n');
}

test('random programs with code, fetches and serialising IRETs: DPOR = full search on both machines', () => {
  fc.assert(
    fc.property(fc.array(fc.array(codeInstr, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 2 }), (threads) => {
      dporMatchesFull(renderCode(threads), 'random-code.litmus');
    }),
    { seed: 11, numRuns: 200, endOnFailure: true },
  );
});
