// Cross-checks the graph engine's kernel model (src/graph/kernel.ts) against the
// machine: every scenario file given (or every one under scenarios/) that needs the
// kernel model and runs on the graph engine, on sc and x86, with each variant its
// header names, must give the same final states, assertions and deadlocks on both.
// Usage: node scripts/kernel-graph-crosscheck.mjs [FILE|DIR]... (after npm run build)
// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../dist/src/parts/all.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkSource } from '../dist/src/check.js';

const args = process.argv.slice(2);
const files = [];
const walk = (p) => {
  if (statSync(p).isDirectory()) for (const f of readdirSync(p).sort()) walk(join(p, f));
  else if (p.endsWith('.litmus')) files.push(p);
};
for (const a of args.length ? args : ['scenarios']) walk(a);
const models = (process.env.MODELS ?? 'sc,x86').split(',');
let compared = 0, refused = 0, differ = 0;
const summary = (r) => JSON.stringify({
  states: r.result.outcomes.map((o) => o.values.join(',')).sort(),
  assertions: r.result.assertions.map((a) => a.name).sort(),
  deadlock: r.result.deadlocks > 0,
  complete: r.result.complete,
});
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const variants = new Set(['v6.18']);
  for (const m of src.matchAll(/Result\[[a-z0-9]+,([^\]]+)\]/g)) variants.add(m[1]);
  for (const model of models) {
    for (const variant of variants) {
      if (variant.includes('/') || variant.endsWith('.ts')) continue;
      let g;
      try {
        g = checkSource(src, f, { model, engine: 'graph', variant, bounds: { executionsMax: Number(process.env.STATES_MAX ?? 200000) } });
      } catch (e) {
        if (e?.code === 'SMP112' || e?.code === 'SMP103') { refused++; break; }
        console.log(`ERROR ${f} ${model} ${variant}: ${e?.message ?? e}`);
        differ++;
        continue;
      }
      if (g.engine !== 'graph') continue;
      if (!g.result.complete) {
        console.log(`capped ${f} ${model} ${variant}: ${g.result.incompleteReason}`);
        continue;
      }
      const m = checkSource(src, f, { model, engine: 'machine', variant });
      compared++;
      const a = summary(m), b = summary(g);
      if (a !== b) {
        differ++;
        console.log(`DIFFER ${f} ${model} ${variant}\n  machine ${a}\n  graph   ${b}`);
      } else {
        console.log(`same   ${f} ${model} ${variant} (${g.result.states} graph states, ${g.result.outcomes.length} final states)`);
      }
    }
  }
}
console.log(`${compared} compared, ${differ} differ, ${refused} refused (SMP112/SMP103)`);
process.exit(differ > 0 ? 1 : 0);
