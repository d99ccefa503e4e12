// Measures one scenario on one machine in a fresh process (so that peak memory
// is this scenario's own) and prints one JSON line. Used by bench.ts.
//   node dist/bench/one.js FILE MODEL [REPEAT]

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { readFileSync } from 'node:fs';
import { checkScenario, observedLabel } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import type { ModelName } from '../src/machine/machine.js';

const [file, model, repeatArg, fullArg] = process.argv.slice(2);
if (!file || !model) {
  process.stderr.write('usage: node dist/bench/one.js FILE MODEL [REPEAT]\n');
  process.exit(1);
}
const repeat = Number(repeatArg ?? 5);
const sc = parseScenario(readFileSync(file, 'utf8'), file);
const now = (): number => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// Reduced search: warm-up runs (the JIT compiles the engine), then the median of
// `repeat` timed runs: three warm-ups before five timed runs, one before a single
// timed run (the scaling workloads, whose search is long enough to warm up in one).
const warmups = repeat > 1 ? 3 : 1;
for (let i = 0; i < warmups; i++) checkScenario(sc, { model: model as ModelName });
const times: number[] = [];
let dpor = checkScenario(sc, { model: model as ModelName }, now);
times.push(dpor.ms);
for (let i = 1; i < repeat; i++) {
  dpor = checkScenario(sc, { model: model as ModelName }, now);
  times.push(dpor.ms);
}
// The unreduced search is the cross-check; on scaling workloads it is skipped ('nofull').
const full = fullArg === 'nofull' ? null : checkScenario(sc, { model: model as ModelName, reduction: false }, now);

process.stdout.write(`${JSON.stringify({
  test: sc.name,
  file,
  model,
  // The label a Result line uses: a deadlock or a failed kernel assertion, else the observation.
  observation: dpor.observation === null ? null : observedLabel(dpor),
  expected: dpor.expected,
  complete: dpor.result.complete && (full === null || full.result.complete),
  outcomes: dpor.result.outcomes.length,
  executions: dpor.result.executions,
  // Runs that ended in a deadlock: executions, but no final graph.
  deadlocks: dpor.result.deadlocks,
  sleepBlocked: dpor.result.sleepBlocked,
  graphs: dpor.result.graphs,
  steps: dpor.result.steps,
  ms: median(times),
  fullExecutions: full?.result.interleavings?.toString() ?? null,
  fullStates: full?.result.states ?? null,
  fullSteps: full?.result.steps ?? 0,
  fullMs: full?.ms ?? 0,
  agree: full === null ? null : JSON.stringify(dpor.result.outcomes) === JSON.stringify(full.result.outcomes) && dpor.result.graphs === full.result.graphs,
  // What the reduced search kept, as its memory budget counts it (deterministic), and the process's peak.
  keptKb: Math.round(dpor.result.memoryBytes / 1024),
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
})}\n`);
