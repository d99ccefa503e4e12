#!/usr/bin/env node
// A campaign of random kernel scenarios (test/kernel-fuzz.ts), each searched reduced and
// unreduced on sc and x86: the two searches must find the same final states (with their
// graph counts), graphs, deadlocks and failed kernel assertions. A disagreement writes
// the scenario to OUT/fail-N.litmus, prints the commands that show it, and the exit code
// is 1. Programs whose unreduced search needs more than --states states are skipped
// (counted, never reported as agreeing).
//
// Usage (after npm run build, or through `npm run fuzz:kernel -- ...`):
//   node scripts/fuzz-kernel.mjs [--runs N] [--seed S] [--states N] [--out DIR]

// The engine is called directly: the kernel model is loaded at once (src/parts.ts).
import '../dist/src/parts/all.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compareSearches, kernelProgramArb, renderKernel } from '../dist/test/kernel-fuzz.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) {
    process.stderr.write(`fuzz-kernel: ${name} needs a value\nusage: node scripts/fuzz-kernel.mjs [--runs N] [--seed S] [--states N] [--out DIR]\n`);
    process.exit(1);
  }
  return v;
};
const num = (name, dflt) => {
  const v = Number(opt(name, String(dflt)));
  if (!Number.isSafeInteger(v) || v < 0) {
    process.stderr.write(`fuzz-kernel: ${name} takes a non-negative integer\n`);
    process.exit(1);
  }
  return v;
};
const runs = num('--runs', 200);
const seed = num('--seed', 1);
const statesMax = num('--states', 200_000);
const out = opt('--out', 'fuzz-kernel-out');

const samples = fc.sample(kernelProgramArb, { seed, numRuns: runs });
let agree = 0;
let skipped = 0;
let failed = 0;
let states = 0;
samples.forEach((p, i) => {
  const src = renderKernel(p);
  const file = `random-kernel-${seed}-${i}.litmus`;
  const v = compareSearches(src, file, statesMax);
  states += v.states;
  if (v.status === 'agree') agree++;
  else if (v.status === 'skipped') skipped++;
  else {
    failed++;
    mkdirSync(out, { recursive: true });
    const f = join(out, `fail-${seed}-${i}.litmus`);
    writeFileSync(f, src);
    process.stdout.write(`DISAGREE #${i} on ${v.model}: ${v.detail}\n  smpcheck check ${f} --model ${v.model}\n  smpcheck check ${f} --model ${v.model} --no-reduction\n`);
  }
  // Progress: a line kept up to date on a terminal, else a line every 50 programs.
  const line = `[${i + 1}/${runs}] agree ${agree}, skipped ${skipped}, disagree ${failed}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
  else if ((i + 1) % 50 === 0) process.stderr.write(`${line}\n`);
});
if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
process.stdout.write(`fuzz-kernel --seed ${seed} --runs ${runs} --states ${statesMax}: ${agree} agree, ${skipped} skipped (more than ${statesMax} states unreduced), ${failed} disagree; ${states} unreduced states in all\n`);
process.exit(failed > 0 ? 1 : 0);
