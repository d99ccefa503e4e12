// No-op steps (barrier(), smp_wmb() on x86, the kernel model's notes) run with the op
// after them instead of as steps of their own (Machine.fuse, docs/scale.md): the
// counts of executions, graphs and steps change, the outcomes do not. Each search
// here is made both ways, with the machine merging no-ops and without.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkScenario, checkSource, type CheckResult } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { MODELS } from '../src/machine/machine.js';
import { read, sameOutcomes } from './helpers.js';
import { irqProgramArb, renderIrq } from './reference.js';

/** The same outcomes, and merging takes no more executions or steps. */
function mergedNoWorse(merged: CheckResult, plain: CheckResult, what: string): void {
  sameOutcomes(merged, plain, what);
  assert.ok(merged.result.executions <= plain.result.executions, `no more executions merged, ${what}`);
  assert.ok(merged.result.steps <= plain.result.steps, `no more steps merged, ${what}`);
}

// Scenario A with barrier() in the threads the IPIs reach (an interrupt before or after
// the barrier is the same run); an rseq scenario, where the note that enters the
// critical section is followed by kernel state an interrupt reads, so it stays a step
// (merging it lost final states); and one whose kernel notes run with interrupts off.
const cases: { rel: string; fewer: boolean }[] = [
  { rel: 'scenarios/membarrier/membarrier-A.litmus', fewer: true },
  { rel: 'bench/scaling/membarrier-A-3cpus.litmus', fewer: true },
  { rel: 'scenarios/membarrier/membarrier-A-preempt.litmus', fewer: true },
  { rel: 'scenarios/rseq/rseq-fence-free.litmus', fewer: false },
  { rel: 'scenarios/rseq/rseq-migrate-abort.litmus', fewer: false },
  { rel: 'scenarios/sync-core/irq-exit-resched.litmus', fewer: false },
];

for (const { rel, fewer } of cases) {
  test(`${rel}: merging no-op steps changes the counts, not the outcomes`, () => {
    const sc = parseScenario(read(rel), rel);
    for (const model of MODELS) {
      const merged = checkScenario(sc, { model });
      const plain = checkScenario(sc, { model, mergeNoOps: false });
      mergedNoWorse(merged, plain, `${rel} on ${model} (smpcheck check ${rel} --model ${model})`);
      if (fewer) assert.ok(merged.result.executions < plain.result.executions, `fewer executions on ${model}: ${merged.result.executions} against ${plain.result.executions}`);
    }
  });
}

test('scenario A on x86: the executions merging no-ops saves', () => {
  const rel = 'scenarios/membarrier/membarrier-A.litmus';
  const sc = parseScenario(read(rel), rel);
  const merged = checkScenario(sc, { model: 'x86' });
  const plain = checkScenario(sc, { model: 'x86', mergeNoOps: false });
  // The interrupt's position around P1's barrier() no longer makes a run of its own.
  assert.deepEqual([merged.result.executions, merged.result.graphs], [14, 14]);
  assert.deepEqual([plain.result.executions, plain.result.graphs], [27, 27]);
});

// Random programs with interrupt handlers, masking (local_irq_disable()), waits and
// smp_wmb() (a no-op on both machines; test/reference.ts), reduced and not: merging keeps
// the final states.
test('random programs with interrupts and no-op barriers: merging no-ops keeps the final states', () => {
  fc.assert(
    fc.property(irqProgramArb, ({ threads, handler, target }) => {
      const src = renderIrq(threads, handler, target);
      for (const model of MODELS) {
        for (const reduction of [true, false]) {
          const merged = checkSource(src, 'random-irq.litmus', { model, reduction });
          const plain = checkSource(src, 'random-irq.litmus', { model, reduction, mergeNoOps: false });
          mergedNoWorse(merged, plain, `${model}, reduction ${reduction}:\n${src}`);
        }
      }
    }),
    { seed: 23, numRuns: 150, endOnFailure: true },
  );
});

// At most MERGED_MAX no-ops and private accesses run with one step: code that is a long
// run of them takes steps, and steps_max bounds it (a loop of 10^16 barriers used to run
// inside one step, unbounded).
test('a long run of no-ops and private accesses takes steps: steps_max bounds it', () => {
  const src = (body: string): string => `C loops\n\n{}\n\nP0(int *x)\n{\n${body}\n\tWRITE_ONCE(*x, 1);\n}\n\nexists (x=1)\n`;
  const nested = checkSource(src('\tloop 100000000 {\n\t\tloop 100000000 {\n\t\t\tbarrier();\n\t\t}\n\t}'), 'nested.litmus', { model: 'x86' });
  assert.equal(nested.verdict, 'incomplete');
  assert.match(nested.result.incompleteReason ?? '', /steps_max/);
  // 1,000 stores to x, which only P0 reaches: 16 steps of 64, and the final value.
  const stores = checkSource(src('\tloop 1000 {\n\t\tWRITE_ONCE(*x, 2);\n\t}'), 'stores.litmus', { model: 'x86' });
  assert.equal(stores.verdict, 'ok');
  assert.equal(stores.observation, 'Always');
  assert.ok(stores.result.steps <= 16, `${stores.result.steps} steps`);
});
