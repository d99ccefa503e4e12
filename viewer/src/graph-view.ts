// The execution graph drawn in the page: src/explore/graph.ts computes it (the same
// graph as `check --graph`), Graphviz compiled to WebAssembly (@viz-js/viz) lays it
// out as xdot JSON, and this file draws that layout with SVG elements one by one,
// each label through textContent: Graphviz's own SVG text is never parsed into the page.

import { instance, type Viz } from '@viz-js/viz';
import { executionGraph, toDot, type ExecutionGraph, type GraphScope } from '../../src/explore/graph.js';
import type { Trace, TraceWitness } from '../../src/explore/trace-schema.js';
import { svg } from './dom.js';

/** Graphviz's layout time grows fast with the graph; larger graphs are not drawn. */
export const GRAPH_EVENTS_DRAWN_MAX = 600;

let vizPromise: Promise<Viz> | null = null;
const viz = (): Promise<Viz> => (vizPromise ??= instance());

interface XdotOp {
  op: string;
  color?: string;
  points?: [number, number][];
  rect?: [number, number, number, number];
  pt?: [number, number];
  align?: string;
  text?: string;
  size?: number;
  face?: string;
  style?: string;
}

interface XdotObject {
  name: string;
  _draw_?: XdotOp[];
  _ldraw_?: XdotOp[];
}

interface XdotEdge {
  tail: number;
  head: number;
  _draw_?: XdotOp[];
  _ldraw_?: XdotOp[];
  _hdraw_?: XdotOp[];
  _tdraw_?: XdotOp[];
  label?: string;
}

interface Xdot {
  bb: string;
  objects?: XdotObject[];
  edges?: XdotEdge[];
  _draw_?: XdotOp[];
  _ldraw_?: XdotOp[];
}

/** Only plain colours reach an attribute ('#rrggbb[aa]' or a name). */
const color = (c: string | undefined): string => (c && /^(#[0-9a-fA-F]{6,8}|[a-z]+)$/.test(c) ? c : 'black');

/** Draws xdot operations into `g`; y is flipped (Graphviz's origin is at the bottom). */
function drawOps(g: SVGGElement, ops: readonly XdotOp[] | undefined, height: number): void {
  let stroke = 'black';
  let fill = 'none';
  let font = 12;
  let dashed = false;
  const pts = (p: readonly [number, number][]): string => p.map(([x, y]) => `${x},${height - y}`).join(' ');
  for (const o of ops ?? []) {
    switch (o.op) {
      case 'c':
        stroke = color(o.color);
        break;
      case 'C':
        fill = color(o.color);
        break;
      case 'F':
        font = o.size ?? 12;
        break;
      case 'S':
        dashed = o.style === 'dashed';
        break;
      case 'e':
      case 'E': {
        const [x, y, rx, ry] = o.rect!;
        g.append(svg('ellipse', { cx: x, cy: height - y, rx, ry, stroke, fill: o.op === 'E' ? fill : 'none' }));
        break;
      }
      case 'p':
      case 'P':
        g.append(svg('polygon', { points: pts(o.points!), stroke, fill: o.op === 'P' ? fill : 'none' }));
        break;
      case 'L':
        g.append(svg('polyline', { points: pts(o.points!), stroke, fill: 'none' }));
        break;
      case 'b':
      case 'B': {
        const p = o.points!;
        let d = `M${p[0]![0]},${height - p[0]![1]}`;
        for (let k = 1; k + 2 < p.length; k += 3) d += ` C${p[k]![0]},${height - p[k]![1]} ${p[k + 1]![0]},${height - p[k + 1]![1]} ${p[k + 2]![0]},${height - p[k + 2]![1]}`;
        const path = svg('path', { d, stroke, fill: 'none' });
        if (dashed) path.setAttribute('stroke-dasharray', '5,3');
        g.append(path);
        break;
      }
      case 'T': {
        const [x, y] = o.pt!;
        const t = svg('text', { x, y: height - y, 'font-size': font, 'font-family': 'Helvetica, Arial, sans-serif', fill: stroke, 'text-anchor': o.align === 'l' ? 'start' : o.align === 'r' ? 'end' : 'middle' });
        t.textContent = o.text ?? '';
        g.append(t);
        break;
      }
      default:
        break;
    }
  }
}

export interface DrawnGraph {
  svg: SVGSVGElement;
  graph: ExecutionGraph;
}

/** The execution graph of `run`, laid out and drawn; null when it is too large to draw. */
export async function drawGraph(t: Trace, run: Pick<TraceWitness, 'steps' | 'state'>, scope: GraphScope): Promise<DrawnGraph | { tooLarge: number }> {
  const graph = executionGraph(t, run, scope);
  if (graph.events.length > GRAPH_EVENTS_DRAWN_MAX) return { tooLarge: graph.events.length };
  const v = await viz();
  const r = v.render(toDot(graph, `${t.scenario.name}: ${graph.events.length} events`), { format: 'json' });
  if (r.status !== 'success') throw new Error(r.errors.map((e) => e.message).join('; '));
  const x = JSON.parse(r.output) as Xdot;
  const [, , w, hgt] = x.bb.split(',').map(Number) as [number, number, number, number];
  const root = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, class: 'graph' });
  const bg = svg('g', { class: 'clusters' });
  drawOps(bg, x._draw_, hgt);
  drawOps(bg, x._ldraw_, hgt);
  root.append(bg);
  const ids = new Set(graph.events.map((e) => e.id));
  for (const o of x.objects ?? []) {
    const g = svg('g');
    drawOps(g, o._draw_, hgt);
    drawOps(g, o._ldraw_, hgt);
    if (ids.has(o.name)) {
      g.setAttribute('class', 'node');
      g.setAttribute('data-event', o.name);
    } else g.setAttribute('class', 'cluster');
    root.append(g);
  }
  for (const e of x.edges ?? []) {
    const g = svg('g', { class: 'edge' });
    if (e.label && /^(po|rf|co|fr|ipi)$/.test(e.label)) g.setAttribute('data-rel', e.label);
    for (const ops of [e._draw_, e._hdraw_, e._tdraw_, e._ldraw_]) drawOps(g, ops, hgt);
    root.append(g);
  }
  return { svg: root, graph };
}
