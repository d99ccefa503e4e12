// `npm run bench:weak`: the classic library (scenarios/litmus) on arm64 and on
// LKMM with the graph engine, in one process: candidate graphs explored,
// consistent graphs, their ratio, and time (median of five runs after a warm-up).
// Given herd7 (--herd PATH, and --lkmm DIR holding tools/memory-model's files),
// it times herd7 on the same tests side by side (one process per test, as herd7
// runs); without it, it says so and skips the comparison. Then membarrier's scenarios
// A to E (kernel/sched/membarrier.c) on arm64, each searched exhaustively once under
// both dependency assumptions (src/graph/kernel.ts), against the target of 10 s each.
//   node dist/bench/weak.js [--herd HERD7 --lkmm DIR] [--json] [--write-readme]

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkScenario } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { collectLitmusFiles } from '../src/scenario/files.js';
import { writeReadmeSection } from './readme.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const herd = opt('--herd');
const lkmm = opt('--lkmm');
const json = args.includes('--json');
const writeReadme = args.includes('--write-readme');
const MODELS = ['arm64', 'lkmm'] as const;

interface Row { test: string; model: string; observation: string | null; executions: number; graphs: number; ms: number; herdMs: number | null }
interface KernelRow { test: string; observation: string | null; states: number; graphs: number; ms: number; cpuMs: number }
const KERNEL_SCENARIOS = ['A', 'B', 'C', 'D', 'E'].map((x) => join(ROOT, 'scenarios', 'membarrier', `membarrier-${x}.litmus`));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const files = collectLitmusFiles([join(ROOT, 'scenarios', 'litmus')]);
const herdData = Object.fromEntries(MODELS.map((m) => [m, JSON.parse(readFileSync(join(ROOT, 'test', 'data', 'herd', `${m}.json`), 'utf8')) as { tests: Record<string, { aarch64?: string }> }]));
const scratch = mkdtempSync(join(tmpdir(), 'smpcheck-bench-weak-'));
const rows: Row[] = [];
try {
  for (const f of files) {
    const sc = parseScenario(readFileSync(f, 'utf8'), f);
    for (const model of MODELS) {
      checkScenario(sc, { model });
      const times: number[] = [];
      let r = checkScenario(sc, { model }, () => performance.now());
      for (let i = 0; i < 5; i++) {
        r = checkScenario(sc, { model }, () => performance.now());
        times.push(r.ms);
      }
      let herdMs: number | null = null;
      if (herd && (model === 'arm64' || lkmm)) {
        // herd7 on the same test: the stored AArch64 translation for arm64, the C file for LKMM.
        const name = relative(join(ROOT, 'scenarios', 'litmus'), f);
        const test = model === 'arm64' ? join(scratch, name) : f;
        const cwd = model === 'lkmm' ? lkmm! : scratch;
        if (model === 'arm64') writeFileSync(test, herdData.arm64!.tests[name]!.aarch64!);
        const herdArgs = model === 'arm64' ? ['-model', 'aarch64.cat', test] : ['-conf', join(lkmm!, 'linux-kernel.cfg'), test];
        const t0 = performance.now();
        execFileSync(herd, herdArgs, { cwd, stdio: 'ignore' });
        herdMs = performance.now() - t0;
      }
      rows.push({ test: sc.name, model, observation: r.observation, executions: r.result.executions, graphs: r.result.graphs, ms: median(times), herdMs });
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const kernelRows: KernelRow[] = [];
for (const f of KERNEL_SCENARIOS) {
  const sc = parseScenario(readFileSync(f, 'utf8'), f);
  const cpu0 = process.cpuUsage();
  const r = checkScenario(sc, { model: 'arm64' }, () => performance.now());
  const cpu = process.cpuUsage(cpu0);
  kernelRows.push({ test: sc.name, observation: r.observation, states: r.result.states ?? 0, graphs: r.result.graphs, ms: r.ms, cpuMs: (cpu.user + cpu.system) / 1000 });
}

if (json) {
  process.stdout.write(`${JSON.stringify({ classic: rows, kernel: kernelRows })}\n`);
} else {
  let text = '';
  const print = (t: string): void => {
    text += t;
    process.stdout.write(t);
  };
  for (const model of MODELS) {
    const rs = rows.filter((r) => r.model === model);
    const e = rs.reduce((a, r) => a + r.executions, 0);
    const g = rs.reduce((a, r) => a + r.graphs, 0);
    const ms = rs.reduce((a, r) => a + r.ms, 0);
    const slowest = rs.reduce((a, r) => (r.ms > a.ms ? r : a));
    print(`- ${model}: ${rs.length} tests, candidate graphs / consistent graphs ${e} / ${g} = ${(e / g).toFixed(2)}, ${ms.toFixed(0)} ms in all (median of 5 runs each), slowest ${slowest.test} ${slowest.ms.toFixed(1)} ms`);
    if (herd && rs.every((r) => r.herdMs !== null)) {
      const h = rs.reduce((a, r) => a + (r.herdMs ?? 0), 0);
      print(`; herd7 ${h.toFixed(0)} ms in all (one process per test, start-up included)`);
    } else if (herd) print('; herd7 not run on LKMM (no --lkmm folder with tools/memory-model\'s files)');
    print('\n');
  }
  if (!herd) print('- herd7 not given (--herd, and --lkmm for LKMM): no side-by-side comparison\n');
  print('\n| scenario | machine | result | candidates | graphs | ms |' + (herd ? ' herd7 ms |' : '') + '\n|:--|:--|:--|--:|--:|--:|' + (herd ? '--:|' : '') + '\n');
  for (const r of rows) {
    print(`| ${r.test} | ${r.model} | ${r.observation ?? 'INCOMPLETE'} | ${r.executions} | ${r.graphs} | ${r.ms.toFixed(2)} |${herd ? ` ${r.herdMs === null ? '-' : r.herdMs.toFixed(0)} |` : ''}\n`);
  }
  print('\nmembarrier\'s scenarios on arm64 (the kernel model, exhaustive, both dependency assumptions; target: under 10 s each):\n\n| scenario | result | graph states | graphs | s (wall) | s (CPU) | under 10 s |\n|:--|:--|--:|--:|--:|--:|:--|\n');
  for (const r of kernelRows) {
    print(`| ${r.test} | ${r.observation ?? 'INCOMPLETE'} | ${r.states} | ${r.graphs} | ${(r.ms / 1000).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(1)} | ${r.ms < 10_000 ? 'yes' : 'no'} |\n`);
  }
  if (writeReadme) {
    writeReadmeSection(ROOT, 'bench-weak', text);
  }
}
