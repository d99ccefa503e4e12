// The search as a tree of tasks (src/explore/dpor.ts, FREEZE_AFTER_STEPS): searched
// in one thread, on worker threads, or as shards merged later, it gives the same
// result, field by field: states, graphs, executions, steps, memory, witnesses,
// assertions, deadlocks, and where a bound stops it. And freezing changes no execution
// or graph count (test/library.test.ts and test/library-tlb.test.ts compare those with
// the unreduced search on the whole library; here, with tasks that freeze after a few
// hundred steps, with the search that never freezes).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSource, type CheckOptions, type MachineSearch } from '../src/check.js';
import { dporResult, exploreDpor, newDporState, ROOT_TASK, type TaskSpec } from '../src/explore/dpor.js';
import { mergeTask, searchTask, type TaskResult } from '../src/explore/merge.js';
import type { ExploreResult } from '../src/explore/types.js';
import { idleWorkers, insertChildren, stopIdleWorkers, type Entry } from '../src/explore/parallel.js';
import { cli, read, ROOT } from './helpers.js';

const lit = (name: string): string => join(ROOT, 'scenarios', name);

/** The machine search of a check, as checkScenario() sets it up. */
function setup(file: string, opts: CheckOptions): MachineSearch {
  let m: MachineSearch | null = null;
  checkSource(read(file), file, {
    ...opts,
    search: (x) => {
      m = x;
      return dporResult(newDporState(x.prop, x.opts));
    },
  });
  return m!;
}

/** The search cut into n shards as `check --shard` cuts it, each task searched on its own, merged in the search's order. */
function sharded(m: MachineSearch, n: number, dropRuns = false): { result: ExploreResult; searchedAgain: number; tasks: number } {
  const byId = new Map<string, TaskResult>();
  const searchAll = (t: TaskSpec): void => {
    const tr = searchTask(m.program, m.prop, m.opts, t);
    // A task that kept no run of its graphs: the merge must search it again for its witnesses.
    if (dropRuns) for (const g of tr.graphs) delete g.run;
    assert.ok(!byId.has(t.id), `task '${t.id}' twice`);
    byId.set(t.id, tr);
    if (t.id !== '') for (const c of tr.children) searchAll(c);
  };
  searchAll(ROOT_TASK);
  const root = byId.get('')!;
  for (let k = 0; k < n; k++) root.children.forEach((c, i) => i % n === k && searchAll(c));
  const st = newDporState(m.prop, m.opts);
  const ctx = { program: m.program, prop: m.prop, opts: m.opts };
  const stats = { searchedAgain: 0 };
  const stack = [root];
  for (let tr = stack.pop(); tr; tr = stack.pop()) {
    if (!mergeTask(ctx, st, tr, stats)) break;
    for (let i = tr.children.length - 1; i >= 0; i--) stack.push(byId.get(tr.children[i]!.id)!);
  }
  return { result: dporResult(st), searchedAgain: stats.searchedAgain, tasks: byId.size };
}

const CASES: { file: string; model?: 'sc' | 'x86'; variant?: string; what: string }[] = [
  { file: 'litmus/IRIW.litmus', what: 'a user-level program' },
  { file: 'irq/SB+ipi-nowait.litmus', what: 'interrupts' },
  { file: 'membarrier/membarrier-A.litmus', model: 'sc', what: 'the kernel model' },
  { file: 'membarrier/membarrier-global-uaf.litmus', variant: 'pre-227a4aadc75b', what: 'a failed kernel assertion' },
  { file: 'sched/futex-lost-wakeup.litmus', variant: 'no-futex-value-check', what: 'deadlocks' },
  { file: 'sync-core/caller-alias-iret.litmus', what: 'code, several executions per graph' },
];

/** Outcomes, graphs and executions: what freezing must not change. */
const answers = (r: ExploreResult): unknown => ({ outcomes: r.outcomes, graphs: r.graphs, executions: r.executions, complete: r.complete, deadlocks: r.deadlocks, assertions: r.assertions });

test('a search merged from shards is the search in one thread, field by field; freezing changes steps, not answers', async () => {
  for (const c of CASES) {
    const whole = setup(lit(c.file), { model: c.model, variant: c.variant, witnessesMax: 3 });
    const unfrozen = exploreDpor(whole.program, whole.prop, whole.opts);
    // Tasks that freeze after 300 steps: a tree of many tasks even for a small search.
    const m = setup(lit(c.file), { model: c.model, variant: c.variant, witnessesMax: 3, freezeAfterSteps: 300 });
    const one = exploreDpor(m.program, m.prop, m.opts);
    assert.ok(one.complete && one.executions > 0, c.file);
    assert.deepEqual(answers(one), answers(unfrozen), `${c.file}: freezing changed an answer`);
    for (const n of [1, 2, 3, 7]) {
      const s = sharded(m, n);
      assert.ok(s.tasks > 1 || one.steps < 600, `${c.file}: no freeze`);
      assert.deepEqual(s.result, one, `${c.file} (${c.what}) in ${n} shards`);
    }
  }
});

test('bounds stop a merged search where they stop the search in one thread', async () => {
  const file = lit('membarrier/membarrier-C.litmus');
  const cases: [string, CheckOptions['bounds']][] = [
    ['executions_max', { executionsMax: 150 }],
    ['executions_max at a task boundary', { executionsMax: 1 }],
    ['memory_max', { memoryMax: 96 * 1024 }],
    ['steps_max', { stepsMax: 90 }],
  ];
  for (const [what, bounds] of cases) {
    const m = setup(file, { model: 'sc', bounds, freezeAfterSteps: 500 });
    const one = exploreDpor(m.program, m.prop, m.opts);
    assert.equal(one.complete, false, what);
    for (const n of [2, 5]) {
      const s = sharded(m, n);
      assert.deepEqual(s.result, one, `${what} in ${n} shards`);
    }
  }
});

test('a witness whose run a task did not keep is found again by searching the task', async () => {
  const m = setup(lit('membarrier/membarrier-C.litmus'), { model: 'sc', witnessesMax: 40, freezeAfterSteps: 500 });
  const one = exploreDpor(m.program, m.prop, m.opts);
  assert.equal(one.witnessList.negative.length, 40);
  const s = sharded(m, 3, true);
  assert.ok(s.searchedAgain > 0, 'no task was searched again');
  assert.deepEqual(s.result, one);
});

test('--workers: the same output, byte for byte, with and without worker threads', async () => {
  const file = lit('membarrier/membarrier-C.litmus');
  for (const model of ['sc', 'x86'] as const) {
    const one = checkSource(read(file), file, { model, workers: 1, witnessesMax: 2, freezeAfterSteps: 500 });
    const two = checkSource(read(file), file, { model, workers: 2, witnessesMax: 2, freezeAfterSteps: 500 });
    assert.deepEqual(two.result, one.result, model);
    // Every task after the root searched by the workers (this thread only merges).
    const three = checkSource(read(file), file, { model, workers: 3, parallelMergeOnly: true, witnessesMax: 2, freezeAfterSteps: 500 });
    assert.deepEqual(three.result, one.result, `${model}, merge only`);
  }
  const a = await cli([file, '--no-time', '--workers', '1', '--show-trace']);
  const b = await cli([file, '--no-time', '--workers', '2', '--show-trace']);
  assert.equal(b.out, a.out);
  assert.equal(a.code, 0);
});

test('--workers: a bound stops the search where it stops in one thread', () => {
  const file = lit('membarrier/membarrier-C.litmus');
  for (const executionsMax of [50, 300]) {
    const one = checkSource(read(file), file, { model: 'x86', workers: 1, bounds: { executionsMax }, freezeAfterSteps: 500 });
    const two = checkSource(read(file), file, { model: 'x86', workers: 2, parallelMergeOnly: true, bounds: { executionsMax }, freezeAfterSteps: 500 });
    assert.equal(one.result.complete, false);
    assert.deepEqual(two.result, one.result, `executions_max ${executionsMax}`);
  }
});

test('--workers: the workers outlive a search and take the next one\'s program, also after a search a bound stopped', async () => {
  await stopIdleWorkers();
  const c = lit('membarrier/membarrier-C.litmus');
  const e = lit('membarrier/membarrier-E.litmus');
  const same = (file: string, opts: CheckOptions, what: string): void => {
    const one = checkSource(read(file), file, { ...opts, workers: 1 });
    const two = checkSource(read(file), file, { ...opts, workers: 2 });
    assert.deepEqual(two.result, one.result, what);
  };
  same(c, { model: 'x86', witnessesMax: 2, freezeAfterSteps: 500 }, 'C on x86, a new worker');
  assert.equal(idleWorkers(), 1, 'the worker waits for the next search');
  // Another scenario, model and freeze interval: the waiting worker builds this program.
  same(e, { model: 'sc', witnessesMax: 2, freezeAfterSteps: 400 }, 'E on sc, the same worker');
  assert.equal(idleWorkers(), 1);
  // Every task after the root on the workers, and the search stopped by a bound while they hold tasks.
  const bounded = { model: 'x86' as const, bounds: { executionsMax: 50 }, freezeAfterSteps: 500 };
  const one = checkSource(read(c), c, { ...bounded, workers: 1 });
  const three = checkSource(read(c), c, { ...bounded, workers: 3, parallelMergeOnly: true });
  assert.equal(one.result.complete, false);
  assert.deepEqual(three.result, one.result, 'stopped by executions_max');
  // (Whether a worker still held a task when the bound stopped the search depends on timing:
  // such a worker is terminated, the others wait. Either way the next search is right.)
  assert.ok(idleWorkers() <= 2);
  same(c, { model: 'sc', witnessesMax: 2, freezeAfterSteps: 500 }, 'C on sc after the bounded search');
  await stopIdleWorkers();
  assert.equal(idleWorkers(), 0);
});

test('--workers: a task\'s later children follow the descendants of its earlier ones, however the threads interleave', () => {
  // The stack of tasks to merge (the next last), as exploreParallel() keeps it. The root
  // freezes into a and b; a worker searches a, which freezes into a.0 and a.1 before the
  // root freezes again into c; then a.0 (on a worker) freezes into a.0.0, and b into b.0.
  const task = (id: string): TaskSpec => ({ id, prefix: [], before: [], weight: 0 });
  const root: Entry = { spec: ROOT_TASK, taken: true, parent: null, desc: 0 };
  const stack: Entry[] = [root];
  const at = (id: string): Entry => stack.find((x) => x.spec.id === id)!;
  const freeze = (parent: Entry, ids: string[]): void => insertChildren(stack, parent, stack.indexOf(parent), ids.map(task));
  freeze(root, ['a', 'b']);
  freeze(at('a'), ['a.0', 'a.1']);
  freeze(root, ['c']);
  freeze(at('a.0'), ['a.0.0']);
  freeze(at('b'), ['b.0']);
  freeze(root, ['d']);
  // The search's order: each task before its children, children in the order they came.
  assert.deepEqual(stack.map((x) => x.spec.id).reverse(), ['', 'a', 'a.0', 'a.0.0', 'a.1', 'b', 'b.0', 'c', 'd']);
  assert.equal(root.desc, 8);
});

/** Runs the CLI as a separate process. */
function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'smpcheck.js'), ...args], { cwd: ROOT });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

test('shards in separate processes merge into the single run: text, JSON, trace; a missing or repeated part is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-shard-'));
  try {
    const file = 'scenarios/sched/futex-lost-wakeup.litmus';
    const N = 3;
    const parts = Array.from({ length: N }, (_, i) => join(dir, `part${i + 1}.json`));
    const done = await Promise.all(parts.map((p, i) => run(['check', file, '--variant', 'no-futex-value-check', '--shard', `${i + 1}/${N}`, '--out', p])));
    for (const d of done) assert.equal(d.code, 0, d.err);
    for (const json of [false, true]) {
      const extra = json ? ['--json'] : ['--show-trace'];
      const single = await cli([file, '--variant', 'no-futex-value-check', '--no-time', '--workers', '1', ...extra]);
      const merged = await cli(['merge', ...[...parts].reverse(), '--no-time', ...extra]);
      assert.equal(merged.out, single.out);
      assert.equal(merged.err, single.err);
      assert.equal(merged.code, single.code);
    }
    const missing = await cli(['merge', parts[0]!, parts[2]!]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /error\[SMP205\] part 2\/3 missing/);
    const twice = await cli(['merge', parts[0]!, parts[1]!, parts[1]!, parts[2]!]);
    assert.equal(twice.code, 1);
    assert.match(twice.err, /error\[SMP205\] part 2\/3 is given twice/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
