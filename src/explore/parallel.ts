// The split search (src/explore/dpor.ts) on worker threads. A search starts in this
// thread and starts workers only once it has taken PARALLEL_AFTER_STEPS steps (a small
// search never pays for starting threads; a large first task is not waited for: the
// workers start in the middle of it). From then on this thread takes tasks from the
// front, straight into the search, and the workers take them from the back (one
// shared word says which are left: claimFront(), claimBack()), until they meet. The
// workers' results are merged in task order (src/explore/merge.ts), so the verdict,
// the states, the counts, the witnesses and every byte printed are those of the search
// in one thread, whatever the number of workers and whichever finishes first. This
// thread is the one V8 has already optimised the engine in; a new worker runs its first
// second or so several times slower, so the largest tasks, which come first, stay here.
//
// The caller stays synchronous (checkScenario() is): it sleeps on a shared counter
// that a worker bumps after each result and takes the results off the workers'
// ports without the event loop (receiveMessageOnPort()). Shards searched on workers
// (smpcheck check --shard --workers) are given their tasks instead (searchOnWorkers()).

import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Program } from '../litmus/program.js';
import { boundStops, dporResult, newDporState, planSearch, runTask, type DporState } from './dpor.js';
import { mergeTask, type MergeContext, type TaskResult } from './merge.js';
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
  /** Front and back: the worker takes tasks itself (claimBack()) instead of being given them. */
  claim?: { word: Int32Array; prefixes: readonly (readonly number[])[] };
}

/**
 * The tasks still to take in searchFrontBack(), [front, back), in one shared word
 * (front in the low 16 bits, back in the high 16: a plan has at most 65,535 tasks), so
 * that the calling thread and the workers take each task exactly once without a lock.
 */
const packClaim = (front: number, back: number): number => (back << 16) | front;

/** Takes the first task left for the calling thread, or -1 when none is. */
export function claimFront(word: Int32Array): number {
  for (;;) {
    const old = Atomics.load(word, 0);
    const front = old & 0xffff;
    const back = old >>> 16;
    if (front >= back) return -1;
    if (Atomics.compareExchange(word, 0, old, packClaim(front + 1, back)) === old) return front;
  }
}

/** Takes the last task left for a worker, or -1 when none is. */
export function claimBack(word: Int32Array): number {
  for (;;) {
    const old = Atomics.load(word, 0);
    const front = old & 0xffff;
    const back = old >>> 16;
    if (front >= back) return -1;
    if (Atomics.compareExchange(word, 0, old, packClaim(front, back - 1)) === old) return back - 1;
  }
}

export function exploreParallel(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions, spec: ProgramSpec, workers: number): ExploreResult {
  const { plan, done } = planSearch(program, prop, opts);
  if (done) return dporResult(done);
  const T = plan.prefixes.length;
  const st = newDporState(prop, opts);
  const ctx: MergeContext = { program, prop, opts, prefixes: plan.prefixes };
  // In this thread first: most searches end here. Once the search has taken
  // PARALLEL_AFTER_STEPS steps (in the middle of a task, if it is a large one), worker
  // threads start and take tasks from the back, while this thread goes on from the
  // front, straight into the search (it is warm: V8 has optimised the engine by now,
  // which a new worker takes about a second to do). The workers' results are merged
  // when this thread reaches them, in task order; where it finds a task a worker
  // holds, it waits for that result.
  const after = opts.parallelAfterSteps ?? PARALLEL_AFTER_STEPS;
  let pool: Pool | null = null;
  let t = 0;
  const startIfLarge = (): void => {
    if (pool === null && st.steps >= after && t + 1 < T) pool = startPool(spec, opts, plan.prefixes, t + 1, workers - 1);
  };
  try {
    for (; t < T; t++) {
      if (t > 0 && boundStops(st, opts.bounds)) return dporResult(st);
      const at = t;
      runTask(program, opts, st, plan.prefixes[at]!, (share) => (at + share) / T, startIfLarge);
      if (st.stopped) return dporResult(st);
      startIfLarge();
      if (pool !== null) break;
    }
    if (pool !== null) frontBack(pool, ctx, st, t + 1);
    return dporResult(st);
  } finally {
    if (pool !== null) stopPool(pool);
  }
}

/** A worker thread of a search, and whether it has said it is ready. */
interface Slot {
  w: Worker;
  port: MessagePort;
  ready: boolean;
}

/** Starts a worker (src/explore/dpor-worker.ts) that bumps `signal` after each message. */
function spawnWorker(spec: ProgramSpec, opts: Pick<ExploreOptions, 'bounds' | 'witnessesMax'>, signal: Int32Array, claim?: WorkerInit['claim']): Slot {
  const { port1, port2 } = new MessageChannel();
  const init: WorkerInit = { spec, opts: { bounds: opts.bounds, witnessesMax: opts.witnessesMax }, port: port2, signal, ...(claim ? { claim } : {}) };
  const w = new Worker(new URL('./dpor-worker.js', import.meta.url), { workerData: init, transferList: [port2] });
  // Its failures reach the search as messages (or as no start): the event is not needed.
  w.on('error', () => {});
  return { w, port: port1, ready: false };
}

/**
 * Takes the messages waiting on each worker's port without the event loop: a worker's
 * readiness, its crash (thrown), each result handed to `onResult` (false: stop taking).
 * Returns false when `onResult` did.
 */
function takeMessages(slots: readonly Slot[], onResult: (tr: TaskResult, slot: Slot) => boolean): boolean {
  for (const slot of slots) {
    for (let m = receiveMessageOnPort(slot.port); m; m = receiveMessageOnPort(slot.port)) {
      const msg = m.message as { ready?: true; result?: TaskResult; crash?: string };
      if (msg.ready) {
        slot.ready = true;
        continue;
      }
      if (msg.crash !== undefined) throw new Error(`a search worker failed: ${msg.crash}`);
      if (!onResult(msg.result!, slot)) return false;
    }
  }
  return true;
}

/**
 * Sleeps until a worker bumps `signal` (or a second passes); throws when a worker has
 * still not started after WORKER_START_S such seconds. Returns the signal's new value.
 */
function waitForWorkers(signal: Int32Array, seen: number, slots: readonly Slot[], waited: { s: number }): number {
  if (Atomics.wait(signal, 0, seen, 1000) === 'timed-out' && slots.some((x) => !x.ready) && ++waited.s >= WORKER_START_S) {
    throw new Error(`a search worker did not start within ${WORKER_START_S} s`);
  }
  return Atomics.load(signal, 0);
}

/** Worker threads that take tasks from the back (see exploreParallel()). */
interface Pool {
  /** The tasks still to take, [front, back), packed (packClaim()). */
  word: Int32Array;
  signal: Int32Array;
  slots: Slot[];
  results: Map<number, TaskResult>;
}

function startPool(spec: ProgramSpec, opts: ExploreOptions, prefixes: readonly (readonly number[])[], first: number, workers: number): Pool {
  const T = prefixes.length;
  if (T > 0xffff) throw new Error(`a plan of ${T} tasks: at most 65,535 are searched front and back`);
  const word = new Int32Array(new SharedArrayBuffer(4));
  word[0] = packClaim(first, T);
  const pool: Pool = { word, signal: new Int32Array(new SharedArrayBuffer(4)), slots: [], results: new Map() };
  for (let i = 0; i < workers; i++) pool.slots.push(spawnWorker(spec, opts, pool.signal, { word, prefixes }));
  return pool;
}

function stopPool(pool: Pool): void {
  // A worker still searching (a bound stopped the search) takes no further task.
  Atomics.store(pool.word, 0, packClaim(0, 0));
  for (const slot of pool.slots) void slot.w.terminate();
}

/** The rest of the search once the pool has started: tasks from `front` on. */
function frontBack(pool: Pool, ctx: MergeContext, st: DporState, front: number): void {
  const { program, opts, prefixes } = ctx;
  const T = prefixes.length;
  const stats = { searchedAgain: 0 };
  const progress = (): void => opts.onProgress?.({ executions: st.executions, steps: st.steps, graphs: st.col.graphCount, share: front / T });
  // This thread's own tasks, from the front, straight into the search.
  for (let task = opts.parallelMergeOnly ? -1 : claimFront(pool.word); task >= 0; task = claimFront(pool.word)) {
    if (boundStops(st, opts.bounds)) return;
    runTask(program, opts, st, prefixes[task]!, (share) => (task + share) / T);
    if (st.stopped) return;
    front = task + 1;
    progress();
  }
  // The workers' tasks, merged in order as their results come.
  let seen = Atomics.load(pool.signal, 0);
  const waited = { s: 0 };
  while (front < T) {
    takeMessages(pool.slots, (tr) => (pool.results.set(tr.task, tr), true));
    const r = pool.results.get(front);
    if (r === undefined) {
      seen = waitForWorkers(pool.signal, seen, pool.slots, waited);
      continue;
    }
    pool.results.delete(front);
    if (!mergeTask(ctx, st, r, stats)) return;
    front++;
    progress();
  }
}

/**
 * Searches the given tasks on up to `workers` worker threads, each task on its own
 * (searchTask()), and hands each result to `onResult` as it comes (in no particular
 * order); `onResult` returns false to stop early.
 */
export function searchOnWorkers(spec: ProgramSpec, opts: Pick<ExploreOptions, 'bounds' | 'witnessesMax'>, prefixes: readonly (readonly number[])[], tasks: readonly number[], workers: number, onResult: (tr: TaskResult) => boolean): void {
  const n = Math.min(workers, tasks.length);
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const slots: Slot[] = [];
  let next = 0;
  let received = 0;
  const give = (slot: Slot): void => {
    if (next >= tasks.length) return;
    const task = tasks[next++]!;
    slot.port.postMessage({ task, prefix: prefixes[task] });
  };
  try {
    for (let i = 0; i < n; i++) {
      const slot = spawnWorker(spec, opts, signal);
      slots.push(slot);
      give(slot);
    }
    let seen = 0;
    const waited = { s: 0 };
    while (received < tasks.length) {
      seen = waitForWorkers(signal, seen, slots, waited);
      const go = takeMessages(slots, (tr, slot) => {
        received++;
        give(slot);
        return onResult(tr);
      });
      if (!go) return;
    }
  } finally {
    for (const slot of slots) void slot.w.terminate();
  }
}
