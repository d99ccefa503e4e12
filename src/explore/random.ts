// Random search (`--random RUNS`): seeded runs from the initial state, until RUNS runs
// have ended, each scheduled by PCT (probabilistic concurrency testing, Burckhardt et
// al., ASPLOS 2010): the processes get distinct random priorities, the highest-priority
// enabled process always steps, and at d - 1 random steps of the run the process about
// to step drops below all others. A bug that needs d ordering constraints is found by a
// run with probability at least 1 / (n k^(d-1)) (n processes, k steps), where choosing
// uniformly at every step finds one that needs a CPU to stay still for a hundred steps
// (a whole system call in an open window) almost never. Runs cycle through d = 1 to
// PCT_DEPTH_MAX.
//
// It is for bug hunting where the exhaustive search is beyond the bounds: what it finds
// exists (a failed assertion, a final state, a deadlock: each run is an execution of
// the machine, replayable from its choices), but it proves nothing about what it did
// not find, so its result is never complete. A header line that only sampling can
// confirm says so (`Result[x86,VARIANT,random=RUNS]`), and only an existential result
// (`Assertion`, `Sometimes`) can be confirmed that way. The one generator is seeded;
// the same seed gives the same runs, counts and witnesses.

import type { Program } from '../litmus/program.js';
import { AssertionFailed, BoundExceeded, Interner } from '../machine/machine.js';
import { Rng } from '../sim/rng.js';
import { Collector } from './collector.js';
import { memoryReason, packedKeyBytes } from './memory.js';
import { freshRun } from './run.js';
import type { ExploreOptions, ExploreResult } from './types.js';

export interface RandomSearch {
  /** Runs to sample. */
  runs: number;
  /** The generator's seed. */
  seed: number;
}

/** The reason every random search gives for not being complete. */
export function randomReason(r: RandomSearch): string {
  return `a random search of ${r.runs} runs (seed ${r.seed}) proves only what it found`;
}

export function exploreRandom(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions, search: RandomSearch): ExploreResult {
  const interner = new Interner();
  const col = new Collector(prop, opts.onGraph, opts.witnessesMax ?? 1, packedKeyBytes);
  const rng = new Rng(search.seed);
  const { stepsMax, memoryMax } = opts.bounds;
  let executions = 0;
  let steps = 0;
  let incompleteReason: string | null = null;
  const memory = (): number => col.bytes + interner.bytes;
  const every = opts.progressEvery ?? 1000;
  // The run length PCT draws its change points from: the longest run so far.
  let k = 64;
  for (let r = 0; r < search.runs; r++) {
    if (memory() > memoryMax) {
      incompleteReason = memoryReason(memoryMax, executions);
      break;
    }
    const run = freshRun(program, interner);
    const m = run.machine;
    const P = m.procCount;
    // Distinct priorities d .. d + P - 1 in random order (a Fisher-Yates shuffle); a
    // change point gives the process about to step priority i (< d), below them all.
    const d = 1 + (r % PCT_DEPTH_MAX);
    const prio = Array.from({ length: P }, (_, i) => d + i);
    for (let i = P - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [prio[i], prio[j]] = [prio[j]!, prio[i]!];
    }
    const changes = Array.from({ length: d - 1 }, () => 1 + Math.floor(rng.next() * k));
    const chosen: number[] = [];
    const choices = (): number[] => chosen.slice();
    let end: 'final' | 'deadlock' | 'cut' | 'assertion' = 'final';
    for (;;) {
      const en = m.enabledMask();
      if (en === 0) {
        executions++;
        if (m.quiescent()) col.final(m.graphKey(), run.instance.observe(m.mem), choices);
        else {
          col.deadlock(choices);
          end = 'deadlock';
        }
        break;
      }
      if (chosen.length >= stepsMax) {
        incompleteReason ??= `an execution exceeded ${stepsMax} steps (steps_max)`;
        end = 'cut';
        break;
      }
      let p = highest(en, prio);
      const c = changes.indexOf(chosen.length + 1);
      if (c >= 0) {
        prio[p] = c;
        p = highest(en, prio);
      }
      chosen.push(p);
      steps++;
      try {
        m.step(p);
      } catch (e) {
        if (e instanceof AssertionFailed) {
          col.assertion(e.assertion, choices);
          end = 'assertion';
          break;
        }
        if (!(e instanceof BoundExceeded)) throw e;
        incompleteReason ??= e.reason;
        end = 'cut';
        break;
      }
    }
    k = Math.max(k, chosen.length);
    for (const w of run.instance.warnings()) col.assertion(w, choices);
    opts.onRun?.(chosen, end);
    if (opts.onProgress && (r + 1) % every === 0) opts.onProgress({ executions, steps, graphs: col.graphCount, share: (r + 1) / search.runs });
  }
  return {
    ...col.found(),
    reduction: true,
    executions,
    sleepBlocked: 0,
    interleavings: null,
    states: null,
    steps,
    memoryBytes: memory(),
    // Sampling never covers the search: it is complete only in what it found.
    complete: false,
    incompleteReason: incompleteReason ?? randomReason(search),
    random: search,
  };
}

/** Runs cycle through PCT depths 1 to this (bugs of up to PCT_DEPTH_MAX ordering constraints). */
export const PCT_DEPTH_MAX = 4;

/** The enabled process (a bit of en) with the highest priority. */
function highest(en: number, prio: readonly number[]): number {
  let best = -1;
  for (let a = en; a !== 0; a &= a - 1) {
    const q = 31 - Math.clz32(a & -a);
    if (best < 0 || prio[q]! > prio[best]!) best = q;
  }
  return best;
}
