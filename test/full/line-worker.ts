// A worker thread of `npm run test:full` (test/full/library-full.ts): checks the lines it is
// sent, one at a time (checkLine(), test/library-cases.ts), and answers each with what the
// check said and how long it took. A failed check is an answer (its message and stack), not
// a crash of the worker.

import { parentPort } from 'node:worker_threads';
import { parseScenario } from '../../src/scenario/parser.js';
import { checkLine, type Line } from '../library-cases.js';
import { read } from '../helpers.js';

export interface LineJob {
  file: string;
  rel: string;
  line: Line;
}

export interface LineResult {
  ms: number;
  diagnostics: string[];
  /** The failed assertion's message and stack, if the check failed. */
  error?: string;
}

parentPort!.on('message', (job: LineJob) => {
  const t0 = performance.now();
  const diagnostics: string[] = [];
  let error: string | undefined;
  try {
    checkLine(parseScenario(read(job.file), job.rel), job.rel, job.line, (m) => diagnostics.push(m));
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  const r: LineResult = { ms: performance.now() - t0, diagnostics, ...(error !== undefined ? { error } : {}) };
  parentPort!.postMessage(r);
});
