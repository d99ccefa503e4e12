// `npm run test:full`: every line of the library (test/library-cases.ts, checkLine()), the
// unreduced search compared with the reduced one on all of them, whatever their size. The
// lines are the unit of work, not the files: each line is a test, run on a worker thread
// (test/full/line-worker.ts) of a pool of one per core, and the lines start longest first
// (their times in test/data/full-times.json, lines not listed there before all others),
// so that the cores finish together: the command takes about the processor time of the
// lines divided by the cores, plus what the last line to start takes. Scheduling changes
// only when a line runs, never what it checks.
//
//   SMPCHECK_FULL_TIMES_OUT=FILE npm run test:full    also writes each line's time to FILE
//                                                     (the format of test/data/full-times.json)

import { describe, it, after } from 'node:test';
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseScenario } from '../../src/scenario/parser.js';
import { libraryFiles, lineLabel, linesOf } from '../library-cases.js';
import { read, ROOT } from '../helpers.js';
import { lineOrder, readFullTimes, type FullTimes } from './times.js';
import type { LineJob, LineResult } from './line-worker.js';

interface Job extends LineJob {
  id: string;
}

const jobs: Job[] = [];
for (const file of libraryFiles()) {
  const rel = relative(ROOT, file);
  for (const line of linesOf(parseScenario(read(file), rel), rel, 'all')) jobs.push({ file, rel, line, id: `${rel} ${lineLabel(line)}` });
}
const known = readFullTimes();
const ordered = lineOrder(jobs, known);
const cores = availableParallelism();

/** A worker per core, each checking one line at a time. */
class Pool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly all = new Set<Worker>();

  constructor(n: number) {
    for (let i = 0; i < n; i++) this.idle.push(this.spawn());
  }

  private spawn(): Worker {
    // The unreduced search of the largest lines keeps up to 12 GiB (FULL_BOUNDS).
    const w = new Worker(new URL('./line-worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 16384 } });
    w.unref();
    this.all.add(w);
    return w;
  }

  async run(job: LineJob): Promise<LineResult> {
    let w = this.idle.pop() ?? (await new Promise<Worker>((r) => this.waiting.push(r)));
    try {
      return await new Promise<LineResult>((resolve, reject) => {
        // A worker that dies (out of memory, say) fails its line; a new one takes its place.
        const onExit = (code: number): void => reject(new Error(`the worker checking this line stopped (exit code ${code})`));
        const onError = (e: Error): void => {
          w.off('exit', onExit);
          reject(e);
        };
        w.once('error', onError);
        w.once('exit', onExit);
        w.once('message', (m: LineResult) => {
          w.off('error', onError);
          w.off('exit', onExit);
          resolve(m);
        });
        w.postMessage(job);
      });
    } catch (e) {
      this.all.delete(w);
      void w.terminate();
      w = this.spawn();
      throw e;
    } finally {
      const next = this.waiting.shift();
      if (next) next(w);
      else this.idle.push(w);
    }
  }

  stop(): void {
    for (const w of this.all) void w.terminate();
  }
}

const pool = new Pool(cores);
const measured: FullTimes = {};
after(() => {
  pool.stop();
  const out = process.env.SMPCHECK_FULL_TIMES_OUT;
  if (out) writeFileSync(out, `${JSON.stringify(measured, Object.keys(measured).sort(), 1)}\n`);
});

describe(`every line of the library, reduced against unreduced search (${ordered.length} lines, ${cores} at a time, longest first)`, { concurrency: cores }, () => {
  for (const job of ordered) {
    it(`${job.id}: expectation confirmed and reduction agrees with full search`, async (t) => {
      const r = await pool.run({ file: job.file, rel: job.rel, line: job.line });
      measured[job.id] = Math.round(r.ms / 100) / 10;
      for (const d of r.diagnostics) t.diagnostic(d);
      if (r.error !== undefined) throw new Error(r.error);
    });
  }
});
