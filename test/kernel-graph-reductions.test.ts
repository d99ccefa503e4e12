// What the kernel graph search (src/graph/kernel.ts) does to search less, each shown to
// change counts and nothing else:
//   - quiet CPUs and a CPU's own locations (exploreKernelGraphs()'s assumptions): fewer
//     graph states, the same final states, graphs, executions, assertions and deadlocks
//     as the search that makes no assumption;
//   - on arm64, one search answering under both dependency assumptions: the same result
//     as a search under each (bracketDeps() of the two).
// The scenarios cover an IPI to a CPU that is then not quiet (a restart), a CPU no
// interrupt reaches (membarrier's caller), kernel threads, locks, assertions and SYNC_CORE.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSource, observedLabel, type CheckOptions } from '../src/check.js';
import type { ExploreResult } from '../src/explore/types.js';
import { read } from './helpers.js';

/** What a search finds, without how much it searched. */
function found(r: ExploreResult): unknown {
  return {
    outcomes: r.outcomes.map((o) => o.values.join(',')),
    graphs: r.graphs,
    executions: r.executions,
    assertions: r.assertions.map((a) => a.name).sort(),
    deadlocks: r.deadlocks,
    complete: r.complete,
    incompleteReason: r.incompleteReason,
  };
}

const CASES = [
  ['scenarios/membarrier/membarrier-A.litmus', 'v6.18'],
  ['scenarios/membarrier/membarrier-A.litmus', 'no-ipi'],
  ['scenarios/membarrier/membarrier-D.litmus', 'v6.18'],
  ['scenarios/membarrier/membarrier-global-uaf.litmus', 'pre-227a4aadc75b'],
  ['scenarios/membarrier/membarrier-targeted-stall.litmus', 'v6.18'],
  ['scenarios/sync-core/jit-reclaim-ipi-cachesync.litmus', 'v6.18'],
  ['scenarios/sched/futex-lost-wakeup.litmus', 'v6.18'],
] as const;

for (const model of ['arm64', 'x86', 'sc'] as const) {
  for (const [file, variant] of CASES) {
    if (model !== 'arm64' && file.includes('jit-reclaim')) continue; // code on arm64 only
    test(`${file} (${variant}) on ${model}: the search's assumptions change graph-state counts only`, () => {
      const opts = (extra: Partial<CheckOptions>): CheckOptions => ({ model, variant, engine: 'graph', ...extra });
      const plain = checkSource(read(file), file, opts({ kernelGraphSearch: { assume: false, separateDeps: true } }));
      const assumed = checkSource(read(file), file, opts({ kernelGraphSearch: { separateDeps: true } }));
      const one = checkSource(read(file), file, opts({}));
      assert.ok(plain.result.complete || plain.result.incompleteReason?.startsWith('arm64:'), plain.result.incompleteReason ?? '');
      assert.deepEqual(found(assumed.result), found(plain.result));
      assert.deepEqual(found(one.result), found(plain.result));
      assert.equal(assumed.observation, plain.observation);
      assert.equal(one.observation, plain.observation);
      assert.ok(assumed.result.states! <= plain.result.states!, `${assumed.result.states} states with the assumptions, ${plain.result.states} without`);
    });
  }
}

test('the assumptions search fewer graph states on scenario D (arm64)', () => {
  const file = 'scenarios/membarrier/membarrier-D.litmus';
  const plain = checkSource(read(file), file, { model: 'arm64', kernelGraphSearch: { assume: false } });
  const assumed = checkSource(read(file), file, { model: 'arm64' });
  assert.ok(assumed.result.states! < plain.result.states!, `${assumed.result.states} vs ${plain.result.states}`);
});

test('states=N in a header: a graph-engine search cut after N states, confirming only what it finds', () => {
  const file = 'scenarios/sync-core/irq-exit-resched-full.litmus';
  const src = read(file);
  assert.match(src, /Result\[arm64,states=3000\]: Sometimes/);
  const r = checkSource(src, file, { model: 'arm64' });
  assert.equal(r.result.complete, false);
  assert.match(r.result.incompleteReason ?? '', /after 3000 graphs/);
  assert.ok(r.result.positive > 0 && r.result.negative > 0);
  assert.equal(observedLabel(r), 'Sometimes');
  assert.equal(r.verdict, 'ok');
  // A bound the caller gives wins over the header's.
  const own = checkSource(src, file, { model: 'arm64', bounds: { executionsMax: 100 } });
  assert.match(own.result.incompleteReason ?? '', /after 100 graphs/);
  // Only existential results, only on the graph engine's weak machines.
  const head = (line: string): string => src.replace('Result[arm64,states=3000]: Sometimes', line);
  for (const [line, re] of [
    ['Result[arm64,states=3000]: Never', /confirms only what exists/],
    ['Result[x86,states=3000]: Sometimes', /arm64 or lkmm/],
    ['Result[arm64,states=0]: Sometimes', /at least one state/],
    ['Result[arm64,states=1,random=2]: Sometimes', /both random=RUNS and states=N/],
  ] as const) {
    assert.throws(() => checkSource(head(line), file, { model: 'arm64' }), (e: { code?: string; message?: string }) => e.code === 'SMP107' && re.test(e.message ?? ''), line);
  }
});
