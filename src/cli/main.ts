// The smpcheck command line. Exit codes: 0 ok, 1 input error, 2 violation,
// 3 liveness, 4 incomplete, 70 internal error (docs/cli.md).

import { writeFileSync } from 'node:fs';
import { fsReason, readBounded } from '../scenario/bounded-read.js';
import { SOURCE_BYTES_MAX } from '../scenario/lexer.js';
import { formatBytes, MEMORY_MAX_DEFAULT, parseBytes } from '../explore/memory.js';
import { relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { CHECK_MODELS, checkScenario, ENGINES, observedLabel, parseExpectationKey, type CheckModel, type CheckOptions, type CheckResult, type Engine } from '../check.js';
import { DEFAULT_KERNEL, variants } from '../kernel/variants.js';
import { kernelFunctionNames } from '../kernel/index.js';
import { MODELS } from '../machine/machine.js';
import { parseScenario } from '../scenario/parser.js';
import { validateDirectives } from '../scenario/directives.js';
import { collectLitmusFiles } from '../scenario/files.js';
import { errorJson, formatError, SmpError } from '../scenario/errors.js';
import type { Scenario } from '../scenario/ast.js';
import { buildTrace, pickWitness, renderTraceText } from '../explore/trace.js';
import { cmdReplay } from './replay.js';
import { runWithVariant } from '../kernel/variant-module.js';
import type { Progress } from '../explore/types.js';
import { VERSION } from '../version.js';
import { EXIT, worst, type ExitName } from './exit.js';
import { addHostCommands } from './host.js';
import { formatTable, formatText, toJson, type SuiteRow } from './format.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  now: () => number;
}

const defaultIo = (): Io => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
  now: () => performance.now(),
});

interface CommonOpts {
  json?: boolean;
  engine?: Engine;
  variant?: string;
  time: boolean;
  reduction: boolean;
  stepsMax?: number;
  executionsMax?: number;
  memoryMax?: number;
  progress?: boolean;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > 100_000_000) {
      throw new SmpError('SMP200', `${name} takes a positive integer up to 100000000, not '${v}'`);
    }
    return n;
  };
}

function byteSize(name: string) {
  return (v: string): number => {
    const n = parseBytes(v);
    if (n === null || n < 64 * 1024 || n > 2 ** 50) {
      throw new SmpError('SMP200', `${name} takes a size from 64KiB, such as 512MiB, 2GiB or a number of bytes, not '${v}'`);
    }
    return n;
  };
}

function loadScenario(file: string): Scenario {
  const sc = parseScenario(readBounded(file, SOURCE_BYTES_MAX, 'scenario'), file);
  try {
    validateDirectives(sc);
  } catch (e) {
    if (e instanceof SmpError) throw e.withSource(sc.source);
    throw e;
  }
  return sc;
}

/** Writes a file the user named; a file-system error is theirs to fix (SMP004), not an internal error. */
function writeUserFile(file: string, text: string, what: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new SmpError('SMP004', `cannot write ${what} '${file}': ${fsReason(e)}`, undefined, file);
  }
}

/** `all` is the machine engine's machines, sc and x86 (arm64 and lkmm refuse kernel scenarios: name them one by one). */
function modelsFor(opt: string | undefined): (CheckModel | undefined)[] {
  if (opt === undefined) return [undefined];
  if (opt === 'all') return [...MODELS];
  return [opt as CheckModel];
}

/** The source an error's caret points into is the one the parser read (never the disk again). */
function reportError(io: Io, e: unknown, json: boolean | undefined, source?: string): ExitName {
  if (e instanceof SmpError) {
    io.err(`${formatError(e, source)}\n`);
    if (json) io.out(`${JSON.stringify(errorJson(e))}\n`);
    return 'input_error';
  }
  const err = e as Error;
  io.err(`smpcheck: internal error: ${err?.message ?? String(e)}\n${err?.stack ?? ''}\n`);
  return 'internal_error';
}

function progressReporter(io: Io, name: string, enabled: boolean | undefined): ((p: Progress) => void) | undefined {
  const on = enabled ?? io.isTTY;
  if (!on) return undefined;
  let last = io.now();
  return (p) => {
    const t = io.now();
    if (t - last < 1000) return;
    last = t;
    io.err(`\r${name}: ${p.executions} executions, ${p.graphs} graphs, ${p.steps} steps...`);
  };
}

function checkOpts(o: CommonOpts, model: CheckModel | undefined, onProgress?: (p: Progress) => void): CheckOptions {
  return {
    model,
    engine: o.engine,
    variant: o.variant,
    reduction: o.reduction,
    bounds: { stepsMax: o.stepsMax, executionsMax: o.executionsMax, memoryMax: o.memoryMax },
    onProgress,
  };
}

/** The command that reproduces a check, with the options that shaped it. */
function reproduce(file: string, model: string, o: CommonOpts): string {
  let cmd = `smpcheck check ${file} --model ${model}`;
  if (o.engine !== undefined) cmd += ` --engine ${o.engine}`;
  if (o.variant !== undefined && o.variant !== DEFAULT_KERNEL) cmd += ` --variant ${o.variant}`;
  if (!o.reduction) cmd += ' --no-reduction';
  if (o.stepsMax !== undefined) cmd += ` --steps-max ${o.stepsMax}`;
  if (o.executionsMax !== undefined) cmd += ` --executions-max ${o.executionsMax}`;
  if (o.memoryMax !== undefined) cmd += ` --memory-max ${formatBytes(o.memoryMax)}`;
  // The graph engine has no traces yet: its command reproduces the check alone.
  return o.engine === 'graph' || model === 'arm64' || model === 'lkmm' ? cmd : `${cmd} --show-trace`;
}

function verdictExit(r: CheckResult): ExitName {
  return r.verdict === 'ok' ? 'ok' : r.verdict;
}

export function cmdCheck(io: Io, files: string[], o: CommonOpts & { model?: string; trace?: string; showTrace?: boolean }): ExitName {
  const codes: ExitName[] = [];
  const models = modelsFor(o.model);
  if (o.trace && (files.length !== 1 || models.length !== 1)) {
    throw new SmpError('SMP200', '--trace writes one execution: give one file and one --model');
  }
  if ((o.trace || o.showTrace) && (o.engine === 'graph' || models.some((m) => m === 'arm64' || m === 'lkmm'))) {
    throw new SmpError('SMP200', '--trace and --show-trace replay a run of the machine engine: the graph engine (arm64, lkmm, --engine graph) has no traces yet');
  }
  let first = true;
  for (const file of files) {
    let sc: Scenario;
    try {
      sc = loadScenario(file);
    } catch (e) {
      codes.push(reportError(io, e, o.json));
      continue;
    }
    for (const model of models) {
      let r: CheckResult;
      try {
        const prog = progressReporter(io, sc.name, o.progress);
        r = checkScenario(sc, checkOpts(o, model, prog), io.now);
        if (prog) io.err('\r\x1b[K');
      } catch (e) {
        codes.push(reportError(io, e, o.json, sc.source));
        continue;
      }
      codes.push(verdictExit(r));
      if (o.json) io.out(`${JSON.stringify(toJson(r, { time: o.time }))}\n`);
      else {
        if (!first) io.out('\n');
        io.out(`${formatText(r, { time: o.time })}\n`);
      }
      first = false;
      const w = o.trace || o.showTrace ? pickWitness(r) : null;
      if (w) {
        const t = runWithVariant(r.variant, () => buildTrace(r, w.kind, w.choices));
        if (o.trace) writeUserFile(o.trace, `${JSON.stringify(t, null, 1)}\n`, 'the trace');
        if (o.showTrace && !o.json) {
          io.out(`\nTrace (${w.kind}${w.kind === 'deadlock' ? '' : ' for the condition\'s proposition'}), ${t.steps.length} steps on ${r.model}:\n${renderTraceText(t)}\n`);
          if (t.final) io.out(`Final: ${Object.entries(t.final).map(([k, v]) => `${k}=${v};`).join(' ')}\n`);
          if (t.assertion) io.out(`Kernel assertion failed: ${t.assertion}\n`);
          if (t.waits) io.out(`Blocked forever:\n${t.waits.map((x) => `  ${x}\n`).join('')}`);
        }
      } else if (o.trace) {
        io.err('smpcheck: no execution reached a final state; no trace written\n');
      }
      if (r.verdict !== 'ok') {
        io.err(`smpcheck: ${r.scenario.name} on ${r.model}: ${r.verdict}. Reproduce: ${reproduce(file, r.model, o)}\n`);
      }
    }
  }
  return worst(codes);
}

export function cmdSuite(io: Io, dirs: string[], o: CommonOpts & { model?: string }): ExitName {
  const files = collectLitmusFiles(dirs);
  const rows: SuiteRow[] = [];
  const codes: ExitName[] = [];
  if (files.length === 0) throw new SmpError('SMP004', `no .litmus files under ${dirs.join(', ')}`);
  for (const file of files) {
    const rel = relative(process.cwd(), file) || file;
    let sc: Scenario;
    try {
      sc = loadScenario(file);
    } catch (e) {
      codes.push(reportError(io, e, false));
      rows.push({ file: rel, test: rel, model: '-', expected: '-', observed: '-', executions: null, graphs: null, ms: null, status: 'input_error', message: e instanceof SmpError ? e.message : String(e) });
      continue;
    }
    if (sc.expectations.length === 0) {
      codes.push('input_error');
      rows.push({ file: rel, test: sc.name, model: '-', expected: '-', observed: '-', executions: null, graphs: null, ms: null, status: 'no_expectation', message: 'the header states no Result line' });
      continue;
    }
    for (const e of sc.expectations) {
      const key = parseExpectationKey(e.key, file);
      if (typeof key === 'string') {
        const err = new SmpError('SMP107', key, e.span, file);
        codes.push(reportError(io, err, false, sc.source));
        rows.push({ file: rel, test: sc.name, model: e.key, expected: e.result, observed: '-', executions: null, graphs: null, ms: null, status: 'input_error', message: err.message });
        continue;
      }
      if (key.machine !== null && o.model !== undefined && o.model !== key.machine) continue;
      const model = key.machine ?? (o.model as CheckModel | undefined);
      const variant = key.variant ?? DEFAULT_KERNEL;
      try {
        const prog = progressReporter(io, sc.name, o.progress);
        const r = checkScenario(sc, { ...checkOpts(o, model, prog), variant }, io.now);
        if (prog) io.err('\r\x1b[K');
        const observed = observedLabel(r);
        const status: SuiteRow['status'] = r.verdict === 'ok' ? (observed === e.result ? 'confirmed' : 'consistent') : r.verdict === 'violation' ? 'contradicted' : r.verdict;
        codes.push(verdictExit(r));
        rows.push({
          file: rel, test: sc.name, model: variant === DEFAULT_KERNEL ? r.model : `${r.model},${key.label}`, expected: e.result, observed,
          executions: r.result.executions, graphs: r.result.graphs, ms: o.time ? r.ms : null, status,
        });
        if (status !== 'confirmed' && status !== 'consistent') {
          io.err(`smpcheck: ${sc.name} on ${r.model}: ${status}. Reproduce: ${reproduce(rel, r.model, { ...o, variant: key.variant !== null && key.variant !== key.label ? relative(process.cwd(), key.variant) : variant })}\n`);
        }
      } catch (err) {
        codes.push(reportError(io, err, false, sc.source));
        rows.push({ file: rel, test: sc.name, model: model ?? '-', expected: e.result, observed: '-', executions: null, graphs: null, ms: null, status: 'input_error', message: String((err as Error).message) });
      }
    }
  }
  const count = (s: SuiteRow['status']): number => rows.filter((r) => r.status === s).length;
  const summary = {
    checks: rows.length,
    confirmed: count('confirmed'),
    consistent: count('consistent'),
    contradicted: count('contradicted'),
    incomplete: count('incomplete'),
    liveness: count('liveness'),
    errors: count('input_error') + count('no_expectation'),
  };
  if (o.json) {
    io.out(`${JSON.stringify({ suite: dirs, reduction: o.reduction, rows, summary })}\n`);
  } else {
    io.out(`${formatTable(rows, { time: o.time })}\n\n`);
    io.out(`suite: ${summary.checks} checks in ${files.length} files: ${summary.confirmed} confirmed, ${summary.consistent ? `${summary.consistent} consistent, ` : ''}${summary.contradicted} contradicted, ${summary.incomplete} incomplete, ${summary.liveness} liveness, ${summary.errors} errors\n`);
  }
  return worst(codes);
}

export function cmdVariants(io: Io, o: { json?: boolean; functions?: boolean }): ExitName {
  if (o.functions) {
    // Every modelled kernel function a variant module may replace, by kernel name.
    const names = kernelFunctionNames();
    io.out(o.json ? `${JSON.stringify(names)}\n` : `${names.join('\n')}\n`);
    return 'ok';
  }
  if (o.json) {
    io.out(`${JSON.stringify(variants().map((v) => ({ name: v.name, base: v.base, description: v.description, removed: [...v.removed] })))}\n`);
    return 'ok';
  }
  const w = Math.max(...variants().map((v) => v.name.length));
  for (const v of variants()) io.out(`${v.name.padEnd(w)}  ${v.description}\n`);
  return 'ok';
}

export function buildProgram(io: Io, setExit: (n: ExitName) => void): Command {
  const program = new Command('smpcheck');
  program
    .description('Exhaustive model checker for Linux-kernel litmus scenarios on SC, x86-TSO, arm64 and the Linux-kernel memory model.')
    .version(VERSION, '-V, --version')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride()
    .showHelpAfterError('(run smpcheck --help for usage)');

  const common = (c: Command): Command =>
    c
      .option('--json', 'print JSON (one object per line) instead of text')
      .option('--no-reduction', 'explore every interleaving (explicit-state search) instead of DPOR')
      .addOption(new Option('--engine <engine>', 'machine (interleavings; sc and x86) or graph (execution graphs and a consistency predicate; the only one for arm64 and lkmm)').choices([...ENGINES]))
      .option('--steps-max <n>', 'bound: steps in one execution', positiveInt('--steps-max'))
      .option('--executions-max <n>', 'bound: executions explored in one search', positiveInt('--executions-max'))
      .option('--memory-max <size>', `bound: memory one search keeps, as counted by the engine (default ${formatBytes(MEMORY_MAX_DEFAULT)})`, byteSize('--memory-max'))
      .option('--no-time', 'omit wall-clock times, so that output is byte-for-byte reproducible')
      .option('--progress', 'report progress on stderr (default: when stderr is a terminal)')
      .option('--no-progress', 'never report progress');

  common(
    program
      .command('check', { isDefault: true })
      .description('check litmus scenarios and print herd-style results (the default command)')
      .argument('<files...>', 'litmus files')
      .addOption(new Option('--model <machine>', 'machine to run on (default: the file\'s model directive, else x86)').choices([...CHECK_MODELS, 'all']))
      .option('--variant <name>', `kernel variant for scenarios that call into the kernel (default ${DEFAULT_KERNEL}; see smpcheck variants)`)
      .option('--trace <file>', 'write a witness execution (JSON trace) to FILE')
      .option('--show-trace', 'print the witness execution, one line per step and one column per CPU'),
  ).action((files: string[], opts) => setExit(cmdCheck(io, files, opts)));

  common(
    program
      .command('suite')
      .description('check every .litmus file under DIRs against the Result lines of its header and print a table')
      .argument('<dirs...>', 'directories or files')
      .addOption(new Option('--model <machine>', 'only check expectations for this machine').choices([...CHECK_MODELS])),
  ).action((dirs: string[], opts) => setExit(cmdSuite(io, dirs, opts)));

  program
    .command('variants')
    .description('list the kernel variants: the modelled version, its history, designs and mutants')
    .option('--json', 'print JSON')
    .option('--functions', 'list the modelled kernel functions a variant module may replace, by kernel name')
    .action((opts: { json?: boolean; functions?: boolean }) => setExit(cmdVariants(io, opts)));

  program
    .command('replay')
    .description('re-execute a trace written by --trace and compare every step and its end')
    .argument('<trace>', 'trace JSON file')
    .option('--scenario <file>', 'replay on this scenario file instead of the source stored in the trace')
    .option('--variant <file>', 'the variant module the trace was made with (checked against its recorded sha256)')
    .option('--json', 'print JSON')
    .action((traceFile: string, opts) => setExit(cmdReplay(io, traceFile, opts, loadScenario)));

  addHostCommands(program, io, setExit);

  program.addHelpText('after', `
Exit codes: 0 ok, 1 input error, 2 violation (the file's expectation is contradicted),
3 liveness (a CPU waits forever), 4 incomplete (a bound cut the search short), 70 internal error.

Examples:
  smpcheck scenarios/litmus/SB.litmus                 herd-style result on x86
  smpcheck --model all --show-trace scenarios/litmus/SB.litmus
  smpcheck check SB.litmus --trace sb.json && smpcheck replay sb.json
  smpcheck suite scenarios                             every header expectation, as a table
  smpcheck host conform --runs 300                     the model against the running kernel`);
  return program;
}

export function main(argv: string[], io: Io = defaultIo()): number {
  let exit: ExitName = 'ok';
  const program = buildProgram(io, (n) => {
    exit = n;
  });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; help shown because a command was incomplete
      // (`smpcheck host` without its subcommand) is a usage error, printed to stderr.
      return e.exitCode === 0 ? EXIT.ok : EXIT.input_error;
    }
    exit = reportError(io, e, argv.includes('--json'));
  }
  return EXIT[exit];
}
