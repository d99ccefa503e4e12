// The split search (src/explore/dpor.ts) on worker threads. The tasks go, in order,
// to whichever worker is free; the results are merged in task order
// (src/explore/merge.ts), so the verdict, the states, the counts, the witnesses and
// every byte printed are those of the search in one thread, whatever the number of
// workers and whichever finishes first.
//
// The caller stays synchronous (checkScenario() is): it sleeps on a shared counter
// that a worker bumps after each result and takes the results off the workers'
// ports without the event loop (receiveMessageOnPort()). A search starts in this
// thread and hands the tasks left to workers only once it has taken
// PARALLEL_AFTER_STEPS steps: a small search never pays for starting threads.

import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Program } from '../litmus/program.js';
import { boundStops, dporResult, newDporState, planTasks, runTask } from './dpor.js';
import { mergeTask, type TaskResult } from './merge.js';
import type { ExploreOptions, ExploreResult } from './types.js';

/** What a worker needs to build the same program: the scenario's text and how it is checked. */
export interface ProgramSpec {
  source: string;
  file: string;
  model: 'sc' | 'x86';
  /** A variant's name, or a variant module's absolute path. */
  variant: string;
}

/** Steps the search takes in the calling thread before it starts workers. */
export const PARALLEL_AFTER_STEPS = 400_000;
/** Seconds a worker has to start before the search gives up on it. */
const WORKER_START_S = 60;

/** Workers a search may use: `--workers auto` is the machine's cores. */
export const WORKERS_MAX = 64;

/** `--workers auto`: the machine's cores. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** What a worker is started with (src/explore/dpor-worker.ts). */
export interface WorkerInit {
  spec: ProgramSpec;
  opts: Pick<ExploreOptions, 'bounds' | 'witnessesMax'>;
  port: MessagePort;
  signal: Int32Array;
}

export function exploreParallel(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions, spec: ProgramSpec, workers: number): ExploreResult {
  const plan = planTasks(program, opts.bounds.stepsMax);
  const T = plan.prefixes.length;
  const st = newDporState(prop, opts);
  const ctx = { program, prop, opts, prefixes: plan.prefixes };
  // In this thread first: most searches end here.
  let t = 0;
  const after = opts.parallelAfterSteps ?? PARALLEL_AFTER_STEPS;
  for (; t < T && st.steps < after; t++) {
    if (t > 0 && boundStops(st, opts.bounds)) return dporResult(st);
    const at = t;
    runTask(program, opts, st, plan.prefixes[at]!, (share) => (at + share) / T);
    if (st.stopped) return dporResult(st);
  }
  if (t === T) return dporResult(st);
  // The rest on workers, merged in task order as the results come.
  const results = new Map<number, TaskResult>();
  const stats = { searchedAgain: 0 };
  let merged = t;
  const tasks: number[] = [];
  for (let k = t; k < T; k++) tasks.push(k);
  searchOnWorkers(spec, opts, plan.prefixes, tasks, workers, (tr) => {
    results.set(tr.task, tr);
    while (results.has(merged)) {
      const r = results.get(merged)!;
      results.delete(merged);
      if (!mergeTask(ctx, st, r, stats)) return false;
      merged++;
      opts.onProgress?.({ executions: st.executions, steps: st.steps, graphs: st.col.graphCount, share: merged / T });
    }
    return true;
  });
  return dporResult(st);
}

/**
 * Searches the given tasks on up to `workers` worker threads, each task on its own
 * (searchTask()), and hands each result to `onResult` as it comes (in no particular
 * order); `onResult` returns false to stop early.
 */
export function searchOnWorkers(spec: ProgramSpec, opts: Pick<ExploreOptions, 'bounds' | 'witnessesMax'>, prefixes: readonly (readonly number[])[], tasks: readonly number[], workers: number, onResult: (tr: TaskResult) => boolean): void {
  const n = Math.min(workers, tasks.length);
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const slots: { w: Worker; port: MessagePort; ready: boolean }[] = [];
  let next = 0;
  let received = 0;
  const give = (slot: { port: MessagePort }): void => {
    if (next >= tasks.length) return;
    const task = tasks[next++]!;
    slot.port.postMessage({ task, prefix: prefixes[task] });
  };
  try {
    for (let i = 0; i < n; i++) {
      const { port1, port2 } = new MessageChannel();
      const init: WorkerInit = { spec, opts: { bounds: opts.bounds, witnessesMax: opts.witnessesMax }, port: port2, signal };
      const w = new Worker(new URL('./dpor-worker.js', import.meta.url), { workerData: init, transferList: [port2] });
      // Its failures reach the search as messages (or as no start): the event is not needed.
      w.on('error', () => {});
      const slot = { w, port: port1, ready: false };
      slots.push(slot);
      give(slot);
    }
    let seen = 0;
    let waited = 0;
    while (received < tasks.length) {
      if (Atomics.wait(signal, 0, seen, 1000) === 'timed-out' && slots.some((x) => !x.ready) && ++waited >= WORKER_START_S) {
        throw new Error(`a search worker did not start within ${WORKER_START_S} s`);
      }
      seen = Atomics.load(signal, 0);
      for (const slot of slots) {
        for (let m = receiveMessageOnPort(slot.port); m; m = receiveMessageOnPort(slot.port)) {
          const msg = m.message as { ready?: true; result?: TaskResult; crash?: string };
          if (msg.ready) {
            slot.ready = true;
            continue;
          }
          if (msg.crash !== undefined) throw new Error(`a search worker failed: ${msg.crash}`);
          received++;
          give(slot);
          if (!onResult(msg.result!)) return;
        }
      }
    }
  } finally {
    for (const slot of slots) void slot.w.terminate();
  }
}
