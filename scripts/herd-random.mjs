#!/usr/bin/env node
// Random differential testing of the graph engine against herd7: small random C
// litmus tests (2 to 4 threads, mostly 2 or 3, 2 or 3 locations, loads, stores, barriers,
// acquire/release, atomics of every ordering, data, address-free control and
// fake dependencies, loads after stores of the same location), run by smpcheck
// and by herd7 on arm64 (AArch64 translation, aarch64.cat) and on LKMM
// (linux-kernel.cfg); every final-state set must be equal. A disagreement
// prints the test and both state sets, and the exit code is 1.
//
// Usage (after npm run build):
//   node scripts/herd-random.mjs --herd HERD7 --lkmm MEMORY_MODEL_DIR [--count N] [--seed S] [--model arm64|lkmm]
//     [--threads N] [--stmts N] [--rcu] [--srcu] [--locks] [--plain]

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../dist/src/parts/all.js';
import { parseScenario } from '../dist/src/scenario/parser.js';
import { checkScenario } from '../dist/src/check.js';
import { herdStates } from './herd/run.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i >= 0 && args[i + 1]) return args[i + 1];
  if (dflt === undefined) throw new Error('usage: node scripts/herd-random.mjs --herd HERD7 --lkmm DIR [--count N] [--seed S] [--model M]');
  return dflt;
};
const herd = opt('--herd');
const lkmm = opt('--lkmm');
const count = Number(opt('--count', '200'));
let seed = Number(opt('--seed', '1'));
// --locks: critical sections of a spinlock (spin_lock()/spin_unlock(), spin_trylock(), spin_is_locked(),
// smp_mb__after_spinlock(), smp_mb__after_unlock_lock()); --plain: some accesses are plain C (*x);
// such tests run on LKMM only.
const locks = args.includes('--locks');
// --srcu: SRCU readers (srcu_read_lock()/srcu_read_unlock() of srcu_struct s or t around the body) and updaters (synchronize_srcu()).
const srcu = args.includes('--srcu');
const plain = args.includes('--plain');
const models = args.includes('--rcu') || locks || plain || srcu ? ['lkmm'] : opt('--model', 'both') === 'both' ? ['arm64', 'lkmm'] : [opt('--model')];
// --threads N: exactly N threads (default: 2 or 3, sometimes 4); --stmts N: at most N statements a thread (default 4).
const threadsOpt = Number(opt('--threads', '0'));
const stmtsMax = Number(opt('--stmts', '4'));
// --rcu: some threads are RCU readers (the body inside rcu_read_lock()/rcu_read_unlock()), others
// call synchronize_rcu() somewhere; such tests run on LKMM only.
const rcu = args.includes('--rcu');

// xorshift32: one seed, one sequence of tests.
function rnd(n) {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}
const pick = (xs) => xs[rnd(xs.length)];

const SFX = ['', '_relaxed', '_acquire', '_release'];

function randomTest(k) {
  const nThreads = threadsOpt > 0 ? threadsOpt : 2 + rnd(2) + (rnd(4) === 0 ? 1 : 0);
  const locs = ['x', 'y', 'z'].slice(0, 2 + rnd(2));
  const threads = [];
  for (let t = 0; t < nThreads; t++) {
    const body = [];
    const regs = [];
    const nStmts = 1 + rnd(stmtsMax);
    const newReg = () => {
      const r = `r${regs.length}`;
      regs.push(r);
      return r;
    };
    const val = () => (regs.length > 0 && rnd(4) === 0 ? pick([`${pick(regs)}`, `${pick(regs)} + 1`, `${pick(regs)} & 0`]) : String(1 + rnd(2)));
    for (let s = 0; s < nStmts; s++) {
      const x = pick(locs);
      switch (rnd(12)) {
        case 0: case 1: body.push(plain && rnd(2) ? `*${x} = ${val()};` : `WRITE_ONCE(*${x}, ${val()});`); break;
        case 2: case 3: body.push(plain && rnd(2) ? `${newReg()} = *${x};` : `${newReg()} = READ_ONCE(*${x});`); break;
        case 4: body.push(`smp_store_release(${x}, ${val()});`); break;
        case 5: body.push(`${newReg()} = smp_load_acquire(${x});`); break;
        case 6: body.push(pick(['smp_mb();', 'smp_rmb();', 'smp_wmb();', 'smp_mb__before_atomic();', 'smp_mb__after_atomic();', 'barrier();'])); break;
        case 7: body.push(`${newReg()} = xchg${pick(SFX)}(${x}, ${val()});`); break;
        case 8: body.push(`${newReg()} = cmpxchg${pick(SFX)}(${x}, ${rnd(2)}, ${1 + rnd(2)});`); break;
        case 9: body.push(rnd(2) ? `atomic_inc(${x});` : `${newReg()} = ${pick(['atomic_add_return', 'atomic_fetch_add'])}${pick(SFX)}(1, ${x});`); break;
        case 10:
          if (regs.length > 0) body.push(`if (${pick(regs)} == ${rnd(2)}) { WRITE_ONCE(*${x}, ${1 + rnd(2)}); }`);
          else body.push(`WRITE_ONCE(*${x}, 1);`);
          break;
        default:
          if (regs.length > 0) {
            const r = pick(regs);
            const q = newReg();
            body.push(`if (${r} != 0) { ${q} = READ_ONCE(*${x}); } else { ${q} = 2; }`);
          } else body.push(`${newReg()} = READ_ONCE(*${x});`);
      }
    }
    if (rcu) {
      if (rnd(2) === 0) body.splice(0, body.length, 'rcu_read_lock();', ...body, 'rcu_read_unlock();');
      else body.splice(rnd(body.length + 1), 0, 'synchronize_rcu();');
    }
    if (srcu) {
      const ss = pick(['s', 's', 't']);
      if (rnd(2) === 0) {
        const r = newReg();
        body.splice(0, body.length, `${r} = srcu_read_lock(${ss});`, ...body, `srcu_read_unlock(${ss}, ${r});`);
      } else body.splice(rnd(body.length + 1), 0, `synchronize_srcu(${ss});`);
    }
    if (locks) {
      // One or two critical sections over slices of the body, on lock l or m.
      const sections = 1 + rnd(2);
      for (let c = 0; c < sections && body.length > 0; c++) {
        const lk = pick(['l', 'm']);
        const a = rnd(body.length + 1);
        const b = a + rnd(body.length - a + 1);
        const inner = body.slice(a, b);
        const after = pick(['', '', 'smp_mb__after_spinlock();', 'smp_mb__after_unlock_lock();']);
        if (rnd(4) === 0) {
          const r = newReg();
          body.splice(a, b - a, `${r} = spin_trylock(${lk});`, `if (${r}) { ${[...inner, `spin_unlock(${lk});`].join(' ')} }`);
        } else body.splice(a, b - a, `spin_lock(${lk});`, ...(after ? [after] : []), ...inner, `spin_unlock(${lk});`);
      }
      if (rnd(3) === 0) body.push(`${newReg()} = spin_is_locked(${pick(['l', 'm'])});`);
    }
    const params = [...locs.map((l) => (body.some((b) => /atomic_/.test(b)) ? `atomic_t *${l}` : `int *${l}`)), ...(locks ? ['spinlock_t *l', 'spinlock_t *m'] : []), ...(srcu ? ['struct srcu_struct *s', 'struct srcu_struct *t'] : [])].join(', ');
    threads.push(`P${t}(${params})\n{\n${regs.map((r) => `\tint ${r};\n`).join('')}\t${body.join('\n\t')}\n}\n`);
  }
  const observed = [];
  threads.forEach((th, t) => {
    for (const m of th.matchAll(/int (r\d+);/g)) observed.push(`${t}:${m[1]}`);
  });
  observed.push(...locs);
  return `C random${k}\n\n{}\n\n${threads.join('\n')}\nlocations [${observed.join('; ')};]\nexists (${locs[0]}=0)\n`;
}

let disagreements = 0;
let runs = 0;
let flagged = 0; // runs where herd7 raised a flag (data-race, ...): the flag comparison has something to compare
const skipped = {};
for (let k = 0; k < count; k++) {
  if (k > 0 && k % 25 === 0) console.log(`after ${k} tests: ${runs} runs, ${disagreements} disagreements`);
  const src = randomTest(k);
  let sc;
  try {
    sc = parseScenario(src, `random${k}.litmus`);
  } catch (e) {
    skipped[`parse: ${e.message}`] = (skipped[`parse: ${e.message}`] ?? 0) + 1;
    continue;
  }
  for (const model of models) {
    const h = herdStates(herd, model, lkmm, sc, src, 20_000);
    if (h.refused) {
      skipped[h.refused] = (skipped[h.refused] ?? 0) + 1;
      continue;
    }
    const names = sc.observed.map((o) => (o.k === 'reg' ? `${o.thread}:${sc.threads[o.thread].regs[o.reg].name}` : sc.locations[o.loc].name));
    const want = h.states.map((m) => names.map((n) => `${n}=${m.get(n)};`).join(' ')).sort();
    const t0 = performance.now();
    let r;
    try {
      r = checkScenario(sc, { model });
    } catch (e) {
      // What smpcheck refuses (a spin_unlock() without its lock) is counted, not compared.
      const why = `smpcheck: ${e.code ?? ''} ${String(e.message).replace(/ of P\d+| in P\d+/g, '')}`;
      skipped[why] = (skipped[why] ?? 0) + 1;
      continue;
    }
    if (process.env.HERD_RANDOM_VERBOSE) console.error(`random${k} ${model}: ${r.result.executions} candidates, ${r.result.graphs} graphs, ${(performance.now() - t0).toFixed(0)} ms`);
    const got = r.result.outcomes.map((o) => names.map((n, i) => `${n}=${r.program.formatValue(o.values[i])};`).join(' ')).sort();
    runs++;
    // On LKMM the flags (data-race, mixed-accesses, ...) must agree too.
    if ((h.flags ?? []).length > 0) flagged++;
    const flagsDiffer = model === 'lkmm' && JSON.stringify(h.flags) !== JSON.stringify(r.result.flags ?? []);
    if (JSON.stringify(want) !== JSON.stringify(got) || flagsDiffer) {
      disagreements++;
      console.log(`DISAGREE on ${model}:\n${src}\n${h.text ?? ''}\nherd7:    ${h.flags?.join(' ') ?? ''}\n          ${want.join('\n          ')}\nsmpcheck: ${(r.result.flags ?? []).join(' ')}\n          ${got.join('\n          ')}\n`);
    }
  }
}
console.log(`${runs} runs (${count} tests x ${models.join(', ')}), ${disagreements} disagreements; ${flagged} runs with a flag raised by herd7`);
for (const [why, n] of Object.entries(skipped)) console.log(`not run ${n}: ${why}`);
process.exit(disagreements === 0 ? 0 : 1);
