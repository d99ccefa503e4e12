// Merging the tasks of a search (src/explore/dpor.ts, the tree of tasks) that were
// searched apart: on worker threads (src/explore/parallel.ts) or on other machines
// (`smpcheck check --shard K/N`, `smpcheck merge`). A task searched apart starts
// from nothing: its own numbering of histories and its own set of graphs. Merged in
// the search's order (a task, then the children it froze into), its histories are
// numbered again as the one-thread search would have numbered them (in the order the
// task first made them, after those of the tasks before), its graphs are added as that
// search would have found them, and its counters are added. The merged result is the
// one-thread search's, field by field.
//
// A task is searched again, here, where merging cannot tell what the one-thread
// search would have done: a bound (executions_max, memory_max) that may stop the
// search inside it, or a witness it did not keep the run of.

import type { Program } from '../litmus/program.js';
import { KeyPacker, unpackKey } from '../machine/packed-key.js';
import { JOURNAL_RUNS, type JournalEntry } from './collector.js';
import { boundStops, memoryOf, newDporState, runTask, type DporState, type TaskSpec } from './dpor.js';
import type { ExploreOptions } from './types.js';

/** What one task's search found, in its own numbering (plain data: it crosses threads and files). */
export interface TaskResult {
  spec: TaskSpec;
  /** The tasks it froze into, in the search's order (none: it finished). */
  children: TaskSpec[];
  /** The task's history table: entry i is number i + 1, as 'parent|code'. */
  interned: string[];
  /**
   * A worker's result carries its table as one string instead, the entries joined by
   * newlines (`interned` is then empty): the calling thread keeps a worker's results
   * until the search's order reaches them, and a string per entry (hundreds per task,
   * thousands of tasks) made its heap, and the collector's work, grow.
   */
  internedText?: string;
  /** Its graphs in the order first reached, with the runs of the first few of each kind. */
  graphs: JournalEntry[];
  deadlocks: number;
  deadlockRun: number[] | null;
  assertions: [string, number][];
  assertionRun: number[] | null;
  executions: number;
  sleepBlocked: number;
  steps: number;
  runs: number;
  incompleteReason: string | null;
  /** A bound stopped the task's own search. */
  stopped: boolean;
  /** What it kept, as the memory budget counts (its numbering's share included). */
  memory: number;
}

/** A worker's result as it crosses to the calling thread: its table as one string (TaskResult.internedText). */
export function packedForTransfer(tr: TaskResult): TaskResult {
  // History codes are made of digits, letters and punctuation: never a newline.
  if (tr.interned.some((e) => e.includes('\n'))) return tr;
  return { ...tr, interned: [], internedText: tr.interned.join('\n') };
}

/** A result's table as a list, however it came. */
function internedOf(tr: TaskResult): string[] {
  if (tr.internedText === undefined) return tr.interned;
  return tr.internedText === '' ? [] : tr.internedText.split('\n');
}

/** The result as searchTask() gave it, its table as a list again (a shard's part holds the list). */
export function unpackedAfterTransfer(tr: TaskResult): TaskResult {
  if (tr.internedText === undefined) return tr;
  const { internedText: _text, ...rest } = tr;
  return { ...rest, interned: internedOf(tr) };
}

/** Searches one task on its own (a worker's or a shard's part of the search). */
export function searchTask(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions, spec: TaskSpec, onChildren?: (batch: TaskSpec[]) => void, journalRuns = JOURNAL_RUNS, afterRun?: () => void): TaskResult {
  const st = newDporState(prop, { ...opts, interner: undefined, onGraph: undefined }, journalRuns);
  const children = runTask(program, opts, st, spec, undefined, afterRun, onChildren);
  const col = st.col;
  return {
    spec,
    children,
    interned: st.interner.entries(),
    graphs: col.journal!,
    deadlocks: col.deadlocks,
    deadlockRun: col.witnesses.deadlock,
    assertions: [...col.assertions],
    assertionRun: col.witnesses.assertion,
    executions: st.executions,
    sleepBlocked: st.sleepBlocked,
    steps: st.steps,
    runs: st.runs,
    incompleteReason: st.incompleteReason,
    stopped: st.stopped,
    // A task's first witness of a kind may be a later one of the merged search, which
    // counts its run's bytes: counted here too, so that `memory` bounds what it adds.
    memory: memoryOf(st) + 8 * ((col.witnesses.positive?.length ?? 0) + (col.witnesses.negative?.length ?? 0)),
  };
}

export interface MergeContext {
  program: Program;
  prop: (v: readonly number[]) => boolean;
  opts: ExploreOptions;
}

/**
 * Adds task `tr` to the merged search `st` (tasks merged in the search's order, from the root).
 * Returns false when a bound stopped the search: no task after it counts.
 * `searchedAgain` counts the tasks that had to be searched here.
 */
export function mergeTask(ctx: MergeContext, st: DporState, tr: TaskResult, stats: { searchedAgain: number }): boolean {
  const { bounds } = ctx.opts;
  if (tr.spec.id !== '' && boundStops(st, bounds)) return false;
  const again = (): boolean => {
    stats.searchedAgain++;
    // The same children as tr's: where a task freezes depends on its own steps alone.
    runTask(ctx.program, ctx.opts, st, tr.spec);
    return !st.stopped;
  };
  // Could a bound stop the one-thread search inside this task? Then search it here.
  if (tr.stopped || st.runs + tr.runs > bounds.executionsMax || memoryOf(st) + tr.memory > bounds.memoryMax) return again();
  // Number the task's histories as the one-thread search would have: the entries it
  // made, in its order, each after its parent (a parent is always made first).
  const interned = internedOf(tr);
  const map = new Array<number>(interned.length + 1);
  map[0] = 0;
  for (let i = 0; i < interned.length; i++) {
    const e = interned[i]!;
    const bar = e.indexOf('|');
    map[i + 1] = st.interner.intern(map[Number(e.slice(0, bar))]!, e.slice(bar + 1));
  }
  const k = new KeyPacker();
  const keys = tr.graphs.map((g) => {
    for (const n of unpackKey(g.key)) k.push(map[n]!);
    return k.take();
  });
  // Which of its graphs are new, and does a witness among them need a run it did not keep?
  const col = st.col;
  const witnessesMax = ctx.opts.witnessesMax ?? 1;
  const fresh = { positive: col.witnessList.positive.length, negative: col.witnessList.negative.length };
  for (let i = 0; i < keys.length; i++) {
    if (col.has(keys[i]!)) continue;
    const g = tr.graphs[i]!;
    const kind = ctx.prop(g.values) ? 'positive' : 'negative';
    if (fresh[kind]++ < witnessesMax && g.run === undefined) return again();
  }
  for (let i = 0; i < keys.length; i++) {
    const g = tr.graphs[i]!;
    col.final(keys[i]!, g.values, () => g.run!);
  }
  col.deadlocks += tr.deadlocks;
  col.witnesses.deadlock ??= tr.deadlockRun;
  for (const [name, runs] of tr.assertions) col.assertions.set(name, (col.assertions.get(name) ?? 0) + runs);
  col.witnesses.assertion ??= tr.assertionRun;
  st.executions += tr.executions;
  st.sleepBlocked += tr.sleepBlocked;
  st.steps += tr.steps;
  st.runs += tr.runs;
  st.incompleteReason ??= tr.incompleteReason;
  return true;
}

export { JOURNAL_RUNS };
