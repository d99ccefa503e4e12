// A trace in the Informal Trace Format (ITF) of Apalache and Quint
// (https://apalache-mc.org/docs/adr/015adr-trace.html), for people who read
// traces with those tools. State 0 is the machine before the first step; state
// i+1 is the machine after step i. Every state has the same variables:
//   mem     a map from each location's name to its value
//   cpus    a map from CPU number to {buffer, pending, irq, handlers, code}
//   action  the step that led to the state ({cpu, kind, fn, text}; cpu -1 for state 0)
// Integers are {"#bigint": "..."}; every value that the trace prints as a decimal
// integer becomes one, other values (task names, `mm1`, `NULL`) stay strings.

import type { Trace, TraceWitness } from './trace-schema.js';
import { stateAt, type CpuState } from './state.js';

type Itf = string | boolean | Itf[] | { [k: string]: Itf };

export const ITF_VARS = ['mem', 'cpus', 'action'] as const;

const big = (n: number | bigint): Itf => ({ '#bigint': String(n) });
const value = (v: string): Itf => (/^-?\d+$/.test(v) ? big(BigInt(v)) : v);
const map = (entries: [Itf, Itf][]): Itf => ({ '#map': entries.map(([k, v]) => [k, v]) });

function cpuItf(c: CpuState): Itf {
  return {
    buffer: c.buffer.map((e) => ({ loc: e.loc, value: value(e.value) })),
    pending: c.pending,
    irq: c.irq === 'on',
    handlers: c.handlers,
    code: map(Object.entries(c.code).map(([k, v]) => [k, value(v)])),
  };
}

/** The ITF document of a trace's run (the trace's own, or one of its witnesses); the run must carry its state (trace format 3). */
export function toItf(t: Pick<Trace, 'scenario' | 'machine' | 'variant' | 'tool'>, run: Pick<TraceWitness, 'kind' | 'steps' | 'state'>): Itf {
  const st = run.state;
  if (!st) throw new Error('internal: an ITF export needs the state at each step (trace format 3)');
  const states: Itf[] = [];
  for (let i = -1; i < run.steps.length; i++) {
    const now = stateAt(st, i);
    const s = i >= 0 ? run.steps[i]! : null;
    states.push({
      '#meta': { index: big(i + 1) },
      mem: map(st.locations.map((l) => [l.name, value(now.mem[l.name] ?? '0')])),
      cpus: map(now.cpus.map((c, k) => [big(k), cpuItf(c)])),
      action: s ? { cpu: big(s.cpu), kind: s.kind, fn: s.fn, text: s.text } : { cpu: big(-1), kind: 'init', fn: '', text: 'initial state' },
    });
  }
  return {
    '#meta': {
      format: 'ITF',
      'format-description': 'https://apalache-mc.org/docs/adr/015adr-trace.html',
      source: t.scenario.file,
      description: `${t.tool}: ${t.scenario.name} on ${t.machine}${t.variant ? ` (kernel ${t.variant})` : ''}, ${run.kind} execution`,
    },
    vars: [...ITF_VARS],
    states,
  };
}
