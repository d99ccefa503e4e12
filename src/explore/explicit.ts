// Exploration without reduction: a depth-first search of every interleaving of
// every process, merging identical states. A state is identified exactly (no
// hashing): each CPU's history of steps and results (which fixes its code's
// position and registers), each location's coherence order so far, the
// store-buffer fill levels and the interrupt state. Merging identical states
// loses no behaviour, so the set of final states and execution graphs is the
// same as an enumeration of all interleavings; the number of interleavings is
// counted along the way (paths to final states).
//
// This is the reference the reduced search is checked against: it shares only
// the machine with it.

import { AssertionFailed, BoundExceeded, Interner } from '../machine/machine.js';
import type { Program } from '../litmus/program.js';
import { Collector } from './collector.js';
import { freshRun, type Run } from './run.js';
import type { ExploreOptions, ExploreResult } from './types.js';
import { memoryReason, STATE_ENTRY_BYTES } from './memory.js';

export const STATES_MAX = 5_000_000;

export function exploreExplicit(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions): ExploreResult {
  const interner = opts.interner ?? new Interner();
  const col = new Collector(prop, opts.onGraph, opts.witnessesMax ?? 1);
  const { stepsMax } = opts.bounds;
  const statesMax = Math.min(STATES_MAX, opts.bounds.executionsMax);
  const progressEvery = opts.progressEvery ?? 10_000;
  const paths = new Map<string, bigint>();
  const path: number[] = [];
  let steps = 0;
  let finals = 0;
  let visited = 0; // distinct states entered
  const internedBase = interner.bytes;
  let stateBytes = 0; // what `paths` holds, counted for the memory budget
  const memoryBytes = (): number => col.bytes + stateBytes + interner.bytes - internedBase;
  let incompleteReason: string | null = null;
  let run: Run = freshRun(program, interner);
  let stale = false; // `run` is not at the state `path` leads to

  const restore = (): void => {
    run = freshRun(program, interner);
    for (const p of path) {
      run.machine.step(p);
      steps++;
    }
    stale = false;
  };

  // Iterative DFS; each frame is a state with its remaining enabled processes.
  interface Frame { key: string; rest: number; total: bigint }
  const stack: Frame[] = [];

  const enter = (): bigint | null => {
    // Returns the path count if the state is already known or final; else pushes a frame.
    const m = run.machine;
    const key = m.stateKey();
    const known = paths.get(key);
    if (known !== undefined) return known;
    // A new state: the bound counts it before it is visited, so a bound equal to the
    // states needed is a complete search.
    if (visited >= statesMax) {
      incompleteReason ??= `the search stopped after ${statesMax} states (states_max)`;
      return 0n;
    }
    if (memoryBytes() > opts.bounds.memoryMax) {
      incompleteReason ??= memoryReason(opts.bounds.memoryMax, finals);
      return 0n;
    }
    visited++;
    stateBytes += STATE_ENTRY_BYTES + key.length;
    const en = m.enabledMask();
    if (en === 0) {
      finals++;
      if (m.quiescent()) col.final(m.graphKey(), run.instance.observe(m.mem), () => [...path]);
      else col.deadlock(() => [...path]);
      for (const w of run.instance.warnings()) col.assertion(w, () => [...path]);
      paths.set(key, 1n);
      return 1n;
    }
    if (path.length >= stepsMax) {
      incompleteReason ??= `an execution exceeded ${stepsMax} steps (steps_max)`;
      paths.set(key, 0n);
      return 0n;
    }
    stack.push({ key, rest: en, total: 0n });
    return null;
  };

  let rootCount = enter();
  while (stack.length > 0 && incompleteReason === null) {
    const f = stack[stack.length - 1]!;
    if (f.rest === 0) {
      stack.pop();
      paths.set(f.key, f.total);
      if (opts.onProgress && paths.size % progressEvery === 0) {
        opts.onProgress({ executions: finals, steps, graphs: col.graphCount });
      }
      if (stack.length === 0) {
        rootCount = f.total;
        break;
      }
      path.pop();
      stale = true;
      stack[stack.length - 1]!.total += f.total;
      continue;
    }
    const p = 31 - Math.clz32(f.rest & -f.rest);
    f.rest &= f.rest - 1;
    if (stale) restore();
    try {
      run.machine.step(p);
    } catch (e) {
      if (e instanceof AssertionFailed) {
        col.assertion(e.assertion, () => [...path, p]);
        stale = true;
        continue;
      }
      if (!(e instanceof BoundExceeded)) throw e;
      incompleteReason ??= e.reason;
      stale = true;
      continue;
    }
    steps++;
    path.push(p);
    const c = enter();
    if (c !== null) {
      path.pop();
      stale = true;
      f.total += c;
    }
  }
  return {
    reduction: false,
    outcomes: col.sortedOutcomes(),
    graphs: col.graphCount,
    positive: col.positive,
    negative: col.negative,
    executions: finals,
    sleepBlocked: 0,
    interleavings: incompleteReason === null ? (rootCount ?? 0n) : null,
    states: paths.size,
    steps,
    memoryBytes: memoryBytes(),
    deadlocks: col.deadlocks,
    complete: incompleteReason === null,
    incompleteReason,
    assertions: [...col.assertions].map(([name, runs]) => ({ name, runs })),
    witnesses: col.witnesses,
    witnessList: col.witnessList,
  };
}
