// The search (src/explore/dpor.ts, a tree of tasks) on worker threads. A search starts
// in this thread and starts workers only once it has a task to give: once its root has
// frozen (FREEZE_AFTER_STEPS), so a small search never pays for starting threads. This thread keeps the tasks
// still to merge in the search's order, the next last (a stack, as the one-thread
// search does); it takes the next itself, straight into the search, and gives each idle
// worker the last one not yet taken, the largest share of the tree left. A worker's
// result is merged in its place in the order (src/explore/merge.ts); the children it
// froze into go in right after it, where they can be given out again. When the next
// task to merge is a worker's that is still running, this thread does not wait: it
// searches the next task nobody has taken on its own, as a worker would, and merges it
// when the order gets there. So the verdict,
// the states, the counts, the witnesses and every byte printed are those of the search
// in one thread, whatever the number of workers and whichever finishes first. This
// thread is the one V8 has already optimised the engine in; a new worker runs its
// first second or so several times slower.
//
// The caller stays synchronous (checkScenario() is): between runs (runTask()'s
// afterRun) and while it waits for a worker, this thread takes the workers' messages off
// their ports without the event loop (receiveMessageOnPort()), sleeping on a shared
// counter that a worker bumps after each message. Shards searched on workers
// (smpcheck check --shard --workers) use the same workers (searchOnWorkers()).
//
// The workers outlive a search: when it ends, each worker that holds no task waits,
// unreferenced, for the next search in this process, which gives it its program
// (acquireWorkers(), releaseWorkers()). V8 has optimised the engine in a worker that has
// searched before, so a suite, a library caller or a bench that checks one scenario after
// another pays for starting a worker once, not once per search. A worker that still holds
// a task when its search ends (a bound stopped the search, or it failed) is terminated.

import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Program } from '../litmus/program.js';
import { boundStops, dporResult, newDporState, ROOT_TASK, runTask, type TaskSpec } from './dpor.js';
import { mergeTask, searchTask, unpackedAfterTransfer, type MergeContext, type TaskResult } from './merge.js';
import type { ExploreOptions, ExploreResult } from './types.js';

/** What a worker needs to build the same program: the scenario's text and how it is checked. */
export interface ProgramSpec {
  source: string;
  file: string;
  model: 'sc' | 'x86';
  /** A variant's name, or a variant module's absolute path. */
  variant: string;
}

/**
 * Tasks a worker holds at once: the one it searches and the next, so that it starts the
 * next as soon as it posts a result instead of waiting for this thread to look at its
 * messages (which it does between two runs of its own search).
 */
const TASKS_AHEAD = 2;

/** Seconds a worker has to start before the search gives up on it. */
const WORKER_START_S = 60;

/** Workers a search may use: `--workers auto` is the machine's cores. */
export const WORKERS_MAX = 64;

/** `--workers auto`: the machine's cores. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** What a worker is started with (src/explore/dpor-worker.ts); each search then posts it a ProgramMessage. */
export interface WorkerInit {
  port: MessagePort;
  signal: Int32Array;
}

/** A search's program, posted to each of its workers before any of its tasks. */
export interface ProgramMessage {
  program: { spec: ProgramSpec; opts: WorkerOpts };
}

/** The options a worker's searches take from the caller's: those that make the search what it is. */
export type WorkerOpts = Pick<ExploreOptions, 'bounds' | 'witnessesMax' | 'freezeAfterSteps'>;

/** A task of the search still to merge, and who has it. */
export interface Entry {
  spec: TaskSpec;
  /** Given to a worker; its result once it came. */
  taken: boolean;
  result?: TaskResult;
  /** The task that froze into it (null for the root). */
  parent: Entry | null;
  /**
   * Its descendants on the stack: the children it has frozen into so far and theirs,
   * right after it in the order (below it on the stack, one block: none of them is merged
   * before it). A child a worker searches may freeze before its parent freezes again.
   */
  desc: number;
}

export function exploreParallel(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions, spec: ProgramSpec, workers: number): ExploreResult {
  const st = newDporState(prop, opts);
  const ctx: MergeContext = { program, prop, opts };
  // The tasks still to merge, in the search's order with the next last.
  const stack: Entry[] = [{ spec: ROOT_TASK, taken: false, parent: null, desc: 0 }];
  const stats = { searchedAgain: 0 };
  // What a task searched on its own takes from the caller's options (as a worker's does).
  const apartOpts: ExploreOptions = { reduction: true, bounds: opts.bounds, witnessesMax: opts.witnessesMax, freezeAfterSteps: opts.freezeAfterSteps };
  let pool: Pool | null = null;
  let doneShare = 0;
  /** Tops each worker up to TASKS_AHEAD tasks, the last ones not yet taken. */
  const give = (p: Pool): void => {
    for (const slot of p.slots) {
      while (slot.ready && slot.held < TASKS_AHEAD) {
        const e = stack.find((x) => !x.taken);
        if (!e) return;
        e.taken = true;
        slot.held++;
        slot.port.postMessage({ spec: e.spec });
      }
    }
  };
  // What service() has seen: the shared counter's value when it last took the messages
  // (a worker bumps it after each), and whether tasks have been added since it last gave
  // some out. It runs after every run of this thread's search: most of the time there is
  // nothing new, and it returns at once.
  let heard = -1;
  let added = true;
  const insertAfter = (e: Entry, i: number, batch: readonly TaskSpec[]): void => {
    insertChildren(stack, e, i, batch);
    added = true;
  };
  /** Files the workers' results and the children their tasks froze into, and gives out more. */
  const service = (): void => {
    if (pool === null) {
      if (!stack.some((x) => !x.taken)) return;
      pool = acquireWorkers(spec, opts, workers - 1);
    }
    const now = Atomics.load(SIGNAL, 0);
    if (now === heard && !added) return;
    heard = now;
    added = false;
    takeMessages(
      pool.slots,
      (id, batch) => {
        const i = stack.findIndex((x) => x.taken && x.result === undefined && x.spec.id === id);
        if (i < 0) throw new Error(`internal: children of task '${id}', which no worker has`);
        insertAfter(stack[i]!, i, batch);
      },
      (tr, slot) => {
        slot.held--;
        const e = stack.find((x) => x.taken && x.result === undefined && x.spec.id === tr.spec.id);
        if (!e) throw new Error(`internal: a worker's result for task '${tr.spec.id}', which no worker has`);
        e.result = tr;
        return true;
      },
    );
    give(pool);
  };
  try {
    let seen = 0;
    const waited = { s: 0 };
    while (stack.length > 0) {
      const e = stack[stack.length - 1]!;
      if (!e.taken && !(pool !== null && opts.parallelMergeOnly)) {
        if (e.spec.id !== '' && boundStops(st, opts.bounds)) break;
        // Searched here; it stays on the stack (taken) while it runs, so that the children
        // it freezes into go in below it, where the workers can take them.
        e.taken = true;
        const kids = runTask(program, opts, st, e.spec, (share) => doneShare + e.spec.weight * share, service, (batch) => insertAfter(e, stack.lastIndexOf(e), batch));
        if (st.stopped) break;
        stack.splice(stack.lastIndexOf(e), 1);
        doneShare += e.spec.weight - kids.reduce((a, k) => a + k.weight, 0);
        service();
        continue;
      }
      // A worker's task (or, merging only, one a worker is still to take), not done yet.
      if (e.result === undefined) {
        // Rather than wait, this thread searches the next task nobody has taken on its
        // own, as a worker would; its result is merged in its place when the order gets
        // there.
        const j = opts.parallelMergeOnly ? -1 : lastUntaken(stack);
        if (j >= 0) {
          const a = stack[j]!;
          a.taken = true;
          a.result = searchTask(program, prop, apartOpts, a.spec, (batch) => {
            insertAfter(a, stack.lastIndexOf(a), batch);
            service();
          }, undefined, service);
          service();
          continue;
        }
        seen = waitForWorkers(seen, pool!.slots, waited);
        service();
        continue;
      }
      stack.pop();
      if (!mergeTask(ctx, st, e.result, stats)) break;
      doneShare += e.spec.weight - e.result.children.reduce((a, k) => a + k.weight, 0);
      opts.onProgress?.({ executions: st.executions, steps: st.steps, graphs: st.col.graphCount, share: doneShare });
    }
    return dporResult(st);
  } finally {
    if (pool !== null) releaseWorkers(pool);
  }
}

/**
 * Puts the new children of task e (at index i of the stack of tasks to merge, the next
 * last) after the children it froze into before and all their descendants, below them on
 * the stack: the order of the search in one thread. (A worker may search one of e's
 * children, and it may freeze, before e freezes again: its children then sit between
 * e's.)
 */
export function insertChildren(stack: Entry[], e: Entry, i: number, batch: readonly TaskSpec[]): void {
  stack.splice(i - e.desc, 0, ...batch.map((c): Entry => ({ spec: c, taken: false, parent: e, desc: 0 })).reverse());
  for (let a: Entry | null = e; a !== null; a = a.parent) a.desc += batch.length;
}

/** The index of the task nearest the top of the stack (the next in the order) that nobody has taken, or -1. */
function lastUntaken(stack: readonly Entry[]): number {
  for (let j = stack.length - 1; j >= 0; j--) if (!stack[j]!.taken) return j;
  return -1;
}

/** A worker thread of a search, and whether it has said it is ready. */
interface Slot {
  w: Worker;
  port: MessagePort;
  ready: boolean;
  /** The tasks it has been given and not yet returned. */
  held: number;
  /** It crashed or exited: never given a search again. */
  dead: boolean;
}

/**
 * The counter every worker of this process bumps after each message it posts (the
 * calling thread sleeps on it), and the workers that wait for a search.
 */
const SIGNAL = new Int32Array(new SharedArrayBuffer(4));
const idle: Slot[] = [];

/** Starts a worker (src/explore/dpor-worker.ts) that bumps SIGNAL after each message. */
function spawnWorker(): Slot {
  const { port1, port2 } = new MessageChannel();
  const init: WorkerInit = { port: port2, signal: SIGNAL };
  const w = new Worker(new URL('./dpor-worker.js', import.meta.url), { workerData: init, transferList: [port2] });
  const slot: Slot = { w, port: port1, ready: false, held: 0, dead: false };
  // Its failures reach the search as messages (or as no start); an exit between two
  // searches keeps it from being given another.
  w.on('error', () => {});
  w.on('exit', () => {
    slot.dead = true;
  });
  // Waiting for a search, it does not keep the process alive.
  w.unref();
  return slot;
}

/**
 * Takes the messages waiting on each worker's port without the event loop: a worker's
 * readiness, its crash (thrown), the children a task froze into while it runs (handed
 * to `onSpawn`), each result handed to `onResult` (false: stop taking).
 * Returns false when `onResult` did.
 */
function takeMessages(slots: readonly Slot[], onSpawn: (id: string, batch: TaskSpec[]) => void, onResult: (tr: TaskResult, slot: Slot) => boolean): boolean {
  for (const slot of slots) {
    for (let m = receiveMessageOnPort(slot.port); m; m = receiveMessageOnPort(slot.port)) {
      const msg = m.message as { ready?: true; spawn?: { id: string; batch: TaskSpec[] }; result?: TaskResult; crash?: string };
      if (msg.ready) {
        slot.ready = true;
        continue;
      }
      if (msg.spawn) {
        onSpawn(msg.spawn.id, msg.spawn.batch);
        continue;
      }
      if (msg.crash !== undefined) {
        slot.dead = true;
        throw new Error(`a search worker failed: ${msg.crash}`);
      }
      if (!onResult(msg.result!, slot)) return false;
    }
  }
  return true;
}

/**
 * Sleeps until a worker bumps SIGNAL past `seen` (or a second passes); throws when a worker
 * has still not started after WORKER_START_S such seconds. Returns the counter's new value.
 */
function waitForWorkers(seen: number, slots: readonly Slot[], waited: { s: number }): number {
  if (Atomics.wait(SIGNAL, 0, seen, 1000) === 'timed-out' && slots.some((x) => !x.ready) && ++waited.s >= WORKER_START_S) {
    throw new Error(`a search worker did not start within ${WORKER_START_S} s`);
  }
  return Atomics.load(SIGNAL, 0);
}

/** The worker threads of a search. */
interface Pool {
  slots: Slot[];
}

/**
 * `workers` worker threads for a search of the program: those that wait from an
 * earlier search first (V8 has optimised the engine in them), then new ones. Each is
 * posted the program before any task (a port delivers in order).
 */
function acquireWorkers(spec: ProgramSpec, opts: WorkerOpts, workers: number): Pool {
  const pool: Pool = { slots: [] };
  while (pool.slots.length < workers) {
    const slot = idle.pop() ?? spawnWorker();
    if (slot.dead) continue;
    slot.w.ref();
    const msg: ProgramMessage = { program: { spec, opts: { bounds: opts.bounds, witnessesMax: opts.witnessesMax, freezeAfterSteps: opts.freezeAfterSteps } } };
    slot.port.postMessage(msg);
    pool.slots.push(slot);
  }
  return pool;
}

/**
 * The search is over: a worker that holds no task waits for the next search; one that
 * still holds one (the search stopped before merging it) is terminated, with what it searches.
 */
function releaseWorkers(pool: Pool): void {
  for (const slot of pool.slots) {
    if (slot.held === 0 && !slot.dead) {
      // (It stops warming up on this search's program, if it still was.)
      slot.port.postMessage({ release: true });
      slot.w.unref();
      idle.push(slot);
    } else {
      slot.dead = true;
      void slot.w.terminate();
    }
  }
}

/** Terminates the workers that wait for a search (tests; the process's exit does it otherwise). */
export async function stopIdleWorkers(): Promise<void> {
  const all = idle.splice(0);
  await Promise.all(all.map((slot) => slot.w.terminate()));
}

/** How many workers wait for a search (tests). */
export function idleWorkers(): number {
  return idle.filter((x) => !x.dead).length;
}

/**
 * Searches the given tasks and every task they freeze into on up to `workers` worker
 * threads, each task on its own (searchTask()), and hands each result to `onResult`
 * as it comes (in no particular order); `onResult` returns false to stop early.
 */
export function searchOnWorkers(spec: ProgramSpec, opts: WorkerOpts, tasks: readonly TaskSpec[], workers: number, onResult: (tr: TaskResult) => boolean): void {
  const pool = acquireWorkers(spec, opts, Math.min(workers, tasks.length));
  const { slots } = pool;
  const queue = [...tasks];
  let out = 0;
  const give = (): void => {
    for (const slot of slots) {
      while (slot.ready && slot.held < TASKS_AHEAD && queue.length > 0) {
        slot.held++;
        out++;
        slot.port.postMessage({ spec: queue.shift() });
      }
    }
  };
  try {
    let seen = 0;
    const waited = { s: 0 };
    while (queue.length > 0 || out > 0) {
      const go = takeMessages(
        slots,
        (_, batch) => queue.push(...batch),
        (tr, slot) => {
          slot.held--;
          out--;
          return onResult(unpackedAfterTransfer(tr));
        },
      );
      if (!go) return;
      give();
      if (queue.length > 0 || out > 0) seen = waitForWorkers(seen, slots, waited);
    }
  } finally {
    releaseWorkers(pool);
  }
}
