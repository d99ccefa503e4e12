// A worker thread of a split search (src/explore/parallel.ts): it builds the program
// from the scenario's text as the calling thread did, then searches tasks on their own
// (searchTask()), those it takes from the back of the plan itself (a check's workers)
// or those it is given (a shard's), and posts each result back, bumping the shared
// counter the caller sleeps on.

import { workerData } from 'node:worker_threads';
// The scenario may call into the kernel or name a variant module: the worker loads both parts at once.
import '../parts/all.js';
import { compileProp } from '../scenario/condition.js';
import { parseScenario } from '../scenario/parser.js';
import { LitmusProgram } from '../litmus/program.js';
import { resolveVariant, withVariant } from '../check.js';
import { searchTask } from './merge.js';
import { claimBack, type WorkerInit } from './parallel.js';

const { spec, opts, port, signal, claim } = workerData as WorkerInit;

const bump = (): void => {
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
};

try {
  const sc = parseScenario(spec.source, spec.file);
  const variant = resolveVariant(spec.variant);
  const program = new LitmusProgram(sc, spec.model, variant);
  const prop = compileProp(sc);
  const exploreOpts = { reduction: true, bounds: opts.bounds, witnessesMax: opts.witnessesMax };
  if (claim) {
    // Front and back (src/explore/parallel.ts, exploreParallel()): take tasks from the
    // back until the calling thread, taking them from the front, has reached them.
    port.postMessage({ ready: true });
    bump();
    for (let task = claimBack(claim.word); task >= 0; task = claimBack(claim.word)) {
      try {
        port.postMessage({ result: withVariant(variant, () => searchTask(program, prop, exploreOpts, task, claim.prefixes[task]!)) });
      } catch (e) {
        port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
      bump();
    }
  } else {
    port.on('message', (m: { task: number; prefix: number[] }) => {
      try {
        port.postMessage({ result: withVariant(variant, () => searchTask(program, prop, exploreOpts, m.task, m.prefix)) });
      } catch (e) {
        port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
      bump();
    });
    port.postMessage({ ready: true });
  }
} catch (e) {
  port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
bump();
