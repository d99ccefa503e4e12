// The split search (src/explore/dpor.ts, planTasks()): searched in one thread, on
// worker threads, or as shards merged later, it gives the same result, field by
// field: states, graphs, executions, steps, memory, witnesses, assertions,
// deadlocks, and where a bound stops it. And the split itself changes no
// execution or graph count of the search it replaced (test/library.test.ts and test/library-tlb.test.ts
// compares those with the unreduced search on the whole library).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSource, type CheckOptions, type MachineSearch } from '../src/check.js';
import { dporResult, exploreDpor, newDporState, planSearch } from '../src/explore/dpor.js';
import { mergeTask, searchTask, type TaskResult } from '../src/explore/merge.js';
import type { ExploreResult } from '../src/explore/types.js';
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

/** The search cut into n shards, each task searched on its own, merged in task order. */
function sharded(m: MachineSearch, n: number, dropRuns = false): { result: ExploreResult; searchedAgain: number } {
  const plan = planSearch(m.program, m.prop, m.opts).plan;
  const byTask = new Map<number, TaskResult>();
  for (let k = 0; k < n; k++) {
    for (let t = k; t < plan.prefixes.length; t += n) {
      const tr = searchTask(m.program, m.prop, m.opts, t, plan.prefixes[t]!);
      // A task that kept no run of its graphs: the merge must search it again for its witnesses.
      if (dropRuns) for (const g of tr.graphs) delete g.run;
      byTask.set(t, tr);
    }
  }
  const st = newDporState(m.prop, m.opts);
  const ctx = { program: m.program, prop: m.prop, opts: m.opts, prefixes: plan.prefixes };
  const stats = { searchedAgain: 0 };
  for (let t = 0; t < plan.prefixes.length; t++) if (!mergeTask(ctx, st, byTask.get(t)!, stats)) break;
  return { result: dporResult(st), searchedAgain: stats.searchedAgain };
}

const CASES: { file: string; model?: 'sc' | 'x86'; variant?: string; what: string }[] = [
  { file: 'litmus/IRIW.litmus', what: 'a user-level program' },
  { file: 'irq/SB+ipi-nowait.litmus', what: 'interrupts' },
  { file: 'membarrier/membarrier-A.litmus', model: 'sc', what: 'the kernel model' },
  { file: 'membarrier/membarrier-global-uaf.litmus', variant: 'pre-227a4aadc75b', what: 'a failed kernel assertion' },
  { file: 'sched/futex-lost-wakeup.litmus', variant: 'no-futex-value-check', what: 'deadlocks' },
  { file: 'sync-core/caller-alias-iret.litmus', what: 'code, several executions per graph' },
];

test('a search merged from shards is the search in one thread, field by field', async () => {
  for (const c of CASES) {
    const m = setup(lit(c.file), { model: c.model, variant: c.variant, witnessesMax: 3 });
    const one = exploreDpor(m.program, m.prop, m.opts);
    assert.ok(one.complete && one.executions > 0, c.file);
    for (const n of [1, 2, 3, 7]) assert.deepEqual(sharded(m, n).result, one, `${c.file} (${c.what}) in ${n} shards`);
  }
});

test('bounds stop a merged search where they stop the search in one thread', async () => {
  const file = lit('membarrier/membarrier-C.litmus');
  const cases: [string, CheckOptions['bounds']][] = [
    ['executions_max', { executionsMax: 150 }],
    ['executions_max at a task boundary', { executionsMax: 1 }],
    ['memory_max', { memoryMax: 96 * 1024 }],
    ['steps_max', { stepsMax: 100 }],
  ];
  for (const [what, bounds] of cases) {
    const m = setup(file, { model: 'sc', bounds });
    const one = exploreDpor(m.program, m.prop, m.opts);
    assert.equal(one.complete, false, what);
    for (const n of [2, 5]) {
      const s = sharded(m, n);
      assert.deepEqual(s.result, one, `${what} in ${n} shards`);
    }
  }
});

test('a witness whose run a task did not keep is found again by searching the task', async () => {
  const m = setup(lit('membarrier/membarrier-C.litmus'), { model: 'sc', witnessesMax: 40 });
  const one = exploreDpor(m.program, m.prop, m.opts);
  assert.equal(one.witnessList.negative.length, 40);
  const s = sharded(m, 3, true);
  assert.ok(s.searchedAgain > 0, 'no task was searched again');
  assert.deepEqual(s.result, one);
});

test('--workers: the same output, byte for byte, with and without worker threads', async () => {
  const file = lit('membarrier/membarrier-C.litmus');
  for (const model of ['sc', 'x86'] as const) {
    const one = checkSource(read(file), file, { model, workers: 1, witnessesMax: 2 });
    const two = checkSource(read(file), file, { model, workers: 2, parallelAfterSteps: 0, witnessesMax: 2 });
    assert.deepEqual(two.result, one.result, model);
    // Every task after the first searched by the workers (this thread only merges), from the back.
    const three = checkSource(read(file), file, { model, workers: 3, parallelAfterSteps: 0, parallelMergeOnly: true, witnessesMax: 2 });
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
    const one = checkSource(read(file), file, { model: 'x86', workers: 1, bounds: { executionsMax } });
    const two = checkSource(read(file), file, { model: 'x86', workers: 2, parallelAfterSteps: 0, parallelMergeOnly: true, bounds: { executionsMax } });
    assert.equal(one.result.complete, false);
    assert.deepEqual(two.result, one.result, `executions_max ${executionsMax}`);
  }
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
