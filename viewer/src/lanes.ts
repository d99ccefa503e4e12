// The swimlanes: one row per step or folded kernel call, one column per CPU, the
// step in its CPU's lane shaded by context (user, kernel, interrupt, hardware), with
// marks for store-buffer drains, context switches and IPIs, and arrows from each
// IPI's sending step to the handler's entry on the target CPU.

import type { TraceStep, TraceWitness } from '../../src/explore/trace-schema.js';
import { isContextSwitch, isSyscallEntry, stepContext } from '../../src/explore/graph.js';
import type { Fold } from './fold.js';
import { h, svg } from './dom.js';

function ctxClass(s: TraceStep): string {
  const c = [`ctx-${stepContext(s)}`];
  if (s.op === 'flush') c.push('drain');
  if (isContextSwitch(s)) c.push('ctx-switch');
  if (s.op === 'raise') c.push('ipi-send');
  if (s.op === 'irq-entry') c.push('ipi-recv');
  if (s.warn) c.push('warn');
  return c.join(' ');
}

function laneCells(cpu: number, content: HTMLElement, n: number): HTMLElement[] {
  const cells: HTMLElement[] = [];
  for (let c = 0; c < n; c++) cells.push(c === cpu ? content : h('div', { class: 'cell empty' }));
  return cells;
}

/** The row of one step (`depth`: how many folded calls it sits in). */
export function stepRow(s: TraceStep, depth: number, n: number): HTMLElement {
  const badge = isContextSwitch(s) ? h('span', { class: 'badge switch' }, 'context switch') : s.op === 'flush' ? h('span', { class: 'badge drain' }, 'drain') : s.op === 'raise' ? h('span', { class: 'badge ipi' }, 'IPI') : null;
  const cell = h('div', { class: `cell step ${ctxClass(s)}`, style: `padding-left:${0.4 + depth}em` }, badge, h('span', { class: 'text' }, s.text), s.label ? h('span', { class: 'barrier' }, s.label) : null);
  if (s.warn) cell.append(h('div', { class: 'warn-text' }, `WARN_ON: ${s.warn}`));
  return h('div', { class: 'row', 'data-step': String(s.i + 1), 'data-cpu': String(s.cpu) }, h('div', { class: 'num' }, String(s.i + 1)), ...laneCells(s.cpu, cell, n));
}

/** The row of a kernel call, folded or open; `onToggle` opens or folds it. */
export function foldRow(f: Fold, steps: readonly TraceStep[], n: number, isOpen: boolean, onToggle: () => void): HTMLElement {
  // A call is shaded by the context of its own steps (a drain inside it is the hardware's).
  const ctx = stepContext(steps[f.steps.find((i) => stepContext(steps[i]!) !== 'hardware') ?? f.first]!);
  const toggle = h('button', { class: 'fold-toggle', type: 'button', 'aria-expanded': String(isOpen), title: isOpen ? 'fold' : 'unfold' }, isOpen ? '▾' : '▸');
  toggle.addEventListener('click', (e) => {
    e.stopPropagation();
    onToggle();
  });
  // A system call's fold names the call the scenario made.
  const entry = steps[f.first]!;
  const call = isSyscallEntry(entry) ? h('span', { class: 'call' }, entry.fn) : null;
  const switches = f.steps.some((i) => isContextSwitch(steps[i]!));
  const cell = h('div', { class: `cell fold ctx-${ctx}${switches ? ' ctx-switch' : ''}`, style: `padding-left:${0.4 + f.depth}em` }, toggle, switches ? h('span', { class: 'badge switch' }, 'context switch') : null, h('span', { class: 'fn' }, `${f.fn.split(' > ').join('() > ')}()`), call, h('span', { class: 'count' }, `${f.steps.length} steps`));
  return h('div', { class: 'row fold-row', 'data-step': String(f.last + 1), 'data-fold': f.id, 'data-cpu': String(f.cpu) }, h('div', { class: 'num' }, `${f.first + 1}–${f.last + 1}`), ...laneCells(f.cpu, cell, n));
}

/** Each IPI: the step that raised it and the handler's entry on the target CPU, in order. */
export function ipiPairs(run: Pick<TraceWitness, 'steps'>): [number, number][] {
  const pending = new Map<number, number[]>();
  const pairs: [number, number][] = [];
  for (const s of run.steps) {
    if (s.op === 'raise' && s.target !== undefined) {
      if (!pending.has(s.target)) pending.set(s.target, []);
      pending.get(s.target)!.push(s.i);
    } else if (s.op === 'irq-entry') {
      const from = pending.get(s.cpu)?.shift();
      if (from !== undefined) pairs.push([from, s.i]);
    }
  }
  return pairs;
}

/** Draws the IPI arrows over `lanes`; `rowOf` gives the row a step is shown in (its own, or its folded call's). */
export function drawArrows(lanes: HTMLElement, run: Pick<TraceWitness, 'steps'>, rowOf: (step: number) => HTMLElement | null): void {
  const box = lanes.getBoundingClientRect();
  const layer = svg('svg', { class: 'arrows', width: lanes.scrollWidth, height: lanes.scrollHeight });
  const defs = svg('defs');
  const marker = svg('marker', { id: 'ipi-head', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#8a2be2' }));
  defs.append(marker);
  layer.append(defs);
  for (const [a, b] of ipiPairs(run)) {
    const ra = rowOf(a);
    const rb = rowOf(b);
    if (!ra || !rb || ra === rb) continue;
    const ca = ra.children[1 + run.steps[a]!.cpu]?.getBoundingClientRect();
    const cb = rb.children[1 + run.steps[b]!.cpu]?.getBoundingClientRect();
    if (!ca || !cb) continue;
    const x1 = (ca.left < cb.left ? ca.right - 8 : ca.left + 8) - box.left + lanes.scrollLeft;
    const x2 = (ca.left < cb.left ? cb.left + 8 : cb.right - 8) - box.left + lanes.scrollLeft;
    const y1 = ca.top + ca.height / 2 - box.top + lanes.scrollTop;
    const y2 = cb.top + cb.height / 2 - box.top + lanes.scrollTop;
    layer.append(svg('path', { class: 'ipi-arrow', 'data-from': a + 1, 'data-to': b + 1, d: `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`, fill: 'none', stroke: '#8a2be2', 'stroke-width': 1.5, 'marker-end': 'url(#ipi-head)' }));
  }
  lanes.append(layer);
}
