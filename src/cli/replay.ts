// `smpcheck replay TRACE`: a trace is data. Its choices are re-executed on the
// scenario source it carries (or on --scenario FILE), and everything it asserts is
// compared: the kind of run, the number of steps and each step, the final state,
// the blocked CPUs and what each waits on, the failed assertion. No code named by a
// trace is ever loaded: a variant module is used only when given with --variant, and
// only if its sha256 is the one the trace recorded.

import { compileProp } from '../scenario/condition.js';
import { parseScenario } from '../scenario/parser.js';
import { SmpError } from '../scenario/errors.js';
import type { Scenario } from '../scenario/ast.js';
import { findVariant, type Variant } from '../kernel/variants.js';
import { loadVariantModule, runWithVariant } from '../kernel/variant-module.js';
import { sha256 } from '../sha256.js';
import * as api from '../kernel/index.js';
import { LitmusProgram } from '../litmus/program.js';
import { ReplayError } from '../explore/run.js';
import { fuseOfVersion, renderTraceText, runOfChoices, TRACE_FORMAT, TRACE_VERSION, TRACE_VERSIONS_READ, traceSchema, type Trace, type TraceKind, type TraceStep } from '../explore/trace.js';
import { readBounded } from '../scenario/bounded-read.js';
import type { ExitName } from './exit.js';
import type { Io } from './main.js';

/** A trace file larger than this is refused unread (a trace of the default 2000 steps is well under 1 MiB). */
export const TRACE_BYTES_MAX = 64 * 1024 * 1024;

export interface ReplayOpts {
  json?: boolean;
  scenario?: string;
  variant?: string;
  /** Columns the trace may take (--width), else the terminal's. */
  width?: number;
}

export interface Divergence {
  /** The first step (1-based) that differs, or null when the steps agree and the end does not. */
  step: number | null;
  what: string;
  recorded: unknown;
  replayed: unknown;
}

export function readTrace(traceFile: string): Trace {
  const text = readBounded(traceFile, TRACE_BYTES_MAX, 'the trace');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SmpError('SMP201', `'${traceFile}' is not JSON: ${(e as Error).message}`, undefined, traceFile);
  }
  // Another version of the format is named as such, before its fields are looked at.
  const head = raw as { format?: unknown; version?: unknown } | null;
  if (typeof head === 'object' && head !== null && head.format === TRACE_FORMAT && !TRACE_VERSIONS_READ.includes(head.version as number)) {
    throw new SmpError('SMP201', `'${traceFile}' is an smpcheck trace of format version ${JSON.stringify(head.version)}; this smpcheck reads versions ${TRACE_VERSIONS_READ.join(', ')} and writes ${TRACE_VERSION}: write the trace again with --trace`, undefined, traceFile);
  }
  const parsed = traceSchema().safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SmpError('SMP201', `'${traceFile}' is not an smpcheck trace: ${issue.path.join('.') || '(top)'}: ${issue.message}`, undefined, traceFile);
  }
  const t = parsed.data;
  if (sha256(t.scenario.source) !== t.scenario.sha256) {
    throw new SmpError('SMP201', `'${traceFile}': the scenario source it carries does not match its recorded sha256 (the trace was edited)`, undefined, traceFile);
  }
  return t;
}

/** The variant the trace names: built in by name, or the module given on the command line with the recorded hash. */
export function replayVariant(t: Trace, traceFile: string, given: string | undefined): Variant {
  if (t.variant_module) {
    if (given === undefined) {
      throw new SmpError('SMP203', `the trace was made with the variant module '${t.variant_module.file}' (sha256 ${t.variant_module.sha256.slice(0, 12)}…): give it with --variant FILE; a trace never loads code itself`, undefined, traceFile);
    }
    const v = loadVariantModule(given, () => api);
    if (v.sha256 !== t.variant_module.sha256) {
      throw new SmpError('SMP203', `the variant module '${given}' (sha256 ${v.sha256!.slice(0, 12)}…) is not the one the trace recorded ('${t.variant_module.file}', sha256 ${t.variant_module.sha256.slice(0, 12)}…)`, undefined, traceFile);
    }
    return v;
  }
  if (given !== undefined) {
    throw new SmpError('SMP203', `the trace was made without a variant module (variant ${t.variant ?? 'none'}): leave out --variant`, undefined, traceFile);
  }
  const name = t.variant ?? 'v6.18';
  const v = findVariant(name);
  if (!v) throw new SmpError('SMP201', `'${traceFile}' names the kernel variant '${name}', which this smpcheck does not have (smpcheck variants lists them)`, undefined, traceFile);
  return v;
}

/** JSON with object keys sorted, so that two values compare whatever order their fields were written in. */
function canonical(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The first difference between what the trace asserts and what the replay did, or null. */
export function firstDivergence(t: Pick<Trace, 'kind' | 'cpus' | 'steps' | 'final' | 'blocked' | 'waits' | 'assertion' | 'state'>, now: Pick<Trace, 'kind' | 'cpus' | 'steps' | 'final' | 'blocked' | 'waits' | 'assertion' | 'state'>): Divergence | null {
  const n = Math.max(t.steps.length, now.steps.length);
  for (let i = 0; i < n; i++) {
    const a = t.steps[i];
    const b = now.steps[i];
    if (canonical(a) !== canonical(b)) {
      return { step: i + 1, what: a && b && a.text !== b.text ? 'step text' : a && b ? 'step details' : 'step count', recorded: a?.text ?? null, replayed: b?.text ?? null };
    }
  }
  const ends: [string, unknown, unknown][] = [
    ['kind', t.kind, now.kind],
    ['CPUs', t.cpus, now.cpus],
    ['final state', t.final, now.final],
    ['blocked CPUs', t.blocked ?? null, now.blocked ?? null],
    ['what the blocked CPUs wait on', t.waits ?? null, now.waits ?? null],
    ['failed assertion', t.assertion ?? null, now.assertion ?? null],
    // A trace of version 2 carries no state; one of version 3 asserts the state at each step.
    ['state at each step', t.state ?? null, t.state ? now.state ?? null : null],
  ];
  for (const [what, a, b] of ends) {
    if (canonical(a) !== canonical(b)) return { step: null, what, recorded: a, replayed: b };
  }
  return null;
}

function loadFrom(t: Trace, traceFile: string, scenarioFile: string | undefined, load: (f: string) => Scenario): Scenario {
  if (scenarioFile) return load(scenarioFile);
  // An error in the embedded source carries that source, so its caret is under the right line.
  return parseScenario(t.scenario.source, t.scenario.file || traceFile);
}

export function cmdReplay(io: Io, traceFile: string, o: ReplayOpts, load: (f: string) => Scenario): ExitName {
  const t = readTrace(traceFile);
  const sc = loadFrom(t, traceFile, o.scenario, load);
  if (o.scenario && sha256(sc.source) !== t.scenario.sha256) {
    io.err(`smpcheck: note: ${o.scenario} is not the scenario source the trace recorded; the replay compares against the recorded run all the same\n`);
  }
  const variant = replayVariant(t, traceFile, o.variant);
  let program: LitmusProgram;
  try {
    program = new LitmusProgram(sc, t.machine, variant);
  } catch (e) {
    // A directive or placement error points into the source replayed, not the file on disk.
    if (e instanceof SmpError) throw e.withSource(sc.source);
    throw e;
  }
  let run;
  try {
    run = runWithVariant(variant, () => runOfChoices(program, t.choices, fuseOfVersion(t.version)));
  } catch (e) {
    if (e instanceof ReplayError) throw new SmpError('SMP202', `trace does not replay: ${e.message}`, undefined, traceFile);
    throw e;
  }
  const prop = compileProp(sc);
  const kindOf = (r: typeof run): TraceKind => (r.assertion ? 'assertion' : r.values === null ? 'deadlock' : prop(r.values) ? 'positive' : 'negative');
  const kind = kindOf(run);
  // A trace of version 2 names no kernel functions and no IPI targets per step.
  const asRecorded = (steps: TraceStep[]): TraceStep[] => (t.version === 2 ? steps.map(({ calls: _c, target: _t, ...s }) => s) : steps);
  const now = { kind, cpus: program.cpuLabels(), steps: asRecorded(run.steps), final: run.final, blocked: run.blocked, waits: run.waits, assertion: run.assertion, state: run.state };
  let d = firstDivergence(t, now);
  // Each further witness (--witnesses N) is replayed and compared the same way.
  for (let w = 0; d === null && w < (t.witnesses?.length ?? 0); w++) {
    const rec = t.witnesses![w]!;
    let other;
    try {
      other = runWithVariant(variant, () => runOfChoices(program, rec.choices, fuseOfVersion(t.version)));
    } catch (e) {
      if (e instanceof ReplayError) throw new SmpError('SMP202', `witness ${w + 2} of the trace does not replay: ${e.message}`, undefined, traceFile);
      throw e;
    }
    const od = firstDivergence({ ...rec, cpus: t.cpus }, { ...other, kind: kindOf(other), cpus: now.cpus });
    if (od) d = { ...od, what: `witness ${w + 2}: ${od.what}` };
  }
  if (o.json) {
    io.out(`${JSON.stringify({ trace: traceFile, test: sc.name, machine: t.machine, kind, steps: run.steps.length, final: run.final, recorded_final: t.final, matches: d === null, divergence: d })}\n`);
  } else {
    io.out(`Replay of ${traceFile}: ${sc.name} on ${t.machine}, ${kind} execution, ${run.steps.length} steps\n`);
    io.out(`${renderTraceText({ ...t, cpus: now.cpus, steps: run.steps }, { width: o.width ?? io.outColumns })}\n`);
    if (run.assertion) io.out(`Kernel assertion failed: ${run.assertion}\n`);
    if (run.final) io.out(`Final: ${Object.entries(run.final).map(([k, v]) => `${k}=${v};`).join(' ')}\n`);
    else if (run.blocked) io.out(`Final: none (blocked CPUs: ${run.blocked.join(', ')})\n`);
    if (run.waits) io.out(`Blocked forever:\n${run.waits.map((x) => `  ${x}\n`).join('')}`);
    io.out(d === null ? 'Replay matches the recorded run\n' : `Replay DIVERGES from the recorded run: ${describeDivergence(d)}\n`);
  }
  if (d) io.err(`smpcheck: replay of ${traceFile} diverges: ${describeDivergence(d)}\n`);
  return d === null ? 'ok' : 'violation';
}

export function describeDivergence(d: Divergence): string {
  const show = (x: unknown): string => (typeof x === 'string' ? `'${x}'` : JSON.stringify(x));
  const where = d.step !== null ? `at step ${d.step} (${d.what})` : `in the ${d.what}`;
  return `${where}: recorded ${show(d.recorded)}, replayed ${show(d.replayed)}`;
}
