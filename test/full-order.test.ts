// The order `npm run test:full` starts the library's lines in (test/full/times.ts): lines
// test/data/full-times.json does not list first, in the library's order, then the listed
// ones longest first; and the file itself names lines of the library, each with a time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { lineOrder, readFullTimes } from './full/times.js';
import { libraryFiles, lineLabel, linesOf } from './library-cases.js';
import { parseScenario } from '../src/scenario/parser.js';
import { read, ROOT } from './helpers.js';

test('test:full starts unknown lines first, then the known ones longest first, ties by name', () => {
  const jobs = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
  const order = lineOrder(jobs, { b: 1, c: 30, d: 1, x: 99 }).map((j) => j.id);
  assert.deepEqual(order, ['a', 'e', 'c', 'b', 'd']);
});

test('test/data/full-times.json gives seconds for lines of the library only', () => {
  const times = readFullTimes();
  const ids = new Set<string>();
  for (const file of libraryFiles()) {
    const rel = relative(ROOT, file);
    for (const line of linesOf(parseScenario(read(file), rel), rel, 'all')) ids.add(`${rel} ${lineLabel(line)}`);
  }
  const stale = Object.keys(times).filter((k) => !ids.has(k));
  assert.deepEqual(stale, [], 'lines no longer in the library: run SMPCHECK_FULL_TIMES_OUT=test/data/full-times.json npm run test:full');
  // Most of the library is listed (a line not listed runs first, which only costs balance).
  assert.ok(Object.keys(times).length >= ids.size / 2, `${Object.keys(times).length} of ${ids.size} lines listed`);
});
