// The search of one scenario twice in one process, with the same number of workers: the
// second search finds the engine optimised in this thread and in the workers the first
// one left waiting (src/explore/parallel.ts). Prints one JSON line: the second search's
// wall time and its counts and outcomes (bench/workers.ts compares them between 1 and 2 workers).
//   node dist/bench/warm.js FILE WORKERS

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { readFileSync } from 'node:fs';
import { checkScenario } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';

const [file, workersArg] = process.argv.slice(2);
if (!file || !workersArg) {
  process.stderr.write('usage: node dist/bench/warm.js FILE WORKERS\n');
  process.exit(1);
}
const sc = parseScenario(readFileSync(file, 'utf8'), file);
const workers = Number(workersArg);
checkScenario(sc, { model: 'x86', workers });
const t0 = performance.now();
const r = checkScenario(sc, { model: 'x86', workers });
const s = (performance.now() - t0) / 1000;
const { steps, executions, graphs, sleepBlocked, outcomes } = r.result;
process.stdout.write(`${JSON.stringify({ s, result: { steps, executions, graphs, sleepBlocked, outcomes } })}\n`);
