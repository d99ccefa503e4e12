// What `check` writes besides its verdict: the witness's execution graph
// (--graph FILE.dot or FILE.svg) and the trace in the ITF format (--itf FILE).

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { executionGraph, toDot, type GraphScope } from '../explore/graph.js';
import { toItf } from '../explore/itf.js';
import type { Trace } from '../explore/trace.js';
import { SmpError } from '../scenario/errors.js';

/** A picture of more events than this is not drawn (Graphviz's layout time grows fast); --graph-scope scenario keeps the scenario's own. */
export const GRAPH_EVENTS_MAX = 2_000;
/** The time Graphviz may take to lay out one graph. */
const SVG_RENDER_TIMEOUT_MS = 120_000;

export function graphFormat(file: string): 'dot' | 'svg' {
  if (/\.dot$/i.test(file)) return 'dot';
  if (/\.svg$/i.test(file)) return 'svg';
  throw new SmpError('SMP200', `--graph writes FILE.dot (Graphviz's DOT) or FILE.svg, not '${file}'`);
}

/** The DOT text of the trace's execution graph. */
export function traceDot(t: Trace, scope: GraphScope): string {
  const g = executionGraph(t, t, scope);
  if (g.events.length > GRAPH_EVENTS_MAX) {
    throw new SmpError('SMP200', `the execution graph has ${g.events.length} events, more than ${GRAPH_EVENTS_MAX} that --graph draws: use --graph-scope scenario`);
  }
  return toDot(g, `${t.scenario.name} on ${t.machine}${t.variant ? ` (${t.variant})` : ''}: ${t.kind} execution`);
}

/** DOT rendered to SVG by Graphviz compiled to WebAssembly, in a child process (src/cli/render-svg.ts). */
export function renderSvg(dot: string): string {
  const script = fileURLToPath(new URL('./render-svg.js', import.meta.url));
  try {
    return execFileSync(process.execPath, [script], { input: dot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: SVG_RENDER_TIMEOUT_MS, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`Graphviz (WebAssembly) could not render the graph: ${(err.stderr || err.message).trim()}`);
  }
}

export function traceItf(t: Trace): string {
  return `${JSON.stringify(toItf(t, t), null, 1)}\n`;
}
