// The suite's table, printed a row at a time as each check finishes: the columns are
// sized before the first check runs, from what the plan knows (names, machines,
// expectations) and the widest word a column can hold.

import type { FormatOptions, SuiteRow } from './format.js';

const NUMERIC = new Set(['executions', 'graphs', 'ms']);

export class SuiteTable {
  private readonly head: string[];
  private readonly widths: number[];

  constructor(planned: { test: string; model: string; expected: string }[], private readonly o: FormatOptions) {
    this.head = ['scenario', 'machine', 'expected', 'observed', 'executions', 'graphs', ...(o.time ? ['ms'] : []), 'status'];
    const widest = (h: string, xs: string[]): number => Math.max(h.length, ...xs.map((x) => x.length));
    this.widths = [
      widest('scenario', planned.map((p) => p.test)),
      widest('machine', planned.map((p) => p.model)),
      widest('expected', planned.map((p) => p.expected)),
      widest('observed', ['Sometimes', 'Assertion']),
      'executions'.length,
      'graphs'.length,
      ...(o.time ? [8] : []),
      'confirmed'.length, // the last column: only its dashes have a width
    ];
  }

  header(): string {
    return `${this.fmt(this.head)}\n${this.widths.map((w) => '-'.repeat(w)).join('  ')}`;
  }

  row(r: SuiteRow): string {
    return this.fmt([
      r.test, r.model, r.expected, r.observed,
      r.executions === null ? '-' : String(r.executions),
      r.graphs === null ? '-' : String(r.graphs),
      ...(this.o.time ? [r.ms === null ? '-' : r.ms.toFixed(1)] : []),
      r.status,
    ]);
  }

  private fmt(cells: string[]): string {
    return cells.map((c, i) => (NUMERIC.has(this.head[i]!) ? c.padStart(this.widths[i]!) : c.padEnd(this.widths[i]!))).join('  ').trimEnd();
  }
}
