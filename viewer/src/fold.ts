// Folding of kernel internals: consecutive steps of one CPU inside the same kernel
// function call become one row ("sys_membarrier(): 60 steps"), which opens into
// rows for the functions it called, down to single steps. A step's path is the
// kernel functions it came from (the trace's `calls`) without the entry wrappers
// every step of a context shares; a drain or a fetch of a CPU inside a call
// belongs to that call.

import type { TraceStep } from '../../src/explore/trace-schema.js';

/** Functions every step of a context runs under: they would fold everything into one row. */
const WRAPPERS = new Set(['cpu_startup_entry', 'do_syscall_64', 'idtentry']);

export interface Fold {
  /** '12/2': the first step and the depth; stable while the trace is shown. */
  id: string;
  fn: string;
  cpu: number;
  depth: number;
  first: number;
  last: number;
  steps: number[];
  children: Row[];
}

export type Row = { fold: Fold } | { step: number; depth: number };

export function stepPaths(steps: readonly TraceStep[]): string[][] {
  const lastPath = new Map<number, string[]>();
  return steps.map((s) => {
    let path = (s.calls ?? []).filter((f) => !WRAPPERS.has(f));
    // A hardware step (a drain, a fetch) or an interrupt entry inside a kernel call stays in it.
    if (!s.calls && s.line === undefined && s.op !== 'irq-entry') path = lastPath.get(s.cpu) ?? [];
    if (s.line !== undefined) path = [];
    lastPath.set(s.cpu, path);
    return path;
  });
}

/** The rows of `idx` (consecutive step indices) at `depth`. */
export function buildRows(steps: readonly TraceStep[], paths: readonly string[][], idx: readonly number[], depth: number): Row[] {
  const rows: Row[] = [];
  let k = 0;
  while (k < idx.length) {
    const i = idx[k]!;
    const fn = paths[i]![depth];
    if (fn === undefined) {
      rows.push({ step: i, depth });
      k++;
      continue;
    }
    const cpu = steps[i]!.cpu;
    const prefix = paths[i]!.slice(0, depth + 1).join('/');
    const group: number[] = [];
    while (k < idx.length) {
      const j = idx[k]!;
      if (steps[j]!.cpu !== cpu || paths[j]!.length <= depth || paths[j]!.slice(0, depth + 1).join('/') !== prefix) break;
      group.push(j);
      k++;
    }
    if (group.length === 1) {
      rows.push({ step: i, depth });
      continue;
    }
    // A call whose steps all lie in one callee reads as one row: 'sys_membarrier > membarrier_private_expedited'.
    let name = fn;
    let d = depth + 1;
    let children = buildRows(steps, paths, group, d);
    while (children.length === 1 && 'fold' in children[0]! && children[0].fold.steps.length === group.length) {
      name = `${name} > ${children[0].fold.fn}`;
      d = children[0].fold.depth + 1;
      children = children[0].fold.children;
    }
    rows.push({ fold: { id: `${i}/${depth}`, fn: name, cpu, depth, first: group[0]!, last: group[group.length - 1]!, steps: group, children } });
  }
  return rows;
}

/** The folds that contain step i, outermost first. */
export function foldsOf(rows: readonly Row[], i: number): Fold[] {
  for (const r of rows) {
    if ('fold' in r && r.fold.steps.includes(i)) return [r.fold, ...foldsOf(r.fold.children, i)];
  }
  return [];
}
