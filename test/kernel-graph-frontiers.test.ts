// The kernel graph search extends a state from each CPU's frontier, known by what the
// CPU's code was given (src/graph/kernel.ts, FrontierCache), instead of replaying the
// state's whole graph. Where no task moves between CPUs this is all a CPU's code depends
// on; these tests hold the cache to it:
//   - cross-checked: every state of the search is replayed whole too, and every CPU's
//     frontier (its op, interrupt state, dependencies) or failure must be the same;
//   - the search with the cache finds what the search replaying whole graphs finds, through
//     the same graph states (on small scenarios it may apply more steps: a CPU's frontier
//     not known is replayed from its start; `npm run bench:weak` shows what it saves);
//   - a thread that may migrate carries its code from CPU to CPU: no cache there.
// And the set of states seen (StateSet) merges two states only when their keys' parts
// are equal, whatever their hashes.
// The scenarios cover interrupts and IPIs (handlers, the pending vectors), kernel threads,
// fork, locks and futexes, rseq aborts, assertions (WARN_ON), instruction fetch and cache
// maintenance on arm64, and LKMM.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkSource, type CheckOptions } from '../src/check.js';
import type { ExploreResult } from '../src/explore/types.js';
import { LitmusProgram } from '../src/litmus/program.js';
import { parseScenario } from '../src/scenario/parser.js';
import { StateSet } from '../src/graph/kernel.js';
import { read } from './helpers.js';

/** What a search finds and how many graph states it went through. */
function found(r: ExploreResult): unknown {
  return {
    outcomes: r.outcomes.map((o) => `${o.values.join(',')}x${o.graphs}`),
    graphs: r.graphs,
    executions: r.executions,
    states: r.states,
    assertions: r.assertions.map((a) => `${a.name}x${a.runs}`).sort(),
    deadlocks: r.deadlocks,
    complete: r.complete,
    incompleteReason: r.incompleteReason,
  };
}

const CASES = [
  ['arm64', 'scenarios/membarrier/membarrier-A.litmus', 'v6.18'],
  ['arm64', 'scenarios/membarrier/membarrier-D.litmus', 'pre-5bc78502322a'],
  ['arm64', 'scenarios/membarrier/membarrier-fork-inherits.litmus', 'v6.18'],
  ['arm64', 'scenarios/membarrier/membarrier-global-uaf.litmus', 'pre-227a4aadc75b'],
  ['arm64', 'scenarios/sched/futex-lost-wakeup.litmus', 'v6.18'],
  ['arm64', 'scenarios/rseq/rseq-preempt-abort.litmus', 'v6.18'],
  ['arm64', 'scenarios/sync-core/jit-reclaim-ipi-cachesync.litmus', 'v6.18'],
  ['x86', 'scenarios/membarrier/membarrier-B.litmus', 'no-ipi'],
  ['x86', 'scenarios/membarrier/membarrier-targeted-stall.litmus', 'v6.18'],
  ['sc', 'scenarios/membarrier/membarrier-switch-mm.litmus', 'v6.18'],
  ['lkmm', 'scenarios/membarrier/membarrier-A.litmus', 'v6.18'],
] as const;

for (const [model, file, variant] of CASES) {
  test(`${file} (${variant}) on ${model}: each CPU replayed alone gives the whole replay's frontiers, and the same search`, () => {
    const opts = (replay: NonNullable<CheckOptions['kernelGraphSearch']>['replay']): CheckOptions => ({ model, variant, engine: 'graph', kernelGraphSearch: { replay } });
    const count = { crossCheck: 0 };
    // The cross-checked search takes the cache's frontiers: it is the search with the cache.
    const checked = checkSource(read(file), file, opts(count));
    const whole = checkSource(read(file), file, opts('whole'));
    assert.ok(whole.result.complete || whole.result.incompleteReason?.startsWith('arm64:'), whole.result.incompleteReason ?? '');
    // Every state was cross-checked (a search under both dependency assumptions on arm64 runs twice at most).
    assert.ok(count.crossCheck >= whole.result.states!, `${count.crossCheck} states cross-checked of ${whole.result.states}`);
    assert.deepEqual(found(checked.result), found(whole.result));
    assert.equal(checked.observation, whole.observation);
  });
}

test('a thread that may migrate carries its code between CPUs: its CPUs are not replayed alone', () => {
  const file = 'scenarios/rseq/rseq-migrate-abort.litmus';
  const program = new LitmusProgram(parseScenario(readFileSync(file, 'utf8'), file), 'x86');
  assert.equal(program.cpuLocalCode, false);
  // And the search is the whole replay's.
  const opts = (replay: 'whole' | undefined): CheckOptions => ({ model: 'arm64', variant: 'v6.18', kernelGraphSearch: { replay } });
  const a = checkSource(read(file), file, opts(undefined));
  const b = checkSource(read(file), file, opts('whole'));
  assert.deepEqual(found(a.result), found(b.result));
  assert.equal(a.result.steps, b.result.steps);
});

test('without migration every CPU is replayed alone', () => {
  const file = 'scenarios/membarrier/membarrier-A.litmus';
  const program = new LitmusProgram(parseScenario(readFileSync(file, 'utf8'), file), 'x86');
  assert.equal(program.cpuLocalCode, true);
});

test('the set of graph states merges states by their parts, never by their hashes alone', () => {
  const set = new StateSet();
  const state = (h1: number, h2: number, parts: number[]) => ({ h1, h2, parts: () => parts });
  assert.equal(set.add(state(1, 2, [5, 6, 7]), 2, 10), 'new');
  assert.equal(set.add(state(1, 2, [5, 6, 7]), 2, 10), 'seen');
  // The same two hashes, other parts (a collision): another state.
  assert.equal(set.add(state(1, 2, [5, 6, 8]), 2, 10), 'new');
  assert.equal(set.add(state(1, 2, [5, 6]), 2, 10), 'new');
  assert.equal(set.add(state(1, 3, [5, 6, 7]), 2, 10), 'new');
  assert.equal(set.add(state(1, 2, [5, 6, 8]), 2, 10), 'seen');
  assert.equal(set.size, 4);
  // Full: a new state is not added, a state seen is still seen.
  assert.equal(set.add(state(9, 9, [1]), 2, 4), 'full');
  assert.equal(set.add(state(1, 2, [5, 6]), 2, 4), 'seen');
  // Many states: the arrays grow and every state stays findable.
  const many = new StateSet();
  for (let i = 0; i < 20_000; i++) assert.equal(many.add(state(i % 7, 0, [i, i + 1, i + 2, i + 3]), 2, 1e9), 'new');
  for (let i = 0; i < 20_000; i += 997) assert.equal(many.add(state(i % 7, 0, [i, i + 1, i + 2, i + 3]), 2, 1e9), 'seen');
});
