// Shared helpers for the test suite (compiled to dist/test/).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { main, type Io } from '../src/cli/main.js';
import { observedLabel, type CheckResult } from '../src/check.js';
import { collectLitmusFiles } from '../src/scenario/files.js';

/** The repository root (tests run from dist/test/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function litmusFiles(dir: string): string[] {
  return collectLitmusFiles([join(ROOT, dir)]);
}

export function read(file: string): string {
  return readFileSync(file, 'utf8');
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in-process with captured output and a fixed clock. */
export async function cli(args: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    isTTY: false,
    now: () => 0,
  };
  const code = await main(args, io);
  return { code, out, err };
}

/** A search's final states, each as its observed values joined, sorted. */
export const finalValues = (r: CheckResult): string[] => r.result.outcomes.map((o) => o.values.join(',')).sort();

/**
 * Two complete searches of one scenario (merging no-ops or private accesses and not, say)
 * reach the same answers: final states, observation, whether some run deadlocks, and
 * the kernel assertions that failed.
 */
export function sameOutcomes(a: CheckResult, b: CheckResult, what: string): void {
  assert.equal(a.result.complete, true, what);
  assert.equal(b.result.complete, true, what);
  assert.deepEqual(finalValues(a), finalValues(b), `final states, ${what}`);
  assert.equal(observedLabel(a), observedLabel(b), what);
  assert.equal(a.result.deadlocks > 0, b.result.deadlocks > 0, what);
  assert.deepEqual(a.result.assertions.map((x) => x.name), b.result.assertions.map((x) => x.name), what);
}
