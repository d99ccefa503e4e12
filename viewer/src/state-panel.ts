// The state at the selected step: each CPU's store buffer, pending interrupts,
// running handlers and code versions, then the scenario's locations and the
// kernel's (rq->curr, mm->membarrier_state and the runqueue copies first).

import { stateAt, type TraceState } from '../../src/explore/state.js';
import type { TraceStep } from '../../src/explore/trace-schema.js';
import { h } from './dom.js';

/** Kernel locations a reader looks at first: rq->curr, mm->membarrier_state, the runqueues' copies, ->mm. */
const KEY_KERNEL = [/^rq\d+->curr$/, /->membarrier_state$/, /->mm$/, /loaded_mm/];

function table(rows: [string, string][], changed: ReadonlySet<string>, cls: string): HTMLTableElement {
  const t = h('table', { class: `kv ${cls}` });
  for (const [k, v] of rows) {
    const tr = h('tr', changed.has(k) ? { class: 'changed' } : {}, h('th', {}, k), h('td', {}, v));
    t.append(tr);
  }
  return t;
}

export function statePanel(state: TraceState | undefined, steps: readonly TraceStep[], i: number, cpus: readonly string[]): HTMLElement {
  const panel = h('div', { class: 'state', 'data-step': String(i + 1) });
  if (!state) {
    panel.append(h('p', { class: 'note' }, 'This trace carries no state (trace format 2): write it again with --trace to see the state at each step.'));
    return panel;
  }
  const now = stateAt(state, i);
  const changed = new Set(i >= 0 ? Object.keys(state.after[i]?.mem ?? {}) : []);
  const s = i >= 0 ? steps[i] : undefined;
  now.cpus.forEach((c, k) => {
    const box = h('div', { class: 'cpu-state', 'data-cpu': String(k) }, h('h4', {}, `CPU${k} (${cpus[k] ?? ''})`));
    const buf = h('div', { class: 'buffer' }, h('span', { class: 'what' }, 'store buffer: '));
    if (c.buffer.length === 0) buf.append(h('span', { class: 'empty' }, 'empty'));
    for (const e of c.buffer) buf.append(h('span', { class: 'entry' }, `${e.loc}=${e.value}`));
    box.append(buf);
    box.append(h('div', { class: 'irq' }, `interrupts ${c.irq}${c.handlers.length ? `, in ${c.handlers.join(' > ')}` : ''}`));
    box.append(h('div', { class: 'pending' }, `pending: ${c.pending.length ? c.pending.join(', ') : 'none'}`));
    const code = Object.entries(c.code);
    if (code.length) box.append(h('div', { class: 'code' }, `instruction versions: ${code.map(([l, v]) => `${l}=${v}`).join(', ')}`));
    if (c.cr3) box.append(h('div', { class: 'cr3' }, `CR3: ${c.cr3}`));
    if (c.tlb) box.append(h('div', { class: 'tlb' }, `TLB: ${c.tlb.length ? c.tlb.join('; ') : 'empty'}`));
    if (s && s.cpu === k) box.classList.add('active');
    panel.append(box);
  });
  const scen = state.locations.filter((l) => l.scope !== 'kernel').map((l): [string, string] => [l.name, now.mem[l.name] ?? '']);
  panel.append(h('h4', {}, 'Scenario locations'), table(scen, changed, 'scenario-locs'));
  const kernel = state.locations.filter((l) => l.scope === 'kernel');
  if (kernel.length) {
    const key = kernel.filter((l) => KEY_KERNEL.some((r) => r.test(l.name)));
    const rest = kernel.filter((l) => !key.includes(l));
    panel.append(h('h4', {}, 'Kernel: rq->curr, membarrier_state, ->mm'), table(key.map((l) => [l.name, now.mem[l.name] ?? '']), changed, 'kernel-key'));
    const det = h('details', {}, h('summary', {}, `Other kernel locations (${rest.length})`), table(rest.map((l) => [l.name, now.mem[l.name] ?? '']), changed, 'kernel-rest'));
    if (rest.some((l) => changed.has(l.name))) det.open = true;
    panel.append(det);
  }
  return panel;
}
