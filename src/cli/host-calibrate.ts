// `smpcheck host calibrate`: measures on this machine what user space can with the native
// helper of `smpcheck host bench` (src/host/helper.c), writes a cost profile for
// `smpcheck sim` (src/sim/profile.ts), and predicts with it the benchmarks it did not fit.
// Measured: the system-call round trip (membarrier QUERY), membarrier PRIVATE_EXPEDITED
// with one sibling thread on another CPU, cache-line ping-pong between two CPUs, pipe
// ping-pong between two threads on one CPU, and the madvise(MADV_DONTNEED) loop with one
// thread. Predicted: pipe ping-pong between two processes, the madvise loop with a
// busy-waiting sibling. Every other parameter is the base profile's, with its source.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  MEMBARRIER_CMD_GLOBAL_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, MEMBARRIER_CMD_QUERY,
} from '../kernel/uapi.js';
import { hostAvailability, hostInfo, runHostBench, runHostLineBench, runHostPipeBench, runHostTlbBench } from '../host/native.js';
import { SmpError } from '../scenario/errors.js';
import { fsReason } from '../scenario/bounded-read.js';
import { parseScenario } from '../scenario/parser.js';
import { readBounded } from '../scenario/bounded-read.js';
import { join } from 'node:path';
import { kernelFunctionNames } from '../kernel/index.js';
import { validateProfile, type Param, type Profile } from '../sim/profile.js';
import { simulateScenario } from '../sim/run.js';
import { PACKAGE_ROOT, resolveProfile } from './sim.js';
import type { ExitName } from './exit.js';
import type { Io } from './main.js';

const CALLS = 20_000;
const TLB_ITERATIONS = 20_000;

const measured = (value: number, how: string): Param => ({ value: Math.round(value * 10) / 10, unit: 'ns', source: { kind: 'measured', how } });

/** The value of `set` for which `f` is `target` (f increasing), by bisection on [0, hi]. */
function bisect(f: (v: number) => number, target: number, hi: number): number {
  let lo = 0;
  for (let i = 0; i < 24 && hi - lo > 0.5; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** One prediction of `host calibrate`: a benchmark of the helper, measured and simulated. */
export interface CalibratePrediction {
  benchmark: string;
  scenario: string;
  measured_ns: number;
  predicted_ns: number;
  /** (predicted - measured) / measured, in percent. */
  error_pct: number;
  /** Whether the measurement is of what the model counts (see `why`). */
  comparable: boolean;
  why: string | null;
}

/** `smpcheck host calibrate --json` (docs/schema/host-calibrate.schema.json). */
export interface CalibrateJson {
  kernel: string;
  cpus: number;
  profile: string;
  measured: {
    syscall_round_trip_ns: number;
    membarrier_private_expedited_ns: number;
    membarrier_private_expedited_sibling_ns: number | null;
    ipis_per_call: number | null;
    madvise_1_thread_ns: number;
    pipe_threads_ns: number;
    pipe_processes_ns: number;
    line_round_trip_ns: number | null;
    shootdowns_per_iteration: number | null;
    madvise_2_sibling_running_repeats: number | null;
  };
  /** The parameters fitted, in order, each to one benchmark's measurement (ns). */
  fitted: { param: string; benchmark: string; measured: number; value: number }[];
  /** Parameters left at the base profile's value because their benchmark did not measure what the model counts, and why. */
  not_fitted: { param: string; benchmark: string; why: string }[];
  predictions: CalibratePrediction[];
}

const PIPE_ITERATIONS = 20_000;
const LINE_ITERATIONS = 200_000;
const REPEATS = 3;
const SIM_ITERATIONS = 200;

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** The membarrier() cells of `smpcheck host bench` that calibrate uses: command, siblings, scenario. */
const MB_CELLS = [
  { name: 'PRIVATE_EXPEDITED', cmd: MEMBARRIER_CMD_PRIVATE_EXPEDITED, file: 'membarrier-private-expedited' },
  { name: 'PRIVATE_EXPEDITED_SYNC_CORE', cmd: MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, file: 'membarrier-private-expedited-sync-core' },
  { name: 'PRIVATE_EXPEDITED_RSEQ', cmd: MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, file: 'membarrier-private-expedited-rseq' },
  { name: 'GLOBAL_EXPEDITED', cmd: MEMBARRIER_CMD_GLOBAL_EXPEDITED, file: 'membarrier-global-expedited' },
] as const;
type MbName = (typeof MB_CELLS)[number]['name'];
const mbScenario = (name: MbName, siblings: 0 | 1): string => `scenarios/sim/host/${MB_CELLS.find((c) => c.name === name)!.file}${siblings ? '-sibling' : ''}.litmus`;

export function cmdHostCalibrate(io: Io, o: { out: string; base?: string; json?: boolean }): ExitName {
  try {
    const avail = hostAvailability();
    if (!avail.ok) throw new SmpError('SMP200', `host calibrate needs the native helper: ${avail.reason}`);
    const base = resolveProfile(o.base ?? 'e5-2630-v3');
    const info = hostInfo();
    const multi = info.nprocs > 1;
    const fail = (what: string, r: { stderr: string }): never => {
      throw new SmpError('SMP200', `host calibrate: the helper's ${what} failed: ${r.stderr.trim()}`);
    };
    const scenario = (rel: string) => parseScenario(readBounded(join(PACKAGE_ROOT, rel), 1_000_000, 'scenario'), rel);
    const simNs = (rel: string, q: Profile): number => simulateScenario(scenario(rel), q, { variant: 'v6.18', iterations: SIM_ITERATIONS }).perIteration!.mean;
    // The value of a parameter for which `rel` simulates to `target` ns per iteration (it grows with the parameter).
    const fitParam = (rel: string, q: Profile, set: (q: Profile, v: number) => void, target: number, hi: number): { value: number; floor: boolean; floorNs: number } => {
      const at = (v: number): number => {
        const t = structuredClone(q);
        set(t, v);
        return simNs(rel, t);
      };
      const floor = at(0);
      if (floor >= target) return { value: 0, floor: true, floorNs: floor };
      return { value: bisect(at, target, hi), floor: false, floorNs: floor };
    };

    // membarrier(): the median time of one call, and the IPIs per call that reached the siblings
    // (null: not counted). Registered once the siblings spin, as the scenarios register with
    // their sibling running: registered before it starts, GLOBAL_EXPEDITED can miss it for
    // good (the stale runqueue state of docs/host.md).
    // Progress on a terminal (standard error, erased at the end), as host bench shows it.
    const stage = (what: string): void => {
      if (io.isTTY) io.err(`\r\x1b[Khost calibrate: ${what}`);
    };
    const bench = (cmd: number, siblings: number): { ns: number; ipisPerCall: number | null } => {
      stage(`membarrier ${cmd}, ${siblings} sibling${siblings === 1 ? '' : 's'}`);
      const r = runHostBench({ cmd, flags: 0, cpuId: 0, siblings, calls: CALLS, registerFirst: false });
      if (!r.ok || r.result.median_ns === null) throw new SmpError('SMP200', `host calibrate: the helper's bench failed: ${r.ok ? `errno ${r.result.errno} at ${r.result.stage}` : r.stderr.trim()}`);
      return { ns: r.result.median_ns, ipisPerCall: r.result.ipis === null ? null : r.result.ipis / r.result.calls };
    };
    const query = bench(MEMBARRIER_CMD_QUERY, 0).ns;
    const mb = new Map<string, { ns: number; ipisPerCall: number | null }>();
    for (const c of MB_CELLS) {
      mb.set(`${c.name}/0`, bench(c.cmd, 0));
      if (multi) mb.set(`${c.name}/1`, bench(c.cmd, 1));
    }
    const mbNs = (name: MbName, siblings: 0 | 1): number | null => mb.get(`${name}/${siblings}`)?.ns ?? null;
    const pe0 = mbNs('PRIVATE_EXPEDITED', 0)!;
    const pe1 = mbNs('PRIVATE_EXPEDITED', 1);
    const ipisPerCall = mb.get('PRIVATE_EXPEDITED/1')?.ipisPerCall ?? null;
    const fmtIpis = (x: number | null): string => (x === null ? 'not counted' : x.toFixed(2));
    stage('madvise loop, 1 thread');
    const tlb = runHostTlbBench(1, TLB_ITERATIONS, REPEATS);
    if (!tlb.ok) fail('madvise loop', tlb);
    const madviseNs = medianOf(tlb.ok ? tlb.result.ns : []) / TLB_ITERATIONS;
    stage('pipe ping-pong');
    const pipeT = runHostPipeBench('threads', PIPE_ITERATIONS, REPEATS);
    if (!pipeT.ok) fail('pipe ping-pong', pipeT);
    const pipeP = runHostPipeBench('processes', PIPE_ITERATIONS, REPEATS);
    if (!pipeP.ok) fail('pipe ping-pong', pipeP);
    const pipeThreadsNs = pipeT.ok ? medianOf(pipeT.result.ns) / PIPE_ITERATIONS : 0;
    const pipeProcessesNs = pipeP.ok ? medianOf(pipeP.result.ns) / PIPE_ITERATIONS : 0;
    const switchesPerOp = (r: typeof pipeT): number => (r.ok ? medianOf(r.result.switches) / PIPE_ITERATIONS : 0);
    stage('cache-line ping-pong');
    const line = multi ? runHostLineBench(LINE_ITERATIONS, REPEATS) : null;
    if (line && !line.ok) fail('cache-line ping-pong', line);
    const lineNs = line?.ok ? medianOf(line.result.ns) / LINE_ITERATIONS : null;
    const scAlone = mbNs('PRIVATE_EXPEDITED_SYNC_CORE', 0)!;

    const p: Profile = structuredClone(base);
    p.name = 'host';
    p.machine = `this machine: Linux ${info.uname}, ${info.nprocs} online CPUs (smpcheck host calibrate)`;
    p.note = `Measured here by smpcheck host calibrate (docs/host.md): the system-call round trip (median of ${CALLS} membarrier QUERY calls); fitted, one parameter on one benchmark each, in this order: line_transfer_ns on cache-line ping-pong between two CPUs, ipi_latency_ns on membarrier PRIVATE_EXPEDITED with a sibling on another CPU, sync_core_ns on membarrier PRIVATE_EXPEDITED_SYNC_CORE alone, context_switch_ns on pipe ping-pong between two threads on one CPU, do_anonymous_page on the madvise loop with one thread; medians. Every other parameter is ${base.name}'s, with its source.`;
    // The round trip, split as the base profile splits it between entry and SYSRET.
    const share = base.params.syscall_entry_ns.value / (base.params.syscall_entry_ns.value + base.params.sysret_ns.value);
    p.params.syscall_entry_ns = measured(query * share, `median round trip of membarrier(MEMBARRIER_CMD_QUERY) (${query} ns), the share of the entry as in ${base.name}`);
    p.params.sysret_ns = measured(query * (1 - share), `median round trip of membarrier(MEMBARRIER_CMD_QUERY) (${query} ns), the share of SYSRET as in ${base.name}`);
    // Each fit below is of one parameter on one benchmark, in this order (a later
    // benchmark's simulation uses the earlier fits): nothing is fitted to a prediction.
    const fitNote = (rel: string, ns: number, what: string): string => `fitted so that ${rel} gives this machine's ${what} (${ns.toFixed(1)} ns per iteration)`;
    const fitted: { param: string; benchmark: string; measured: number; value: number }[] = [];
    // Parameters left at the base profile's value, and why (filled here and below).
    const notFitted: { param: string; benchmark: string; why: string }[] = [];
    const fit = (rel: string, ns: number, what: string, param: string, hi: number, set: (q: Profile, v: number) => void): void => {
      stage(`fitting ${param}`);
      const f = fitParam(rel, p, (q, v) => set(q, measured(v, 'fit').value), ns, hi);
      if (f.floor) {
        // The model with the parameter at 0 already takes longer than the benchmark (its
        // other costs, measured or fitted before, came out high on a busy machine): no
        // value of the parameter fits, and 0 would be no measurement of it.
        const kept = param.startsWith('functions.') ? 'the base profile\'s cost' : `${base.name}'s value`;
        notFitted.push({ param, benchmark: what, why: `the model with ${param} at 0 already takes ${f.floorNs.toFixed(1)} ns per iteration against the ${ns.toFixed(1)} ns measured; ${kept} is kept` });
        return;
      }
      set(p, f.value);
      const q = measured(f.value, fitNote(rel, ns, what));
      if (param.startsWith('functions.')) p.functions[param.slice(10)] = q;
      else p.params[param as keyof Profile['params']] = q;
      fitted.push({ param, benchmark: what, measured: ns, value: q.value });
    };
    const setParam = (name: keyof Profile['params']) => (q: Profile, v: number): void => { q.params[name] = measured(v, 'fit'); };
    if (lineNs !== null) fit('scenarios/sim/line-pingpong.litmus', lineNs, 'cache-line ping-pong between two CPUs (smpcheck-host linebench)', 'line_transfer_ns', 10_000, setParam('line_transfer_ns'));
    // ipi_latency_ns is fitted only on calls that sent the sibling an IPI: where most did not
    // (a busy or virtual machine), the median call measured no IPI, and any value fitted to
    // it would be of something else; the base profile's value stays, and the output says why.
    const ipiBenchmark = `membarrier PRIVATE_EXPEDITED with a sibling on another CPU (${fmtIpis(ipisPerCall)} IPIs per call reached it)`;
    if (pe1 !== null) {
      if (ipisPerCall !== null && ipisPerCall <= 0.5) {
        notFitted.push({ param: 'ipi_latency_ns', benchmark: ipiBenchmark, why: `only ${ipisPerCall.toFixed(2)} IPIs per call reached the sibling, so the median call sent none; ${base.name}'s value is kept` });
      } else fit(mbScenario('PRIVATE_EXPEDITED', 1), pe1, ipiBenchmark, 'ipi_latency_ns', 1_000_000, setParam('ipi_latency_ns'));
    }
    fit(mbScenario('PRIVATE_EXPEDITED_SYNC_CORE', 0), scAlone, 'membarrier PRIVATE_EXPEDITED_SYNC_CORE alone (the caller\'s own core serialisation)', 'sync_core_ns', 100_000, setParam('sync_core_ns'));
    fit('scenarios/sim/sched-pipe-threads.litmus', pipeThreadsNs, 'pipe ping-pong between two threads on one CPU (smpcheck-host pipebench threads)', 'context_switch_ns', 100_000, setParam('context_switch_ns'));
    // The madvise loop with one thread: the work the model leaves out of the fault's page allocation.
    fit('scenarios/sim/madvise-1.sim', madviseNs, 'madvise loop with one thread', 'functions.do_anonymous_page', 20_000, (q, v) => { q.functions.do_anonymous_page = measured(v, 'fit'); });
    validateProfile(p, o.out, kernelFunctionNames());
    try {
      writeFileSync(o.out, `${JSON.stringify(p, null, 2)}\n`);
    } catch (e) {
      throw new SmpError('SMP004', `cannot write the profile '${o.out}': ${fsReason(e)}`, undefined, o.out);
    }

    // Predictions: benchmarks none of whose numbers was fitted, simulated with the profile
    // just written, beside the measurements.
    const predictions: CalibratePrediction[] = [];
    const predict = (benchmark: string, rel: string, measuredNs: number, why: string | null): void => {
      stage(`predicting ${benchmark}`);
      const predicted = simNs(rel, p);
      predictions.push({
        benchmark, scenario: rel, measured_ns: Math.round(measuredNs * 10) / 10, predicted_ns: Math.round(predicted * 10) / 10,
        error_pct: Math.round((1000 * (predicted - measuredNs)) / measuredNs) / 10, comparable: why === null, why,
      });
    };
    // The model sends every membarrier IPI to a sibling running on its CPU; the median call
    // is one that sent an IPI when more than half of them did.
    const ipiWhy = (x: number | null): string | null =>
      x !== null && x <= 0.5 ? `${x.toFixed(2)} IPIs per call reached the sibling, where the model sends one to a sibling running on its CPU (the sibling off its CPU: a busy or virtual machine)` : null;
    for (const c of MB_CELLS) {
      if (c.name !== 'PRIVATE_EXPEDITED_SYNC_CORE') predict(`membarrier ${c.name} alone`, mbScenario(c.name, 0), mbNs(c.name, 0)!, null);
      if (multi && c.name !== 'PRIVATE_EXPEDITED') {
        const r = mb.get(`${c.name}/1`)!;
        const fitWhy = ipiWhy(ipisPerCall);
        predict(`membarrier ${c.name}, 1 sibling`, mbScenario(c.name, 1), r.ns, ipiWhy(r.ipisPerCall) ?? (fitWhy === null ? null : `ipi_latency_ns was not fitted (PRIVATE_EXPEDITED with a sibling, where ${fitWhy})`));
      }
    }
    const sw = switchesPerOp(pipeP);
    predict('pipe ping-pong, two processes on one CPU', 'scenarios/sim/sched-pipe-processes.litmus', pipeProcessesNs,
      sw < 0.9 ? `the timing process switched ${sw.toFixed(2)} times per operation, not once: the two did not alternate on one CPU` : null);
    let shootdowns: number | null = null;
    let running: number | null = null;
    if (multi) {
      stage('madvise loop, 2 threads');
      const two = runHostTlbBench(2, TLB_ITERATIONS, REPEATS);
      if (!two.ok) fail('madvise loop', two);
      if (two.ok) {
        const counts = two.result.tlb_ipis.filter((x): x is number => x !== null).sort((a, b) => a - b);
        shootdowns = counts.length > 0 ? counts[counts.length >> 1]! / TLB_ITERATIONS : null;
        running = two.result.running;
        // The model sends every flush and every membarrier IPI to a sibling running on its CPU:
        // where fewer reached it, the measurements are of something else (docs/host.md). The
        // loop's time is a mean over its iterations, so nearly every flush must have sent one;
        // ipi_latency_ns comes from the median membarrier call (see ipiWhy).
        const short = [shootdowns !== null && shootdowns < 0.9 ? `${shootdowns.toFixed(2)} shootdowns per iteration` : null, ipisPerCall !== null && ipisPerCall <= 0.5 ? `${ipisPerCall.toFixed(2)} IPIs per membarrier call` : null].filter((x) => x !== null);
        predict('madvise loop, 2 threads', 'scenarios/sim/madvise-2.sim', medianOf(two.result.ns) / TLB_ITERATIONS,
          short.length > 0 ? `the model sends one IPI per flush and per membarrier call to a sibling running on its CPU; here ${short.join(' and ')} reached it (the sibling off its CPU: a busy or virtual machine whose hypervisor runs other vCPUs there, or flushes taken over by the hypervisor), so ipi_latency_ns and the prediction do not measure what the model counts` : null);
      }
    }
    if (io.isTTY) io.err('\r\x1b[K');
    if (o.json) {
      const json: CalibrateJson = {
        kernel: info.uname, cpus: info.nprocs, profile: o.out,
        measured: {
          syscall_round_trip_ns: query, membarrier_private_expedited_ns: pe0, membarrier_private_expedited_sibling_ns: pe1,
          ipis_per_call: ipisPerCall, madvise_1_thread_ns: madviseNs, pipe_threads_ns: pipeThreadsNs, pipe_processes_ns: pipeProcessesNs,
          line_round_trip_ns: lineNs, shootdowns_per_iteration: shootdowns, madvise_2_sibling_running_repeats: running,
        },
        fitted,
        not_fitted: notFitted,
        predictions,
      };
      io.out(`${JSON.stringify(json)}\n`);
      return 'ok';
    }
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
    io.out(`Linux ${info.uname}, ${info.nprocs} online CPUs\n`);
    io.out(`Measured: system-call round trip (membarrier QUERY) ${query} ns: syscall_entry_ns ${p.params.syscall_entry_ns.value}, sysret_ns ${p.params.sysret_ns.value}\n`);
    io.out('Fitted, in this order (one parameter on one benchmark each; medians):\n');
    for (const f of fitted) io.out(`  ${`${f.param} = ${f.value} ns`.padEnd(42)}${f.benchmark}: ${f.measured.toFixed(1)} ns\n`);
    for (const f of notFitted) io.out(`  ${`${f.param} not fitted`.padEnd(42)}${f.benchmark}: ${f.why}\n`);
    io.out('Predicted with the profile just written (nothing fitted to these), kernel v6.18:\n');
    io.out(`  ${'benchmark'.padEnd(52)}${'measured'.padStart(12)}${'predicted'.padStart(12)}${'error'.padStart(9)}\n`);
    for (const q of predictions) {
      const verdict = q.comparable ? (Math.abs(q.error_pct) <= 20 ? 'within 20%' : 'not within 20%') : 'not comparable';
      io.out(`  ${q.benchmark.padEnd(52)}${`${q.measured_ns.toFixed(1)} ns`.padStart(12)}${`${q.predicted_ns.toFixed(1)} ns`.padStart(12)}${pct(q.error_pct).padStart(9)}  ${verdict}\n`);
    }
    if (shootdowns !== null || running !== null) io.out(`madvise loop, 2 threads: ${fmtIpis(shootdowns)} shootdowns per iteration; ${running}/${REPEATS} repeats with the sibling seen running\n`);
    for (const q of predictions) if (!q.comparable) io.out(`not comparable, ${q.benchmark}: ${q.why}\n`);
    io.out(`wrote ${o.out}\n`);
    return 'ok';
  } catch (e) {
    if (io.isTTY) io.err('\r\x1b[K');
    if (e instanceof SmpError) {
      io.err(`smpcheck: error[${e.code}] ${e.message}\n`);
      return 'input_error';
    }
    throw e;
  }
}

export function addHostCalibrateCommand(host: Command, io: Io, setExit: (n: ExitName) => void): void {
  host
    .command('calibrate')
    .description('measure this machine with the native helper (system call, membarrier IPI, cache-line and pipe ping-pong, madvise loop), write a cost profile for smpcheck sim, and compare its predictions with the benchmarks not fitted')
    .option('--out <file>', 'the profile to write', 'host-profile.json')
    .option('--base <profile>', 'the profile whose other parameters are kept (default e5-2630-v3)')
    .option('--json', 'print the measurements, fits and predictions as one JSON object')
    .action((opts: { out: string; base?: string; json?: boolean }) => setExit(cmdHostCalibrate(io, opts)));
}
