// smpcheck host calibrate: measures this machine with the native helper and writes a
// cost profile that validates and that smpcheck sim runs with; each measured parameter
// says it was measured here. Skipped where the helper cannot run (docs/host.md).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostAvailability, hostInfo, runHostLineBench, runHostPipeBench } from '../src/host/native.js';
import { kernelFunctionNames } from '../src/kernel/index.js';
import { validateProfile } from '../src/sim/profile.js';
import { resolveProfile } from '../src/cli/sim.js';
import { cli, ROOT } from './helpers.js';

const avail = hostAvailability();

test('host calibrate writes a profile of this machine that validates and runs the madvise workload', async (t: TestContext) => {
  if (!avail.ok) return void t.skip(avail.reason);
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-calibrate-'));
  try {
    const out = join(dir, 'host.json');
    const r = await cli(['host', 'calibrate', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /system-call round trip/);
    const profile = validateProfile(JSON.parse(readFileSync(out, 'utf8')), out, kernelFunctionNames());
    // What user space can measure here is marked as measured, with a positive value; the
    // IPI latency only where the calls sent the sibling IPIs (on a busy machine they may
    // not: then it is not fitted, keeps the base profile's value, and the output says why).
    // Any fitted parameter may be left at the base profile's value when the model with it at 0
    // already exceeds its benchmark (a busy machine): the output says so.
    for (const name of ['syscall_entry_ns', 'sysret_ns', 'ipi_latency_ns', 'sync_core_ns'] as const) {
      const p = profile.params[name];
      if (new RegExp(`${name} not fitted`).test(r.out)) {
        assert.notEqual(p.source.kind, 'measured', name);
        assert.match(r.out, new RegExp(`${name} not fitted .*(IPIs per call reached the sibling|already takes)`));
        continue;
      }
      assert.equal(p.source.kind, 'measured', name);
      assert.ok(p.value > 0, `${name} = ${p.value}`);
    }
    const sim = await cli(['sim', join(ROOT, 'scenarios/sim/madvise-1.sim'), '--profile', out]);
    assert.equal(sim.code, 0, sim.err);
    assert.match(sim.out, /Time per iteration: [0-9.]+ us/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('host calibrate --json: line transfer and context switch fitted to the ping-pongs, predictions with their errors', async (t: TestContext) => {
  if (!avail.ok) return void t.skip(avail.reason);
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-calibrate-'));
  try {
    const out = join(dir, 'host.json');
    const r = await cli(['host', 'calibrate', '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    const d = JSON.parse(r.out) as {
      cpus: number;
      measured: { pipe_threads_ns: number; pipe_processes_ns: number; line_round_trip_ns: number | null };
      fitted: { param: string; benchmark: string; measured: number; value: number }[];
      not_fitted: { param: string; benchmark: string; why: string }[];
      predictions: { benchmark: string; scenario: string; measured_ns: number; predicted_ns: number; error_pct: number; comparable: boolean; why: string | null }[];
    };
    const profile = validateProfile(JSON.parse(readFileSync(out, 'utf8')), out, kernelFunctionNames());
    const fitted = (param: string): number | undefined => d.fitted.find((f) => f.param === param)?.value;
    const base = resolveProfile('e5-2630-v3');
    // Each parameter is fitted to its benchmark, or not fitted, with the reason, and the
    // base profile's value kept: where most membarrier calls sent the sibling no IPI, or
    // where the model with the parameter at 0 already takes longer than the benchmark (a
    // busy machine).
    const fittedOrKept = (param: string, value: number | undefined, baseValue: number | undefined): void => {
      const skipped = d.not_fitted.find((f) => f.param === param);
      if (!skipped) return void assert.equal(value, fitted(param), param);
      assert.equal(fitted(param), undefined, param);
      assert.match(skipped.why, /IPIs per call reached the sibling|already takes/, param);
      assert.equal(value, baseValue, param);
    };
    fittedOrKept('context_switch_ns', profile.params.context_switch_ns.value, base.params.context_switch_ns.value);
    fittedOrKept('sync_core_ns', profile.params.sync_core_ns.value, base.params.sync_core_ns.value);
    fittedOrKept('functions.do_anonymous_page', profile.functions.do_anonymous_page?.value, base.functions.do_anonymous_page?.value);
    assert.ok(d.measured.pipe_threads_ns > 0 && d.measured.pipe_processes_ns > 0);
    if (d.cpus > 1) {
      assert.ok(d.measured.line_round_trip_ns !== null && d.measured.line_round_trip_ns > 0);
      fittedOrKept('line_transfer_ns', profile.params.line_transfer_ns.value, base.params.line_transfer_ns.value);
      fittedOrKept('ipi_latency_ns', profile.params.ipi_latency_ns.value, base.params.ipi_latency_ns.value);
    }
    // The fit: the thread ping-pong simulated with the profile gives the measurement (when
    // context_switch_ns was fitted).
    const sim = await cli(['sim', join(ROOT, 'scenarios/sim/sched-pipe-threads.litmus'), '--profile', out, '--iterations', '200', '--json']);
    assert.equal(sim.code, 0, sim.err);
    const ns = (JSON.parse(sim.out) as { per_iteration_ns: { mean: number } }).per_iteration_ns.mean;
    if (fitted('context_switch_ns') !== undefined) {
      assert.ok(Math.abs(ns - d.measured.pipe_threads_ns) / d.measured.pipe_threads_ns < 0.01, `${ns} against ${d.measured.pipe_threads_ns}`);
    }
    // Predictions: the process ping-pong always, the madvise loop with a sibling on a machine of several CPUs.
    const names = d.predictions.map((q) => q.benchmark);
    for (const n of ['pipe ping-pong, two processes on one CPU', 'membarrier PRIVATE_EXPEDITED alone', 'membarrier GLOBAL_EXPEDITED alone']) assert.ok(names.includes(n), names.join());
    for (const n of ['madvise loop, 2 threads', 'membarrier PRIVATE_EXPEDITED_SYNC_CORE, 1 sibling', 'membarrier GLOBAL_EXPEDITED, 1 sibling']) assert.equal(names.includes(n), d.cpus > 1, n);
    // Nothing predicted was fitted.
    for (const f of d.fitted) assert.ok(!d.predictions.some((q) => f.benchmark.startsWith(q.benchmark)), f.benchmark);
    for (const q of d.predictions) {
      assert.ok(q.measured_ns > 0 && q.predicted_ns > 0, JSON.stringify(q));
      assert.ok(Math.abs(q.error_pct - (100 * (q.predicted_ns - q.measured_ns)) / q.measured_ns) < 0.2, JSON.stringify(q));
      assert.equal(q.comparable, q.why === null);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helper pipebench and linebench: one line each, the tasks alternate on one CPU', async (t: TestContext) => {
  if (!avail.ok) return void t.skip(avail.reason);
  for (const mode of ['threads', 'processes'] as const) {
    const r = runHostPipeBench(mode, 2000, 2);
    assert.ok(r.ok, r.ok ? '' : r.stderr);
    if (!r.ok) continue;
    assert.equal(r.result.mode, mode);
    assert.equal(r.result.ns.length, 2);
    assert.equal(r.result.errno, 0);
    // Each operation blocks the timing task once (its read of the answer), so one switch per
    // operation; more would mean a third task or preemption, fewer that the two did not alternate.
    for (const sw of r.result.switches) assert.ok(sw >= 2000 * 0.9, `${mode}: ${sw} switches in 2000 operations`);
  }
  if (hostInfo().nprocs > 1) {
    const l = runHostLineBench(10_000, 2);
    assert.ok(l.ok, l.ok ? '' : l.stderr);
    if (l.ok) {
      assert.equal(l.result.ns.length, 2);
      assert.notEqual(l.result.cpus[0], l.result.cpus[1]);
      for (const x of l.result.ns) assert.ok(x > 0);
    }
  }
});
