// `npm run bench:startup`: what a small check costs from the command line. Start-up
// (`smpcheck check SB` against Node's own `node -e 0`) and the classic library
// (scenarios/litmus) on sc in one process (`smpcheck suite --model sc`), each the median
// wall time of RUNS fresh processes. Given herd7 (--herd PATH, and --lkmm DIR holding
// linux-kernel.cfg, .def and .bell), it times herd7 on the same files in one process
// (`herd7 -conf linux-kernel.cfg -model sc.cat FILES`) side by side; without it, it
// says so. The project never needs herd7.
//   node dist/bench/startup.js [--runs N] [--herd HERD7 --lkmm DIR] [--json] [--write-readme]

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectLitmusFiles } from '../src/scenario/files.js';
import { writeReadmeSection } from './readme.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('--runs') ?? 11);
const herd = opt('--herd');
const lkmm = opt('--lkmm');
const json = args.includes('--json');
const writeReadme = args.includes('--write-readme');
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a positive integer, not '${opt('--runs')}'`);
if ((herd === undefined) !== (lkmm === undefined)) throw new Error('--herd and --lkmm go together');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The median wall time (ms) of `runs` runs of the command; it must exit 0. */
function time(cmd: string, argv: string[], cwd = ROOT): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, argv, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    ms.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return median(ms);
}

const smpcheck = join(ROOT, 'bin', 'smpcheck.js');
const files = collectLitmusFiles([join(ROOT, 'scenarios', 'litmus')]);
const node = time(process.execPath, ['-e', '0']);
const version = time(process.execPath, [smpcheck, '--version']);
const check = time(process.execPath, [smpcheck, 'check', 'scenarios/litmus/SB.litmus', '--model', 'sc']);
const suite = time(process.execPath, [smpcheck, 'suite', 'scenarios/litmus', '--model', 'sc']);
const herdSuite = herd && lkmm ? time(herd, ['-conf', 'linux-kernel.cfg', '-model', 'sc.cat', ...files], lkmm) : null;

if (json) {
  process.stdout.write(`${JSON.stringify({ runs, node, version, check, suite, files: files.length, herdSuite })}\n`);
} else {
  const text = [
    `- start-up, median of ${runs} runs: \`node -e 0\` ${node.toFixed(0)} ms, \`smpcheck --version\` ${version.toFixed(0)} ms, \`smpcheck check scenarios/litmus/SB.litmus --model sc\` ${check.toFixed(0)} ms: ${(check - node).toFixed(0)} ms above Node's own (target: within 100 ms)`,
    `- the classic library on sc in one process, \`smpcheck suite scenarios/litmus --model sc\` (${files.length} files): ${suite.toFixed(0)} ms; ${herdSuite === null
      ? 'herd7 not given (--herd, --lkmm): no side-by-side comparison'
      : `herd7 on the same files in one process (\`herd7 -conf linux-kernel.cfg -model sc.cat\`): ${herdSuite.toFixed(0)} ms (target: smpcheck no slower)`}`,
  ].join('\n');
  process.stdout.write(`${text}\n`);
  if (writeReadme) writeReadmeSection(ROOT, 'bench-startup', `${text}\n`);
}
