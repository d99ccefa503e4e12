// Text (herd-compatible) and JSON renderings of a check.

import { expectationHolds, type CheckResult } from '../check.js';
import { conditionLine, testKind } from '../scenario/condition.js';
import { formatBytes } from '../explore/memory.js';
import type { CheckJson } from './json-shapes.js';

export interface FormatOptions {
  time: boolean; // print wall-clock lines/fields (the only output that varies between runs)
}

function stateLine(r: CheckResult, values: readonly number[]): string {
  return r.program.observedNames.map((n, i) => `${n}=${r.program.formatValue(values[i]!)};`).join(' ');
}

/** herd7's summary, then smpcheck's own lines. */
export function formatText(r: CheckResult, o: FormatOptions): string {
  const res = r.result;
  const name = r.scenario.name;
  const lines: string[] = [];
  lines.push(`Test ${name} ${testKind(r.scenario.condition.quantifier)}`);
  lines.push(`States ${res.outcomes.length}`);
  for (const out of res.outcomes) lines.push(stateLine(r, out.values));
  if (r.validated !== null) lines.push(r.validated ? 'Ok' : 'No');
  else lines.push('Incomplete');
  lines.push('Witnesses');
  lines.push(`Positive: ${res.positive} Negative: ${res.negative}`);
  // The model's flags, as herd prints them (LKMM: data-race).
  for (const f of res.flags ?? []) lines.push(`Flag ${f}`);
  lines.push(`Condition ${conditionLine(r.scenario)}`);
  if (r.observation) lines.push(`Observation ${name} ${r.observation} ${res.positive} ${res.negative}`);
  else lines.push(`Observation ${name} Unknown ${res.positive} ${res.negative} (search incomplete: proves only what it found)`);
  if (o.time) lines.push(`Time ${name} ${(r.ms / 1000).toFixed(2)}`);
  lines.push(`Machine ${r.model}`);
  if (r.program.kernelLayout) {
    const v = r.variant;
    lines.push(`Kernel ${v.name}${v.name === v.base ? '' : `: ${v.description} (based on ${v.base}${v.file ? `, from ${v.file}` : ''})`}`);
  }
  const search = res.engine === 'graph' ? (res.random ? `graph engine: random runs, seed ${res.random.seed}` : 'graph engine: candidate graphs') : res.random ? `random runs, seed ${res.random.seed}` : res.reduction ? 'dpor' : 'explicit-state, no reduction';
  let stats = `Executions ${res.executions} (${search}), graphs ${res.graphs}, ${res.engine === 'graph' ? 'events' : 'steps'} ${res.steps}`;
  if (res.engine === 'graph') {
    // one search: nothing more to say
  } else if (res.reduction) stats += `, sleep-set-blocked ${res.sleepBlocked}`;
  else stats += `, states ${res.states}, interleavings ${res.interleavings ?? 'unknown'}`;
  lines.push(stats);
  // The graph engine runs each thread path to its end (programs have no loops): steps_max does not apply.
  const steps = res.engine === 'graph' ? '' : `steps_max=${r.bounds.stepsMax} `;
  lines.push(`Bounds ${steps}executions_max=${r.bounds.executionsMax} memory_max=${formatBytes(r.bounds.memoryMax)}: ${res.complete ? 'search complete' : `INCOMPLETE: ${res.incompleteReason}`}`);
  if (res.deadlocks > 0) lines.push(`Deadlocks ${res.deadlocks}: some CPU waits forever (liveness)`);
  for (const a of res.assertions) lines.push(`Assertion failed in ${a.runs} run${a.runs === 1 ? '' : 's'}: ${a.name}`);
  if (r.expected !== null) {
    let verdictWord: string;
    if (r.observation === null) {
      verdictWord = r.verdict === 'violation' ? 'CONTRADICTED by a counterexample'
        : r.verdict === 'ok' ? (r.expected === 'Sometimes' ? 'confirmed by the final states found on both sides of the condition' : 'confirmed by the failed assertion found')
        : 'not decided';
    }
    else if (r.verdict === 'violation') verdictWord = 'CONTRADICTED';
    else if (r.observation === r.expected || (r.expected === 'Assertion' && r.result.assertions.length > 0)
      || (r.expected === 'Deadlock' && r.result.deadlocks > 0) || (r.expected === 'DEADLOCK' && r.verdict === 'ok')) verdictWord = 'confirmed';
    else if (r.expected === 'Maybe') verdictWord = 'consistent (Maybe: any observation)';
    else if (r.expectedDatarace && !expectationHolds({ result: r.expected, exact: r.expectedExact }, r.observation)) verdictWord = 'not matched, forgiven (DATARACE: the kernel memory model leaves a racy program\'s outcome undefined)';
    else verdictWord = `consistent (the kernel memory model allows more than ${r.model} shows)`;
    if (r.dataraceMismatch) verdictWord = r.expectedDatarace ? 'CONTRADICTED: no execution has a data race (no Flag data-race)' : 'CONTRADICTED: an execution has a data race (Flag data-race) the Result line does not announce with DATARACE';
    lines.push(`Expected ${r.expected}${r.expectedDatarace ? ' DATARACE' : ''} (${expectationLabel(r)}): ${verdictWord}`);
  }
  lines.push(`Verdict ${r.verdict}`);
  return lines.join('\n');
}

function expectationLabel(r: CheckResult): string {
  return r.expectedKey === '' ? 'Result' : `Result[${r.expectedKey}]`;
}

export function toJson(r: CheckResult, o: FormatOptions): CheckJson {
  const res = r.result;
  const names = r.program.observedNames;
  const states = res.outcomes.map((out) => {
    const entries = names.map((n, i) => [n, out.values[i]!] as const);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return Object.fromEntries(entries.map(([n, v]) => [n, jsonValue(r, v)]));
  });
  return {
    test: r.scenario.name,
    file: r.scenario.file,
    model: r.model,
    engine: r.engine,
    kernel: r.program.kernelLayout ? r.variant.name : null,
    reduction: res.reduction,
    random: res.random ?? null,
    condition: conditionLine(r.scenario),
    result: r.observation,
    validated: r.validated,
    expected: r.expected,
    verdict: r.verdict,
    states,
    positive: res.positive,
    negative: res.negative,
    flags: res.flags ?? [],
    complete: res.complete,
    incomplete_reason: res.incompleteReason,
    bounds: { steps_max: r.bounds.stepsMax, executions_max: r.bounds.executionsMax, memory_max: r.bounds.memoryMax },
    stats: {
      executions: res.executions,
      graphs: res.graphs,
      sleep_blocked: res.sleepBlocked,
      deadlocks: res.deadlocks,
      assertions: res.assertions,
      steps: res.steps,
      states: res.states,
      interleavings: res.interleavings === null ? null : res.interleavings.toString(),
      memory_bytes: res.memoryBytes,
      ms: o.time ? Math.round(r.ms * 1000) / 1000 : 0,
      // The process's peak resident memory: varies between runs, so only with times.
      ...(o.time ? { rss_peak_bytes: process.resourceUsage().maxRSS * 1024 } : {}),
    },
  };
}

/** Integers stay numbers; pointer values print as the location's name. */
function jsonValue(r: CheckResult, v: number): number | string {
  const s = r.program.formatValue(v);
  return /^-?\d+$/.test(s) ? v : s;
}

export interface SuiteRow {
  file: string;
  test: string;
  model: string;
  expected: string;
  observed: string;
  executions: number | null;
  graphs: number | null;
  ms: number | null;
  status: 'confirmed' | 'consistent' | 'contradicted' | 'incomplete' | 'liveness' | 'input_error' | 'no_expectation';
  message?: string;
}

export function formatTable(rows: SuiteRow[], o: FormatOptions): string {
  const head = ['scenario', 'machine', 'expected', 'observed', 'executions', 'graphs', ...(o.time ? ['ms'] : []), 'status'];
  const body = rows.map((r) => [
    r.test, r.model, r.expected, r.observed,
    r.executions === null ? '-' : String(r.executions),
    r.graphs === null ? '-' : String(r.graphs),
    ...(o.time ? [r.ms === null ? '-' : r.ms.toFixed(1)] : []),
    r.status,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = new Set(['executions', 'graphs', 'ms']);
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (numeric.has(head[i]!) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)].join('\n');
}
