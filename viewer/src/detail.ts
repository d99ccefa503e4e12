// The selected step in words: its text, the kernel functions it ran in, its
// barrier and partner, its source line, a WARN_ON, and at the last step the end of
// the run.

import type { Trace, TraceWitness } from '../../src/explore/trace-schema.js';
import { stepContext } from '../../src/explore/graph.js';
import { h } from './dom.js';

export function detail(t: Trace, run: TraceWitness, i: number): HTMLElement {
  const s = run.steps[i];
  const box = h('div', { class: 'detail' });
  if (!s) {
    box.append(h('p', {}, 'Before the first step.'));
    return box;
  }
  box.append(h('h3', {}, `Step ${i + 1} of ${run.steps.length} · CPU${s.cpu} (${t.cpus[s.cpu] ?? ''}) · ${stepContext(s)}`));
  box.append(h('p', { class: 'step-text' }, s.text));
  if (s.calls?.length && s.line === undefined) box.append(h('p', { class: 'calls' }, `in ${s.calls.join(' > ')}`));
  if (s.label) box.append(h('p', { class: 'barrier' }, `barrier '${s.label}'${s.pairs ? ` pairs with '${s.pairs}'` : ''}`));
  if (s.line !== undefined) {
    const src = t.scenario.source.split('\n')[s.line - 1] ?? '';
    box.append(h('pre', { class: 'source' }, `${t.scenario.file}:${s.line}: ${src.trim()}`));
  }
  if (s.warn) box.append(h('p', { class: 'warn-text' }, `WARN_ON: ${s.warn}`));
  if (i === run.steps.length - 1) {
    const end = run.final ? `Final: ${Object.entries(run.final).map(([k, v]) => `${k}=${v};`).join(' ')}` : `Blocked forever: ${(run.waits ?? []).join('; ')}`;
    box.append(h('p', { class: 'final' }, end));
    if (run.assertion) box.append(h('p', { class: 'warn-text' }, `Kernel assertion failed: ${run.assertion}`));
  }
  return box;
}

