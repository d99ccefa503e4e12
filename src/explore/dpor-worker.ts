// A worker thread of a search (src/explore/parallel.ts): it builds the program from
// the scenario's text as the calling thread did, then searches the tasks it is given on
// their own (searchTask()) and posts each result back, bumping the shared counter the
// caller sleeps on.

import { workerData } from 'node:worker_threads';
// The scenario may call into the kernel or name a variant module: the worker loads both parts at once.
import '../parts/all.js';
import { compileProp } from '../scenario/condition.js';
import { parseScenario } from '../scenario/parser.js';
import { LitmusProgram } from '../litmus/program.js';
import { resolveVariant, withVariant } from '../check.js';
import { packedForTransfer, searchTask } from './merge.js';
import type { WorkerInit } from './parallel.js';
import { newDporState, ROOT_TASK, runTask, type TaskSpec } from './dpor.js';

/** Warming up: runs per slice, and steps in all. */
const WARM_RUNS = 20;
const WARM_STEPS = 1_000_000;

const { spec, opts, port, signal } = workerData as WorkerInit;

const bump = (): void => {
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
};

try {
  const sc = parseScenario(spec.source, spec.file);
  const variant = resolveVariant(spec.variant);
  const program = new LitmusProgram(sc, spec.model, variant);
  const prop = compileProp(sc);
  const exploreOpts = { reduction: true, bounds: opts.bounds, witnessesMax: opts.witnessesMax, freezeAfterSteps: opts.freezeAfterSteps };
  // Until its first task comes, the worker warms up: it searches the start of the search
  // (a few runs of the root task at a time, the results thrown away), so that V8 has
  // optimised the engine by then (a cold worker runs its first second several times
  // slower). Between two slices the event loop delivers a task that has come.
  let warming = true;
  let warmSteps = 0;
  const warmOpts = { ...exploreOpts, bounds: { ...exploreOpts.bounds, executionsMax: WARM_RUNS } };
  const warm = (): void => {
    if (!warming || warmSteps >= WARM_STEPS) return;
    const st = newDporState(prop, warmOpts);
    try {
      withVariant(variant, () => runTask(program, warmOpts, st, ROOT_TASK));
    } catch {
      return; // the task itself will say what went wrong
    }
    warmSteps += Math.max(1, st.steps);
    setImmediate(warm);
  };
  port.on('message', (m: { spec: TaskSpec }) => {
    warming = false;
    try {
      // The children it freezes into go back at once: another thread can take them.
      const spawn = (batch: TaskSpec[]): void => {
        port.postMessage({ spawn: { id: m.spec.id, batch } });
        bump();
      };
      port.postMessage({ result: packedForTransfer(withVariant(variant, () => searchTask(program, prop, exploreOpts, m.spec, spawn))) });
    } catch (e) {
      port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
    bump();
  });
  port.postMessage({ ready: true });
  setImmediate(warm);
} catch (e) {
  port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
bump();
