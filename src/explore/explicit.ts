// Exploration without reduction: a depth-first search of every interleaving of
// every process, merging identical states. A state is identified exactly (no
// hashing): each CPU's history of steps and results (which fixes its code's
// position and registers), each location's coherence order so far, the
// store-buffer fill levels and the interrupt state. Merging identical states
// loses no behaviour, so the set of final states and execution graphs is the
// same as an enumeration of all interleavings; the number of interleavings is
// counted along the way (paths to final states).
//
// The code running on the machine is generators, which cannot be copied, so going
// back to a state means running a fresh machine's code through the path to it from the
// start: with the results the steps gave it the first time (Machine.codeLog), none of
// the machine's own work done again, and then the machine's state saved at that state
// loaded (Machine.replayCode(), Machine.checkpoint()). Before it takes any
// step out of a state, the search probes each (Machine.probe(): the step's effect on
// the machine's data, undone, giving the key of the state it leads to without
// resuming any code): a step into a state already known costs a probe, not a replay,
// and a replay is needed only to go into a second new state from the same one.
// `steps` counts the probes with the steps taken.
//
// This is the reference the reduced search is checked against: it shares only
// the machine with it.

import { AssertionFailed, BoundExceeded, CodeLog, Interner, type Checkpoint, type Machine } from '../machine/machine.js';
import type { Program } from '../litmus/program.js';
import { Collector } from './collector.js';
import { freshRun, type Run } from './run.js';
import type { ExploreOptions, ExploreResult } from './types.js';
import { memoryReason, STATE_ENTRY_BYTES } from './memory.js';
import { StateTable } from './state-table.js';

export const STATES_MAX = 5_000_000;

/**
 * A number of paths: a number while it is exact (below 2^53), a bigint beyond (the
 * interleavings of a TLB scenario run past 10^40). Most counts stay small, and adding
 * numbers allocates nothing.
 */
type Count = number | bigint;
function add(a: Count, b: Count): Count {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= Number.MAX_SAFE_INTEGER) return s;
  }
  return BigInt(a) + BigInt(b);
}

/** Reorders a frame's steps: those of processes that resume no code first (Machine.resumesNoCode()), stable. */
function hardwareFirst(m: Machine, f: { procs: number[]; keys: number[] }): void {
  let hw = 0;
  for (const p of f.procs) if (m.resumesNoCode(p)) hw++;
  if (hw === 0 || hw === f.procs.length) return;
  const procs = f.procs.slice();
  const keys = f.keys.slice();
  let a = 0;
  let b = hw;
  for (let i = 0; i < procs.length; i++) {
    const j = m.resumesNoCode(procs[i]!) ? a++ : b++;
    f.procs[j] = procs[i]!;
    f.keys[j] = keys[i]!;
  }
}

export function exploreExplicit(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions): ExploreResult {
  const interner = opts.interner ?? new Interner();
  const col = new Collector(prop, opts.onGraph, opts.witnessesMax ?? 1);
  const { stepsMax } = opts.bounds;
  const statesMax = Math.min(STATES_MAX, opts.bounds.executionsMax);
  const progressEvery = opts.progressEvery ?? 10_000;
  // Each state by its entry in the table of keys, and its count of paths once known
  // (undefined: probed, not yet entered or not yet finished).
  const table = new StateTable();
  const paths: (Count | undefined)[] = [];
  const path: number[] = [];
  let steps = 0;
  let finals = 0;
  let visited = 0; // distinct states entered
  let done = 0; // states whose every path has been counted
  const internedBase = interner.bytes;
  let stateBytes = 0; // what `paths` holds, counted for the memory budget
  const memoryBytes = (): number => col.bytes + stateBytes + interner.bytes - internedBase;
  let incompleteReason: string | null = null;
  let run: Run = freshRun(program, interner);
  let stale = false; // `run` is not at the state `path` leads to
  // What the steps of `path` gave the code (Machine.codeLog), and where each step's
  // numbers end (logAt[d]: after the first d steps), for code-only replays.
  const codeOnly = opts.codeOnlyReplay !== false;
  const log = new CodeLog();
  const logAt: number[] = [0];
  if (codeOnly) run.machine.codeLog = log;
  // The machine's state at each state of the path that has a second step to take (per depth, reused).
  const checkpoints: Checkpoint[] = [];

  const restore = (): void => {
    // The machine left is dropped: the replay's takes its storage (Machine.recycle()).
    run.machine.recycle();
    run = freshRun(program, interner);
    const f = stack[stack.length - 1];
    if (codeOnly && f !== undefined && f.checkpoint) {
      // The code alone runs through the path, and the machine's state is loaded
      // (Machine.replayCode()): what a full replay's steps would give, without their work.
      run.machine.replayCode(path, path.length, log, logAt[path.length]!, checkpoints[path.length]!);
      steps += path.length; // (counted as the steps of a full replay: the same count either way)
    } else {
      for (const p of path) {
        run.machine.step(p);
        steps++;
      }
    }
    if (codeOnly) run.machine.codeLog = log;
    stale = false;
  };

  // Iterative DFS. Each frame is a state, with the steps out of it that led to states
  // not yet known when it was entered (their keys found by Machine.probe(), which takes
  // no step for good): a step into a known state costs a probe, not a replay.
  interface Frame { key: number; alias: number; procs: number[]; keys: number[]; next: number; total: Count; checkpoint: boolean }
  const stack: Frame[] = [];
  /** Steps that failed a kernel assertion, by the key probe() gave them: taking one again fails it again. */
  const failing = new Map<number, string>();

  /**
   * `key`: the state's entry; `alias`: the entry of the key the probe of the step into it
   * gave, when that differs (the step's code went on to return from a handler; else -1):
   * the state's count is kept under both.
   */
  const enter = (key: number, alias = -1): Count | null => {
    // Returns the path count if the state is already known or final; else pushes a frame.
    const m = run.machine;
    const known = paths[key];
    if (known !== undefined) {
      if (alias >= 0) paths[alias] = known;
      return known;
    }
    // A new state: the bound counts it before it is visited, so a bound equal to the
    // states needed is a complete search.
    if (visited >= statesMax) {
      incompleteReason ??= `the search stopped after ${statesMax} states (states_max)`;
      return 0;
    }
    if (memoryBytes() > opts.bounds.memoryMax) {
      incompleteReason ??= memoryReason(opts.bounds.memoryMax, finals);
      return 0;
    }
    visited++;
    stateBytes += STATE_ENTRY_BYTES + table.keyLength(key) + (alias < 0 ? 0 : STATE_ENTRY_BYTES + table.keyLength(alias));
    let en = m.enabledMask();
    if (en === 0) {
      finals++;
      if (m.quiescent()) col.final(m.graphKey(), run.instance.observe(m.mem), () => [...path]);
      else col.deadlock(() => [...path]);
      for (const w of run.instance.warnings()) col.assertion(w, () => [...path]);
      paths[key] = 1;
      if (alias >= 0) paths[alias] = 1;
      return 1;
    }
    if (path.length >= stepsMax) {
      incompleteReason ??= `an execution exceeded ${stepsMax} steps (steps_max)`;
      paths[key] = 0;
      if (alias >= 0) paths[alias] = 0;
      return 0;
    }
    const f: Frame = { key, alias, procs: [], keys: [], next: 0, total: 0, checkpoint: false };
    for (; en !== 0; en &= en - 1) {
      const p = 31 - Math.clz32(en & -en);
      let k: number;
      try {
        k = table.intern(m.probeInto(p));
      } catch (e) {
        if (e instanceof AssertionFailed) {
          col.assertion(e.assertion, () => [...path, p]);
          continue;
        }
        if (!(e instanceof BoundExceeded)) throw e;
        incompleteReason ??= e.reason;
        return 0;
      }
      steps++;
      const c = paths[k];
      if (c === undefined) {
        f.procs.push(p);
        f.keys.push(k);
        continue;
      }
      f.total = add(f.total, c);
      const failed = failing.size > 0 ? failing.get(k) : undefined;
      if (failed !== undefined) col.assertion(failed, () => [...path, p]);
    }
    // The steps that resume no code (drains, instruction fetches, page walks) first,
    // the others after them, each in process order. Which step out of a state the search
    // takes first decides which later states are new when the search comes back to it,
    // each of which costs a replay from the start; this order needs a half to a third of
    // the replays of process order on the TLB scenarios (docs/scale.md).
    if (f.procs.length > 1) {
      hardwareFirst(m, f);
      // A second step out of this state will need the machine as it is now.
      if (codeOnly) {
        checkpoints[path.length] = m.checkpoint(checkpoints[path.length]);
        f.checkpoint = true;
      }
    }
    stack.push(f);
    return null;
  };

  let rootCount = enter(table.intern(run.machine.packState()));
  while (stack.length > 0 && incompleteReason === null) {
    const f = stack[stack.length - 1]!;
    // The next step out of f into a state still not known (an earlier step's subtree may have reached it since).
    let p = -1;
    let key = -1;
    while (f.next < f.procs.length) {
      const i = f.next++;
      const c = paths[f.keys[i]!];
      if (c === undefined) {
        p = f.procs[i]!;
        key = f.keys[i]!;
        break;
      }
      f.total = add(f.total, c);
      const failed = failing.size > 0 ? failing.get(f.keys[i]!) : undefined;
      if (failed !== undefined) col.assertion(failed, () => [...path, f.procs[i]!]);
    }
    if (p < 0) {
      stack.pop();
      paths[f.key] = f.total;
      if (f.alias >= 0) paths[f.alias] = f.total;
      if (opts.onProgress && ++done % progressEvery === 0) {
        opts.onProgress({ executions: finals, steps, graphs: col.graphCount });
      }
      if (stack.length === 0) {
        rootCount = f.total;
        break;
      }
      path.pop();
      stale = true;
      const up = stack[stack.length - 1]!;
      up.total = add(up.total, f.total);
      continue;
    }
    if (stale) restore();
    const pops = run.machine.pops;
    // The step's numbers in the log follow those of the path's steps.
    if (codeOnly && log.nums.length !== logAt[path.length]) log.nums.length = logAt[path.length]!;
    try {
      run.machine.step(p);
    } catch (e) {
      if (e instanceof AssertionFailed) {
        col.assertion(e.assertion, () => [...path, p]);
        failing.set(key, e.assertion);
        paths[key] = 0;
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
    logAt[path.length] = log.nums.length;
    // The key its probe gave, unless a handler returned as the code resumed (Machine.pops).
    const now = run.machine.pops === pops ? key : table.intern(run.machine.packState());
    const c = now === key ? enter(key) : enter(now, key);
    if (c !== null) {
      path.pop();
      stale = true;
      f.total = add(f.total, c);
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
    interleavings: incompleteReason === null ? BigInt(rootCount ?? 0) : null,
    states: visited,
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
