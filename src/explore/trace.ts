// The trace artifact: one JSON format for the CLI, replay and the viewer.
// A trace is the list of choices (process ids) of one execution plus, for
// readers, the steps that choice list produces. Replaying the choices on the
// same scenario, machine and kernel reproduces the execution exactly.

import { z } from 'zod';
import type { CheckResult } from '../check.js';
import type { Machine, StepInfo } from '../machine/machine.js';
import type { Program } from '../litmus/program.js';
import { replayChoices } from './run.js';
import { VERSION } from '../version.js';
import { sha256 } from '../sha256.js';

export const TRACE_FORMAT = 'smpcheck-trace';
/** 2: the scenario's sha256, the variant by name and a variant module by its sha256. */
export const TRACE_VERSION = 2;

export type TraceKind = 'positive' | 'negative' | 'deadlock' | 'assertion';

export const TraceStepSchema = z.object({
  i: z.number().int(),
  proc: z.number().int(),
  cpu: z.number().int(),
  kind: z.enum(['cpu', 'flush', 'irq', 'fetch', 'walk']),
  ctx: z.number().int(),
  op: z.string(),
  fn: z.string(),
  text: z.string(),
  loc: z.string().optional(),
  value: z.string().optional(),
  from: z.enum(['buffer', 'memory']).optional(),
  label: z.string().optional(),
  pairs: z.string().optional(),
  line: z.number().int().optional(),
  col: z.number().int().optional(),
  /** A WARN_ON() that fired during this step. */
  warn: z.string().optional(),
});

export const TraceSchema = z.object({
  format: z.literal(TRACE_FORMAT),
  version: z.literal(TRACE_VERSION),
  tool: z.string(),
  scenario: z.object({ name: z.string(), file: z.string(), source: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  machine: z.enum(['sc', 'x86']),
  kernel: z.string().nullable(),
  /** The variant's name (a built-in one, or the name a variant module declares). */
  variant: z.string().nullable(),
  /** The variant module the run used, by its file and the sha256 of its source; replay needs it on the command line. */
  variant_module: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
  bounds: z.object({ stepsMax: z.number().int(), executionsMax: z.number().int(), memoryMax: z.number().int().optional() }),
  kind: z.enum(['positive', 'negative', 'deadlock', 'assertion']),
  cpus: z.array(z.string()),
  choices: z.array(z.number().int().nonnegative()).max(1_000_000),
  steps: z.array(TraceStepSchema),
  final: z.record(z.string(), z.string()).nullable(),
  blocked: z.array(z.number().int()).optional(),
  /** For a deadlock: what each blocked CPU waits on, one phrase per CPU. */
  waits: z.array(z.string()).optional(),
  assertion: z.string().optional(),
});

export type Trace = z.infer<typeof TraceSchema>;
export type TraceStep = z.infer<typeof TraceStepSchema>;

/** Which execution a trace should show: a deadlock first, then the one the condition asks about. */
export function pickWitness(r: CheckResult): { kind: TraceKind; choices: number[] } | null {
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

export function buildTrace(r: CheckResult, kind: TraceKind, choices: number[]): Trace {
  if (r.engine !== 'machine') throw new Error('internal: a trace of the graph engine was asked for');
  const usesKernel = Boolean(r.program.kernelLayout);
  const { values: _values, ...run } = runOfChoices(r.program, choices);
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
  };
}

/** What a trace asserts about its run: the steps, the final state, who is blocked on what, the assertion. */
export type TraceRun = Pick<Trace, 'steps' | 'final' | 'blocked' | 'waits' | 'assertion'>;

/** Replays `choices` and describes the run as a trace does (throws ReplayError on an impossible choice). */
export function runOfChoices(program: Program, choices: readonly number[]): TraceRun & { values: number[] | null } {
  const { run, steps, assertion, bug, warnings } = replayChoices(program, choices, true);
  const m = run.machine;
  const values = !bug && m.quiescent() ? run.instance.observe(m.mem) : null;
  const final = values ? Object.fromEntries(program.observedNames.map((n, i) => [n, program.formatValue(values[i]!)])) : null;
  return {
    steps: withWarnings(steps.map((s, i) => traceStep(program, s, i)), warnings),
    final,
    ...(final === null && !bug ? { blocked: m.blockedCpus(), waits: describeWaits(program, m.blockedWaits()) } : {}),
    ...(assertion ? { assertion } : {}),
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
      return `${at()} = ${val}${s.from === 'buffer' ? ' (own store buffer)' : ''}`;
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

/** One line per step, one column per CPU. */
export function renderTraceText(t: Trace, maxWidth = 72): string {
  const n = t.cpus.length;
  const cellText = (s: TraceStep): string => `${s.kind === 'flush' || s.op === 'fetch' || s.kind === 'walk' ? '~ ' : s.ctx > 0 ? '  irq| ' : ''}${s.text}`;
  const width = Math.min(maxWidth, Math.max(12, ...t.cpus.map((c, i) => `CPU${i} (${c})`.length), ...t.steps.map((s) => cellText(s).length)));
  const pad = (s: string, w: number): string => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const num = Math.max(3, String(t.steps.length).length + 1);
  const lines: string[] = [];
  lines.push(`${pad('#', num)} | ${t.cpus.map((c, i) => pad(`CPU${i} (${c})`, width)).join(' | ')}`);
  lines.push(`${'-'.repeat(num)}-+-${t.cpus.map(() => '-'.repeat(width)).join('-+-')}`);
  for (const s of t.steps) {
    const cells = new Array<string>(n).fill('');
    cells[s.cpu] = cellText(s);
    lines.push(`${pad(String(s.i + 1), num)} | ${cells.map((c) => pad(c, width)).join(' | ')}`.trimEnd());
    if (s.warn) {
      const warn = new Array<string>(n).fill('');
      warn[s.cpu] = `!! WARN_ON: ${s.warn}`;
      lines.push(`${pad('', num)} | ${warn.map((c) => pad(c, width)).join(' | ')}`.trimEnd());
    }
  }
  return lines.map((l) => l.trimEnd()).join('\n');
}
