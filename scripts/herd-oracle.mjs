#!/usr/bin/env node
// Produces test/data/herd/{arm64,lkmm}.json: herd7's final states for every test
// of scenarios/litmus, on arm64 (each C test translated to AArch64 with the
// kernel's mapping, scripts/herd/aarch64.mjs, run with aarch64.cat) and on LKMM
// (the C test, run with the kernel's linux-kernel.cfg); and
// test/data/herd/lkmm-scenarios.json: herd7's states and flags (data-race) for
// scenarios/lkmm, the tests only LKMM runs (spinlocks, plain accesses).
// test/graph-engine.test.ts compares smpcheck's states to them exactly; the test
// suite never runs herd7.
//
// Usage (after npm run build):
//   node scripts/herd-oracle.mjs --herd /path/to/herd7 --lkmm /path/to/tools/memory-model
// The LKMM folder must hold linux-kernel.cfg, .bell, .cat, .def and lock.cat;
// herd7 7.57 does not know the cfg's `variant lkmmv2` line: remove it.

import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../dist/src/scenario/parser.js';
import { herdArgs, herdStates } from './herd/run.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  if (i < 0 || !args[i + 1]) throw new Error(`usage: node scripts/herd-oracle.mjs --herd HERD7 --lkmm MEMORY_MODEL_DIR`);
  return args[i + 1];
};
const herd = opt('--herd');
const lkmm = opt('--lkmm');
const version = execFileSync(herd, ['-version'], { encoding: 'utf8' }).trim();
for (const [model, folder, out] of [['arm64', 'litmus', 'arm64'], ['lkmm', 'litmus', 'lkmm'], ['lkmm', 'lkmm', 'lkmm-scenarios']]) {
  const dir = join(ROOT, 'scenarios', folder);
  const files = readdirSync(dir).filter((f) => f.endsWith('.litmus')).sort();
  const tests = {};
  for (const f of files) {
    const source = readFileSync(join(dir, f), 'utf8');
    const sc = parseScenario(source, join(dir, f));
    const r = herdStates(herd, model, lkmm, sc, source);
    const names = sc.observed.map((o) => (o.k === 'reg' ? `${o.thread}:${sc.threads[o.thread].regs[o.reg].name}` : sc.locations[o.loc].name));
    tests[f] = r.refused
      ? { refused: r.refused }
      : {
        observation: r.observation,
        states: r.states.map((m) => names.map((n) => `${n}=${m.get(n)};`).join(' ')).sort(),
        ...(folder === 'lkmm' ? { flags: r.flags } : {}),
        ...(r.text ? { aarch64: r.text } : {}),
      };
  }
  const data = {
    what: `herd7's final states${folder === 'lkmm' ? ' and flags' : ''} for scenarios/${folder} on ${model}`,
    herd7: version,
    command: `herd7 ${herdArgs(model, '<tools/memory-model>').join(' ')} TEST.litmus${model === 'arm64' ? ' (TEST: the AArch64 translation stored with each test)' : ' (run in the tools/memory-model folder)'}`,
    produced_by: 'node scripts/herd-oracle.mjs --herd HERD7 --lkmm MEMORY_MODEL_DIR',
    ...(model === 'lkmm' ? {
      model_files: 'tools/memory-model of the kernel (README, Weak memory, says which form)',
      // The files herd7 read, so that the data can be reproduced from the same ones.
      model_sha256: Object.fromEntries(['linux-kernel.cfg', 'linux-kernel.bell', 'linux-kernel.cat', 'linux-kernel.def', 'lock.cat']
        .map((f) => [f, createHash('sha256').update(readFileSync(join(lkmm, f))).digest('hex')])),
    } : {}),
    tests,
  };
  mkdirSync(join(ROOT, 'test', 'data', 'herd'), { recursive: true });
  writeFileSync(join(ROOT, 'test', 'data', 'herd', `${out}.json`), `${JSON.stringify(data, null, 1)}\n`);
  const n = Object.values(tests).filter((t) => !t.refused).length;
  console.log(`${out}: ${n} tests run, ${files.length - n} not run`);
}
