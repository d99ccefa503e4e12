// The trace artifact: one JSON format for the CLI, replay and the viewer.
// A trace is the list of choices (process ids) of one execution plus, for
// readers, the steps that choice list produces. Replaying the choices on the
// same scenario, machine and kernel reproduces the execution exactly.

import type { CheckResult } from '../check.js';
import type { Fuse, Machine, StepInfo } from '../machine/machine.js';
import type { Program } from '../litmus/program.js';
import { replayChoices } from './run.js';
import { traceState } from './state.js';
import { TRACE_FORMAT, TRACE_VERSION, type Trace, type TraceKind, type TraceStep, type TraceWitness } from './trace-schema.js';
import { VERSION } from '../version.js';
import { sha256 } from '../sha256.js';

export { TRACE_FORMAT, TRACE_VERSION, TRACE_VERSIONS_READ, fuseOfVersion, traceSchema, traceStepSchema, traceRunSchema, type Trace, type TraceStep, type TraceKind, type TraceWitness } from './trace-schema.js';

/** Which execution a trace should show: a deadlock first, then the one the condition asks about. */
export function pickWitness(r: CheckResult): { kind: TraceKind; choices: number[] } | null {
  return pickWitnesses(r)[0] ?? null;
}

/**
 * The executions a trace shows, the one pickWitness() picks first, then further
 * witnesses of the same kind that the search kept (--witnesses N), each a distinct
 * execution graph, in the order the search found them: deterministic.
 */
export function pickWitnesses(r: CheckResult, max = 1): { kind: TraceKind; choices: number[] }[] {
  const first = pickFirst(r);
  if (!first) return [];
  const pool = first.kind === 'positive' ? r.result.witnessList.positive : first.kind === 'negative' ? r.result.witnessList.negative : [];
  const out = [first];
  for (const choices of pool) {
    if (out.length >= max) break;
    if (choices !== first.choices) out.push({ kind: first.kind, choices });
  }
  return out;
}

function pickFirst(r: CheckResult): { kind: TraceKind; choices: number[] } | null {
  const w = r.result.witnesses;
  if (w.assertion) return { kind: 'assertion', choices: w.assertion };
  if (w.deadlock) return { kind: 'deadlock', choices: w.deadlock };
  const wantPositive = r.scenario.condition.quantifier !== 'forall';
  const first = wantPositive ? w.positive : w.negative;
  const second = wantPositive ? w.negative : w.positive;
  if (first) return { kind: wantPositive ? 'positive' : 'negative', choices: first };
  if (second) return { kind: wantPositive ? 'negative' : 'positive', choices: second };
  return null;
}

export function buildTrace(r: CheckResult, kind: TraceKind, choices: number[], more: readonly { kind: TraceKind; choices: number[] }[] = []): Trace {
  if (r.engine !== 'machine') throw new Error('internal: a trace of the graph engine was asked for');
  const usesKernel = Boolean(r.program.kernelLayout);
  const { values: _values, ...run } = runOfChoices(r.program, choices);
  const witnesses: TraceWitness[] = more.map((w) => {
    const { values: _v, ...other } = runOfChoices(r.program, w.choices);
    return { kind: w.kind, choices: w.choices, ...other };
  });
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    tool: `smpcheck ${VERSION}`,
    scenario: { name: r.scenario.name, file: r.scenario.file, source: r.scenario.source, sha256: sha256(r.scenario.source) },
    machine: r.program.model,
    kernel: usesKernel ? r.variant.base : null,
    variant: usesKernel ? r.variant.name : null,
    variant_module: usesKernel && r.variant.file && r.variant.sha256 ? { file: r.variant.file, sha256: r.variant.sha256 } : null,
    bounds: r.bounds,
    kind,
    cpus: r.program.cpuLabels(),
    choices,
    ...run,
    ...(witnesses.length ? { witnesses } : {}),
  };
}

/** What a trace asserts about its run: the steps, the final state, who is blocked on what, the assertion, the state at each step. */
export type TraceRun = Pick<Trace, 'steps' | 'final' | 'blocked' | 'waits' | 'assertion' | 'state'>;

/** Replays `choices` and describes the run as a trace does (throws ReplayError on an impossible choice; `fuse`: replayChoices()). */
export function runOfChoices(program: Program, choices: readonly number[], fuse: Fuse = program.fuse ?? true): TraceRun & { values: number[] | null } {
  const { run, steps, assertion, bug, warnings, snapshots } = replayChoices(program, choices, true, fuse);
  const m = run.machine;
  const values = !bug && m.quiescent() ? run.instance.observe(m.mem) : null;
  const final = values ? Object.fromEntries(program.observedNames.map((n, i) => [n, program.formatValue(values[i]!)])) : null;
  return {
    steps: withWarnings(steps.map((s, i) => traceStep(program, s, i)), warnings),
    final,
    ...(final === null && !bug ? { blocked: m.blockedCpus(), waits: describeWaits(program, m.blockedWaits()) } : {}),
    ...(assertion ? { assertion } : {}),
    ...(snapshots ? { state: traceState(program, snapshots, (loc) => program.locScope?.(loc) ?? 'scenario') } : {}),
    values,
  };
}

/** One phrase per blocked CPU: 'CPU0 waits in csd_lock_wait (csd[0->1].flags = 1)'. */
function describeWaits(program: Program, waits: ReturnType<Machine['blockedWaits']>): string[] {
  return waits.map((w) => {
    const at = w.loc !== undefined ? ` (${program.locName(w.loc)} = ${program.formatLocValue ? program.formatLocValue(w.loc, w.value!) : program.formatValue(w.value!)})` : '';
    const irq = w.irqOff ? `, interrupts off${w.pending.length ? `, pending: ${w.pending.map((v) => program.handlerName(v)).join(', ')}` : ''}` : '';
    return `CPU${w.cpu} waits${w.inHandler ? ' in an interrupt handler' : ''} in ${w.fn}${at}${irq}`;
  });
}

/** Marks the steps at which a WARN_ON fired. */
export function withWarnings(steps: TraceStep[], warnings: readonly { step: number; name: string }[]): TraceStep[] {
  for (const w of warnings) {
    const s = steps[w.step];
    if (s) s.warn = s.warn ? `${s.warn}; ${w.name}` : w.name;
  }
  return steps;
}

export function traceStep(program: Program, s: StepInfo, i: number): TraceStep {
  const out: TraceStep = {
    i, proc: s.proc, cpu: s.cpu, kind: s.kind, ctx: s.ctx, op: s.op, fn: s.fn,
    text: describeStep(program, s),
  };
  if (s.loc !== undefined) out.loc = program.locName(s.loc);
  if (s.value !== undefined) out.value = s.loc !== undefined && program.formatLocValue ? program.formatLocValue(s.loc, s.value) : program.formatValue(s.value);
  if (s.from) out.from = s.from;
  if (s.label) out.label = s.label;
  if (s.pairs) out.pairs = s.pairs;
  if (s.line !== undefined) out.line = s.line;
  if (s.col !== undefined) out.col = s.col;
  if (s.target !== undefined) out.target = s.target;
  if (s.calls?.length) out.calls = [...s.calls];
  return out;
}

/** One short phrase per step, in the kernel's words. */
function fetchedText(program: Program, s: StepInfo): string {
  return (s.fetched ?? []).map(([l, v]) => `${program.locName(l)} = ${program.formatValue(v)}`).join(', ');
}

export function describeStep(program: Program, s: StepInfo): string {
  const text = describeOp(program, s);
  // A user access names its virtual location, then the frame and the translation it used.
  return s.vloc !== undefined && s.op !== 'fault' ? `${text} [${s.tlb}]` : text;
}

function describeOp(program: Program, s: StepInfo): string {
  const loc = s.vloc !== undefined ? program.locName(s.vloc) : s.loc !== undefined ? program.locName(s.loc) : '';
  const val = s.value === undefined ? '' : s.loc !== undefined && program.formatLocValue ? program.formatLocValue(s.loc, s.value) : program.formatValue(s.value);
  const lbl = s.label ? ` '${s.label}'${s.pairs ? ` pairs '${s.pairs}'` : ''}` : '';
  // A primitive reads `WRITE_ONCE(x, 1)`; a kernel expression reads `p->mm [task2->mm] = 1`.
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(s.fn);
  const at = (extra = ''): string => (plain ? `${s.fn}(${loc}${extra})` : `${s.fn} [${loc}]${extra ? ` ${extra.slice(2)}` : ''}`);
  switch (s.op) {
    case 'ld':
      return `${at()} = ${val}${s.from === 'buffer' ? ' (own store buffer)' : ''}${s.note ? ` ${s.note}` : ''}`;
    case 'await':
      return `${at()} = ${val}, condition met${s.from === 'buffer' ? ' (own store buffer)' : ''}`;
    case 'st':
      return `${plain ? `${s.fn}(${loc}, ${val})` : `${s.fn} [${loc}] = ${val}`}${s.note ? ` ${s.note}` : ''}`;
    case 'rmw':
      return `${at()} read ${val}, ${s.note ?? ''} (locked)`;
    case 'mb':
      return `${s.fn}()${lbl} full barrier`;
    case 'nop':
      // An instruction (SYSRET) reads as itself.
      if (/^[A-Z]+$/.test(s.fn)) return `${s.fn}${lbl}${s.fn === 'SYSRET' ? ' not serialising' : ''}`;
      return s.fn.includes('(') ? s.fn : `${s.fn}()${lbl}${s.fn === 'barrier' || s.fn.startsWith('smp_') ? ' compiler barrier only' : ''}`;
    case 'irq':
      return `${s.fn}()`;
    case 'raise':
      return `${s.fn}(${s.note ?? ''}, ${program.handlerName(s.vector ?? 0)}) interrupt pending`;
    case 'flush':
      return `store buffer drains ${loc} = ${val} to memory`;
    case 'irq-entry':
      return `interrupt: enter ${program.handlerName(s.vector ?? 0)}()`;
    case 'fetch':
      return `instruction fetch: ${fetchedText(program, s)}`;
    case 'walk':
      return `page walk: ${loc} = ${val}, ${s.note}`;
    case 'psc-evict':
      return `paging-structure cache ${s.note}`;
    case 'fault':
      return `${s.fn}(${loc}): page fault (${s.note})`;
    case 'cr3':
      return `${s.fn}: ${s.note}${lbl}${s.note?.includes('not serialising') ? '' : ' serialising'}`;
    case 'invlpg':
      return `${s.fn}: INVLPG ${s.note}${lbl} serialising`;
    case 'serialize':
      // An instruction (IRET) reads as itself; a kernel function with its parentheses.
      return `${s.fn}${s.fn.includes('(') || /^[A-Z]+$/.test(s.fn) ? '' : '()'}${lbl} serialising${s.fetched && s.fetched.length > 0 ? `: refetches ${fetchedText(program, s)}` : ''}`;
    case 'exec':
      return `${s.fn}(${loc}) runs version ${val}${s.note ? ` (${s.note})` : ''}`;
    default:
      return `${s.op} ${s.fn}`;
  }
}

export interface TraceTextOptions {
  /** Columns the table may take (a terminal's width, or --width); without it, as wide as its cells. */
  width?: number;
}

/**
 * One line per step, one column per CPU. Columns as wide as their longest cell, or, when that
 * is more than `width`, narrower: a cell too long then wraps at spaces onto more lines. A
 * column is never narrower than its longest word, so a kernel function's name is never cut.
 */
export function renderTraceText(t: Trace, o: TraceTextOptions = {}): string {
  const n = t.cpus.length;
  // A drain, fetch or walk is marked '~ ', a step of an interrupt handler '  irq| ' (on each line it wraps onto).
  const prefix = (s: TraceStep): string => (s.kind === 'flush' || s.op === 'fetch' || s.kind === 'walk' ? '~ ' : s.ctx > 0 ? '  irq| ' : '');
  const rows: { num: string; cpu: number; lead: string; text: string }[] = [];
  for (const s of t.steps) {
    rows.push({ num: String(s.i + 1), cpu: s.cpu, lead: prefix(s), text: s.text });
    if (s.warn) rows.push({ num: '', cpu: s.cpu, lead: '', text: `!! WARN_ON: ${s.warn}` });
  }
  const heads = t.cpus.map((c, i) => `CPU${i} (${c})`);
  const natural = heads.map((h) => Math.max(12, h.length));
  const narrowest = heads.map((h) => h.length);
  for (const r of rows) {
    natural[r.cpu] = Math.max(natural[r.cpu]!, r.lead.length + r.text.length);
    for (const w of breakable(r.text)) narrowest[r.cpu] = Math.max(narrowest[r.cpu]!, r.lead.length + w.trimEnd().length);
  }
  const num = Math.max(3, String(t.steps.length).length + 1);
  const widths = o.width === undefined ? natural : fitColumns(natural, narrowest, o.width - num - 3 * n);
  const line = (first: string, cells: string[]): string => `${first.padEnd(num)} | ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')}`.trimEnd();
  const lines: string[] = [];
  lines.push(line('#', heads));
  lines.push(`${'-'.repeat(num)}-+-${widths.map((w) => '-'.repeat(w)).join('-+-')}`);
  for (const r of rows) {
    wrapWords(r.text, widths[r.cpu]! - r.lead.length).forEach((part, k) => {
      const cells = new Array<string>(n).fill('');
      cells[r.cpu] = `${k === 0 || r.lead !== '~ ' ? r.lead : '  '}${part}`;
      lines.push(line(k === 0 ? r.num : '', cells));
    });
  }
  return lines.join('\n');
}

/** Column widths that fit `room` where they can: each at least its narrowest, the room left shared out evenly. */
function fitColumns(natural: number[], narrowest: number[], room: number): number[] {
  if (natural.reduce((a, b) => a + b, 0) <= room) return natural;
  const w = narrowest.slice();
  let spare = room - w.reduce((a, b) => a + b, 0);
  while (spare > 0) {
    const wanting = w.map((x, i) => i).filter((i) => w[i]! < natural[i]!);
    if (wanting.length === 0) break;
    const share = Math.max(1, Math.floor(spare / wanting.length));
    for (const i of wanting) {
      const add = Math.min(share, natural[i]! - w[i]!, spare);
      w[i]! += add;
      spare -= add;
      if (spare === 0) break;
    }
  }
  return w;
}

/** The pieces a cell may break between: an identifier with the one character after it; a name is never split. */
function breakable(text: string): string[] {
  return text.match(/[A-Za-z0-9_]*[^A-Za-z0-9_]?/g)!.filter((x) => x !== '');
}

/** Breaks text into lines of at most `width` characters: at spaces, and inside a word too long for a line between its pieces. */
function wrapWords(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const out: string[] = [];
  let cur = '';
  const add = (piece: string, sep: string): void => {
    if (cur === '') cur = piece;
    else if (cur.length + sep.length + piece.length <= width) cur += sep + piece;
    else {
      out.push(cur);
      cur = piece;
    }
  };
  for (const word of text.split(' ')) {
    if (word.length <= width) add(word, ' ');
    else breakable(word).forEach((piece, k) => add(piece, k === 0 ? ' ' : ''));
  }
  if (cur !== '') out.push(cur);
  return out;
}
