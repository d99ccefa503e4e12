// A worker thread of searches (src/explore/parallel.ts). Each search posts it its program
// (the scenario's text and how it is checked), which it builds as the calling thread did,
// then the tasks it is to search on their own (searchTask()); it posts each result back,
// bumping the shared counter the caller sleeps on. It outlives a search: the next search
// in the process posts it another program, and finds the engine already optimised.

import { workerData } from 'node:worker_threads';
// The scenario may call into the kernel or name a variant module: the worker loads both parts at once.
import '../parts/all.js';
import { compileProp } from '../scenario/condition.js';
import { parseScenario } from '../scenario/parser.js';
import { LitmusProgram } from '../litmus/program.js';
import { resolveVariant, withVariant } from '../check.js';
import { packedForTransfer, searchTask } from './merge.js';
import type { ProgramMessage, WorkerInit } from './parallel.js';
import { newDporState, ROOT_TASK, runTask, type TaskSpec } from './dpor.js';
import type { ExploreOptions } from './types.js';

/** Warming up: runs per slice, and steps in all (over the worker's life). */
const WARM_RUNS = 20;
const WARM_STEPS = 1_000_000;

const { port, signal } = workerData as WorkerInit;

const bump = (): void => {
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
};

const crash = (e: unknown): void => {
  port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
};

/** The program of the current search, as built from its ProgramMessage. */
interface Current {
  program: LitmusProgram;
  prop: ReturnType<typeof compileProp>;
  variant: ReturnType<typeof resolveVariant>;
  exploreOpts: ExploreOptions;
}
let current: Current | null = null;

// Until its first task comes, a new worker warms up: it searches the start of the search
// (a few runs of the root task at a time, the results thrown away), so that V8 has
// optimised the engine by then (a cold worker runs its first second several times
// slower). Between two slices the event loop delivers a task that has come. A worker
// that has searched a task, or warmed up for WARM_STEPS, does not warm up again.
let warming = false;
let warmSteps = 0;
/** The warm-up loop's number: a loop that a later one replaced stops. */
let warmLoop = 0;
const warm = (loop: number): void => {
  const c = current;
  if (!warming || loop !== warmLoop || c === null || warmSteps >= WARM_STEPS) return;
  const warmOpts = { ...c.exploreOpts, bounds: { ...c.exploreOpts.bounds, executionsMax: WARM_RUNS } };
  const st = newDporState(c.prop, warmOpts);
  try {
    withVariant(c.variant, () => runTask(c.program, warmOpts, st, ROOT_TASK));
  } catch {
    return; // the task itself will say what went wrong
  }
  warmSteps += Math.max(1, st.steps);
  setImmediate(warm, loop);
};

port.on('message', (m: ProgramMessage | { spec: TaskSpec } | { release: true }) => {
  if ('release' in m) {
    // The search is over: no warming up on its program while the worker waits for the next.
    warming = false;
    return;
  }
  if ('program' in m) {
    try {
      const { spec, opts } = m.program;
      const sc = parseScenario(spec.source, spec.file);
      const variant = resolveVariant(spec.variant);
      current = {
        program: new LitmusProgram(sc, spec.model, variant),
        prop: compileProp(sc),
        variant,
        exploreOpts: { reduction: true, bounds: opts.bounds, witnessesMax: opts.witnessesMax, freezeAfterSteps: opts.freezeAfterSteps },
      };
    } catch (e) {
      current = null;
      crash(e);
      bump();
      return;
    }
    if (warmSteps < WARM_STEPS && !warming) {
      warming = true;
      setImmediate(warm, ++warmLoop);
    }
    return;
  }
  warming = false;
  warmSteps = WARM_STEPS; // searched for real: warm from now on
  const c = current;
  try {
    if (c === null) throw new Error('internal: a task before its program');
    // The children it freezes into go back at once: another thread can take them.
    const spawn = (batch: TaskSpec[]): void => {
      port.postMessage({ spawn: { id: m.spec.id, batch } });
      bump();
    };
    port.postMessage({ result: packedForTransfer(withVariant(c.variant, () => searchTask(c.program, c.prop, c.exploreOpts, m.spec, spawn))) });
  } catch (e) {
    crash(e);
  }
  bump();
});
port.postMessage({ ready: true });
bump();
