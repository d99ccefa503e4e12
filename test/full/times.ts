// The order in which `npm run test:full` starts the library's lines: longest first, by the
// seconds test/data/full-times.json gives each line (a run's times, written with
// SMPCHECK_FULL_TIMES_OUT). A line it does not list (new since) starts before all listed
// ones: an unknown line may be a long one, and one started last could run on alone.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

/** Seconds per line, by its id (`FILE LINE`: `scenarios/tlb/lazy-skip.litmus x86,early-ack`). */
export type FullTimes = Record<string, number>;

export const FULL_TIMES = join(ROOT, 'test/data/full-times.json');

export function readFullTimes(file = FULL_TIMES): FullTimes {
  if (!existsSync(file)) return {};
  const t = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new Error(`${file}: not an object of seconds per line`);
  for (const [k, v] of Object.entries(t)) if (typeof v !== 'number' || !(v >= 0)) throw new Error(`${file}: '${k}' has no time in seconds`);
  return t as FullTimes;
}

/** The jobs, unknown lines first (in the library's order), then the known ones longest first (ties by id). */
export function lineOrder<T extends { id: string }>(jobs: readonly T[], times: FullTimes): T[] {
  const unknown = jobs.filter((j) => times[j.id] === undefined);
  const known = jobs.filter((j) => times[j.id] !== undefined).sort((a, b) => times[b.id]! - times[a.id]! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return [...unknown, ...known];
}
