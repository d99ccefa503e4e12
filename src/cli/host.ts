// `smpcheck host ...`: the running Linux kernel as an oracle (docs/host.md).
//   host run      one operation script on the real kernel and on the model, side by side
//   host conform  random scripts on both, compared line by line (differential testing)
//   host bench    latency of the real membarrier() per command and sibling count
//                 (--tlb: the madvise shootdown microbenchmark)
//   host tlb-ipis the TLB shootdowns each operation of a script causes on the real kernel

import { addHostCalibrateCommand } from './host-calibrate.js';
import { availableParallelism, release as osRelease } from 'node:os';
import { Command, Option } from 'commander';
import type { ExitName } from './exit.js';
import type { Io } from './main.js';
import { addHostBenchCommand } from './host-bench.js';
import { cmdHostTlbIpis, TLB_RUNS_DEFAULT, TLB_RUNS_MAX } from './host-tlb.js';
import { compareScript, conform, lineText, variantForRelease, type Comparison } from '../host/conform.js';
import { runModelScript, type ModelHost, type ScriptLine } from '../host/model.js';
import { isMemoryOp, parseScript, SCRIPT_BYTES_MAX, ScriptError } from '../host/script.js';
import { readBounded } from '../scenario/bounded-read.js';
import { hostAvailability, hostInfo, runHostScript } from '../host/native.js';
import { findVariant, variants } from '../kernel/variants.js';
import { formatError, SmpError } from '../scenario/errors.js';

interface HostOpts {
  json?: boolean;
  variant?: string;
  cpus?: number;
  progress?: boolean;
}

const intArg = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new SmpError('SMP200', `${name} takes an integer from ${min} to ${max}, not '${v}'`);
  }
  return n;
};

/** The kernel the model stands in for: the running one, or what the options say. */
function modelHost(io: Io, o: HostOpts, needHost: boolean): { host: ModelHost; release: string } | ExitName {
  let nrCpus = o.cpus ?? availableParallelism();
  let release = osRelease();
  if (needHost) {
    const avail = hostAvailability();
    if (!avail.ok) {
      io.err(`smpcheck host: ${avail.reason}\n`);
      return 'input_error';
    }
    const info = hostInfo();
    nrCpus = info.nprocs;
    release = info.uname;
  }
  let variant = o.variant ? findVariant(o.variant) : undefined;
  if (o.variant && !variant) {
    io.err(`${formatError(new SmpError('SMP200', `unknown variant '${o.variant}' (${variants().map((v) => v.name).join(', ')})`))}\n`);
    return 'input_error';
  }
  if (!variant) {
    const chosen = variantForRelease(release);
    if (chosen.note) io.err(`smpcheck host: ${chosen.note}\n`);
    variant = chosen.variant;
  }
  return { host: { nrCpus, nohzFull: false, variant }, release };
}

function sideBySide(kernel: readonly ScriptLine[] | null, model: readonly ScriptLine[]): string {
  const rows: string[] = [];
  const left = kernel?.map(lineText) ?? [];
  const right = model.map(lineText);
  const w = Math.max(6, ...left.map((s) => s.length));
  rows.push(`  ${'kernel'.padEnd(w)}  model`);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const a = left[i] ?? (kernel ? '(nothing)' : '');
    const b = right[i] ?? '(nothing)';
    rows.push(`${a === b ? ' ' : '!'} ${a.padEnd(w)}  ${b}`);
  }
  return rows.join('\n') + '\n';
}

function cmdHostRun(io: Io, file: string, o: HostOpts & { modelOnly?: boolean }): ExitName {
  let text: string;
  try {
    text = readBounded(file, SCRIPT_BYTES_MAX, 'the script');
  } catch (e) {
    if (!(e instanceof SmpError)) throw e;
    io.err(`${formatError(e)}\n`);
    return 'input_error';
  }
  if (o.cpus !== undefined && !o.modelOnly) {
    io.err(`${formatError(new SmpError('SMP200', '--cpus is for --model-only (the real kernel has the CPUs it has)'))}\n`);
    return 'input_error';
  }
  const mh = modelHost(io, o, !o.modelOnly);
  if (typeof mh === 'string') return mh;
  let ops;
  try {
    ops = parseScript(text, mh.host.nrCpus);
  } catch (e) {
    if (e instanceof ScriptError) {
      io.err(`${e.format(file)}\n`);
      return 'input_error';
    }
    throw e;
  }
  const mem = ops.find(isMemoryOp);
  if (mem) {
    io.err(`${new ScriptError('HOST008', mem.line, `'${mem.op}' is not modelled yet; smpcheck host tlb-ipis ${file} runs the script on the running kernel`).format(file)}\n`);
    return 'input_error';
  }
  if (o.modelOnly) {
    const lines = runModelScript(ops, mh.host);
    for (const l of lines) io.out(`${lineText(l)}\n`);
    return 'ok';
  }
  const c = compareScript(text, mh.host, (s) => runHostScript(s));
  if (o.json) {
    io.out(`${JSON.stringify({ file, kernel: mh.release, variant: mh.host.variant.name, agree: !c.difference, difference: c.difference || null, host: c.host.lines, model: c.model })}\n`);
  } else {
    io.out(`host run ${file}: kernel ${mh.release} (${mh.host.nrCpus} CPUs) and model ${mh.host.variant.name}\n`);
    io.out(sideBySide(c.host.lines, c.model));
    io.out(c.difference ? `differ: ${c.difference}\n` : 'agree\n');
  }
  return c.difference ? 'violation' : 'ok';
}

function describeFailure(f: Comparison): string {
  const script = f.script.trimEnd().split('\n').map((l, i) => `  ${String(i + 1).padStart(3)}  ${l}`).join('\n');
  return `script (shrunk):\n${script}\n${sideBySide(f.host.lines, f.model)}${f.difference}\n`;
}

function cmdHostConform(io: Io, o: HostOpts & { runs: number; seed: number }): ExitName {
  const mh = modelHost(io, o, true);
  if (typeof mh === 'string') return mh;
  const showProgress = o.progress ?? io.isTTY;
  const r = conform({
    runs: o.runs,
    seed: o.seed,
    host: mh.host,
    runHost: (s) => runHostScript(s),
    onProgress: showProgress ? (done, runs) => {
      if (done % 10 === 0 || done === runs) io.err(`\rhost conform: ${done}/${runs} scripts`);
      if (done === runs) io.err('\n');
    } : undefined,
  });
  const flags = `--runs ${o.runs} --seed ${o.seed}${o.variant ? ` --variant ${o.variant}` : ''}`;
  const reproduce = `smpcheck host conform ${flags}`;
  if (o.json) {
    io.out(`${JSON.stringify({
      kernel: mh.release, cpus: mh.host.nrCpus, variant: mh.host.variant.name, runs: r.runs, seed: r.seed,
      scriptsRun: r.scriptsRun, operations: r.operations, mismatch: r.failure ? {
        script: r.failure.script, host: r.failure.host.lines, hostStatus: r.failure.host.status, hostStderr: r.failure.host.stderr,
        model: r.failure.model, difference: r.failure.difference,
      } : null, reproduce,
    })}\n`);
  } else if (r.failure) {
    io.out(`host conform: MISMATCH between kernel ${mh.release} and model ${mh.host.variant.name} (seed ${o.seed})\n`);
    io.out(describeFailure(r.failure));
    io.out(`reproduce: ${reproduce}\n(or save the script to a file and run: smpcheck host run FILE)\n`);
  } else {
    io.out(`host conform: ${r.runs} scripts, ${r.operations} operations: kernel ${mh.release} (${mh.host.nrCpus} CPUs) and model ${mh.host.variant.name} agree on every line (seed ${o.seed})\n`);
  }
  return r.failure ? 'violation' : 'ok';
}

export function addHostCommands(program: Command, io: Io, setExit: (n: ExitName) => void): void {
  const host = program
    .command('host')
    .description('compare the model with the running Linux kernel (docs/host.md)');
  host
    .command('run')
    .description('run an operation script on the real kernel and on the model; exit 2 if they differ')
    .argument('<script>', 'operation script (docs/host.md)')
    .option('--json', 'print JSON')
    .option('--model-only', 'run the script on the model only (no native helper needed)')
    .option('--cpus <n>', 'online CPUs of the modelled machine (with --model-only; default: this machine\'s)', intArg('--cpus', 1, 8))
    .option('--variant <name>', 'modelled kernel variant (default: the one closest to the running kernel)')
    .action((file: string, opts) => setExit(cmdHostRun(io, file, opts)));
  host
    .command('conform')
    .description('differential testing: random scripts on the real kernel and on the model; exit 2 on a mismatch')
    .addOption(new Option('--runs <n>', 'scripts to run').default(100).argParser(intArg('--runs', 1, 1_000_000)))
    .addOption(new Option('--seed <n>', 'seed of the script generator').default(1).argParser(intArg('--seed', 0, 2 ** 31 - 1)))
    .option('--variant <name>', 'modelled kernel variant (default: the one closest to the running kernel)')
    .option('--json', 'print one JSON object')
    .option('--progress', 'report progress on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'never report progress')
    .action((opts) => setExit(cmdHostConform(io, opts)));
  addHostBenchCommand(host, io, setExit);
  addHostCalibrateCommand(host, io, setExit);
  host
    .command('tlb-ipis')
    .description('run an operation script several times on the real kernel; the TLB shootdowns each operation caused')
    .argument('<script>', 'operation script (docs/host.md)')
    .addOption(new Option('--runs <n>', 'runs of the script, each in a fresh process').default(TLB_RUNS_DEFAULT).argParser(intArg('--runs', 1, TLB_RUNS_MAX)))
    .option('--json', 'print one JSON object')
    .action((file: string, opts: { runs: number; json?: boolean }) => setExit(cmdHostTlbIpis(io, file, opts)));
}
