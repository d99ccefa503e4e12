// The execution of a trace as a graph, in the style of herd7's pictures: events
// (reads, writes, read-modify-writes, fences, interrupts), program order (po),
// reads-from (rf), coherence order (co), from-reads (fr, to the next write in co)
// and IPIs from the sending CPU to the handler's entry. It is computed from the
// trace artifact alone (DESIGN.md: front ends read the trace), so the command
// line (--graph FILE.dot/.svg) and the browser viewer draw the same graph.
//
// The machine's semantics the graph follows: on x86 a store enters its CPU's store
// buffer and takes its place in coherence order when the buffer drains it (a
// `flush` step); on sc, and for a locked read-modify-write, the write reaches
// memory at its step. A load reads from its own store buffer (`from: buffer`: the
// newest buffered store of its location) or from memory (the last write drained).

import type { Trace, TraceStep, TraceWitness } from './trace-schema.js';

export type EventKind = 'R' | 'W' | 'RMW' | 'F' | 'IPI' | 'IRQ' | 'CALL';

export interface GraphEvent {
  /** 'e12' (the trace's step 12), or 'i0' (an initial write); never text from the trace. */
  id: string;
  /** The step (0-based), or -1 for an initial write. */
  step: number;
  /** The CPU, or -1 for an initial write. */
  cpu: number;
  kind: EventKind;
  loc?: string;
  value?: string;
  /** What the picture prints: 'W x=1', 'F smp_mb membarrier.a', 'IPI -> CPU1'. */
  label: string;
  /** Code the scenario itself runs (its source line), as opposed to the kernel or the hardware. */
  user: boolean;
}

export type EdgeKind = 'po' | 'rf' | 'co' | 'fr' | 'ipi';

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
}

export interface ExecutionGraph {
  cpus: string[];
  events: GraphEvent[];
  edges: GraphEdge[];
}

/** Which events to keep: those of the scenario's locations and code ('scenario'), or every event ('all'). */
export type GraphScope = 'scenario' | 'all';

/** The context a step runs in, for shading: user code, kernel, interrupt handler, or the hardware (a drain, a fetch, a walk). */
export type StepContext = 'user' | 'kernel' | 'irq' | 'hardware';

export function stepContext(s: TraceStep): StepContext {
  if (s.kind === 'flush' || s.kind === 'fetch' || s.kind === 'walk') return 'hardware';
  if (s.ctx > 0 || s.kind === 'irq') return 'irq';
  return s.line !== undefined ? 'user' : 'kernel';
}

/** A step that switches tasks: __schedule() writing a runqueue's curr, or context_switch()'s switch_to(). */
export function isContextSwitch(s: TraceStep): boolean {
  if (s.op === 'st' && s.loc !== undefined && /^rq\d+->curr$/.test(s.loc)) return true;
  return s.op === 'nop' && s.fn.startsWith('switch_to') && s.calls?.[s.calls.length - 1] === 'context_switch';
}

/**
 * The locations the scenario's events are about: those it names (from the trace's
 * state) and those its own code touches (a user page's frame).
 */
function scenarioLocations(run: Pick<TraceWitness, 'steps' | 'state'>): Set<string> {
  const named = run.state ? run.state.locations.filter((l) => l.scope !== 'kernel').map((l) => l.name) : [];
  return new Set([...named, ...run.steps.filter((s) => s.line !== undefined && s.loc !== undefined).map((s) => s.loc!)]);
}

/** A system call made by the scenario's code: the step that enters it, before the kernel's own steps. */
export function isSyscallEntry(s: TraceStep): boolean {
  if (s.op !== 'nop' || !s.fn.includes('(')) return false;
  const last = s.calls?.[s.calls.length - 1];
  return last === undefined || last.startsWith('sys_');
}

/** The execution graph of a trace's run (the trace's own, or one of its further witnesses). */
export function executionGraph(t: Pick<Trace, 'cpus'>, run: Pick<TraceWitness, 'steps' | 'state'>, scope: GraphScope = 'scenario'): ExecutionGraph {
  const userLocs = scenarioLocations(run);
  const keepLoc = (loc: string | undefined): boolean => scope === 'all' || (loc !== undefined && userLocs.has(loc));
  const events: GraphEvent[] = [];
  const edges: GraphEdge[] = [];
  const init = new Map<string, GraphEvent>();
  const initOf = (loc: string, value: string | undefined): GraphEvent => {
    let e = init.get(loc);
    if (!e) {
      const v = run.state?.initial.mem[loc] ?? value ?? '0';
      e = { id: `i${init.size}`, step: -1, cpu: -1, kind: 'W', loc, value: v, label: `W ${loc}=${v}`, user: true };
      init.set(loc, e);
    }
    return e;
  };
  /** The last write of each location in memory, and the writes each CPU's store buffer holds, oldest first. */
  const memWriter = new Map<string, GraphEvent>();
  const buffers = new Map<number, GraphEvent[]>();
  const coChain = new Map<string, GraphEvent[]>();
  const reads: { r: GraphEvent; w: GraphEvent }[] = [];
  const lastOnCpu = new Map<number, GraphEvent>();
  const pendingIpi = new Map<number, GraphEvent[]>();
  const kept = new Set<string>();

  const toMemory = (w: GraphEvent): void => {
    const loc = w.loc!;
    if (!coChain.has(loc)) coChain.set(loc, [initOf(loc, undefined)]);
    coChain.get(loc)!.push(w);
    memWriter.set(loc, w);
  };
  const writerOf = (loc: string, value: string | undefined): GraphEvent => memWriter.get(loc) ?? initOf(loc, value);

  for (const s of run.steps) {
    const user = s.line !== undefined;
    const base = { id: `e${s.i}`, step: s.i, cpu: s.cpu, user };
    let e: GraphEvent | null = null;
    switch (s.op) {
      case 'st': {
        e = { ...base, kind: 'W', loc: s.loc, value: s.value, label: `W ${s.loc}=${s.value}` };
        if (s.loc === undefined) break;
        // A store the trace says entered the store buffer takes its place in co when drained.
        if (s.text.includes('into the store buffer')) {
          if (!buffers.has(s.cpu)) buffers.set(s.cpu, []);
          buffers.get(s.cpu)!.push(e);
        } else toMemory(e);
        break;
      }
      case 'flush': {
        const q = buffers.get(s.cpu);
        const w = q?.shift();
        if (w && w.loc === s.loc) toMemory(w);
        break;
      }
      case 'ld':
      case 'await': {
        e = { ...base, kind: 'R', loc: s.loc, value: s.value, label: `R ${s.loc}=${s.value}` };
        if (s.loc === undefined) break;
        const own = s.from === 'buffer' ? [...(buffers.get(s.cpu) ?? [])].reverse().find((w) => w.loc === s.loc) : undefined;
        reads.push({ r: e, w: own ?? writerOf(s.loc, s.value) });
        break;
      }
      case 'walk': {
        e = { ...base, kind: 'R', loc: s.loc, value: s.value, label: `R ${s.loc}=${s.value} (page walk)` };
        if (s.loc !== undefined) reads.push({ r: e, w: writerOf(s.loc, s.value) });
        break;
      }
      case 'rmw': {
        const wrote = /wrote (\S+)/.exec(s.text)?.[1];
        e = { ...base, kind: 'RMW', loc: s.loc, value: s.value, label: `RMW ${s.loc}=${s.value}${wrote ? `->${wrote}` : ''}` };
        if (s.loc === undefined) break;
        reads.push({ r: e, w: writerOf(s.loc, s.value) });
        if (wrote) toMemory(e);
        break;
      }
      case 'mb':
      case 'serialize':
      case 'cr3':
      case 'invlpg':
        e = { ...base, kind: 'F', label: `F ${s.fn}${s.label ? ` ${s.label}` : ''}` };
        break;
      case 'raise':
        e = { ...base, kind: 'IPI', label: `IPI -> CPU${s.target ?? '?'}` };
        if (s.target !== undefined) {
          if (!pendingIpi.has(s.target)) pendingIpi.set(s.target, []);
          pendingIpi.get(s.target)!.push(e);
        }
        break;
      case 'irq-entry': {
        e = { ...base, kind: 'IRQ', label: s.text.replace(/^interrupt: enter /, 'IRQ ') };
        const from = pendingIpi.get(s.cpu)?.shift();
        if (from) edges.push({ from: from.id, to: e.id, kind: 'ipi' });
        break;
      }
      case 'nop':
        // A system call from the scenario's code: one event standing for the call.
        if (isSyscallEntry(s)) e = { ...base, kind: 'CALL', label: s.fn, user: true };
        break;
      default:
        break;
    }
    if (!e) continue;
    const keep = scope === 'all' || (e.loc !== undefined ? keepLoc(e.loc) : e.user || e.kind === 'CALL' || (e.kind === 'F' && user));
    if (!keep) continue;
    events.push(e);
    kept.add(e.id);
    const prev = lastOnCpu.get(s.cpu);
    if (prev) edges.push({ from: prev.id, to: e.id, kind: 'po' });
    lastOnCpu.set(s.cpu, e);
  }
  // Initial writes of the locations kept, first in the picture.
  const inits = [...init.values()].filter((w) => keepLoc(w.loc));
  for (const w of inits) kept.add(w.id);
  for (const { r, w } of reads) if (kept.has(r.id) && kept.has(w.id)) edges.push({ from: w.id, to: r.id, kind: 'rf' });
  for (const chain of coChain.values()) {
    const ws = chain.filter((w) => kept.has(w.id));
    for (let k = 1; k < ws.length; k++) edges.push({ from: ws[k - 1]!.id, to: ws[k]!.id, kind: 'co' });
  }
  // fr: a read to the write that follows the one it read from in co.
  for (const { r, w } of reads) {
    if (!kept.has(r.id)) continue;
    const chain = coChain.get(w.loc!) ?? [w];
    const next = chain[chain.indexOf(w) + 1];
    if (next && kept.has(next.id) && next.id !== r.id) edges.push({ from: r.id, to: next.id, kind: 'fr' });
  }
  // An IPI is drawn only between events the picture keeps.
  const shown = edges.filter((x) => x.kind !== 'ipi' || (kept.has(x.from) && kept.has(x.to)));
  return { cpus: t.cpus, events: [...inits, ...events], edges: shown };
}

const EDGE_STYLE: Record<EdgeKind, string> = {
  po: 'color=black',
  rf: 'color=red, fontcolor=red',
  co: 'color=blue, fontcolor=blue',
  fr: 'color=orange, fontcolor=orange',
  ipi: 'color=purple, fontcolor=purple, style=dashed',
};

/** A DOT string literal: every character of `s` is printed as itself. */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

/** The graph in Graphviz's DOT language: one cluster per CPU, edges labelled with their relation. */
export function toDot(g: ExecutionGraph, title: string): string {
  const lines: string[] = [];
  lines.push('digraph execution {');
  lines.push(`  label=${dotString(title)}; labelloc=t; fontname="Helvetica"; rankdir=TB; newrank=true;`);
  lines.push('  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=11];');
  lines.push('  edge [fontname="Helvetica", fontsize=10];');
  const inits = g.events.filter((e) => e.cpu < 0);
  if (inits.length) {
    lines.push('  subgraph cluster_init {');
    lines.push(`    label="initial state"; style=dashed; color=gray;`);
    for (const e of inits) lines.push(`    ${e.id} [label=${dotString(e.label)}, fillcolor="#eeeeee"];`);
    lines.push('  }');
  }
  g.cpus.forEach((name, c) => {
    const evs = g.events.filter((e) => e.cpu === c);
    if (evs.length === 0) return;
    lines.push(`  subgraph cluster_cpu${c} {`);
    lines.push(`    label=${dotString(`CPU${c} (${name})`)}; color=gray;`);
    for (const e of evs) {
      const fill = e.kind === 'F' ? '#fff3c4' : e.kind === 'IPI' || e.kind === 'IRQ' ? '#f0e0ff' : e.user ? '#ddeeff' : '#ffffff';
      lines.push(`    ${e.id} [label=${dotString(e.label)}, fillcolor="${fill}"];`);
    }
    lines.push('  }');
  });
  for (const x of g.edges) {
    const extra = x.kind === 'po' ? ', weight=10' : ', constraint=false';
    lines.push(`  ${x.from} -> ${x.to} [label="${x.kind}", ${EDGE_STYLE[x.kind]}${extra}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
