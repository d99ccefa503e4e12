// The search's bounds: memory counted exactly by the engine, so that a search cut
// by it is the same on every run; bounds equal to what a search needs; and the
// verdicts printed after a cut-short search.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { getHeapStatistics } from 'node:v8';
import { formatBytes, MEMORY_MAX_DEFAULT, parseBytes } from '../src/explore/memory.js';
import { KeyPacker, unpackKey } from '../src/machine/packed-key.js';
import { PROCS_PER_CPU } from '../src/machine/machine.js';
import { checkSource } from '../src/check.js';
import { cli, read, ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-bounds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** P0 registers and calls PRIVATE_EXPEDITED between a store and a load; P1..Pn-1 store then load. */
function membarrierRing(n: number): string {
  const lines = ['C membarrier-ring', '', '(*', ' * Result: Never', ' *)', '', '{}', '',
    'P0(int *x0, int *y)', '{', '\tint r0;', '\tint r2;', '\tr0 = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);',
    '\tWRITE_ONCE(*x0, 1);', '\tmembarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);', '\tr2 = READ_ONCE(*y);', '}', ''];
  for (let i = 1; i < n; i++) lines.push(`P${i}(int *x0, int *y)`, '{', '\tint r1;', '\tWRITE_ONCE(*y, 1);', '\tr1 = READ_ONCE(*x0);', '}', '');
  lines.push('exists (0:r2=0 /\\ 1:r1=0)', '');
  return lines.join('\n');
}

test('--memory-max ends a search as incomplete, at the same point on every run, with what it explored', { timeout: 120_000 }, async () => {
  const f = join(dir, 'ring4.litmus');
  writeFileSync(f, membarrierRing(4));
  const args = [f, '--memory-max', '256KiB', '--json', '--no-time'];
  const a = await cli(args);
  assert.equal(a.code, 4, a.err);
  const j = JSON.parse(a.out) as { verdict: string; complete: boolean; incomplete_reason: string; bounds: { memory_max: number }; stats: { executions: number; graphs: number; memory_bytes: number } };
  assert.equal(j.verdict, 'incomplete');
  assert.equal(j.complete, false);
  assert.match(j.incomplete_reason, /memory budget, 256KiB .* \(memory_max\)/);
  assert.equal(j.bounds.memory_max, 256 * 1024);
  assert.ok(j.stats.graphs > 0 && j.stats.memory_bytes > 256 * 1024, JSON.stringify(j.stats));
  assert.equal((await cli(args)).out, a.out, 'the same cut on every run');
  // The text output states the bound and why the search stopped.
  const t = await cli([f, '--memory-max', '256KiB', '--no-time']);
  assert.match(t.out, /^Bounds steps_max=2000 executions_max=5000000 memory_max=256KiB: INCOMPLETE: the search stopped at its memory budget/m);
  assert.match(t.out, /^Verdict incomplete$/m);
  assert.match(t.err, /Reproduce: .* --memory-max 256KiB --show-trace/);
});

test('eight threads around one PRIVATE_EXPEDITED, in a process with a small heap, end incomplete at the budget', { timeout: 120_000 }, async () => {
  const f = join(dir, 'ring8.litmus');
  writeFileSync(f, membarrierRing(8));
  const r = spawnSync(process.execPath, ['--max-old-space-size=96', join(ROOT, 'bin', 'smpcheck.js'), f, '--memory-max', '512KiB', '--no-time', '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 4, r.stderr);
  const j = JSON.parse(r.stdout) as { verdict: string; incomplete_reason: string; stats: { graphs: number; memory_bytes: number } };
  assert.equal(j.verdict, 'incomplete');
  assert.match(j.incomplete_reason, /memory_max/);
  assert.ok(j.stats.graphs > 0);
  assert.doesNotMatch(r.stderr, /out of memory|FATAL/);
});

test('graph identities are compact: a kernel scenario keeps well under a kilobyte per graph', { timeout: 120_000 }, async () => {
  const r = checkSource(membarrierRing(3), 'ring3.litmus', { model: 'x86' });
  assert.equal(r.verdict, 'ok');
  assert.ok(r.result.graphs > 100, String(r.result.graphs));
  assert.ok(r.result.memoryBytes / r.result.graphs < 600, `${r.result.memoryBytes} bytes for ${r.result.graphs} graphs`);
  // Without reduction, states are counted too, and the same bound stops it.
  const cut = checkSource(membarrierRing(2), 'ring2.litmus', { model: 'x86', reduction: false, bounds: { memoryMax: 64 * 1024 } });
  assert.equal(cut.verdict, 'incomplete');
  assert.match(cut.result.incompleteReason ?? '', /memory_max/);
});

test('the default memory budget is below the heap and stated in every Bounds line and in --json', async () => {
  assert.ok(MEMORY_MAX_DEFAULT <= getHeapStatistics().heap_size_limit / 4);
  const sb = join(ROOT, 'scenarios', 'litmus', 'SB.litmus');
  const j = JSON.parse((await cli([sb, '--json', '--no-time'])).out) as { bounds: { memory_max: number }; stats: Record<string, unknown> };
  assert.equal(j.bounds.memory_max, MEMORY_MAX_DEFAULT);
  assert.equal(typeof j.stats.memory_bytes, 'number');
  assert.equal(j.stats.rss_peak_bytes, undefined, 'nothing that varies with --no-time');
  const timed = JSON.parse((await cli([sb, '--json'])).out) as { stats: Record<string, unknown> };
  assert.ok((timed.stats.rss_peak_bytes as number) > 0);
  assert.match((await cli([sb, '--no-time'])).out, new RegExp(`memory_max=${formatBytes(MEMORY_MAX_DEFAULT)}: search complete`));
  for (const bad of ['0', '1KiB', '65535', '12XB', '-5MiB', '1e9', '9999999999GiB']) {
    const r = await cli([sb, '--memory-max', bad]);
    assert.equal(r.code, 1, bad);
    assert.match(r.err, /error\[SMP200\] --memory-max takes a size/, bad);
  }
  assert.deepEqual(['512MiB', '2GiB', '1048576', '64K'].map(parseBytes), [512 * 2 ** 20, 2 * 2 ** 30, 2 ** 20, 64 * 1024]);
});

test('packed keys: equal lists and only equal lists of the same length get the same key', async () => {
  const pack = (xs: number[]): string => {
    const k = new KeyPacker();
    for (const x of xs) k.push(x);
    return k.take();
  };
  fc.assert(fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), (a, b) => {
    if (a.length !== b.length) return;
    assert.equal(pack(a) === pack(b), a.join() === b.join());
  }), { seed: 4242, numRuns: 2000 });
  assert.equal(pack([0, 63, 64, 4095, 4096, 2 ** 40]), pack([0, 63, 64, 4095, 4096, 2 ** 40]));
  assert.ok(/^[\x00-\xbf]*$/.test(pack([0, 1, 2 ** 50, 0, 0, 0])), 'one byte per character');
  // Runs of zeros (one character for 2 to 65 of them) and lists of any length: equal
  // keys only for equal lists, and unpackKey() gives the list back.
  const zeroy = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.nat({ max: 70 }), fc.nat()), { maxLength: 200 });
  fc.assert(fc.property(zeroy, zeroy, (a, b) => {
    assert.equal(pack(a) === pack(b), a.join() === b.join());
    assert.deepEqual(unpackKey(pack(a)), a);
  }), { seed: 4243, numRuns: 2000 });
  // pushAll() of a list, in pieces and after other numbers, is push() of each number.
  fc.assert(fc.property(zeroy, zeroy, (a, b) => {
    const one = new KeyPacker();
    for (const n of [...a, ...b]) one.push(n);
    const all = new KeyPacker();
    all.pushAll(a).pushAll(b);
    assert.equal(all.take(), one.take());
  }), { seed: 4244, numRuns: 2000 });
  // Each digit-count boundary of the shifts' path (below 2^31) and of the general one beyond.
  const edges = [1, 63, 64, 4095, 4096, 2 ** 18 - 1, 2 ** 18, 2 ** 24 - 1, 2 ** 24, 2 ** 30 - 1, 2 ** 30, 2 ** 31 - 1, 2 ** 31, 2 ** 36, 2 ** 53 - 1];
  assert.deepEqual(unpackKey(pack(edges)), edges);
  assert.equal(new KeyPacker().pushAll(edges).take(), pack(edges));
  assert.deepEqual(edges.map((n) => pack([n]).length), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6, 7, 9]);
  const run = (n: number): number[] => new Array<number>(n).fill(0);
  for (const n of [1, 2, 64, 65, 66, 67, 130, 131, 200]) assert.deepEqual(unpackKey(pack([...run(n), 5, ...run(n)])), [...run(n), 5, ...run(n)]);
  assert.equal(pack(run(65)).length, 1);
  assert.equal(pack(run(66)).length, 2);
});

test('a bound equal to what the search needs is a complete search', async () => {
  // On sc, where SB expects Never: only a complete search proves it. (On x86 it expects
  // Sometimes, which a search cut short after finding both sides proves too.)
  const sb = join(ROOT, 'scenarios', 'litmus', 'SB.litmus');
  const need = JSON.parse((await cli([sb, '--model', 'sc', '--json', '--no-time'])).out) as { stats: { executions: number; sleep_blocked: number } };
  const runs = need.stats.executions + need.stats.sleep_blocked;
  const exact = await cli([sb, '--model', 'sc', '--executions-max', String(runs), '--no-time']);
  assert.equal(exact.code, 0, exact.err);
  assert.match(exact.out, /: search complete/);
  assert.equal((await cli([sb, '--model', 'sc', '--executions-max', String(runs - 1), '--no-time'])).code, 4);
  // Without reduction the bound counts states.
  const states = (JSON.parse((await cli([sb, '--model', 'sc', '--json', '--no-time', '--no-reduction'])).out) as { stats: { states: number } }).stats.states;
  assert.equal((await cli([sb, '--model', 'sc', '--no-reduction', '--executions-max', String(states), '--no-time'])).code, 0);
  assert.equal((await cli([sb, '--model', 'sc', '--no-reduction', '--executions-max', String(states - 1), '--no-time'])).code, 4);
  // A search cut short that found both sides of the condition proves Sometimes (x86), and says it was cut short.
  const x86 = await cli([sb, '--model', 'x86', '--executions-max', '3', '--no-time']);
  assert.match(x86.out, /INCOMPLETE/);
  assert.equal(x86.code, /Positive: [1-9]\d* Negative: [1-9]/.test(x86.out) ? 0 : 4, x86.out);
});

test('--executions-max 1 on a scenario expecting a deadlock is incomplete, not ok', async () => {
  const f = join(ROOT, 'scenarios', 'membarrier', 'membarrier-targeted-stall.litmus');
  const r = await cli([f, '--model', 'x86', '--executions-max', '1', '--no-time']);
  assert.equal(r.code, 4, r.out);
  assert.match(r.out, /INCOMPLETE/);
  assert.match(r.out, /^Expected Deadlock \(Result\[x86\]\): not decided$/m);
  assert.match(r.out, /^Verdict incomplete$/m);
  assert.doesNotMatch(r.out, /Verdict ok/);
  // The complete search still confirms it.
  assert.equal((await cli([f, '--model', 'x86', '--no-time'])).code, 0);
});

test('raise_irq() to a CPU that runs only a kernel thread', async () => {
  const src = ['C kirq', '{}', 'smpcheck { cpu 0 runs P0; cpu 1 runs P1; cpu 2 runs kthread; }', 'irq h(int *x) { WRITE_ONCE(*x, 1); }',
    'P0(int *x) { raise_irq(2, h); }', 'P1(int *x) { int r0; r0 = READ_ONCE(*x); }', 'exists (1:r0=1)', ''].join('\n');
  const r = checkSource(src, 'kirq.litmus', { model: 'x86' });
  assert.equal(r.verdict, 'ok');
  assert.equal(r.program.nCpus, 3);
  assert.equal(r.observation, 'Sometimes');
  // A CPU the placement does not have is still refused, at the CPU argument.
  const f = join(dir, 'kirq3.litmus');
  writeFileSync(f, src.replace('raise_irq(2, h)', 'raise_irq(3, h)'));
  const bad = await cli([f]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /kirq3\.litmus:5:24 error\[SMP104\] unknown CPU 3: the scenario has CPUs 0\.\.2/);
});

test('`smpcheck host` without a subcommand prints its help to stderr and exits 1', async () => {
  const r = await cli(['host']);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /Usage: smpcheck host/);
  assert.equal((await cli(['host', '--help'])).code, 0);
});

test('docs/json.md numbers the processes of a CPU as the machine does', async () => {
  const doc = read(join(ROOT, 'docs', 'json.md'));
  const kinds = ['task', 'store-buffer drain', 'interrupt entry', 'instruction fetch'];
  assert.equal(kinds.length, PROCS_PER_CPU);
  assert.ok(doc.includes(`CPU \`c\` has four processes: \`${PROCS_PER_CPU}c\` its task`), 'four processes per CPU');
  kinds.forEach((k, i) => assert.ok(doc.includes(`\`${PROCS_PER_CPU}c${i ? `+${i}` : ''}\` its ${k}`), k));
});
