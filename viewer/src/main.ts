// The smpcheck trace viewer: a static page that reads a trace (docs/json.md) embedded
// by `smpcheck view`, picked with the file picker or dropped on the page. A trace is
// untrusted data: it is validated with the trace schema and every string of it is
// put into the page as text (dom.ts), never as markup or code.

import { traceSchema, type Trace, type TraceStep, type TraceWitness } from '../../src/explore/trace-schema.js';
import type { GraphScope } from '../../src/explore/graph.js';
import { buildRows, foldsOf, stepPaths, type Row } from './fold.js';
import { clear, h } from './dom.js';
import { drawArrows, foldRow, stepRow } from './lanes.js';
import { detail } from './detail.js';
import { statePanel } from './state-panel.js';
import { drawGraph } from './graph-view.js';
import { STYLE } from './style.js';

/** A dropped or picked file larger than this is refused unread (the CLI's limit). */
const TRACE_BYTES_MAX = 64 * 1024 * 1024;

interface View {
  trace: Trace;
  /** 0: the trace's own run; k: its witness k (trace.witnesses[k - 1]). */
  witness: number;
  run: TraceWitness;
  paths: string[][];
  rows: Row[];
  open: Set<string>;
  /** The selected step (0-based), -1 before the first. */
  sel: number;
  /** The row selected for it: a folded call's id, or null for the step's own row. */
  selRow: string | null;
  query: string;
  scope: GraphScope;
}

let view: View | null = null;
let graphToken = 0;

const app = h('div', { id: 'app' });

function runOf(t: Trace, w: number): TraceWitness {
  if (w === 0) return t;
  return t.witnesses![w - 1]!;
}

function setTrace(t: Trace, witness = 0): void {
  const run = runOf(t, witness);
  const paths = stepPaths(run.steps);
  view = {
    trace: t, witness, run, paths,
    rows: buildRows(run.steps, paths, run.steps.map((_, i) => i), 0),
    open: new Set(),
    sel: -1,
    selRow: null,
    query: view?.query ?? '',
    scope: view?.scope ?? 'scenario',
  };
  const fromHash = stepFromHash();
  select(fromHash ?? (run.steps.length ? 0 : -1), false);
  render();
  void renderGraph();
}

function stepFromHash(): number | null {
  const m = /(?:^#|&)step=(\d+)/.exec(location.hash);
  if (!m || !view) return null;
  const n = Number(m[1]);
  return n >= 1 && n <= view.run.steps.length ? n - 1 : null;
}

function writeHash(): void {
  if (!view) return;
  const w = view.witness ? `&witness=${view.witness + 1}` : '';
  history.replaceState(null, '', `#step=${view.sel + 1}${w}`);
}

/**
 * Selects step i: its own row (opening the folds around it), or with `row` the row of
 * a folded call, which stands for the state after the call's last step.
 */
function select(i: number, scroll = true, row: string | null = null): void {
  if (!view) return;
  view.sel = Math.max(-1, Math.min(i, view.run.steps.length - 1));
  view.selRow = row;
  if (row === null) for (const f of foldsOf(view.rows, view.sel)) view.open.add(f.id);
  writeHash();
  if (scroll) {
    render();
    highlightGraph();
  }
}

interface VisibleRow {
  row: Row;
  /** The step it stands for (a folded call: its last step). */
  step: number;
  depth: number;
  /** A folded call's id, or null for a step's row. */
  key: string | null;
}

/** The rows shown, in order. */
function visibleRows(): VisibleRow[] {
  const out: VisibleRow[] = [];
  const walk = (rows: readonly Row[]): void => {
    for (const r of rows) {
      if ('fold' in r) {
        out.push({ row: r, step: r.fold.last, depth: r.fold.depth, key: r.fold.id });
        if (view!.open.has(r.fold.id)) walk(r.fold.children);
      } else out.push({ row: r, step: r.step, depth: r.depth, key: null });
    }
  };
  walk(view!.rows);
  return out;
}

/** The index of the selected row among the visible ones: the chosen row, else the step's own, else the innermost folded call holding it. */
function selectedIndex(rows: readonly VisibleRow[]): number {
  const v = view!;
  const exact = rows.findIndex((r) => r.key === v.selRow && r.step === v.sel);
  if (exact >= 0) return exact;
  const own = rows.findIndex((r) => r.key === null && r.step === v.sel);
  if (own >= 0) return own;
  let best = -1;
  rows.forEach((r, k) => {
    if ('fold' in r.row && r.row.fold.steps.includes(v.sel)) best = k;
  });
  return best;
}

function matches(s: TraceStep, q: string): boolean {
  if (!q) return false;
  const ql = q.toLowerCase();
  return s.fn.toLowerCase().includes(ql) || (s.calls ?? []).some((f) => f.toLowerCase().includes(ql));
}

function header(t: Trace): HTMLElement {
  const v = view!;
  const title = h('h1', {}, `${t.scenario.name}`);
  const meta = h('div', { class: 'meta' }, `${t.machine}${t.variant ? `, kernel ${t.variant}` : ''} · ${v.run.kind} execution · ${v.run.steps.length} steps · ${t.tool}`);
  const wsel = h('select', { id: 'witness', title: 'witness' });
  const all = 1 + (t.witnesses?.length ?? 0);
  for (let k = 0; k < all; k++) {
    const o = h('option', { value: String(k) }, `witness ${k + 1} of ${all} (${runOf(t, k).kind}, ${runOf(t, k).steps.length} steps)`);
    if (k === v.witness) o.selected = true;
    wsel.append(o);
  }
  wsel.addEventListener('change', () => setTrace(t, Number(wsel.value)));
  const search = h('input', { id: 'search', type: 'search', placeholder: 'kernel function (/)', value: v.query });
  search.addEventListener('input', () => {
    v.query = search.value.trim();
    render(true);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      const next = v.run.steps.find((s) => s.i > v.sel && matches(s, v.query)) ?? v.run.steps.find((s) => matches(s, v.query));
      if (next) select(next.i);
      search.blur();
    }
  });
  const hits = v.query ? v.run.steps.filter((s) => matches(s, v.query)).length : 0;
  const scope = h('select', { id: 'scope', title: 'graph events' }, h('option', { value: 'scenario' }, 'graph: scenario events'), h('option', { value: 'all' }, 'graph: every event'));
  scope.value = v.scope;
  scope.addEventListener('change', () => {
    v.scope = scope.value === 'all' ? 'all' : 'scenario';
    void renderGraph();
  });
  const legend = h('div', { class: 'legend' }, h('span', { class: 'ctx-user' }, 'user'), h('span', { class: 'ctx-kernel' }, 'kernel'), h('span', { class: 'ctx-irq' }, 'interrupt'), h('span', { class: 'ctx-hardware' }, 'hardware (drain, fetch, walk)'));
  const keys = h('div', { class: 'keys' }, 'j/k or ↓/↑: step · → / ←: unfold / fold · /: search');
  return h('header', {}, title, meta, h('div', { class: 'controls' }, all > 1 ? wsel : null, search, v.query ? h('span', { class: 'hits' }, `${hits} matching steps`) : null, scope, openButton()), legend, keys);
}

function toggleFold(id: string): void {
  if (!view) return;
  if (view.open.has(id)) view.open.delete(id);
  else view.open.add(id);
  render();
}

function render(keepFocus = false): void {
  if (!view) return;
  const focused = keepFocus ? document.activeElement?.id : undefined;
  const { trace: t, run } = view;
  const n = t.cpus.length;
  clear(app);
  app.append(header(t));
  const lanesHead = h('div', { class: 'lanes-head', style: `grid-template-columns: 4.5em repeat(${n}, minmax(14em, 1fr))` }, h('div', { class: 'num' }, '#'), ...t.cpus.map((c, k) => h('div', { class: 'lane-title', 'data-cpu': String(k) }, `CPU${k} (${c})`)));
  const lanes = h('div', { class: 'lanes', style: `--cpus:${n}` });
  const visible = visibleRows();
  const selIdx = selectedIndex(visible);
  visible.forEach((vr, idx) => {
    const el = 'fold' in vr.row ? foldRow(vr.row.fold, run.steps, n, view!.open.has(vr.row.fold.id), () => toggleFold(vr.key!)) : stepRow(run.steps[vr.step]!, vr.depth, n);
    el.style.gridTemplateColumns = `4.5em repeat(${n}, minmax(14em, 1fr))`;
    if (idx === selIdx) el.classList.add('selected');
    const hit = 'fold' in vr.row ? vr.row.fold.steps.some((i) => matches(run.steps[i]!, view!.query)) : matches(run.steps[vr.step]!, view!.query);
    if (hit) el.classList.add('match');
    el.addEventListener('click', () => select(vr.step, true, vr.key));
    lanes.append(el);
  });
  const side = h('aside', { class: 'side' }, detail(t, run, view.sel), statePanel(run.state, run.steps, view.sel, t.cpus));
  const graph = h('section', { class: 'graph-wrap', id: 'graph' }, h('h2', {}, 'Execution graph'), h('div', { class: 'graph-host' }, lastGraph ?? h('p', { class: 'note' }, 'Laying out the graph…')));
  app.append(h('main', { class: 'layout' }, h('section', { class: 'lanes-wrap' }, lanesHead, lanes), side), graph);
  drawArrows(lanes, run, (i) => {
    // A step inside a folded call is shown by the outermost folded call around it.
    const f = foldsOf(view!.rows, i).find((x) => !view!.open.has(x.id));
    return lanes.querySelector<HTMLElement>(f ? `.row[data-fold="${f.id}"]` : `.row[data-step="${i + 1}"]:not(.fold-row)`);
  });
  const selRow = lanes.querySelector('.row.selected');
  if (selRow && typeof (selRow as HTMLElement).scrollIntoView === 'function') (selRow as HTMLElement).scrollIntoView({ block: 'nearest' });
  if (focused) {
    const el = document.getElementById(focused) as HTMLInputElement | null;
    el?.focus();
    if (el && 'selectionStart' in el && typeof el.value === 'string') el.setSelectionRange(el.value.length, el.value.length);
  }
  highlightGraph();
}

let lastGraph: Element | null = null;

async function renderGraph(): Promise<void> {
  if (!view) return;
  const token = ++graphToken;
  const v = view;
  lastGraph = h('p', { class: 'note' }, 'Laying out the graph…');
  render();
  let el: Element;
  try {
    const g = await drawGraph(v.trace, v.run, v.scope);
    el = 'tooLarge' in g ? h('p', { class: 'note' }, `The graph has ${g.tooLarge} events, too many to lay out here; choose "graph: scenario events", or use smpcheck check --graph FILE.svg.`) : g.svg;
  } catch (e) {
    el = h('p', { class: 'note error' }, `The graph could not be drawn: ${(e as Error).message}`);
  }
  if (token !== graphToken) return;
  // A click on an event selects its step.
  el.addEventListener('click', (e) => {
    const node = (e.target as Element | null)?.closest('g.node');
    const id = node?.getAttribute('data-event') ?? '';
    if (/^e\d+$/.test(id)) select(Number(id.slice(1)));
  });
  lastGraph = el;
  const host = document.querySelector('.graph-host');
  if (host) {
    clear(host);
    host.append(el);
  }
  document.body.setAttribute('data-graph', 'ready');
  highlightGraph();
}

/** Events after the selected step are faded; the selected step's event (or the last before it) is marked. */
function highlightGraph(): void {
  if (!view) return;
  const nodes = document.querySelectorAll<SVGGElement>('svg.graph g.node');
  let current: SVGGElement | null = null;
  let best = -2;
  nodes.forEach((g) => {
    const id = g.getAttribute('data-event') ?? '';
    const step = id.startsWith('e') ? Number(id.slice(1)) : -1;
    g.classList.toggle('future', step > view!.sel);
    g.classList.remove('current');
    if (step <= view!.sel && step > best) {
      best = step;
      current = g;
    }
  });
  if (current) (current as SVGGElement).classList.add('current');
}

function moveBy(d: number): void {
  if (!view) return;
  const rows = visibleRows();
  const k = selectedIndex(rows);
  const next = rows[Math.max(0, Math.min(rows.length - 1, k + d))];
  if (next) select(next.step, true, next.key);
}

function foldAtSelection(open: boolean): void {
  if (!view) return;
  const rows = visibleRows();
  const r = rows[selectedIndex(rows)];
  if (r && 'fold' in r.row && open !== view.open.has(r.row.fold.id)) {
    if (open) view.open.add(r.row.fold.id);
    else view.open.delete(r.row.fold.id);
    render();
    return;
  }
  if (!open) {
    // Fold the innermost open call around the selected row and select the call.
    const inner = r && 'fold' in r.row ? r.row.fold : null;
    const fs = foldsOf(view.rows, view.sel).filter((f) => view!.open.has(f.id) && f !== inner && (!inner || f.steps.length > inner.steps.length));
    const f = fs[fs.length - 1];
    if (f) {
      view.open.delete(f.id);
      select(f.last, true, f.id);
    }
  } else moveBy(1);
}

function onKey(e: KeyboardEvent): void {
  if (!view) return;
  const tag = (e.target as HTMLElement | null)?.tagName;
  if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
  const k = e.key;
  if (k === 'ArrowDown' || k === 'j') moveBy(1);
  else if (k === 'ArrowUp' || k === 'k') moveBy(-1);
  else if (k === 'ArrowRight' || k === 'l') foldAtSelection(true);
  else if (k === 'ArrowLeft' || k === 'h') foldAtSelection(false);
  else if (k === 'Home') select(0);
  else if (k === 'End') select(view.run.steps.length - 1);
  else if (k === '/') {
    document.getElementById('search')?.focus();
  } else return;
  e.preventDefault();
}

function showError(msg: string): void {
  clear(app);
  app.append(h('div', { class: 'landing' }, h('h1', {}, 'smpcheck trace viewer'), h('p', { class: 'error', id: 'load-error' }, msg), openButton(), h('p', {}, 'or drop a trace file (smpcheck check FILE --trace trace.json) on this page.')));
}

function load(text: string, name: string): void {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    showError(`${name} is not JSON: ${(e as Error).message}`);
    return;
  }
  const parsed = traceSchema().safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    showError(`${name} is not an smpcheck trace: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    return;
  }
  lastGraph = null;
  const w = Number(/[#&]witness=(\d+)/.exec(location.hash)?.[1] ?? '1') - 1;
  setTrace(parsed.data, w >= 0 && w <= (parsed.data.witnesses?.length ?? 0) ? w : 0);
}

function readFile(f: File): void {
  if (f.size > TRACE_BYTES_MAX) {
    showError(`${f.name} is larger than ${TRACE_BYTES_MAX} bytes`);
    return;
  }
  void f.text().then((t) => load(t, f.name));
}

function openButton(): HTMLElement {
  const input = h('input', { type: 'file', accept: '.json,application/json', id: 'file' });
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) readFile(f);
  });
  return h('label', { class: 'open' }, 'Open trace… ', input);
}

function start(): void {
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.append(style);
  document.body.append(app);
  document.addEventListener('keydown', onKey);
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) readFile(f);
  });
  window.addEventListener('hashchange', () => {
    const i = stepFromHash();
    if (i !== null && view && i !== view.sel) select(i);
  });
  window.addEventListener('resize', () => render());
  const embedded = document.getElementById('smpcheck-trace');
  if (embedded?.textContent) load(embedded.textContent, 'the embedded trace');
  else showError('No trace loaded.');
  document.body.setAttribute('data-ready', 'true');
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
