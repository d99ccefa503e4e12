// `npm run bench`: every scenario of the library on both machines, each in a
// fresh process, reduced (DPOR) and unreduced (explicit-state) search.
//   node dist/bench/bench.js [--json] [DIR...]
// Prints a table per scenario and a summary against the engine's targets.

import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS } from '../src/machine/machine.js';
import { writeReadmeSection } from './readme.js';
import { collectLitmusFiles } from '../src/scenario/files.js';
import { parseScenario } from '../src/scenario/parser.js';
import { findArm64Insn } from '../src/graph/support.js';
import { readFileSync } from 'node:fs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
// --write-readme: also replace the table between the bench markers of README.md.
const writeReadme = args.includes('--write-readme');
const dirs = args.filter((a) => !a.startsWith('--'));
const roots = dirs.length > 0 ? dirs : ['scenarios/litmus', 'scenarios/irq', 'scenarios/membarrier', 'scenarios/sync-core', 'scenarios/rseq', 'scenarios/sched', 'scenarios/tlb', 'bench/scenarios', 'bench/scaling'];

interface Row {
  test: string; file: string; model: string; observation: string | null; expected: string | null; complete: boolean;
  outcomes: number; executions: number; deadlocks: number; sleepBlocked: number; graphs: number; steps: number; ms: number;
  fullExecutions: string | null; fullStates: number | null; fullSteps: number; fullMs: number; agree: boolean | null; keptKb: number; peakRssMb: number;
}

const rows: Row[] = [];
/**
 * Executions per distinct execution graph: the runs that reached a final state per final
 * graph (a run that ends in a deadlock is an execution with no final graph).
 */
const perGraph = (r: Row): number => (r.executions - r.deadlocks) / Math.max(1, r.graphs);
// Scenarios that use arm64's own instructions run on arm64 alone (bench:weak measures the graph engine).
const all = collectLitmusFiles(roots.map((r) => join(ROOT, r))).filter((f) => !findArm64Insn(parseScenario(readFileSync(f, 'utf8'), f)));
let n = 0;
for (const f of all) {
  for (const model of MODELS) {
    n++;
    if (process.stderr.isTTY) process.stderr.write(`\r[${n}/${all.length * MODELS.length}] ${relative(ROOT, f)} ${model}\x1b[K`);
    // Scaling workloads: the reduced search only, timed once after one warm-up (their unreduced search is out of reach).
    // TLB scenarios: the reduced search only (their unreduced searches take minutes each;
    // `npm run test:full` compares them).
    const scaling = f.includes('/bench/scaling/');
    const tlb = f.includes('/scenarios/tlb/');
    const out = execFileSync(process.execPath, [join(ROOT, 'dist/bench/one.js'), f, model, scaling ? '1' : '5', scaling || tlb ? 'nofull' : 'full'], { encoding: 'utf8' });
    rows.push(JSON.parse(out) as Row);
  }
}
if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

if (json) {
  process.stdout.write(`${JSON.stringify(rows)}\n`);
} else {
  let text = '';
  const print = (t: string): void => {
    text += t;
    process.stdout.write(t);
  };
  const head = ['scenario', 'machine', 'result', 'outcomes', 'executions', 'deadlocked', 'graphs', 'ratio', 'sleep-blk', 'steps', 'steps/s', 'ms', 'interleavings (no reduction)', 'states (no red.)', 'ms (no red.)', 'kept KB', 'peak MB'];
  const body = rows.map((r) => [
    r.test, r.model, r.observation ?? 'INCOMPLETE', String(r.outcomes), String(r.executions), String(r.deadlocks), String(r.graphs),
    perGraph(r).toFixed(2), String(r.sleepBlocked), String(r.steps),
    r.ms > 0 ? String(Math.round(r.steps / (r.ms / 1000))) : '-', r.ms.toFixed(2),
    r.fullExecutions ?? '-', String(r.fullStates ?? '-'), r.agree === null ? '-' : r.fullMs.toFixed(1), String(r.keptKb), String(r.peakRssMb),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
  print(`${line(head)}\n|${w.map((x, i) => (i < 3 ? ':' : '-') + '-'.repeat(x) + (i < 3 ? '-' : ':')).join('|')}|\n`);
  for (const b of body) print(`${line(b)}\n`);

  const small = rows.filter((r) => r.file.includes('scenarios/litmus/') && !/^SB[456]/.test(r.test));
  const sb6 = rows.find((r) => r.test === 'SB6' && r.model === 'x86');
  const ratio = (rs: Row[]): string => {
    const e = rs.reduce((a, r) => a + r.executions - r.deadlocks, 0);
    const g = rs.reduce((a, r) => a + r.graphs, 0);
    return `${e} / ${g} = ${(e / g).toFixed(3)}`;
  };
  const over = rows.filter((r) => perGraph(r) > 1.05);
  const bigSteps = rows.filter((r) => r.fullSteps >= 100_000);
  const fullRate = bigSteps.map((r) => r.fullSteps / (r.fullMs / 1000));
  const bigDpor = rows.filter((r) => r.steps >= 10_000);
  const dporRate = bigDpor.map((r) => r.steps / (r.ms / 1000));
  print('\nSummary\n');
  print(`- slowest two/three-thread classic test (reduced, in-process median): ${Math.max(...small.map((r) => r.ms)).toFixed(2)} ms (target < 50 ms)\n`);
  if (sb6) print(`- SB6 on x86, exhaustive: ${sb6.ms.toFixed(2)} ms reduced, ${sb6.fullMs.toFixed(0)} ms without reduction (target < 5 s)\n`);
  print(`- executions that reached a final state / distinct execution graphs, classic litmus library (scenarios/litmus): ${ratio(rows.filter((r) => r.file.includes('scenarios/litmus/')))} (target <= 1.1)\n`);
  print(`- the same over every benchmarked scenario: ${ratio(rows)}; on every scenario: at most ${Math.max(...rows.map(perGraph)).toFixed(3)} (target <= 1.05: ${over.length === 0 ? 'met' : 'not met'})\n`);
  print(`- scenarios above 1.05 (target: none): ${over.length === 0 ? 'none' : over.map((r) => `${r.test}/${r.model} ${perGraph(r).toFixed(2)}`).join(', ')}\n`);
  // The scale issue's engine target: the library's largest searches, taken as those of a
  // million steps or more (the searches of tens of thousands of steps spend a larger share
  // on starting the search and its first runs).
  const largest = rows.filter((r) => r.steps >= 1_000_000);
  const largestRate = largest.map((r) => ({ r, rate: r.steps / (r.ms / 1000) })).sort((a, b) => a.rate - b.rate);
  if (largestRate.length > 0) {
    const lo = largestRate[0]!;
    print(`- steps per second, reduced search, on the largest searches (1,000,000 steps or more: ${largest.length}): min ${Math.round(lo.rate)} (${lo.r.test}/${lo.r.model}), max ${Math.round(largestRate.at(-1)!.rate)} (target >= 1,000,000: ${lo.rate >= 1_000_000 ? 'met' : 'NOT met'})\n`);
  }
  const syncCore = rows.filter((r) => r.file.includes('scenarios/sync-core/')).sort((a, b) => b.ms - a.ms)[0];
  if (syncCore) print(`- slowest scenario of scenarios/sync-core, reduced, exhaustive: ${syncCore.test}/${syncCore.model} ${(syncCore.ms / 1000).toFixed(2)} s (target < 30 s: ${syncCore.ms < 30_000 ? 'met' : 'NOT met'})\n`);
  if (dporRate.length > 0) print(`- steps per second, reduced search, on searches of 10,000 steps or more (${bigDpor.map((r) => `${r.test}/${r.model}`).join(', ')}): min ${Math.round(Math.min(...dporRate))}, max ${Math.round(Math.max(...dporRate))} (target >= 300,000)\n`);
  if (fullRate.length > 0) print(`- steps per second, unreduced search, on searches of 100,000 steps or more: min ${Math.round(Math.min(...fullRate))}, max ${Math.round(Math.max(...fullRate))}\n`);
  const tlbRows = rows.filter((r) => r.file.includes('scenarios/tlb/') && r.model === 'x86');
  if (tlbRows.length > 0) {
    const slow = tlbRows.reduce((a, r) => (r.ms > a.ms ? r : a), tlbRows[0]!);
    print(`- TLB scenarios (scenarios/tlb) on x86, reduced, exhaustive: slowest ${slow.test} ${(slow.ms / 1000).toFixed(2)} s (target < 10 s); executions / graphs ${ratio(tlbRows)}\n`);
  }
  print(`- reduced and unreduced searches agree on outcomes and graphs: ${rows.every((r) => r.agree !== false) ? 'yes, on every scenario searched both ways (the scaling workloads and scenarios/tlb are searched reduced only)' : `NO: ${rows.filter((r) => r.agree === false).map((r) => r.test).join(', ')}`}\n`);
  const scal = ['membarrier-A', 'membarrier-A-3cpus', 'membarrier-A-4cpus', 'membarrier-A-5cpus'].map((t) => rows.find((r) => r.test === t && r.model === 'x86'));
  if (scal.every((r) => r)) {
    print(`- scenario A on x86 with 2, 3, 4, 5 CPUs: ${scal.map((r) => `${r!.graphs} graphs, ${r!.steps} steps, ${r!.ms.toFixed(0)} ms`).join('; ')}\n`);
    // Growth per added CPU: the largest ratio of graphs (and of executions) between consecutive rows.
    const growth = Math.max(...scal.slice(1).map((r, i) => Math.max(r!.graphs / scal[i]!.graphs, r!.executions / scal[i]!.executions)));
    print(`- growth per added CPU, scenario A on x86 (graphs and executions, 2 to 5 CPUs): at most ${growth.toFixed(2)}x (target <= 5x: ${growth <= 5 ? 'met' : 'NOT met'})\n`);
  }
  const kept = rows.reduce((a, r) => (r.keptKb > a.keptKb ? r : a), rows[0]!);
  print(`- most memory kept by one reduced search (graphs and histories, as --memory-max counts it): ${kept.keptKb} KB, ${kept.test}/${kept.model}; peak RSS of any one process: ${Math.max(...rows.map((r) => r.peakRssMb))} MB\n`);
  print(`- expectations confirmed: ${rows.filter((r) => r.expected === null || r.expected === r.observation).length}/${rows.length}\n`);
  if (writeReadme) {
    const summary = text.slice(text.indexOf('Summary\n') + 'Summary\n'.length);
    const table = text.slice(0, text.indexOf('\nSummary\n'));
    writeReadmeSection(ROOT, 'bench', `${summary}\n${table}\n`);
  }
  // The timing simulator's targets (bench/sim.ts, also `npm run bench:sim`): its speed, the
  // published tables and this machine's predictions, in a process of its own.
  print('\nTiming simulator (npm run bench:sim)\n');
  print(execFileSync(process.execPath, [join(ROOT, 'dist/bench/sim.js')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  // Worker threads (bench/workers.ts, also `npm run bench:workers`): the speed-up of two
  // workers on the largest searches, and the machine's ceiling beside it.
  print('\nWorker threads (npm run bench:workers)\n');
  print(execFileSync(process.execPath, [join(ROOT, 'dist/bench/workers.js'), ...(writeReadme ? ['--write-readme'] : [])], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}
