// Both searches go back to an earlier state of a run by running a fresh machine's code
// alone through the steps to it, with the results the steps gave the code the first
// time, and loading the machine's state saved there (Machine.replayCode(); the unreduced
// search keeps that state at every state it will come back to, the reduced one at every
// CHECKPOINT_EVERY-th depth and takes the steps after it in full). Checked here: each
// search gives the same result, field by field (states, counts, outcomes, witnesses,
// warnings, steps), with code-only replays as with full replays. test/explicit-probe.test.ts
// checks the machine a code-only replay builds, step by step.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSource, type CheckOptions } from '../src/check.js';
import { explore } from '../src/explore/index.js';
import type { ModelName } from '../src/machine/machine.js';
import { read } from './helpers.js';

function bothWays(rel: string, model: ModelName, variant: string | undefined, opts: CheckOptions): void {
  const search = (codeOnlyReplay: boolean): unknown => {
    const r = checkSource(read(rel), rel, {
      ...opts, model, variant, workers: 1,
      search: (m) => explore(m.program, m.prop, { ...m.opts, codeOnlyReplay }),
    });
    return r.result;
  };
  assert.deepEqual(search(true), search(false), `${rel} on ${model}${variant ? `,${variant}` : ''}${opts.bounds ? ` with ${JSON.stringify(opts.bounds)}` : ''}`);
}

test('the unreduced search gives the same result with code-only replays as with full replays', () => {
  const lines: [string, ModelName, string | undefined][] = [
    ['scenarios/tlb/reclaim-lost-write.litmus', 'x86', 'no-flush-before-pageout'],
    // The machine's own warnings (a use after free: property S1's kind) on some paths.
    ['scenarios/tlb/age-reclaim-stale.litmus', 'x86', 'no-unmap-flush'],
    ['scenarios/tlb/madvise-stale-read.litmus', 'x86', 'pre-4ce94eabac16'],
    ['scenarios/tlb/witness-age-young-tlb.litmus', 'sc', undefined],
    ['scenarios/tlb/witness-speculative-fill.litmus', 'x86', undefined],
    ['scenarios/sync-core/caller-migrate.litmus', 'x86', 'pre-e45cdc71d1fa'],
    ['scenarios/sync-core/witness-irq-exit-resched.litmus', 'sc', undefined],
    ['scenarios/membarrier/membarrier-A-preempt.litmus', 'x86', 'no-ipi'],
    ['scenarios/rseq/rseq-migrate-abort.litmus', 'x86', undefined],
    ['test/data/private-reads.litmus', 'x86', undefined],
    ['test/data/private-reads.litmus', 'sc', undefined],
  ];
  for (const [rel, model, variant] of lines) bothWays(rel, model, variant, { reduction: false });
  // No-op steps as steps of their own (nothing merged: the log holds no merges).
  bothWays('scenarios/membarrier/membarrier-A-preempt.litmus', 'x86', undefined, { reduction: false, mergeNoOps: false });
});

test('the reduced search gives the same result with code-only replays as with full replays', () => {
  const lines: [string, ModelName, string | undefined][] = [
    ['scenarios/tlb/mprotect-reclaim-pending.litmus', 'sc', undefined],
    ['scenarios/tlb/reclaim-lost-write.litmus', 'x86', 'async-flush'],
    ['scenarios/tlb/age-reclaim-stale.litmus', 'x86', 'no-unmap-flush'],
    ['scenarios/tlb/munmap-lazy.litmus', 'x86', 'early-ack'],
    ['scenarios/tlb/witness-speculative-fill.litmus', 'x86', undefined],
    ['scenarios/tlb/text-poke-lazy.litmus', 'x86', undefined],
    ['scenarios/sync-core/cross-modify.litmus', 'x86', undefined],
    ['scenarios/sync-core/irq-exit-resched.litmus', 'x86', 'pre-758c9373d841'],
    ['scenarios/membarrier/membarrier-A-preempt.litmus', 'x86', undefined],
    ['scenarios/membarrier/membarrier-C.litmus', 'x86', 'no-unlazy-mb'],
    ['scenarios/rseq/rseq-migrate-abort.litmus', 'x86', undefined],
    ['test/data/private-reads.litmus', 'x86', undefined],
  ];
  for (const [rel, model, variant] of lines) bothWays(rel, model, variant, { reduction: true });
  // Runs that a bound cuts short, and the replays after them.
  bothWays('scenarios/tlb/munmap-lazy.litmus', 'x86', undefined, { reduction: true, bounds: { stepsMax: 45 } });
  bothWays('scenarios/membarrier/membarrier-A-preempt.litmus', 'sc', undefined, { reduction: true, bounds: { stepsMax: 30 } });
  bothWays('scenarios/membarrier/membarrier-A-preempt.litmus', 'x86', undefined, { reduction: true, mergeNoOps: false });
});
