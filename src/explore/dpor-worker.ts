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
import { searchTask } from './merge.js';
import type { WorkerInit } from './parallel.js';
import type { TaskSpec } from './dpor.js';

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
  port.on('message', (m: { spec: TaskSpec }) => {
    try {
      // The children it freezes into go back at once: another thread can take them.
      const spawn = (batch: TaskSpec[]): void => {
        port.postMessage({ spawn: { id: m.spec.id, batch } });
        bump();
      };
      port.postMessage({ result: withVariant(variant, () => searchTask(program, prop, exploreOpts, m.spec, spawn)) });
    } catch (e) {
      port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
    bump();
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
bump();
