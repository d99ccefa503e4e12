// A worker thread of `smpcheck suite --jobs N` (see runSuiteParallel() in main.ts):
// it runs the checks it is given, one at a time, and posts each outcome back, then
// bumps the shared counter the command sleeps on. The only clock it reads is for
// the times a suite row shows (never the engine's).

import { workerData, type MessagePort } from 'node:worker_threads';
// A worker runs whatever check it is given: it loads the kernel model and the graph engine at once.
import '../parts/all.js';
import { runSuiteTask } from './main.js';

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

port.on('message', (task: Parameters<typeof runSuiteTask>[0]) => {
  try {
    port.postMessage({ outcome: runSuiteTask(task, () => performance.now()) });
  } catch (e) {
    port.postMessage({ crash: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});

// Loaded: the command, sleeping on the counter, learns this worker has started.
port.postMessage({ ready: true });
Atomics.add(signal, 0, 1);
Atomics.notify(signal, 0);
