// Library API: check one scenario on one machine and read the verdict.

import type { Expected, Observation, Scenario } from './scenario/ast.js';
import { compileProp, observation, validated } from './scenario/condition.js';
import { parseScenario } from './scenario/parser.js';
import { LitmusProgram, usesKernelModel } from './litmus/program.js';
import type { ModelName } from './machine/machine.js';
import { explore } from './explore/index.js';
import { DEFAULT_BOUNDS, type Bounds, type ExploreOptions, type ExploreResult, type Progress } from './explore/types.js';
import type { ProgramSpec } from './explore/parallel.js';
import { directiveSettings } from './scenario/directives.js';
import { DEFAULT_KERNEL, findVariant, type Variant } from './kernel/variants.js';
import { SmpError } from './scenario/errors.js';
import { MODELS } from './machine/machine.js';
import { GRAPH_MODELS, type GraphModelName } from './graph/mapping.js';
import { arm64Only, findArm64Insn, findLkmmOnly, needsKernelModel } from './graph/support.js';
import type { DepsAssumption, KernelGraphModel, KernelGraphOptions } from './graph/kernel.js';
import { graphEngine, kernelModel, type Parts } from './parts.js';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Every machine a check can run on: the machine engine's (sc, x86) and the graph engine's (sc, x86, arm64, lkmm). */
export type CheckModel = GraphModelName;
/** The machines only the graph engine runs. */
export const WEAK_MODELS = ['arm64', 'lkmm'] as const;
export const CHECK_MODELS: readonly CheckModel[] = GRAPH_MODELS;
export type Engine = 'machine' | 'graph';
export const ENGINES: readonly Engine[] = ['machine', 'graph'];
const isMachineModel = (m: CheckModel): m is ModelName => (MODELS as readonly string[]).includes(m);

export interface CheckOptions {
  model?: CheckModel;
  /** The engine: 'machine' (interleavings on the modelled machine, sc and x86 only) or 'graph' (execution graphs and a consistency predicate); by default the machine's for sc and x86, the graph engine for arm64 and lkmm. */
  engine?: Engine;
  /** Kernel variant (default v6.18); only scenarios that call into the kernel depend on it. */
  variant?: string;
  reduction?: boolean;
  bounds?: Partial<Bounds>;
  onProgress?: (p: Progress) => void;
  /** Runs (DPOR) or states (explicit) between calls of onProgress (default 10,000); the caller's callback decides, by its clock, what to print. */
  progressEvery?: number;
  /** Witnesses to keep per kind, each of a distinct execution graph (default 1; --witnesses N). */
  witnessesMax?: number;
  /** Worker threads for the machine engine's reduced search (default 1; src/explore/parallel.ts): the result does not depend on it. */
  workers?: number;
  /** Tests: once workers have started, the calling thread only merges (src/explore/parallel.ts). */
  parallelMergeOnly?: boolean;
  /** Steps after which a task of the search freezes into child tasks (tests; default FREEZE_AFTER_STEPS). */
  freezeAfterSteps?: number;
  /**
   * Sample seeded random runs instead of searching (src/explore/random.ts; the kernel
   * model on the graph engine: PctRuns in src/graph/kernel.ts): never complete,
   * so it confirms only an existential result. By default a header line's `random=RUNS`
   * (seed 1) for the line being checked, unless reduction is off.
   */
  random?: { runs: number; seed: number };
  /** Kernel scenarios on arm64: decide every consistency check with both predicates and count them (tests). */
  crossCheckPredicate?: { checks: number };
  /** Tests: the kernel graph search without its assumptions (`assume: false`), or with a search per dependency assumption on arm64. */
  kernelGraphSearch?: { assume?: boolean; separateDeps?: boolean; replay?: KernelGraphOptions['replay'] };
  /** Tests: no-op steps as steps of their own (Program.fuse false), to show that merging them changes counts only. */
  mergeNoOps?: boolean;
  /** The machine engine's search, done another way (a merge of shards, src/cli/shard.ts); by default explore(). */
  search?: (m: MachineSearch) => ExploreResult;
}

export type Verdict = 'ok' | 'violation' | 'liveness' | 'incomplete';

export interface CheckResult {
  scenario: Scenario;
  program: LitmusProgram;
  model: CheckModel;
  engine: Engine;
  variant: Variant;
  bounds: Bounds;
  result: ExploreResult;
  /** herd's observation; null when the search was cut short (it then proves only what it found). */
  observation: Observation | null;
  validated: boolean | null;
  /** The header's expectation for this machine, if any (`Result[x86]:` or plain `Result:`). */
  expected: Expected | null;
  /** Whether it came from a `Result[machine]:` line (exact) or the plain line (a bound). */
  expectedExact: boolean;
  /** The key of that line ('' for the plain `Result:`). */
  expectedKey: string;
  /** The line ends with the kernel's `DATARACE`: a contradicted outcome is noted but forgiven, as judgelitmus.sh does. */
  expectedDatarace: boolean;
  /** On LKMM: the DATARACE word of the Result line and the data-race flag disagree (a violation). */
  dataraceMismatch: boolean;
  verdict: Verdict;
  ms: number;
}

export function expectationFor(sc: Scenario, model: CheckModel, variant = DEFAULT_KERNEL): Expected | null {
  return expectationLine(sc, model, variant)?.result ?? null;
}

/**
 * A `Result[...]` key split into its machine and its kernel variant (either may be
 * absent). A variant is a name (`smpcheck variants`) or the path of a variant
 * module, resolved relative to the scenario file's folder: `variant` is then the
 * module's absolute path (what Variant.file holds), `label` the path as written.
 */
/** A `random=RUNS` element of a `Result[...]` key: the line is confirmed by RUNS seeded random runs. */
const RANDOM_KEY = /^random=([0-9]{1,9})$/;
/**
 * A `states=N` element: the line is confirmed by a graph-engine search cut after N graph
 * states (arm64, lkmm), which proves only what it finds (the search too large to finish).
 */
const STATES_KEY = /^states=([0-9]{1,9})$/;

export interface ExpectationKey { machine: CheckModel | null; variant: string | null; label: string | null; random: number | null; states: number | null }

export function parseExpectationKey(key: string, scenarioFile = ''): ExpectationKey | string {
  const all = key.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const randoms = all.filter((x) => RANDOM_KEY.test(x));
  if (randoms.length > 1) return `expectation key '${key}' names random=RUNS more than once`;
  const random = randoms.length === 1 ? Number(RANDOM_KEY.exec(randoms[0]!)![1]) : null;
  if (random !== null && random < 1) return `expectation key '${key}': random=RUNS needs at least one run`;
  const statesEl = all.filter((x) => STATES_KEY.test(x));
  if (statesEl.length > 1) return `expectation key '${key}' names states=N more than once`;
  const states = statesEl.length === 1 ? Number(STATES_KEY.exec(statesEl[0]!)![1]) : null;
  if (states !== null && states < 1) return `expectation key '${key}': states=N needs at least one state`;
  if (states !== null && random !== null) return `expectation key '${key}' names both random=RUNS and states=N`;
  const parts = all.filter((x) => !RANDOM_KEY.test(x) && !STATES_KEY.test(x));
  const machines = parts.filter((x) => (CHECK_MODELS as readonly string[]).includes(x));
  const others = parts.filter((x) => !(CHECK_MODELS as readonly string[]).includes(x));
  if (machines.length > 1 || others.length > 1) return `expectation key '${key}' names more than one machine or variant`;
  const machine = (machines[0] as CheckModel | undefined) ?? null;
  const v = others[0];
  if (v === undefined) return { machine, variant: null, label: null, random, states };
  if (isVariantPath(v)) {
    const file = resolve(dirname(scenarioFile), v);
    if (!existsSync(file)) return `the variant module '${v}' of 'Result[${key}]' does not exist (looked for ${file}; a path is relative to the scenario's folder)`;
    return { machine, variant: file, label: v, random, states };
  }
  if (!findVariant(v)) return `unknown machine or kernel variant '${v}' in 'Result[${key}]' (smpcheck variants lists them)`;
  return { machine, variant: v, label: v, random, states };
}

/** What identifies a variant in a `Result[...]` key: its module's path, or its name. */
export function variantId(v: Variant): string {
  return v.file ?? v.name;
}

/**
 * The header line that states what to expect on this machine and kernel variant
 * (`variant` as variantId() gives it): `Result[machine,variant]`, else
 * `Result[variant]`, else (on the default kernel) `Result[machine]`, else the plain
 * `Result:` line.
 */
export function expectationLine(sc: Scenario, model: CheckModel, variant = DEFAULT_KERNEL): { result: Expected; exact: boolean; key: string; datarace: boolean; random: number | null; states: number | null } | null {
  let best: { result: Expected; exact: boolean; key: string; datarace: boolean; random: number | null; states: number | null; rank: number } | null = null;
  for (const e of sc.expectations) {
    const k = parseExpectationKey(e.key, sc.file);
    if (typeof k === 'string') continue;
    if (k.machine !== null && k.machine !== model) continue;
    const v = k.variant ?? DEFAULT_KERNEL;
    if (v !== variant) continue;
    const rank = (k.machine ? 1 : 0) + (k.variant ? 2 : 0);
    if (!best || rank > best.rank) best = { result: e.result, exact: rank > 0, key: e.key, datarace: e.datarace ?? false, random: k.random, states: k.states, rank };
  }
  return best ? { result: best.result, exact: best.exact, key: best.key, datarace: best.datarace, random: best.random, states: best.states } : null;
}

/**
 * Does an observation satisfy an expectation? A `Result[machine]:` line must
 * match exactly. A plain `Result:` line is the kernel's convention: the verdict
 * of the Linux-kernel memory model, which allows at least every behaviour of
 * each machine the kernel runs on. So `Never` and `Always` must hold on the
 * machine too, while `Sometimes` is consistent with any observation (a stronger
 * machine may never show the outcome).
 */
export function expectationHolds(line: { result: Expected; exact: boolean }, observed: Observation): boolean {
  // `Maybe` (the kernel's word for an outcome the memory model leaves open) holds for any.
  if (line.result === 'Maybe') return true;
  if (line.exact || line.result !== 'Sometimes') return observed === line.result;
  return true;
}

/**
 * A variant named by the path of a module rather than by name. The same test as
 * isVariantPath() of src/kernel/variant-module.ts, which loads the whole kernel model:
 * a check that names no module does not (test/startup.test.ts checks the two agree).
 */
export function isVariantPath(name: string): boolean {
  return name.includes('/') || /\.(ts|js|cjs|mjs)$/.test(name);
}

/** A variant by name (`smpcheck variants`) or by the path of a variant module (which needs the kernel model loaded). */
export function resolveVariant(name: string): Variant {
  const variant = isVariantPath(name) ? kernelModel().loadVariantModule(name, () => kernelModel().api) : findVariant(name);
  if (!variant) throw new SmpError('SMP200', `unknown kernel variant '${name}' (smpcheck variants lists them)`);
  return variant;
}

/**
 * Runs part of a check with a variant: a variant module's failures become the user's
 * error (runWithVariant() of src/kernel/variant-module.ts); a built-in variant runs as is.
 */
export function withVariant<T>(variant: Variant, f: () => T): T {
  return variant.file ? kernelModel().runWithVariant(variant, f) : f();
}

/**
 * The parts (src/parts.ts) a check of `sc` with `opts` loads before it runs: the kernel
 * model when the scenario calls into the kernel or a variant module is named (on the
 * command line or in a `Result[...]` line), the graph engine for arm64, lkmm and
 * --engine graph. Bad options are left for the check to report.
 */
export function partsFor(sc: Scenario, opts: { model?: CheckModel; engine?: Engine; variant?: string } = {}): Parts {
  const model = opts.model ?? directiveSettings(sc).model ?? 'x86';
  const engine = opts.engine ?? (isMachineModel(model) ? 'machine' : 'graph');
  const variantModule = [opts.variant ?? '', ...sc.expectations.map((e) => e.key)].some((k) => k.split(',').some((x) => isVariantPath(x.trim())));
  return { kernel: usesKernelModel(sc) || variantModule, graph: engine === 'graph' };
}

/** Every `Result[...]` key must name known machines and variants (SMP107). */
export function validateExpectations(sc: Scenario): void {
  for (const e of sc.expectations) {
    const k = parseExpectationKey(e.key, sc.file);
    if (typeof k === 'string') throw new SmpError('SMP107', k, e.span, sc.file);
    // Sampling proves only what it finds: an execution that exists.
    if (k.random !== null && e.result !== 'Assertion' && e.result !== 'Sometimes') {
      throw new SmpError('SMP107', `'Result[${e.key}]: ${e.result}': a random search confirms only what exists (Assertion or Sometimes), never ${e.result}`, e.span, sc.file);
    }
    if (k.random !== null && k.machine === null) {
      throw new SmpError('SMP107', `'Result[${e.key}]': random=RUNS needs a machine named (sc or x86; arm64 or lkmm for the kernel model)`, e.span, sc.file);
    }
    // arm64 and LKMM sample the graph engine's runs of the kernel model (src/graph/kernel.ts).
    if (k.random !== null && (k.machine === 'arm64' || k.machine === 'lkmm') && !usesKernelModel(sc)) {
      throw new SmpError('SMP107', `'Result[${e.key}]': random=RUNS on ${k.machine} samples runs of the kernel model: this scenario has none of its calls`, e.span, sc.file);
    }
    // A search cut short likewise.
    if (k.states !== null && e.result !== 'Assertion' && e.result !== 'Sometimes') {
      throw new SmpError('SMP107', `'Result[${e.key}]: ${e.result}': a search cut after states=N confirms only what exists (Assertion or Sometimes), never ${e.result}`, e.span, sc.file);
    }
    if (k.states !== null && k.machine !== 'arm64' && k.machine !== 'lkmm') {
      throw new SmpError('SMP107', `'Result[${e.key}]': states=N bounds the graph engine's search of a kernel scenario (arm64 or lkmm)`, e.span, sc.file);
    }
  }
}

/** A check on the machine engine, ready to search: what its search (one thread, workers, a shard, a merge) needs. */
export interface MachineSearch {
  program: LitmusProgram;
  prop: (v: readonly number[]) => boolean;
  opts: ExploreOptions;
  spec: ProgramSpec;
}

function machineSearch(sc: Scenario, model: CheckModel, variant: Variant, opts: ExploreOptions, mergeNoOps = true): MachineSearch {
  if (!isMachineModel(model)) throw new SmpError('SMP200', `the machine engine runs sc and x86: ${model} runs on the graph engine (--engine graph)`);
  const only = findLkmmOnly(sc);
  if (only) throw new SmpError('SMP103', `${only.what}, which is modelled by the Linux-kernel memory model only: use --model lkmm`, only.span, sc.file);
  const insn = findArm64Insn(sc);
  if (insn) throw arm64Only(insn, sc.file, model);
  const program = new LitmusProgram(sc, model, variant);
  if (!mergeNoOps) {
    // The worker threads and shards build their own program: they always merge.
    if ((opts.workers ?? 1) > 1) throw new Error('internal: mergeNoOps false with worker threads');
    program.fuse = false;
  }
  const spec: ProgramSpec = { source: sc.source, file: sc.file, model, variant: variantId(variant) };
  return { program, prop: compileProp(sc), opts: { ...opts, programSpec: spec }, spec };
}

/** The machine, bounds and variant a check of `sc` with `opts` uses (as checkScenario() decides them). */
export function checkSettings(sc: Scenario, opts: CheckOptions = {}): { model: CheckModel; bounds: Bounds; variant: Variant; engine: Engine } {
  const settings = directiveSettings(sc);
  const model = opts.model ?? settings.model ?? 'x86';
  const bounds: Bounds = { ...DEFAULT_BOUNDS, ...settings.bounds, ...stripUndefined(opts.bounds ?? {}) };
  const variant = resolveVariant(opts.variant ?? DEFAULT_KERNEL);
  const engine: Engine = opts.engine ?? (isMachineModel(model) ? 'machine' : 'graph');
  return { model, bounds, variant, engine };
}

export function checkScenario(sc: Scenario, opts: CheckOptions = {}, clock: () => number = () => 0): CheckResult {
  validateExpectations(sc);
  const settings = checkSettings(sc, opts);
  const { model, variant, engine } = settings;
  let bounds = settings.bounds;
  const prop = compileProp(sc);
  let program: LitmusProgram;
  let result: ExploreResult;
  let ms: number;
  if (engine === 'graph') {
    if (opts.reduction === false) throw new SmpError('SMP200', '--no-reduction chooses a search of the machine engine: the graph engine has one search');
    const kernel = needsKernelModel(sc, model);
    if (kernel) {
      // The kernel model's code, on memory given by execution graphs (src/graph/kernel.ts).
      const km = model as KernelGraphModel;
      // LKMM runs the kernel's code with arm64's architecture paths, whose instructions
      // (DSB, ISB, ERET) are no LKMM events: what the portable barriers promise (README).
      program = new LitmusProgram(sc, km === 'sc' ? 'sc' : 'x86', variant, km === 'arm64' || km === 'lkmm' ? 'arm64' : 'x86');
      const weak = km === 'arm64' || km === 'lkmm';
      const t0 = clock();
      const ks = opts.kernelGraphSearch;
      // The header's states=N for this line bounds the search, unless the caller chose a bound.
      const line = expectationLine(sc, model, variantId(variant));
      const headerStates = opts.bounds?.executionsMax === undefined ? line?.states ?? null : null;
      if (headerStates !== null) bounds = { ...bounds, executionsMax: headerStates };
      // The header's random=RUNS for this line, unless the caller chose the search.
      const headerRuns = opts.random === undefined && !opts.search ? line?.random ?? null : null;
      const random = opts.random ?? (headerRuns !== null ? { runs: headerRuns, seed: 1 } : undefined);
      const go = (deps: DepsAssumption): ExploreResult => withVariant(variant, () => graphEngine().exploreKernelGraphs(program, km, prop, { bounds, deps, assume: ks?.assume, replay: ks?.replay, onProgress: opts.onProgress, progressEvery: opts.progressEvery, crossCheckPredicate: opts.crossCheckPredicate, random }));
      // Random runs assume every dependency (what they find exists whatever the real ones are).
      if (random) result = go('all');
      // arm64 and LKMM: one search answers under both dependency assumptions (bracketDeps()).
      else if (weak && ks?.separateDeps) result = graphEngine().bracketDeps(go('none'), go('all'), km);
      else result = go(weak ? 'both' : 'none');
      ms = clock() - t0;
    } else {
      if (opts.random) throw new SmpError('SMP200', `--random samples runs of the machine engine (sc, x86) or of the kernel model on the graph engine: ${sc.name} does not call the kernel`);
      // The front end's program gives the names and values of the final states; the graph engine runs the threads itself.
      program = new LitmusProgram(sc, 'sc', variant);
      const t0 = clock();
      result = graphEngine().exploreGraphs(sc, model, prop, { bounds });
      ms = clock() - t0;
    }
  } else {
    const reduction = opts.reduction ?? true;
    // The header's random=RUNS for this line, unless the caller chose the search.
    const headerRuns = opts.random === undefined && reduction && !opts.search ? expectationLine(sc, model, variantId(variant))?.random ?? null : null;
    const random = opts.random ?? (headerRuns !== null ? { runs: headerRuns, seed: 1 } : undefined);
    const m = machineSearch(sc, model, variant, { reduction, bounds, onProgress: opts.onProgress, progressEvery: opts.progressEvery, witnessesMax: opts.witnessesMax, workers: opts.workers, parallelMergeOnly: opts.parallelMergeOnly, freezeAfterSteps: opts.freezeAfterSteps, random }, opts.mergeNoOps);
    program = m.program;
    const t0 = clock();
    result = withVariant(variant, () => (opts.search ? opts.search(m) : explore(m.program, m.prop, m.opts)));
    ms = clock() - t0;
  }
  const obs = result.complete ? observation(result.positive, result.negative) : null;
  const line = expectationLine(sc, model, variantId(variant));
  const expected = line?.result ?? null;
  let verdict: Verdict;
  if (expected === 'Assertion') {
    // The header expects a kernel assertion to fail (a bug the variant reintroduces): one
    // failure found proves it, even in a search cut short (a BUG_ON always cuts it).
    verdict = result.assertions.length > 0 ? 'ok' : result.complete ? 'violation' : 'incomplete';
  } else if (expected === 'Deadlock') {
    // The header expects an execution where a CPU waits forever (a liveness bug the variant has)
    // and no failed assertion: a cut-short search cannot show the second half, so it decides nothing.
    verdict = result.assertions.length > 0 ? 'violation' : !result.complete ? 'incomplete' : result.deadlocks > 0 ? 'ok' : 'violation';
  } else if (expected === 'DEADLOCK') {
    // The kernel's DEADLOCK (judgelitmus.sh: herd's `Observation ... Never 0 0`): no execution
    // completes, every one ends with a CPU that waits forever. One that completes refutes it.
    const completed = result.positive + result.negative > 0;
    // On the graph engine (no CPU to wait), it is an empty set of consistent executions: herd's `Never 0 0`.
    verdict = result.assertions.length > 0 || completed ? 'violation' : !result.complete ? 'incomplete' : result.deadlocks > 0 || result.engine === 'graph' ? 'ok' : 'violation';
  } else if (result.assertions.length > 0) {
    // A failed kernel assertion is a violation found, whatever else the search did.
    verdict = 'violation';
  } else if (!result.complete) {
    // A cut-short search proves nothing, except a counterexample it did find.
    const refuted = (expected === 'Never' && result.positive > 0) || (expected === 'Always' && result.negative > 0);
    // Sometimes is two existential claims: a final state that satisfies the condition and
    // one that does not, both found, prove it.
    const witnessed = expected === 'Sometimes' && result.positive > 0 && result.negative > 0;
    verdict = refuted ? 'violation' : witnessed ? 'ok' : 'incomplete';
  } else if (result.deadlocks > 0) verdict = 'liveness';
  // A `DATARACE` line's outcome is the kernel memory model's for a racy program: a mismatch is forgiven.
  else if (line !== null && obs !== null && !expectationHolds(line, obs)) verdict = line.datarace ? 'ok' : 'violation';
  else verdict = 'ok';
  // On LKMM the DATARACE word is a prediction too: a data race exactly when the line says so (judgelitmus.sh).
  const dataraceMismatch = model === 'lkmm' && line !== null && result.complete && verdict === 'ok'
    && line.datarace !== (result.flags ?? []).includes('data-race');
  if (dataraceMismatch) verdict = 'violation';
  return {
    scenario: sc, program, model, engine, variant, bounds, result, observation: obs,
    validated: result.complete ? validated(sc.condition.quantifier, result.positive, result.negative) : null,
    expected, expectedExact: line?.exact ?? false, expectedKey: line?.key ?? '', expectedDatarace: line?.datarace ?? false, dataraceMismatch, verdict, ms,
  };
}

/** What a check observed, in the words of a `Result` line: `Assertion` when a kernel assertion failed. */
export function observedLabel(r: CheckResult): Expected | 'Unknown' {
  if (r.result.assertions.length > 0) return 'Assertion';
  // The kernel's DEADLOCK, when the header expects it and no execution completed.
  if (r.result.deadlocks > 0) return r.expected === 'DEADLOCK' && r.result.positive + r.result.negative === 0 ? 'DEADLOCK' : 'Deadlock';
  // On the graph engine the kernel's DEADLOCK is an empty set of consistent executions (herd's `Never 0 0`).
  if (r.expected === 'DEADLOCK' && r.result.engine === 'graph' && r.result.complete && r.result.positive + r.result.negative === 0) return 'DEADLOCK';
  // A search cut short that found final states on both sides of the condition has shown Sometimes.
  if (r.observation === null && r.result.positive > 0 && r.result.negative > 0) return 'Sometimes';
  return r.observation ?? 'Unknown';
}

export function checkSource(source: string, file: string, opts: CheckOptions = {}, clock?: () => number): CheckResult {
  return checkScenario(parseScenario(source, file), opts, clock);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
