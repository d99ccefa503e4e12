#!/usr/bin/env node
// Fits one parameter of a cost profile to one published cell by bisection, and prints the
// value (it writes nothing: copy it into the profile, with its source marked `fitted`).
//   node scripts/sim-fit.mjs PROFILE TABLE ROW COLUMN PARAM [LO HI]
// PARAM is `params.NAME` or `functions.NAME`. Run after `npm run build`.
//   node scripts/sim-fit.mjs e5-2630-v3 sched-pipe inter-thread before params.context_switch_ns

import { fileURLToPath } from 'node:url';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The timing simulator runs the kernel model: loaded at once (src/parts.ts).
await import(new URL('../dist/src/parts/all.js', import.meta.url).href);
const { resolveProfile } = await import(new URL('../dist/src/cli/sim.js', import.meta.url).href);
const { SEED_CELLS } = await import(new URL('../dist/src/sim/seeds.js', import.meta.url).href);
const { simulateScenario } = await import(new URL('../dist/src/sim/run.js', import.meta.url).href);
const { parseScenario } = await import(new URL('../dist/src/scenario/parser.js', import.meta.url).href);
const { readFileSync } = await import('node:fs');
const { join } = await import('node:path');

const [profileName, table, row, column, param, lo0 = '0', hi0 = '5000'] = process.argv.slice(2);
if (!param) {
  process.stderr.write('usage: node scripts/sim-fit.mjs PROFILE TABLE ROW COLUMN params.NAME|functions.NAME [LO HI]\n');
  process.exit(1);
}
const cell = SEED_CELLS.find((c) => c.table === table && c.row === row && c.column === column);
if (!cell) throw new Error(`no cell ${table} / ${row} / ${column}`);
const base = resolveProfile(profileName);
const [group, name] = param.split('.');
const sc = parseScenario(readFileSync(join(ROOT, cell.scenario), 'utf8'), cell.scenario);
const at = (v) => {
  const p = structuredClone(base);
  p[group][name] = { ...(p[group][name] ?? { unit: 'ns', source: { kind: 'estimate', note: 'fit' } }), value: v };
  const ns = simulateScenario(sc, p, { variant: cell.variant, iterations: cell.iterations }).perIteration.mean;
  return cell.unit === 'us' ? ns / 1000 : ns;
};
let lo = Number(lo0);
let hi = Number(hi0);
const rising = at(hi) > at(lo);
for (let i = 0; i < 30 && hi - lo > 0.05; i++) {
  const mid = (lo + hi) / 2;
  if ((at(mid) < cell.published) === rising) lo = mid;
  else hi = mid;
}
const v = Math.round(((lo + hi) / 2) * 10) / 10;
process.stdout.write(`${param} = ${v} gives ${at(v)} (${cell.unit}; published ${cell.published})\n`);
