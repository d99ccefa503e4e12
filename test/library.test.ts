// Every scenario of the library but scenarios/tlb/ (test/library-tlb.test.ts), on both
// machines, with and without reduction (test/library-cases.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relative } from 'node:path';
import { isTlb, libraryFiles, libraryTests } from './library-cases.js';
import { ROOT } from './helpers.js';

const files = libraryFiles();

test('the library has the classic shapes, the interrupt scenarios, the membarrier and the TLB scenarios', () => {
  const names = new Set(files.map((f) => relative(ROOT, f)));
  for (const n of ['SB', 'SB+mbs', 'MP', 'MP+wmb+rmb', 'LB', '2+2W', 'R', 'S', 'IRIW', 'WRC', 'ISA2', 'RWC', 'CoRR', 'CoRW1', 'CoRW2', 'CoWR', 'CoWW', 'SB3', 'SB4', 'SB5', 'SB6', 'SB6+mbs']) {
    assert.ok(names.has(`scenarios/litmus/${n}.litmus`), `missing scenarios/litmus/${n}.litmus`);
  }
  assert.ok([...names].some((n) => n.startsWith('scenarios/irq/')));
  for (const n of ['membarrier-A', 'membarrier-B', 'membarrier-api-fail', 'membarrier-api-success']) {
    assert.ok(names.has(`scenarios/membarrier/${n}.litmus`), n);
  }
  assert.ok(files.some(isTlb), 'scenarios/tlb/ (test/library-tlb.test.ts)');
});

libraryTests(files.filter((f) => !isTlb(f)));
