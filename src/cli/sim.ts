// smpcheck sim: the timing simulator's command line (src/sim/).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { parseScenario } from '../scenario/parser.js';
import { validateDirectives } from '../scenario/directives.js';
import { readBounded } from '../scenario/bounded-read.js';
import { SOURCE_BYTES_MAX } from '../scenario/lexer.js';
import { errorJson, formatError, SmpError } from '../scenario/errors.js';
import { kernelFunctionNames } from '../kernel/index.js';
import { MODELS, type ModelName } from '../machine/machine.js';
import { loadProfile, type Profile } from '../sim/profile.js';
import { SIM_RUNS_MAX, simulateScenario, type SimReport } from '../sim/run.js';
import { SimCutShort, SimDeadlock, SIM_STEPS_MAX_DEFAULT } from '../sim/engine.js';
import { LOOP_ITERATIONS_MAX } from '../scenario/parser.js';
import { runSeedTables, formatSeedTables, type SeedCell } from '../sim/seeds.js';
import { writeSvg } from '../sim/plot.js';
import type { SimJson } from './json-shapes.js';
import type { ExitName } from './exit.js';
import type { Io } from './main.js';

/** The package's own folder (profiles/, scenarios/). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_PROFILE = 'e5-2630-v3';

/** A profile by name (profiles/NAME.json of the package) or by path. */
export function resolveProfile(name: string): Profile {
  const byName = join(PACKAGE_ROOT, 'profiles', `${name}.json`);
  const file = /^[A-Za-z0-9_.-]+$/.test(name) && !name.endsWith('.json') && existsSync(byName) ? byName : name;
  return loadProfile(file, kernelFunctionNames());
}

function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new SmpError('SMP200', `${name} takes an integer from ${min} to ${max}, not '${v}'`);
    }
    return n;
  };
}

const fmt = (ns: number): string => (ns >= 1e6 ? `${(ns / 1e6).toFixed(3)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(3)} us` : `${ns.toFixed(1)} ns`);
const pct = (x: number, total: number): string => (total > 0 ? `${((100 * x) / total).toFixed(1)}%` : '-');

export function formatSim(r: SimReport, file: string): string {
  const first = r.runs[0]!;
  const lines: string[] = [];
  lines.push(`Sim ${r.scenario.name} (${file})`);
  lines.push(`Kernel ${r.variant.name}, machine ${r.model}, profile ${r.profile.name}: ${r.profile.machine}`);
  lines.push(`Iterations ${r.iterations ?? 'none (the scenario has no loop)'}, runs ${r.runs.length}${r.runs.length > 1 ? `, seed ${r.seed}, jitter ${r.profile.params.jitter.value} per parameter and run` : ''}`);
  if (r.perIteration) {
    const s = r.perIteration;
    lines.push(r.runs.length > 1
      ? `Time per iteration: mean ${fmt(s.mean)}, sd ${fmt(s.sd)}, min ${fmt(s.min)}, median ${fmt(s.median)}, max ${fmt(s.max)}`
      : `Time per iteration: ${fmt(s.mean)}`);
    if (first.threads.length > 1) lines.push(`  per thread (run 1): ${first.threads.map((t) => `P${t.thread} ${t.perIterationNs === null ? '-' : fmt(t.perIterationNs)}`).join(', ')}`);
  }
  lines.push(`Run 1: ${fmt(first.totalNs)} simulated, ${first.steps} steps`);
  lines.push('CPU  busy        spin        irq         idle        IPIs sent  IPIs taken  interrupts');
  first.cpus.forEach((c, i) => {
    const cell = (x: number): string => `${pct(x, first.totalNs)}`.padEnd(12);
    lines.push(`${String(i).padEnd(5)}${cell(c.busyNs)}${cell(c.spinNs)}${cell(c.irqNs)}${cell(c.idleNs)}${String(c.ipisSent).padEnd(11)}${String(c.ipisTaken).padEnd(12)}${c.interrupts}`);
  });
  const per = r.iterations ? r.iterations : 1;
  const keys = Object.keys(first.counts).sort();
  if (keys.length > 0) lines.push(`Events per iteration (run 1): ${keys.map((k) => `${k} ${(first.counts[k]! / per).toFixed(2)}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function simJson(r: SimReport, file: string): SimJson {
  return {
    test: r.scenario.name,
    file,
    kernel: r.variant.name,
    model: r.model,
    profile: r.profile.name,
    iterations: r.iterations,
    seed: r.seed,
    per_iteration_ns: r.perIteration,
    runs: r.runs.map((x) => ({
      total_ns: x.totalNs,
      steps: x.steps,
      per_iteration_ns: x.perIterationNs,
      threads: x.threads.map((t) => ({ thread: t.thread, iterations: t.iterations, per_iteration_ns: t.perIterationNs })),
      cpus: x.cpus.map((c) => ({ busy_ns: c.busyNs, spin_ns: c.spinNs, irq_ns: c.irqNs, idle_ns: c.idleNs, ipis_sent: c.ipisSent, ipis_taken: c.ipisTaken, interrupts: c.interrupts, steps: c.steps })),
      counts: x.counts,
    })),
  };
}

interface SimOpts {
  profile?: string;
  variant?: string;
  model?: ModelName;
  iterations?: number;
  runs?: number;
  seed?: number;
  stepsMax?: number;
  table?: string;
  json?: boolean;
  plot?: string;
}

function report(io: Io, e: unknown, json: boolean | undefined, source?: string): ExitName {
  if (e instanceof SmpError) {
    io.err(`${formatError(e, source)}\n`);
    if (json) io.out(`${JSON.stringify(errorJson(e))}\n`);
    return 'input_error';
  }
  if (e instanceof SimDeadlock) {
    io.err(`smpcheck sim: liveness: ${e.message}: ${e.waits.map((w) => `CPU${w.cpu} waits in ${w.fn}`).join('; ')}\n`);
    return 'liveness';
  }
  if (e instanceof SimCutShort) {
    io.err(`smpcheck sim: incomplete: ${e.message}; no time is reported\n`);
    return 'incomplete';
  }
  throw e;
}

export function cmdSim(io: Io, file: string | undefined, o: SimOpts): ExitName {
  let source: string | undefined;
  try {
    if (o.table !== undefined) {
      if (o.table !== 'seeds') throw new SmpError('SMP200', `--table takes 'seeds' (the published tables of the threads), not '${o.table}'`);
      if (file !== undefined) throw new SmpError('SMP200', '--table runs its own scenarios: give no FILE');
      const cells: SeedCell[] = runSeedTables(PACKAGE_ROOT, resolveProfile, { iterations: o.iterations, stepsMax: o.stepsMax });
      if (o.json) for (const c of cells) io.out(`${JSON.stringify(c)}\n`);
      else io.out(formatSeedTables(cells));
      if (o.plot) writeSvg(o.plot, { cells });
      return 'ok';
    }
    if (file === undefined) throw new SmpError('SMP200', 'smpcheck sim needs a scenario FILE (or --table seeds)');
    source = readBounded(file, SOURCE_BYTES_MAX, 'scenario');
    const sc = parseScenario(source, file);
    validateDirectives(sc);
    const profile = resolveProfile(o.profile ?? DEFAULT_PROFILE);
    const r = simulateScenario(sc, profile, { model: o.model, variant: o.variant, iterations: o.iterations, runs: o.runs, seed: o.seed, stepsMax: o.stepsMax, timeline: o.plot !== undefined });
    if (o.json) io.out(`${JSON.stringify(simJson(r, file))}\n`);
    else io.out(formatSim(r, file));
    if (o.plot) writeSvg(o.plot, { report: r });
    return 'ok';
  } catch (e) {
    return report(io, e, o.json, source);
  }
}

export function addSimCommand(program: Command, io: Io, setExit: (n: ExitName) => void): void {
  program
    .command('sim')
    .description('run a scenario along one schedule decided by simulated time, with costs from a profile: time per iteration, per CPU, IPIs')
    .argument('[file]', 'litmus file (its threads may loop: loop N { ... })')
    .option('--profile <name|file>', `cost profile: a name in profiles/ or a JSON file (default ${DEFAULT_PROFILE})`)
    .option('--variant <name>', 'kernel variant (smpcheck variants) or variant module')
    .addOption(new Option('--model <machine>', 'machine (default x86)').choices([...MODELS]))
    .option('--iterations <n>', `run every loop N { } this many times instead (1 to ${LOOP_ITERATIONS_MAX})`, intArg('--iterations', 1, LOOP_ITERATIONS_MAX))
    .option('--runs <n>', `runs with the profile's jitter, for the distribution (1 to ${SIM_RUNS_MAX}; default 1, no jitter)`, intArg('--runs', 1, SIM_RUNS_MAX))
    .option('--seed <n>', 'seed of the jitter (default 1)', intArg('--seed', 0, 2 ** 32 - 1))
    .option('--steps-max <n>', `bound: steps in one run (default ${SIM_STEPS_MAX_DEFAULT})`, intArg('--steps-max', 1, 2 ** 40))
    .option('--table <name>', "'seeds': the published tables of the threads beside the simulated ones, with the error per cell")
    .option('--plot <file.svg>', 'draw simulated against published per cell (--table), or a per-CPU timeline of one iteration')
    .option('--json', 'print JSON (one object; --table: one object per cell)')
    .addHelpText('after', `
Examples:
  smpcheck sim scenarios/sim/sched-pipe-threads.litmus --iterations 10000
  smpcheck sim scenarios/sim/sched-pipe-threads.litmus --variant sync-core-every-switch --runs 20 --seed 7
  smpcheck sim --table seeds`)
    .action((file: string | undefined, opts: SimOpts) => setExit(cmdSim(io, file, opts)));
}
