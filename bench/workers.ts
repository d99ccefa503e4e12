// `npm run bench:workers`: the search on worker threads against its targets (issue: scale):
// `--workers 2` at least 1.8 times as fast as one thread on searches that take over 5 s,
// and scenario A with a migration on three CPUs exhaustive in under 30 s. Each scenario is
// checked by the CLI in a fresh process with `--workers 1` and `--workers 2` (`--no-time`,
// so that the two outputs must be the same bytes: they are compared), and the machine's
// own ceiling is measured beside it: two one-thread checks of the first scenario at once,
// whose throughput against one alone bounds what two threads can give on this machine.
// Then the searches of a few seconds again, each the second of two in one process
// (bench/warm.ts): what two threads give once V8 has optimised the engine in both, as in
// a suite or a library caller's later searches (the workers outlive a search).
//   node dist/bench/workers.js [--write-readme]

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { writeReadmeSection } from './readme.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Scenario A on six CPUs first: the machine's ceiling is measured on it (a search of
// about 8 s; on a short one, start-up blurs the ceiling).
const SCENARIOS = ['bench/workers/membarrier-A-6cpus.litmus', 'bench/workers/membarrier-A-migrate-3cpus.litmus', 'scenarios/tlb/fork-cow-sibling-write.litmus'];
const MIGRATE = 'bench/workers/membarrier-A-migrate-3cpus.litmus';

/** One check in a fresh process: its stdout and wall time (s). */
function check(file: string, workers: number): Promise<{ out: string; s: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'bin/smpcheck.js'), 'check', file, '--model', 'x86', '--no-time', '--no-progress', '--workers', String(workers)], { cwd: ROOT, maxBuffer: 1 << 26 }, (err, out) => {
      if (err) reject(err);
      else resolve({ out, s: (performance.now() - t0) / 1000 });
    });
  });
}

/** The second of two searches in one fresh process (bench/warm.ts): its wall time (s) and result. */
function warm(file: string, workers: number): Promise<{ s: number; result: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'dist/bench/warm.js'), file, String(workers)], { cwd: ROOT, maxBuffer: 1 << 26 }, (err, out) => {
      if (err) reject(err);
      else {
        const j = JSON.parse(out) as { s: number; result: unknown };
        resolve({ s: j.s, result: JSON.stringify(j.result) });
      }
    });
  });
}
/** The searches measured warm too: those of a few seconds, where a new worker's start weighs. */
const WARM = ['bench/workers/membarrier-A-6cpus.litmus', 'scenarios/tlb/fork-cow-sibling-write.litmus'];

const lines: string[] = [];
const say = (l: string): void => {
  lines.push(l);
  process.stdout.write(`${l}\n`);
};

say(`- machine: ${availableParallelism()} cores; each check in a fresh process, on x86, output compared byte for byte between 1 and 2 workers`);
const rows: string[] = ['| scenario | steps | `--workers 1` | `--workers 2` | speed-up | same output |', '|:--|--:|--:|--:|--:|:--|'];
const speedups: { file: string; one: number; up: number }[] = [];
let migrate2 = Infinity;
for (const file of SCENARIOS) {
  const one = await check(file, 1);
  const two = await check(file, 2);
  const steps = /steps (\d+)/.exec(one.out)?.[1] ?? '?';
  const up = one.s / two.s;
  speedups.push({ file, one: one.s, up });
  if (file === MIGRATE) migrate2 = two.s;
  rows.push(`| ${file} | ${steps} | ${one.s.toFixed(2)} s | ${two.s.toFixed(2)} s | ${up.toFixed(2)}x | ${one.out === two.out ? 'yes' : 'NO'} |`);
  if (one.out !== two.out) process.exitCode = 1;
}
// The ceiling: two independent one-thread checks at once against one alone.
const first = SCENARIOS[0]!;
const alone = speedups[0]!.one;
const pair = await Promise.all([check(first, 1), check(first, 1)]);
const ceiling = (2 * alone) / Math.max(pair[0]!.s, pair[1]!.s);
const big = speedups.filter((x) => x.one > 5);
const worst = Math.min(...big.map((x) => x.up));
say(`- the machine's ceiling: two one-thread checks of ${first} at once took ${pair[0]!.s.toFixed(2)} and ${pair[1]!.s.toFixed(2)} s against ${alone.toFixed(2)} s alone: ${ceiling.toFixed(2)}x the throughput of one`);
say(`- speed-up with 2 workers on the searches over 5 s (${big.map((x) => x.file.split('/').pop()).join(', ')}): at least ${worst.toFixed(2)}x (target >= 1.8x: ${worst >= 1.8 ? 'met' : 'NOT met'})`);
say(`- scenario A with a migration on three CPUs (${MIGRATE}), exhaustive: ${migrate2.toFixed(2)} s with 2 workers (target < 30 s: ${migrate2 < 30 ? 'met' : 'NOT met'})`);
const warmRows: string[] = ['| scenario, second search in one process | `--workers 1` | `--workers 2` | speed-up | same result |', '|:--|--:|--:|--:|:--|'];
const warmUps: number[] = [];
for (const file of WARM) {
  const one = await warm(file, 1);
  const two = await warm(file, 2);
  warmUps.push(one.s / two.s);
  warmRows.push(`| ${file} | ${one.s.toFixed(2)} s | ${two.s.toFixed(2)} s | ${(one.s / two.s).toFixed(2)}x | ${one.result === two.result ? 'yes' : 'NO'} |`);
  if (one.result !== two.result) process.exitCode = 1;
}
say(`- with the engine optimised in both threads (the second of two searches in one process, as in a suite): at least ${Math.min(...warmUps).toFixed(2)}x on ${WARM.map((f) => f.split('/').pop()).join(', ')}`);
say('');
for (const r of rows) say(r);
say('');
for (const r of warmRows) say(r);
say('');
if (process.argv.includes('--write-readme')) writeReadmeSection(ROOT, 'workers', `${lines.join('\n')}\n`);
