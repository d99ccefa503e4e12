// The timing simulator (src/sim/): determinism, the cost accounting of a tiny scenario
// worked out by hand from the profile's numbers, that it runs the dispatched kernel
// functions (a variant changes the simulated time), profile validation, and the loop
// statement in scenarios and in the checker.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseScenario } from '../src/scenario/parser.js';
import { checkSource } from '../src/check.js';
import { kernelFunctionNames } from '../src/kernel/index.js';
import { simulateScenario } from '../src/sim/run.js';
import { PARAMS, validateProfile, type Profile } from '../src/sim/profile.js';
import { perIteration } from '../src/sim/engine.js';
import { resolveProfile } from '../src/cli/sim.js';
import { SimCellJsonSchema, SimJsonSchema } from '../src/cli/json-shapes.js';
import { SmpError } from '../src/scenario/errors.js';
import { cli, read, ROOT } from './helpers.js';

const scenario = (name: string): ReturnType<typeof parseScenario> => {
  const rel = join('scenarios/sim', name);
  return parseScenario(read(join(ROOT, rel)), rel);
};

/** A profile with round numbers, for sums done by hand. */
function handProfile(overrides: Partial<Record<keyof typeof PARAMS, number>> = {}): Profile {
  const params = Object.fromEntries(Object.keys(PARAMS).map((k) => [k, {
    value: overrides[k as keyof typeof PARAMS] ?? 0,
    unit: k === 'jitter' ? 'fraction' : 'ns',
    source: { kind: 'estimate', note: 'test' },
  }]));
  return validateProfile({ format: 'smpcheck-profile/1', name: 'hand', machine: 'test', params }, 'hand.json', kernelFunctionNames());
}

test('cost accounting of a tiny scenario, by hand', async () => {
  // CPU0 stores x and fences; CPU1 reads x twice. Both clocks start at 0; the tie goes
  // to CPU0, whose store [0, 1] drains at once (the line becomes CPU0's, the buffer hides
  // the request). CPU1's first load at 0 finds the line modified in CPU0: 1 + 100; its
  // second hits: 1. CPU0's fence: 7. CPU0 = 1 + 7 = 8 ns busy, CPU1 = 102 ns busy.
  const sc = parseScenario(`C tiny
{ }
P0(int *x) { WRITE_ONCE(*x, 1); smp_mb(); }
P1(int *x) { int r0; int r1; r0 = READ_ONCE(*x); r1 = READ_ONCE(*x); }
exists (1:r0=1)
`, 'tiny.litmus');
  const p = handProfile({ access_l1_ns: 1, line_from_llc_ns: 10, line_transfer_ns: 100, fence_ns: 7 });
  const r = simulateScenario(sc, p).runs[0]!;
  assert.equal(r.totalNs, 102);
  assert.equal(r.steps, 4);
  assert.deepEqual(r.cpus.map((c) => c.busyNs), [8, 102]);
  assert.deepEqual(r.cpus.map((c) => c.idleNs), [94, 0]);
  assert.equal(r.counts.line_transfers, 1);
  assert.equal(r.counts.fences, 1);
  assert.equal(r.perIterationNs, null, 'no loop: no time per iteration');
});

test('a CPU that waits resumes when the write it waits for is made, and the wait is a spin', async () => {
  // CPU1 spins until x = 1. CPU0 first pays a fence of 50, then stores at [50, 51].
  // CPU1's await is disabled until then: it resumes at 51 and reads the line CPU0 holds
  // modified (1 + 100): it ends at 152, having spun 51 ns.
  const sc = parseScenario(`C wait
{ }
P0(int *x) { smp_mb(); WRITE_ONCE(*x, 1); }
P1(int *x) { int r0; r0 = smp_cond_load_acquire(x, VAL == 1); }
exists (1:r0=1)
`, 'wait.litmus');
  const r = simulateScenario(sc, handProfile({ access_l1_ns: 1, line_transfer_ns: 100, fence_ns: 50 })).runs[0]!;
  assert.equal(r.totalNs, 152);
  assert.equal(r.cpus[1]!.spinNs, 51);
  assert.equal(r.cpus[1]!.busyNs, 101);
});

test('time per iteration: the mean after the warm-up tenth', async () => {
  assert.equal(perIteration([0, 10, 20, 30], 40), 10);
  // 11 starts: the first one (a tenth of ten gaps) is warm-up.
  assert.equal(perIteration([0, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190], 200), 10);
  assert.equal(perIteration([5], 40), 35);
});

test('determinism: the same seed gives the same runs, another seed others', async () => {
  const sc = scenario('sched-pipe-threads.litmus');
  const p = resolveProfile('e5-2630-v3');
  const a = simulateScenario(sc, p, { iterations: 20, runs: 3, seed: 5 });
  const b = simulateScenario(sc, p, { iterations: 20, runs: 3, seed: 5 });
  const c = simulateScenario(sc, p, { iterations: 20, runs: 3, seed: 6 });
  assert.deepEqual(a.runs, b.runs);
  assert.deepEqual(a.perIteration, b.perIteration);
  assert.notDeepEqual(a.perIteration, c.perIteration);
  assert.ok(a.perIteration!.sd > 0, 'the jitter spreads the runs');
  // Without --runs there is no jitter: exactly the profile's values, whatever the seed.
  assert.deepEqual(simulateScenario(sc, p, { iterations: 20, seed: 1 }).runs, simulateScenario(sc, p, { iterations: 20, seed: 9 }).runs);
});

test('sim runs the dispatched kernel functions: a variant changes the simulated time', async () => {
  const p = resolveProfile('e5-2630-v3');
  // Registered for SYNC_CORE: v6.18 core-syncs only after a kernel thread borrowed the mm
  // (never here); sync-core-every-switch core-syncs after each of the two switches per operation.
  const sc = scenario('sched-pipe-threads-sync-core.litmus');
  const v618 = simulateScenario(sc, p, { iterations: 30 });
  const every = simulateScenario(sc, p, { iterations: 30, variant: 'sync-core-every-switch' });
  assert.equal(v618.runs[0]!.counts.sync_core ?? 0, 0);
  assert.ok((every.runs[0]!.counts.sync_core ?? 0) >= 60, `two core syncs per iteration (${every.runs[0]!.counts.sync_core})`);
  const d = every.perIteration!.mean - v618.perIteration!.mean;
  // Each core sync costs sync_core_ns (and the read of membarrier_state an L1 hit).
  assert.ok(Math.abs(d - 2 * (p.params.sync_core_ns.value + p.params.access_l1_ns.value)) < 1, `difference ${d}`);
  // The madvise loop on two CPUs: the concurrent flush makes the sender wait less, waiting
  // for an acknowledgment on receipt (early-ack) less still, not waiting (async-flush) least.
  const m = scenario('madvise-2.sim');
  const mp = resolveProfile('madvise-2019');
  const base = simulateScenario(m, mp, { iterations: 20, variant: 'pre-4ce94eabac16' });
  const concurrent = simulateScenario(m, mp, { iterations: 20 });
  const early = simulateScenario(m, mp, { iterations: 20, variant: 'early-ack' });
  const async = simulateScenario(m, mp, { iterations: 20, variant: 'async-flush' });
  assert.ok(async.perIteration!.mean < early.perIteration!.mean);
  assert.ok(early.perIteration!.mean < concurrent.perIteration!.mean);
  assert.ok(concurrent.perIteration!.mean < base.perIteration!.mean);
  // The target's flush_tlb_func() reads the csd and the flush_tlb_info, one line each in the kernel.
  assert.ok(base.runs[0]!.counts.line_transfers! < 11 * 20, `line transfers ${base.runs[0]!.counts.line_transfers}`);
  assert.ok(base.runs[0]!.cpus[0]!.ipisSent > 0 && base.runs[0]!.cpus[1]!.ipisTaken > 0, "CPU0 sends the flush IPIs, CPU1 takes them");
});

test('profile validation: coded errors with the offending field', async () => {
  const good = JSON.parse(read(join(ROOT, 'profiles', 'e5-2630-v3.json'))) as { params: Record<string, Record<string, unknown>>; functions: Record<string, unknown> };
  const refused = (mutate: (p: typeof good) => void, re: RegExp): void => {
    const p = structuredClone(good);
    mutate(p);
    assert.throws(() => validateProfile(p, 'p.json', kernelFunctionNames()), (e: unknown) => e instanceof SmpError && e.code === 'SMP220' && re.test(e.message));
  };
  validateProfile(good, 'p.json', kernelFunctionNames());
  refused((p) => void delete p.params.fence_ns, /params\.fence_ns/);
  refused((p) => void (p.params.fence_ns!.unit = 'fraction'), /params\.fence_ns: the unit is ns/);
  refused((p) => void (p.params.fence_ns!.value = -1), /params\.fence_ns\.value/);
  refused((p) => void (p.params.fence_ns!.source = { kind: 'published' }), /params\.fence_ns\.source\.ref/);
  refused((p) => void (p.params.fence_ns!.source = { kind: 'fitted', table: 'madvise' }), /params\.fence_ns\.source\.column/);
  refused((p) => void (p.functions.no_such_function = { value: 1, unit: 'ns', source: { kind: 'estimate', note: 'x' } }), /functions\.no_such_function: not a modelled kernel function/);
  refused((p) => void (p.params.frobnicate_ns = p.params.fence_ns!), /frobnicate_ns|Unrecognized/);
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-sim-'));
  writeFileSync(join(dir, 'bad.json'), '{ not json');
  const r = await cli(['sim', join(ROOT, 'scenarios/sim/sched-pipe-threads.litmus'), '--profile', join(dir, 'bad.json')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /error\[SMP220\] profile .*bad\.json: not JSON/);
});

test('loop N { }: parsed, bounded, unrolled by the checker', async () => {
  const r = checkSource(`C count
{ }
P0(int *x) { loop 3 { atomic_inc(x); } }
P1(int *x) { atomic_inc(x); }
forall (x=4)
`, 'count.litmus', { model: 'x86' });
  assert.equal(r.verdict, 'ok');
  assert.equal(r.observation, 'Always');
  assert.throws(() => parseScenario('C T\n{ }\nP0(int *x) { loop 0 { WRITE_ONCE(*x, 1); } }\nexists (x=1)\n', 't.litmus'), (e: unknown) => e instanceof SmpError && e.code === 'SMP110');
  assert.throws(() => checkSource('C T\n{ }\nP0(int *x) { loop 2 { WRITE_ONCE(*x, 1); } }\nexists (x=1)\n', 't.litmus', { model: 'arm64' }), (e: unknown) => e instanceof SmpError && e.code === 'SMP112');
});

test('smpcheck sim on the command line: text, --json in its schema, --help, coded errors', async () => {
  const file = join(ROOT, 'scenarios/sim/sched-pipe-threads.litmus');
  const t = await cli(['sim', file, '--iterations', '10']);
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /^Time per iteration: [\d.]+ us$/m);
  assert.match(t.out, /^CPU {2}busy/m);
  const j = await cli(['sim', file, '--iterations', '10', '--runs', '2', '--seed', '3', '--json']);
  assert.equal(j.code, 0, j.err);
  const obj = SimJsonSchema.parse(JSON.parse(j.out));
  assert.equal(obj.runs.length, 2);
  assert.equal(obj.iterations, 10);
  assert.equal((await cli(['sim', '--help'])).code, 0);
  const bad = async (args: string[], re: RegExp): Promise<void> => {
    const r = await cli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.err, re);
  };
  await bad(['sim'], /SMP200.*needs a scenario FILE/);
  await bad(['sim', file, '--iterations', '0'], /SMP200.*--iterations/);
  await bad(['sim', file, '--runs', 'many'], /SMP200.*--runs/);
  await bad(['sim', '--table', 'other'], /SMP200.*--table takes 'seeds'/);
  await bad(['sim', file, '--plot', join(tmpdir(), 'x.png')], /SMP200.*--plot writes an SVG/);
  await bad(['sim', file, '--variant', 'no-such-variant'], /SMP200.*unknown kernel variant/);
  void SimCellJsonSchema;
});

test('--plot: Vega-Lite draws the table and a timeline to SVG, the same bytes for the same run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-plot-'));
  const file = join(ROOT, 'scenarios/sim/madvise-2.sim');
  const tl = join(dir, 'tl.svg');
  const r = await cli(['sim', file, '--profile', 'madvise-2019', '--iterations', '20', '--plot', tl]);
  assert.equal(r.code, 0, r.err);
  const svg = readFileSync(tl, 'utf8');
  assert.match(svg, /^<svg /);
  for (const text of ['CPU0', 'CPU1', 'ns into the iteration', 'busy', 'irq', 'madvise-2, v6.18, profile madvise-2019']) assert.ok(svg.includes(text), text);
  const again = join(dir, 'tl2.svg');
  assert.equal((await cli(['sim', file, '--profile', 'madvise-2019', '--iterations', '20', '--plot', again])).code, 0);
  assert.equal(readFileSync(again, 'utf8'), svg);
  // The committed picture of the tables is what the command draws now.
  const seeds = join(dir, 'seeds.svg');
  assert.equal((await cli(['sim', '--table', 'seeds', '--plot', seeds])).code, 0);
  assert.equal(readFileSync(seeds, 'utf8'), read('docs/sim-seeds.svg'));
});
