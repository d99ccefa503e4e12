#!/usr/bin/env node
// Runs the kernel's own litmus tests (tools/memory-model/litmus-tests/ and
// Documentation/litmus-tests/ of a kernel tree given by path) through smpcheck on
// LKMM, unedited, and through herd7 when given, and prints counts: accepted,
// agreeing with herd7 (final states, observation and flags such as data-race),
// refused with the reason. The project does not carry the kernel's tests.
//
// Usage (after npm run build):
//   node scripts/kernel-litmus.mjs KERNEL_TREE [--herd HERD7] [--lkmm MEMORY_MODEL_DIR] [--verbose]
// MEMORY_MODEL_DIR (default KERNEL_TREE/tools/memory-model) holds the files herd7 reads
// (linux-kernel.cfg, .bell, .cat, .def, lock.cat); herd7 7.57 needs them in the form it
// reads (README, Weak memory, says which).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../dist/src/parts/all.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseScenario } from '../dist/src/scenario/parser.js';
import { checkScenario } from '../dist/src/check.js';
import { SmpError } from '../dist/src/scenario/errors.js';
import { herdStates } from './herd/run.mjs';

const args = process.argv.slice(2);
const tree = args.find((a, i) => !a.startsWith('--') && !['--herd', '--lkmm'].includes(args[i - 1]));
if (!tree) {
  console.error('usage: node scripts/kernel-litmus.mjs KERNEL_TREE [--herd HERD7] [--lkmm MEMORY_MODEL_DIR] [--verbose]');
  process.exit(2);
}
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const herd = opt('--herd');
const lkmm = opt('--lkmm') ?? join(tree, 'tools', 'memory-model');
const verbose = args.includes('--verbose');

function litmusUnder(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(litmusUnder(p));
    else if (e.endsWith('.litmus')) out.push(p);
  }
  return out;
}

const files = [...litmusUnder(join(tree, 'tools', 'memory-model', 'litmus-tests')), ...litmusUnder(join(tree, 'Documentation', 'litmus-tests'))];
if (files.length === 0) {
  console.error(`no litmus tests under ${tree}/tools/memory-model/litmus-tests or ${tree}/Documentation/litmus-tests`);
  process.exit(2);
}

const count = { tests: files.length, accepted: 0, verdictOk: 0, herdRun: 0, agree: 0, disagree: 0 };
const refused = {};
const herdRefused = {};
for (const f of files) {
  const rel = relative(tree, f);
  const src = readFileSync(f, 'utf8');
  let sc;
  let r;
  try {
    sc = parseScenario(src, f);
    r = checkScenario(sc, { model: 'lkmm' });
  } catch (e) {
    if (!(e instanceof SmpError)) throw e;
    const why = `${e.code} ${e.message}`;
    (refused[why] ??= []).push(rel);
    continue;
  }
  count.accepted++;
  if (r.verdict === 'ok') count.verdictOk++;
  const names = r.program.observedNames;
  const got = r.result.outcomes.map((o) => names.map((n, i) => `${n}=${r.program.formatValue(o.values[i])};`).join(' ')).sort();
  const gotFlags = [...(r.result.flags ?? [])].sort();
  if (verbose) console.log(`${rel}: ${r.observation} ${r.result.positive} ${r.result.negative}${gotFlags.map((x) => ` Flag ${x}`).join('')} (verdict ${r.verdict})`);
  if (!herd) continue;
  const h = herdStates(herd, 'lkmm', lkmm, sc, src);
  if (h.refused) {
    (herdRefused[h.refused] ??= []).push(rel);
    continue;
  }
  count.herdRun++;
  const want = h.states.map((m) => names.map((n) => `${n}=${m.get(n)};`).join(' ')).sort();
  const same = JSON.stringify(want) === JSON.stringify(got) && h.observation === r.observation && JSON.stringify(h.flags) === JSON.stringify(gotFlags);
  if (same) count.agree++;
  else {
    count.disagree++;
    console.log(`DISAGREE ${rel}\n  herd7:    ${h.observation} ${h.flags.join(' ')}\n            ${want.join('\n            ')}\n  smpcheck: ${r.observation} ${gotFlags.join(' ')}\n            ${got.join('\n            ')}`);
  }
}

console.log(`${count.tests} kernel litmus tests under ${tree}`);
console.log(`accepted by smpcheck --model lkmm: ${count.accepted} (the Result line confirmed: ${count.verdictOk})`);
for (const [why, list] of Object.entries(refused)) console.log(`refused ${list.length}: ${why} (${list.join(', ')})`);
if (herd) {
  console.log(`run by herd7 too: ${count.herdRun}; agreeing (states, observation, flags): ${count.agree}; disagreeing: ${count.disagree}`);
  for (const [why, list] of Object.entries(herdRefused)) console.log(`herd7 gave no states for ${list.length}: ${why} (${list.join(', ')})`);
}
process.exit(count.disagree === 0 ? 0 : 1);
