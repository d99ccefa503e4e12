import type { Interner } from '../machine/machine.js';
import type { ProgramSpec } from './parallel.js';
import { MEMORY_MAX_DEFAULT } from './memory.js';

// Options, results and bounds of an exploration.

export interface Bounds {
  /** Steps in one execution (one run from the initial state to a final state). */
  stepsMax: number;
  /** Executions explored (complete, sleep-set-blocked or cut) before the search stops. */
  executionsMax: number;
  /** Bytes the search may keep (graphs and states seen, interned histories), as src/explore/memory.ts counts them. */
  memoryMax: number;
}

export const DEFAULT_BOUNDS: Bounds = { stepsMax: 2_000, executionsMax: 5_000_000, memoryMax: MEMORY_MAX_DEFAULT };

export interface ExploreOptions {
  /** Dynamic partial-order reduction (true) or explicit-state search of every interleaving (false). */
  reduction: boolean;
  bounds: Bounds;
  /** Called now and then with counters; the caller decides what to print. */
  onProgress?: (p: Progress) => void;
  progressEvery?: number; // executions (or states) between calls
  /** Called at the end of every run with its choices and how it ended (for tests and debugging). */
  onRun?: (choices: readonly number[], end: 'final' | 'deadlock' | 'sleep-blocked' | 'cut' | 'assertion') => void;
  /** Called once per distinct execution graph with its key and a run reaching it. */
  onGraph?: (graphKey: string, choices: readonly number[]) => void;
  /** Runs to keep per kind (positive, negative) as witnesses, each of a distinct execution graph (default 1). */
  witnessesMax?: number;
  /** Share history numbering between searches so that their graph keys compare. */
  interner?: Interner;
  /**
   * Worker threads for the reduced search (src/explore/parallel.ts; default 1): the
   * result is the same for any number. Needs `programSpec`; searches with onRun,
   * onGraph or a shared interner run in one thread.
   */
  workers?: number;
  programSpec?: ProgramSpec;
  /** Sample this many seeded random runs instead of searching (src/explore/random.ts; with reduction). */
  random?: { runs: number; seed: number };
  /** Once workers have started, the calling thread takes no task of its own, only merges (tests: every task after the first phase is a worker's). */
  parallelMergeOnly?: boolean;
  /** Steps after which a task freezes into child tasks (default FREEZE_AFTER_STEPS, src/explore/dpor.ts; tests set less). Part of what the search is: the same for every way of running it. */
  freezeAfterSteps?: number;
  /**
   * The explicit search goes back to a state by running the code alone through the
   * path to it and loading the machine's state saved there (default true), or by
   * replaying every step in full (false: tests compare the two).
   */
  codeOnlyReplay?: boolean;
}

export interface Progress {
  executions: number;
  steps: number;
  graphs: number;
  /**
   * DPOR only: a rough share of the search done, 0 to 1 (the finished branches of each node
   * on the current run, each worth its share of its parent). DPOR adds branches as it
   * goes, so it can move back; a progress bar, not a promise.
   */
  share?: number;
}

export interface Outcome {
  values: number[]; // in Program.observedNames order
  graphs: number; // distinct execution graphs ending in this state
  positive: boolean; // the condition's proposition holds
}

export interface ExploreResult {
  reduction: boolean;
  /** Which engine searched: the machine's (interleavings, the default) or the graph engine (src/graph/). */
  engine?: 'machine' | 'graph';
  outcomes: Outcome[]; // sorted by values
  /** Distinct execution graphs (reads-from, coherence order, interrupt positions) that reached a final state. */
  graphs: number;
  positive: number; // graphs whose final state satisfies the proposition
  negative: number;
  /** Complete executions explored: DPOR runs that reached a final state (reduction), or final states (explicit). */
  executions: number;
  /** DPOR runs abandoned because every enabled process was in the sleep set (redundant by construction). */
  sleepBlocked: number;
  /** Interleavings from the initial state to a final state (explicit-state search only; a path count). */
  interleavings: bigint | null;
  /** States visited (explicit-state search only). */
  states: number | null;
  steps: number; // engine steps executed, replays included (and the unreduced search's probes: Machine.probe())
  deadlocks: number; // executions ending with a CPU that can never proceed
  complete: boolean;
  incompleteReason: string | null;
  /** Bytes the search kept at its end (its peak: nothing is freed), as the memory budget counts them. */
  memoryBytes: number;
  /** The model's flags raised by a consistent execution (herd's `Flag NAME`: LKMM's data-race), sorted. */
  flags?: string[];
  /** Kernel assertions that failed, with the number of runs in which each did. */
  assertions: { name: string; runs: number }[];
  witnesses: { positive: number[] | null; negative: number[] | null; deadlock: number[] | null; assertion: number[] | null };
  /**
   * The graph engine's kernel model (src/graph/kernel.ts): a witness execution graph per
   * kind, as text (its events in an order that extends program order and reads-from).
   */
  graphTraces?: { positive?: string; negative?: string; deadlock?: string; assertion?: string };
  /** Up to ExploreOptions.witnessesMax runs per kind, each reaching a distinct execution graph, in the order found (the first is the witness above). */
  witnessList: { positive: number[][]; negative: number[][] };
  /** A random search's runs and seed (src/explore/random.ts): the result is never complete. */
  random?: { runs: number; seed: number };
}
