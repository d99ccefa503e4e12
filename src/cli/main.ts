// The smpcheck command line. Exit codes: 0 ok, 1 input error, 2 violation,
// 3 liveness, 4 incomplete, 70 internal error (docs/cli.md).

import { statSync, writeFileSync } from 'node:fs';
import { fsReason, readBounded } from '../scenario/bounded-read.js';
import { SOURCE_BYTES_MAX } from '../scenario/lexer.js';
import { formatBytes, MEMORY_MAX_DEFAULT, parseBytes } from '../explore/memory.js';
import { relative } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { Command, CommanderError, Option } from 'commander';
import { CHECK_MODELS, checkScenario, ENGINES, observedLabel, parseExpectationKey, partsFor, withVariant, type CheckModel, type CheckOptions, type CheckResult, type Engine, type ExpectationKey } from '../check.js';
import { DEFAULT_KERNEL, variants } from '../kernel/variants.js';
import { kernelModel, loadParts, type Parts } from '../parts.js';
import { MODELS } from '../machine/machine.js';
import { parseScenario } from '../scenario/parser.js';
import { directiveSettings, validateDirectives } from '../scenario/directives.js';
import { needsKernelModel } from '../graph/support.js';
import { collectLitmusFiles } from '../scenario/files.js';
import { errorJson, formatError, SmpError, unknownMacroLine } from '../scenario/errors.js';
import type { Scenario } from '../scenario/ast.js';
import { TRACE_WITNESSES_MAX } from '../explore/trace-schema.js';
import type { Progress } from '../explore/types.js';
import { VERSION } from '../version.js';
import { EXIT, worst, type ExitName } from './exit.js';
import { formatText, toJson, type SuiteRow } from './format.js';
import { PROGRESS_EVERY, ProgressReporter, progressMode } from './progress.js';
import { SuiteTable } from './suite-table.js';
import type { Part } from './shard.js';
import { defaultWorkers, WORKERS_MAX } from '../explore/parallel.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Standard error is a terminal (live progress). */
  isTTY: boolean;
  /** The only clock: wall-clock times and progress read it; the engine never does. */
  now: () => number;
  /** Columns of the terminals standard error and standard output write to, when they are terminals. */
  errColumns?: number;
  outColumns?: number;
}

const defaultIo = (): Io => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
  now: () => performance.now(),
  errColumns: process.stderr.isTTY ? process.stderr.columns : undefined,
  outColumns: process.stdout.isTTY ? process.stdout.columns : undefined,
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
  quiet?: boolean;
  /** Worker threads for one check (--workers; default: the machine's cores). */
  workers?: number;
  /** Seeded random runs instead of a search (check --random RUNS --seed S). */
  random?: number;
  seed?: number;
}

function seedInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new SmpError('SMP200', `--seed takes an integer from 0 to 4294967295, not '${v}'`);
  return n;
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

/** `FLAG N` or `auto` (the machine's cores), N from 1 to WORKERS_MAX: `--workers`, `--jobs`. */
function countOrAuto(flag: string, what: string) {
  return (v: string): number => {
    if (v === 'auto') return defaultWorkers();
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > WORKERS_MAX) throw new SmpError('SMP200', `${flag} takes auto or a number of ${what} from 1 to ${WORKERS_MAX}, not '${v}'`);
    return n;
  };
}

function witnessCount(v: string): number {
  const n = positiveInt('--witnesses')(v);
  if (n > TRACE_WITNESSES_MAX) throw new SmpError('SMP200', `--witnesses takes a positive integer up to ${TRACE_WITNESSES_MAX}, not '${v}'`);
  return n;
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

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false; // reading it reports what is wrong
  }
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
    const herd = unknownMacroLine(e, source);
    if (herd) io.err(`${herd}\n`);
    if (json) io.out(`${JSON.stringify(errorJson(e))}\n`);
    return 'input_error';
  }
  const err = e as Error;
  io.err(`smpcheck: internal error: ${err?.message ?? String(e)}\n${err?.stack ?? ''}\n`);
  return 'internal_error';
}

function checkOpts(o: CommonOpts, model: CheckModel | undefined, onProgress?: (p: Progress) => void): CheckOptions {
  return {
    model,
    engine: o.engine,
    variant: o.variant,
    reduction: o.reduction,
    bounds: { stepsMax: o.stepsMax, executionsMax: o.executionsMax, memoryMax: o.memoryMax },
    onProgress,
    ...(onProgress ? { progressEvery: PROGRESS_EVERY } : {}),
    workers: o.workers ?? defaultWorkers(),
    ...(o.random !== undefined ? { random: { runs: o.random, seed: o.seed ?? 1 } } : {}),
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
  if (o.random !== undefined) cmd += ` --random ${o.random} --seed ${o.seed ?? 1}`;
  // The graph engine has no traces yet: its command reproduces the check alone.
  return model === 'lkmm' || (o.engine === 'graph' && model !== 'arm64') ? cmd : `${cmd} --show-trace`;
}

function verdictExit(r: CheckResult): ExitName {
  return r.verdict === 'ok' ? 'ok' : r.verdict;
}

interface ArtifactOpts {
  trace?: string;
  showTrace?: boolean;
  graph?: string;
  graphScope?: 'scenario' | 'all';
  itf?: string;
  witnesses?: number;
  width?: number;
}

/** How a header line's check searches, as its label ends: `,random=RUNS`, `,states=N`, or nothing. */
function keySearch(key: ExpectationKey): string {
  return `${key.random !== null ? `,random=${key.random}` : ''}${key.states !== null ? `,states=${key.states}` : ''}`;
}

export async function cmdCheck(io: Io, files: string[], o: CommonOpts & { model?: string; shard?: string; out?: string } & ArtifactOpts): Promise<ExitName> {
  if (o.shard !== undefined || o.out !== undefined) return cmdShard(io, files, o);
  const codes: ExitName[] = [];
  const models = modelsFor(o.model);
  const written = o.trace ? '--trace' : o.graph ? '--graph' : o.itf ? '--itf' : null;
  if (written && (files.length !== 1 || models.length !== 1)) {
    throw new SmpError('SMP200', `${written} writes one execution: give one file and one --model`);
  }
  if (o.graph) (await import('./artifacts.js')).graphFormat(o.graph);
  if (o.seed !== undefined && o.random === undefined) throw new SmpError('SMP200', '--seed seeds --random RUNS: give both');
  if (o.random !== undefined && !o.reduction) {
    throw new SmpError('SMP200', '--random samples runs of the machine engine\'s reduced search or of the kernel model\'s graph search: not with --no-reduction');
  }
  if ((o.trace || o.graph || o.itf) && (o.engine === 'graph' || models.some((m) => m === 'arm64' || m === 'lkmm'))) {
    throw new SmpError('SMP200', '--trace, --graph and --itf replay a run of the machine engine: the graph engine (arm64, lkmm, --engine graph) shows its witnesses with --show-trace only, for kernel scenarios');
  }
  let first = true;
  const progress = new ProgressReporter(io, progressMode(io, o));
  for (const file of files) {
    let sc: Scenario;
    try {
      if (isDirectory(file)) {
        throw new SmpError('SMP004', `cannot read scenario '${file}': it is a directory (smpcheck suite ${file} checks every .litmus file under it)`, undefined, file);
      }
      sc = loadScenario(file);
    } catch (e) {
      codes.push(reportError(io, e, o.json));
      continue;
    }
    for (const model of models) {
      let r: CheckResult;
      try {
        // The graph engine keeps witnesses for scenarios of the kernel model only.
        const m = model ?? directiveSettings(sc).model ?? 'x86';
        if (o.showTrace && (o.engine === 'graph' || m === 'arm64' || m === 'lkmm') && !needsKernelModel(sc, m)) {
          throw new SmpError('SMP200', '--show-trace on the graph engine (arm64, lkmm, --engine graph) shows witnesses of scenarios of the kernel model only: user-level programs have no traces there yet');
        }
        await loadParts(partsFor(sc, { ...o, model }));
        const onProgress = progress.startCheck(model ? `${sc.name} on ${model}` : sc.name);
        try {
          r = checkScenario(sc, { ...checkOpts(o, model, onProgress), witnessesMax: o.witnesses }, io.now);
        } finally {
          progress.endCheck();
        }
      } catch (e) {
        codes.push(reportError(io, e, o.json, sc.source));
        continue;
      }
      codes.push(await reportCheck(io, r, file, o, first));
      first = false;
    }
  }
  return worst(codes);
}

/** `check FILE --shard K/N --out PART.json`: searches one part of the check and writes it (src/cli/shard.ts). */
async function cmdShard(io: Io, files: string[], o: CommonOpts & { model?: string; shard?: string; out?: string } & ArtifactOpts): Promise<ExitName> {
  if (o.shard === undefined || o.out === undefined) throw new SmpError('SMP200', '--shard K/N and --out PART.json go together: the part is written to the file');
  // Shards and their merge, loaded for these commands only.
  const { parseShard, searchShard } = await import('./shard.js');
  const shard = parseShard(o.shard);
  if (files.length !== 1 || o.model === 'all') throw new SmpError('SMP200', '--shard searches one part of one check: give one file and at most one --model');
  if (o.trace || o.graph || o.itf || o.showTrace) throw new SmpError('SMP200', '--shard writes a part, not a result: --trace, --graph, --itf and --show-trace go with `smpcheck merge`');
  if (o.random !== undefined) throw new SmpError('SMP200', '--shard splits an exhaustive search: --random samples runs instead');
  const file = files[0]!;
  if (isDirectory(file)) throw new SmpError('SMP004', `cannot read scenario '${file}': it is a directory`, undefined, file);
  const sc = loadScenario(file);
  const model = o.model as CheckModel | undefined;
  let part: Part;
  try {
    await loadParts(partsFor(sc, { ...o, model }));
    part = searchShard(sc, { ...checkOpts(o, model), witnessesMax: o.witnesses }, shard, o.workers ?? defaultWorkers());
  } catch (e) {
    if (e instanceof SmpError) throw e.withSource(sc.source);
    throw e;
  }
  writeUserFile(o.out, `${JSON.stringify(part)}\n`, 'the part');
  const sum = (f: (t: Part['tasks'][number]) => number): number => part.tasks.reduce((a, t) => a + f(t), 0);
  const summary = { part: shard, scenario: sc.name, model: part.check.model, variant: part.check.variant, tasks: part.tasks.length, root_children: part.plan.children, executions: sum((t) => t.executions), steps: sum((t) => t.steps), out: o.out };
  if (o.json) io.out(`${JSON.stringify(summary)}\n`);
  else io.out(`Part ${shard.k}/${shard.n} of ${sc.name} on ${part.check.model}: ${summary.tasks} task${summary.tasks === 1 ? '' : 's'} (the root froze into ${summary.root_children}), ${summary.executions} executions, ${summary.steps} steps; written to ${o.out}\n`);
  return 'ok';
}

/** `smpcheck merge PART.json...`: the parts' check, printed as `check` prints it. */
export async function cmdMerge(io: Io, files: string[], o: CommonOpts & ArtifactOpts & { scenario?: string }): Promise<ExitName> {
  const { mergeParts, readPart, validateParts } = await import('./shard.js');
  const parts = validateParts(files.map((file) => ({ file, part: readPart(file) })));
  const scFile = o.scenario ?? parts[0]!.scenario.file;
  const sc = loadScenario(scFile);
  let r: CheckResult;
  try {
    const c = parts[0]!.check;
    await loadParts(partsFor(sc, { model: c.model, variant: c.variant }));
    r = mergeParts(sc, parts, io.now).result;
  } catch (e) {
    if (e instanceof SmpError) throw e.withSource(sc.source);
    throw e;
  }
  const c = parts[0]!.check;
  const b = c.bounds;
  // The command that reproduces the merged check in one process.
  const as: CommonOpts = { ...o, variant: c.variant, stepsMax: b.stepsMax, executionsMax: b.executionsMax, memoryMax: b.memoryMax };
  return reportCheck(io, r, scFile, { ...as, witnesses: o.witnesses ?? c.witnesses }, true);
}

/** Prints a check's result (and what --trace, --graph, --itf and --show-trace ask for) as `check` does; `first`: no blank line before it. */
export async function reportCheck(io: Io, r: CheckResult, file: string, o: CommonOpts & ArtifactOpts, first: boolean): Promise<ExitName> {
  const written = o.trace ? '--trace' : o.graph ? '--graph' : o.itf ? '--itf' : null;
  // The modules that build and write traces, loaded when a trace is asked for.
  const traces = r.engine !== 'graph' && (o.trace || o.showTrace || o.graph || o.itf) ? await import('../explore/trace.js') : null;
  const artifacts = o.graph || o.itf ? await import('./artifacts.js') : null;
  const ws = traces ? traces.pickWitnesses(r, o.witnesses ?? 1) : [];
  // The graph engine's kernel model keeps a witness execution graph per kind, as text.
  const gt = r.engine === 'graph' && o.showTrace ? graphWitness(r) : null;
  const w = ws[0];
  const t = w && traces ? withVariant(r.variant, () => traces.buildTrace(r, w.kind, w.choices, ws.slice(1))) : null;
  // With --json, --show-trace embeds the witness's trace (docs/json.md), or null when there is none.
  if (o.json) io.out(`${JSON.stringify({ ...toJson(r, { time: o.time }), ...(o.showTrace ? { trace: t, ...(r.engine === 'graph' ? { graph_trace: gt?.text ?? null } : {}) } : {}) })}\n`);
  else {
    if (!first) io.out('\n');
    io.out(`${formatText(r, { time: o.time })}\n`);
    if (o.showTrace && r.engine === 'graph') {
      io.out(gt ? `\nWitness (${gt.kind}):\n${gt.text}\n` : '\nNo witness: the graph engine keeps witnesses for kernel scenarios only.\n');
    }
  }
  if (w && t && traces) {
    if (o.trace) writeUserFile(o.trace, `${JSON.stringify(t, null, 1)}\n`, 'the trace');
    if (o.graph) {
      const dot = artifacts!.traceDot(t, o.graphScope ?? 'scenario');
      writeUserFile(o.graph, artifacts!.graphFormat(o.graph) === 'svg' ? artifacts!.renderSvg(dot) : dot, 'the graph');
    }
    if (o.itf) writeUserFile(o.itf, artifacts!.traceItf(t), 'the ITF trace');
    if (o.showTrace && !o.json) {
      io.out(`\nTrace (${w.kind}${w.kind === 'deadlock' ? '' : ' for the condition\'s proposition'}), ${t.steps.length} steps on ${r.model}:\n${traces.renderTraceText(t, { width: o.width ?? io.outColumns })}\n`);
      if (t.final) io.out(`Final: ${Object.entries(t.final).map(([k, v]) => `${k}=${v};`).join(' ')}\n`);
      if (t.assertion) io.out(`Kernel assertion failed: ${t.assertion}\n`);
      if (t.waits) io.out(`Blocked forever:\n${t.waits.map((x) => `  ${x}\n`).join('')}`);
    }
  } else if (written) {
    io.err(`smpcheck: no execution reached a final state; nothing written for ${written}\n`);
  }
  if (r.verdict !== 'ok') {
    io.err(`smpcheck: ${r.scenario.name} on ${r.model}: ${r.verdict}. Reproduce: ${reproduce(file, r.model, o)}\n`);
  }
  return verdictExit(r);
}

/** The witness execution graph of a graph-engine check: the kind the verdict is about first. */
function graphWitness(r: CheckResult): { kind: string; text: string } | null {
  const t = r.result.graphTraces;
  if (!t) return null;
  const order = r.result.assertions.length > 0 ? ['assertion', 'positive', 'negative', 'deadlock']
    : r.result.deadlocks > 0 ? ['deadlock', 'positive', 'negative'] : ['positive', 'negative', 'deadlock'];
  for (const kind of order) {
    const text = t[kind as keyof typeof t];
    if (text) return { kind: kind === 'positive' ? 'positive, for the condition\'s proposition' : kind, text };
  }
  return null;
}

/** One line of the suite's plan: a check to run, or a row already decided (a file that does not load, a bad key). */
type SuitePlan =
  | { k: 'check'; file: string; rel: string; sc: Scenario; expected: string; datarace: boolean; key: ExpectationKey; model: CheckModel | undefined; variant: string; label: string }
  | { k: 'row'; row: SuiteRow; error?: unknown; source?: string };

function suitePlan(files: string[], o: { model?: string }): SuitePlan[] {
  const plan: SuitePlan[] = [];
  for (const file of files) {
    const rel = relative(process.cwd(), file) || file;
    let sc: Scenario;
    try {
      sc = loadScenario(file);
    } catch (e) {
      plan.push({ k: 'row', error: e, row: { file: rel, test: rel, model: '-', expected: '-', observed: '-', executions: null, graphs: null, ms: null, status: 'input_error', message: e instanceof SmpError ? e.message : String(e) } });
      continue;
    }
    if (sc.expectations.length === 0) {
      plan.push({ k: 'row', row: { file: rel, test: sc.name, model: '-', expected: '-', observed: '-', executions: null, graphs: null, ms: null, status: 'no_expectation', message: 'the header states no Result line' } });
      continue;
    }
    for (const e of sc.expectations) {
      const key = parseExpectationKey(e.key, file);
      if (typeof key === 'string') {
        const err = new SmpError('SMP107', key, e.span, file);
        plan.push({ k: 'row', error: err, source: sc.source, row: { file: rel, test: sc.name, model: e.key, expected: e.result, observed: '-', executions: null, graphs: null, ms: null, status: 'input_error', message: err.message } });
        continue;
      }
      if (key.machine !== null && o.model !== undefined && o.model !== key.machine) continue;
      const model = key.machine ?? (o.model as CheckModel | undefined);
      const variant = key.variant ?? DEFAULT_KERNEL;
      const machine = model ?? directiveSettings(sc).model ?? 'x86';
      plan.push({
        k: 'check', file, rel, sc, expected: e.result, datarace: e.datarace ?? false, key, model, variant,
        label: `${variant === DEFAULT_KERNEL ? machine : `${machine},${key.label}`}${keySearch(key)}`,
      });
    }
  }
  return plan;
}

/** The parts (src/parts.ts) the suite's checks need, together; a check whose needs cannot be told reports its error when it runs. */
function suiteParts(plan: SuitePlan[], o: CommonOpts): Parts {
  const need: Parts = {};
  for (const p of plan) {
    if (p.k !== 'check') continue;
    try {
      const n = partsFor(p.sc, { model: p.model, engine: o.engine, variant: p.variant });
      need.kernel ||= n.kernel;
      need.graph ||= n.graph;
    } catch {
      // the check reports it
    }
  }
  return need;
}

/** One check of a suite run to its row: what cmdSuite prints for it, whichever thread ran it. */
export interface SuiteOutcome {
  row: SuiteRow;
  /** The check's JSON object (suite --json), or null when it did not run. */
  check: unknown;
  code: ExitName;
  /** What the check wrote to standard error (its error report, or the command that reproduces it). */
  err: string;
}

type SuiteCheck = Extract<SuitePlan, { k: 'check' }>;

function runSuiteCheck(p: SuiteCheck, o: CommonOpts, now: () => number, onProgress?: (pr: Progress) => void): SuiteOutcome {
  const { rel, sc, key, model, variant } = p;
  let err = '';
  const errIo: Io = { out: () => {}, err: (t) => { err += t; }, isTTY: false, now };
  let r: CheckResult;
  try {
    r = checkScenario(sc, { ...checkOpts(o, model, onProgress), variant }, now);
  } catch (e) {
    const code = reportError(errIo, e, false, sc.source);
    return { row: { file: rel, test: sc.name, model: model ?? '-', expected: p.expected, observed: '-', executions: null, graphs: null, ms: null, status: 'input_error', message: String((e as Error).message) }, check: null, code, err };
  }
  const observed = observedLabel(r);
  const status: SuiteRow['status'] = r.verdict === 'ok' ? (observed === p.expected ? 'confirmed' : 'consistent') : r.verdict === 'violation' ? 'contradicted' : r.verdict;
  if (status !== 'confirmed' && status !== 'consistent') {
    err += `smpcheck: ${sc.name} on ${r.model}: ${status}. Reproduce: ${reproduce(rel, r.model, { ...o, variant: key.variant !== null && key.variant !== key.label ? relative(process.cwd(), key.variant) : variant })}\n`;
  }
  return {
    row: {
      file: rel, test: sc.name, model: `${variant === DEFAULT_KERNEL ? r.model : `${r.model},${key.label}`}${keySearch(key)}`, expected: p.expected, observed,
      executions: r.result.executions, graphs: r.result.graphs, ms: o.time ? r.ms : null, status,
    },
    check: o.json ? toJson(r, { time: o.time }) : null,
    code: verdictExit(r),
    err,
  };
}

/**
 * A task of `suite --jobs N` run in a worker thread (src/cli/suite-worker.ts): the
 * check-th check of the plan of one file, planned again there (plans hold code).
 */
export function runSuiteTask(task: { file: string; check: number; opts: CommonOpts & { model?: string } }, now: () => number): SuiteOutcome {
  const checks = suitePlan([task.file], task.opts).filter((p): p is SuiteCheck => p.k === 'check');
  return runSuiteCheck(checks[task.check]!, task.opts, now);
}

export async function cmdSuite(io: Io, dirs: string[], o: CommonOpts & { model?: string; quiet?: boolean; jobs?: number }): Promise<ExitName> {
  const files = collectLitmusFiles(dirs);
  if (files.length === 0) throw new SmpError('SMP004', `no .litmus files under ${dirs.join(', ')}`);
  const plan = suitePlan(files, o);
  await loadParts(suiteParts(plan, o));
  const rows: SuiteRow[] = [];
  const codes: ExitName[] = [];
  const progress = new ProgressReporter(io, progressMode(io, o));
  const table = new SuiteTable(plan.map((p) => (p.k === 'check' ? { test: p.sc.name, model: p.label, expected: p.expected } : p.row)), { time: o.time });
  const total = plan.filter((p) => p.k === 'check').length;
  // Each row is printed as its check finishes: a text row of the table, or (--json) one object per line.
  const emit = (row: SuiteRow, check: unknown): void => {
    rows.push(row);
    progress.above(() => {
      if (o.json) io.out(`${JSON.stringify({ ...row, check })}\n`);
      else io.out(`${table.row(row)}\n`);
    });
  };
  /** A row of the plan that needed no check (a file that does not parse, say), or a check's outcome. */
  const print = (p: SuitePlan, out?: SuiteOutcome): void => {
    if (p.k === 'row') {
      codes.push(p.row.status === 'no_expectation' ? 'input_error' : reportError(io, p.error, false, p.source));
      emit(p.row, null);
      return;
    }
    if (out!.err) {
      progress.clear();
      io.err(out!.err);
    }
    codes.push(out!.code);
    emit(out!.row, out!.check);
  };
  if (!o.json) io.out(`${table.header()}\n`);
  progress.startSuite(total);
  const jobs = Math.min(o.jobs ?? 1, total);
  if (jobs > 1) {
    // Checks run in worker threads; rows are printed in the plan's order, each as soon
    // as it and every row before it are done, so the output is that of one thread. The
    // progress line counts each check as it finishes, in whatever order.
    const outcomes: (SuiteOutcome | undefined)[] = new Array(plan.length);
    let printed = 0;
    const flush = (): void => {
      for (; printed < plan.length; printed++) {
        const p = plan[printed]!;
        if (p.k === 'check' && outcomes[printed] === undefined) return;
        print(p, outcomes[printed]);
      }
    };
    flush();
    runSuiteParallel(plan, o, jobs, (at, out) => {
      outcomes[at] = out;
      progress.checkDone();
      flush();
    });
  } else {
    for (const p of plan) {
      if (p.k === 'row') {
        print(p);
        continue;
      }
      let out: SuiteOutcome;
      const onProgress = progress.startCheck(`${p.sc.name} on ${p.label}`);
      try {
        out = runSuiteCheck(p, o, io.now, onProgress);
      } finally {
        progress.endCheck();
      }
      print(p, out);
    }
  }
  progress.clear();
  const count = (st: SuiteRow['status']): number => rows.filter((r) => r.status === st).length;
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
    io.out(`${JSON.stringify({ suite: dirs, reduction: o.reduction, files: files.length, summary })}\n`);
  } else {
    io.out(`\nsuite: ${summary.checks} checks in ${files.length} files: ${summary.confirmed} confirmed, ${summary.consistent ? `${summary.consistent} consistent, ` : ''}${summary.contradicted} contradicted, ${summary.incomplete} incomplete, ${summary.liveness} liveness, ${summary.errors} errors\n`);
  }
  return worst(codes);
}

/**
 * Runs the plan's checks on `jobs` worker threads and hands each outcome to `onOutcome`
 * with its plan index as it comes. The command stays synchronous: it sleeps on a shared counter that a
 * worker bumps after each result and takes the results off the workers' ports
 * without the event loop (receiveMessageOnPort()). A task goes to whichever worker
 * is free; what each check computes does not depend on which one runs it.
 */
/** Seconds a suite worker thread has to load before the suite gives up on it. */
const SUITE_WORKER_START_S = 60;

function runSuiteParallel(plan: SuitePlan[], o: CommonOpts & { model?: string }, jobs: number, onOutcome: (at: number, out: SuiteOutcome) => void): void {
  // Tasks by plan index: (file, index of the check among that file's checks).
  const tasks: { at: number; file: string; check: number }[] = [];
  const seen = new Map<string, number>();
  plan.forEach((p, at) => {
    if (p.k !== 'check') return;
    const n = seen.get(p.file) ?? 0;
    seen.set(p.file, n + 1);
    tasks.push({ at, file: p.file, check: n });
  });
  const signal = new Int32Array(new SharedArrayBuffer(4));
  // Each check in one thread: the checks themselves are what runs in parallel.
  const opts = { json: o.json, time: o.time, reduction: o.reduction, engine: o.engine, stepsMax: o.stepsMax, executionsMax: o.executionsMax, memoryMax: o.memoryMax, model: o.model, workers: 1 };
  const workers: { w: Worker; port: MessagePort; task: number; ready: boolean }[] = [];
  let next = 0;
  let done = 0;
  const give = (slot: { w: Worker; port: MessagePort; task: number; ready: boolean }): void => {
    if (next >= tasks.length) return;
    slot.task = next;
    const t = tasks[next++]!;
    slot.port.postMessage({ file: t.file, check: t.check, opts });
  };
  try {
    for (let i = 0; i < jobs; i++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(new URL('./suite-worker.js', import.meta.url), { workerData: { port: port2, signal }, transferList: [port2] });
      // Its failures reach the command as messages (or as no start): the event is not needed.
      w.on('error', () => {});
      const slot = { w, port: port1, task: -1, ready: false };
      workers.push(slot);
      give(slot);
    }
    // A worker says it has started (a worker that fails to load posts nothing, and its
    // error event cannot reach a thread that sleeps): give up after a minute without.
    let seenCount = 0;
    let waited = 0;
    while (done < tasks.length) {
      if (Atomics.wait(signal, 0, seenCount, 1000) === 'timed-out' && workers.some((x) => !x.ready) && ++waited >= SUITE_WORKER_START_S) {
        throw new Error(`a suite worker did not start within ${SUITE_WORKER_START_S} s`);
      }
      seenCount = Atomics.load(signal, 0);
      for (const slot of workers) {
        for (let m = receiveMessageOnPort(slot.port); m; m = receiveMessageOnPort(slot.port)) {
          const msg = m.message as { ready?: true; outcome?: SuiteOutcome; crash?: string };
          if (msg.ready) {
            slot.ready = true;
            continue;
          }
          if (msg.crash !== undefined) throw new Error(`a suite worker failed: ${msg.crash}`);
          done++;
          const at = tasks[slot.task]!.at;
          give(slot);
          onOutcome(at, msg.outcome!);
        }
      }
    }
  } finally {
    for (const slot of workers) void slot.w.terminate();
  }
}

export async function cmdVariants(io: Io, o: { json?: boolean; functions?: boolean }): Promise<ExitName> {
  if (o.functions) {
    // Every modelled kernel function a variant module may replace, by kernel name: the
    // whole kernel model is loaded, since each module registers the functions it defines.
    await loadParts({ kernel: true });
    const names = kernelModel().api.kernelFunctionNames();
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

/**
 * The commands defined in modules of their own (`host`, `view`, `sim`), each with what it
 * runs: a command line loads one only when it can reach it (commandsReached()), so a
 * check never loads them. Each loader returns the function that adds the command.
 */
type AddCommand = (program: Command, io: Io, setExit: (n: ExitName) => void) => void;
const COMMAND_MODULES = {
  host: async (): Promise<AddCommand> => {
    // `host calibrate` runs the timing simulator on scenarios that call into the kernel.
    await loadParts({ kernel: true });
    return (await import('./host.js')).addHostCommands;
  },
  view: async (): Promise<AddCommand> => (await import('./view.js')).addViewCommand,
  sim: async (): Promise<AddCommand> => {
    await loadParts({ kernel: true });
    return (await import('./sim.js')).addSimCommand;
  },
} satisfies Record<string, () => Promise<AddCommand>>;
type ModuleCommand = keyof typeof COMMAND_MODULES;

/**
 * The commands of COMMAND_MODULES a command line can reach. Commander runs a subcommand
 * only when it is the first argument that is not an option (after --help or --version,
 * if any), so a command that is not there is never run; help (--help, -h, `help`, or no
 * argument at all) lists every command, so it loads them all.
 */
export function commandsReached(argv: readonly string[]): ModuleCommand[] {
  const all = Object.keys(COMMAND_MODULES) as ModuleCommand[];
  const first = argv.find((a) => !a.startsWith('-'));
  if (argv.length === 0 || first === 'help' || argv.some((a) => a === '--help' || a === '-h')) return all;
  return all.filter((c) => c === first);
}

/**
 * The command line's parser and its commands. A command's action loads the modules it
 * needs when it runs (dynamic import(), loadParts()): start-up loads only the parser,
 * the commands' options, and the modules of the commands `argv` can reach.
 */
export async function buildProgram(io: Io, setExit: (n: ExitName) => void, argv: readonly string[] = []): Promise<Command> {
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
      .option('--progress', 'report progress on stderr: a live line on a terminal, else a plain line every few seconds (default: when stderr is a terminal)')
      .option('--no-progress', 'never report progress')
      .option('-q, --quiet', 'no progress on stderr (as --no-progress)')
      .option('-w, --workers <n>', 'worker threads for one check\'s search (machine engine, with reduction; default and auto: the machine\'s cores, started only once a search passes 250,000 steps); the result is the same for any number', countOrAuto('--workers', 'threads'));

  common(
    program
      .command('check', { isDefault: true })
      .description('check litmus scenarios and print herd-style results (the default command)')
      .argument('<files...>', 'litmus files')
      .addOption(new Option('--model <machine>', 'machine to run on (default: the file\'s model directive, else x86)').choices([...CHECK_MODELS, 'all']))
      .option('--variant <name>', `kernel variant for scenarios that call into the kernel (default ${DEFAULT_KERNEL}; see smpcheck variants)`)
      .option('--trace <file>', 'write a witness execution (JSON trace) to FILE')
      .option('--show-trace', 'print the witness execution, one line per step and one column per CPU (with --json: embedded as "trace")')
      .option('--width <n>', 'columns the trace may take (default: the terminal\'s width, else as wide as its steps)', positiveInt('--width'))
      .option('--witnesses <n>', `keep up to N witnesses, each a distinct execution graph, in the trace (at most ${TRACE_WITNESSES_MAX}; default 1)`, witnessCount)
      .option('--graph <file>', 'write the witness\'s execution graph (events, po, rf, co, fr, fences) to FILE.dot, or FILE.svg drawn by Graphviz (WebAssembly)')
      .addOption(new Option('--graph-scope <scope>', 'the events --graph draws: the scenario\'s locations and code, or every kernel access too').choices(['scenario', 'all']).default('scenario'))
      .option('--itf <file>', 'write the witness execution in the ITF format of Apalache and Quint')
      .option('--random <runs>', 'sample RUNS seeded random runs instead of searching (the machine engine; the kernel model on arm64 and lkmm): for bugs beyond the exhaustive bounds; proves only what it finds, so the result is never complete', positiveInt('--random'))
      .option('--seed <n>', 'the seed of --random (default 1); the same seed gives the same runs', seedInt)
      .option('--shard <K/N>', 'search part K of N of the check (machine engine) and write it with --out; `smpcheck merge` combines the N parts')
      .option('--out <file>', 'where --shard writes its part (JSON)'),
  ).action(async (files: string[], opts) => setExit(await cmdCheck(io, files, opts)));

  program
    .command('merge')
    .description('combine the parts of a sharded check (check FILE --shard K/N --out PART) and print the check\'s result')
    .argument('<parts...>', 'part files, one per shard, in any order')
    .option('--scenario <file>', 'the scenario file (default: the path the parts recorded); its sha256 must be the parts\'')
    .option('--json', 'print JSON instead of text')
    .option('--no-time', 'omit wall-clock times, so that output is byte-for-byte reproducible')
    .option('--trace <file>', 'write a witness execution (JSON trace) to FILE')
    .option('--show-trace', 'print the witness execution, one line per step and one column per CPU')
    .option('--width <n>', 'columns the trace may take', positiveInt('--width'))
    .option('--graph <file>', 'write the witness\'s execution graph to FILE.dot or FILE.svg')
    .option('--itf <file>', 'write the witness execution in the ITF format')
    .action(async (parts: string[], opts) => setExit(await cmdMerge(io, parts, { ...opts, reduction: true })));

  common(
    program
      .command('suite')
      .description('check every .litmus file under DIRs against the Result lines of its header and print a table')
      .argument('<dirs...>', 'directories or files')
      .addOption(new Option('--model <machine>', 'only check expectations for this machine').choices([...CHECK_MODELS]))
      .option('-j, --jobs <n>', 'run this many checks at once, each in a worker thread (default 1; auto: the machine\'s cores); the output is the same', countOrAuto('--jobs', 'checks at once')),
  ).action(async (dirs: string[], opts) => setExit(await cmdSuite(io, dirs, opts)));

  program
    .command('variants')
    .description('list the kernel variants: the modelled version, its history, designs and mutants')
    .option('--json', 'print JSON')
    .option('--functions', 'list the modelled kernel functions a variant module may replace, by kernel name')
    .action(async (opts: { json?: boolean; functions?: boolean }) => setExit(await cmdVariants(io, opts)));

  program
    .command('replay')
    .description('re-execute a trace written by --trace and compare every step and its end')
    .argument('<trace>', 'trace JSON file')
    .option('--scenario <file>', 'replay on this scenario file instead of the source stored in the trace')
    .option('--variant <file>', 'the variant module the trace was made with (checked against its recorded sha256)')
    .option('--width <n>', 'columns the trace may take (default: the terminal\'s width, else as wide as its steps)', positiveInt('--width'))
    .option('--json', 'print JSON')
    .action(async (traceFile: string, opts) => {
      // A trace may be of a scenario that calls into the kernel, or of a variant module.
      await loadParts({ kernel: true });
      const { cmdReplay } = await import('./replay.js');
      setExit(cmdReplay(io, traceFile, opts, loadScenario));
    });

  const reached = commandsReached(argv);
  for (const name of Object.keys(COMMAND_MODULES) as ModuleCommand[]) {
    if (reached.includes(name)) (await COMMAND_MODULES[name]())(program, io, setExit);
  }

  program.addHelpText('after', `
Exit codes: 0 ok, 1 input error, 2 violation (the file's expectation is contradicted),
3 liveness (a CPU waits forever), 4 incomplete (a bound cut the search short), 70 internal error.

Examples:
  smpcheck scenarios/litmus/SB.litmus                 herd-style result on x86
  smpcheck --model all --show-trace scenarios/litmus/SB.litmus
  smpcheck check SB.litmus --trace sb.json && smpcheck replay sb.json
  smpcheck view sb.json                                the trace in the browser viewer
  smpcheck suite scenarios                             every header expectation, as a table
  smpcheck host conform --runs 300                     the model against the running kernel
  smpcheck sim scenarios/sim/sched-pipe-threads.litmus the timing simulator (smpcheck sim --help)`);
  return program;
}

/** Runs the command line `argv`; resolves to its exit code. */
export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let exit: ExitName = 'ok';
  const program = await buildProgram(io, (n) => {
    exit = n;
  }, argv);
  if (argv.length === 0) {
    // Bare `smpcheck`: its help, on standard error like every command given without what it needs.
    io.err(program.helpInformation());
    return EXIT.input_error;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
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
