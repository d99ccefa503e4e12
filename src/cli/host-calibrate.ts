// `smpcheck host calibrate`: measures on this machine what user space can with the native
// helper of `smpcheck host bench` (src/host/helper.c), and writes a cost profile for
// `smpcheck sim` (src/sim/profile.ts). Measured: the system-call round trip
// (membarrier QUERY), membarrier PRIVATE_EXPEDITED with one sibling thread on another CPU,
// and the madvise(MADV_DONTNEED) loop with one thread. Every other parameter is the base
// profile's, with its source, and says so.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_QUERY } from '../kernel/uapi.js';
import { hostAvailability, hostInfo, runHostBench, runHostTlbBench } from '../host/native.js';
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

export function cmdHostCalibrate(io: Io, o: { out: string; base?: string }): ExitName {
  try {
    const avail = hostAvailability();
    if (!avail.ok) throw new SmpError('SMP200', `host calibrate needs the native helper: ${avail.reason}`);
    const base = resolveProfile(o.base ?? 'e5-2630-v3');
    const info = hostInfo();
    // The median time of one call, and the IPIs per call that reached the siblings (null: not counted).
    const bench = (cmd: number, siblings: number): { ns: number; ipisPerCall: number | null } => {
      const r = runHostBench({ cmd, flags: 0, cpuId: 0, siblings, calls: CALLS, registerFirst: true });
      if (!r.ok || r.result.median_ns === null) throw new SmpError('SMP200', `host calibrate: the helper's bench failed: ${r.ok ? `errno ${r.result.errno} at ${r.result.stage}` : r.stderr.trim()}`);
      return { ns: r.result.median_ns, ipisPerCall: r.result.ipis === null ? null : r.result.ipis / r.result.calls };
    };
    const query = bench(MEMBARRIER_CMD_QUERY, 0).ns;
    const pe0 = bench(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0).ns;
    const pe1r = info.nprocs > 1 ? bench(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 1) : null;
    const pe1 = pe1r?.ns ?? null;
    const ipisPerCall = pe1r?.ipisPerCall ?? null;
    const fmtIpis = (x: number | null): string => (x === null ? 'not counted' : x.toFixed(2));
    const tlb = runHostTlbBench(1, TLB_ITERATIONS, 3);
    if (!tlb.ok) throw new SmpError('SMP200', `host calibrate: the helper's madvise loop failed: ${tlb.stderr.trim()}`);
    const madviseNs = [...tlb.result.ns].sort((a, b) => a - b)[1]! / TLB_ITERATIONS;

    const p: Profile = structuredClone(base);
    p.name = 'host';
    p.machine = `this machine: Linux ${info.uname}, ${info.nprocs} online CPUs (smpcheck host calibrate)`;
    p.note = `Measured here by smpcheck host calibrate: the system-call round trip (median of ${CALLS} membarrier QUERY calls), membarrier PRIVATE_EXPEDITED with and without a sibling on another CPU, the madvise loop with one thread (${TLB_ITERATIONS} iterations, median of 3). Every other parameter is ${base.name}'s, with its source.`;
    // The round trip, split as the base profile splits it between entry and SYSRET.
    const share = base.params.syscall_entry_ns.value / (base.params.syscall_entry_ns.value + base.params.sysret_ns.value);
    p.params.syscall_entry_ns = measured(query * share, `median round trip of membarrier(MEMBARRIER_CMD_QUERY) (${query} ns), the share of the entry as in ${base.name}`);
    p.params.sysret_ns = measured(query * (1 - share), `median round trip of membarrier(MEMBARRIER_CMD_QUERY) (${query} ns), the share of SYSRET as in ${base.name}`);
    if (pe1 !== null) {
      // One IPI round trip more than alone: send, delivery, entry, ipi_mb(), IRET, the csd's release seen by the sender.
      const extra = pe1 - pe0;
      const latency = Math.max(0, extra - base.params.irq_entry_ns.value - base.params.iret_ns.value - base.params.ipi_send_ns.value);
      p.params.ipi_latency_ns = measured(latency, `membarrier PRIVATE_EXPEDITED with one sibling on another CPU (${pe1} ns; ${fmtIpis(ipisPerCall)} IPIs per call reached it) minus alone (${pe0} ns), minus ${base.name}'s interrupt entry, IRET and IPI send`);
    }
    // The madvise loop with one thread: the work the model leaves out of the fault's page allocation.
    const file = join(PACKAGE_ROOT, 'scenarios/sim/madvise-1.sim');
    const sc = parseScenario(readBounded(file, 1_000_000, 'scenario'), 'scenarios/sim/madvise-1.sim');
    const at = (v: number): number => {
      const q = structuredClone(p);
      q.functions.do_anonymous_page = measured(v, 'fit');
      return simulateScenario(sc, q, { variant: 'v6.18', iterations: 200 }).perIteration!.mean;
    };
    const fit = at(0) >= madviseNs ? 0 : bisect(at, madviseNs, 20_000);
    p.functions.do_anonymous_page = measured(fit, `fitted so that scenarios/sim/madvise-1.sim gives this machine's madvise loop with one thread (${madviseNs.toFixed(1)} ns per iteration)${at(0) >= madviseNs ? '; the model alone already exceeds it' : ''}`);
    validateProfile(p, o.out, kernelFunctionNames());
    try {
      writeFileSync(o.out, `${JSON.stringify(p, null, 2)}\n`);
    } catch (e) {
      throw new SmpError('SMP004', `cannot write the profile '${o.out}': ${fsReason(e)}`, undefined, o.out);
    }
    io.out(`Linux ${info.uname}, ${info.nprocs} online CPUs\n`);
    io.out(`system-call round trip (membarrier QUERY)       ${query} ns\n`);
    io.out(`membarrier PRIVATE_EXPEDITED alone              ${pe0} ns\n`);
    io.out(`membarrier PRIVATE_EXPEDITED, 1 sibling         ${pe1 ?? '- (one CPU)'}${pe1 !== null ? ` ns (IPIs per call: ${fmtIpis(ipisPerCall)})` : ''}\n`);
    io.out(`madvise loop, 1 thread                          ${madviseNs.toFixed(1)} ns per iteration\n`);
    // A prediction: the madvise loop with a busy-waiting thread on another CPU, simulated
    // with the profile just written (nothing of it was fitted to this row), beside the measurement.
    if (info.nprocs > 1) {
      const two = runHostTlbBench(2, TLB_ITERATIONS, 3);
      if (two.ok) {
        const measuredNs = [...two.result.ns].sort((a, b) => a - b)[1]! / TLB_ITERATIONS;
        const f2 = join(PACKAGE_ROOT, 'scenarios/sim/madvise-2.sim');
        const sc2 = parseScenario(readBounded(f2, 1_000_000, 'scenario'), 'scenarios/sim/madvise-2.sim');
        const predicted = simulateScenario(sc2, p, { variant: 'v6.18', iterations: 200 }).perIteration!.mean;
        const counts = two.result.tlb_ipis.filter((x): x is number => x !== null).sort((a, b) => a - b);
        const shootdowns = counts.length > 0 ? counts[counts.length >> 1]! / TLB_ITERATIONS : null;
        io.out(`madvise loop, 2 threads: measured ${measuredNs.toFixed(1)} ns (shootdowns per iteration: ${fmtIpis(shootdowns)}), predicted ${predicted.toFixed(1)} ns (${(100 * (predicted - measuredNs) / measuredNs).toFixed(1)}%; v6.18, ${two.result.running}/3 repeats with the sibling seen running)\n`);
        // The model sends every flush and every membarrier IPI to a sibling running on its CPU:
        // where fewer reached it, the measurements are of something else (docs/host.md).
        const short = [shootdowns !== null && shootdowns < 0.9 ? `${shootdowns.toFixed(2)} shootdowns per iteration` : null, ipisPerCall !== null && ipisPerCall < 0.9 ? `${ipisPerCall.toFixed(2)} IPIs per membarrier call` : null].filter((x) => x !== null);
        if (short.length > 0) io.out(`not comparable: the model sends one IPI per flush and per membarrier call to a sibling running on its CPU; here ${short.join(' and ')} reached it (the sibling off its CPU: a busy or virtual machine whose hypervisor runs other vCPUs there, or flushes taken over by the hypervisor), so ipi_latency_ns and the prediction do not measure what the model counts\n`);
      }
    }
    io.out(`not measured (the helper has no such benchmark yet): pipe ping-pong, cache-line ping-pong: ${base.name}'s values kept\n`);
    io.out(`wrote ${o.out}\n`);
    return 'ok';
  } catch (e) {
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
    .description('measure this machine with the native helper (system call, membarrier IPI, madvise loop) and write a cost profile for smpcheck sim')
    .option('--out <file>', 'the profile to write', 'host-profile.json')
    .option('--base <profile>', 'the profile whose other parameters are kept (default e5-2630-v3)')
    .action((opts: { out: string; base?: string }) => setExit(cmdHostCalibrate(io, opts)));
}
