// Library API: check one scenario on one machine and read the verdict.

import type { Observation, Scenario } from './scenario/ast.js';
import { compileProp, observation, validated } from './scenario/condition.js';
import { parseScenario } from './scenario/parser.js';
import { LitmusProgram } from './litmus/program.js';
import type { ModelName } from './machine/machine.js';
import { explore } from './explore/index.js';
import { DEFAULT_BOUNDS, type Bounds, type ExploreResult, type Progress } from './explore/types.js';
import { directiveSettings } from './scenario/directives.js';

export interface CheckOptions {
  model?: ModelName;
  reduction?: boolean;
  bounds?: Partial<Bounds>;
  onProgress?: (p: Progress) => void;
}

export type Verdict = 'ok' | 'violation' | 'liveness' | 'incomplete';

export interface CheckResult {
  scenario: Scenario;
  program: LitmusProgram;
  model: ModelName;
  bounds: Bounds;
  result: ExploreResult;
  /** herd's observation; null when the search was cut short (nothing proven). */
  observation: Observation | null;
  validated: boolean | null;
  /** The header's expectation for this machine, if any (`Result[x86]:` or plain `Result:`). */
  expected: Observation | null;
  /** Whether it came from a `Result[machine]:` line (exact) or the plain line (a bound). */
  expectedExact: boolean;
  verdict: Verdict;
  ms: number;
}

export function expectationFor(sc: Scenario, model: ModelName): Observation | null {
  return expectationLine(sc, model)?.result ?? null;
}

/** The `Result[model]:` line, else the plain `Result:` line. */
export function expectationLine(sc: Scenario, model: ModelName): { result: Observation; exact: boolean } | null {
  const exact = sc.expectations.find((e) => e.key === model);
  if (exact) return { result: exact.result, exact: true };
  const plain = sc.expectations.find((e) => e.key === '');
  return plain ? { result: plain.result, exact: false } : null;
}

/**
 * Does an observation satisfy an expectation? A `Result[machine]:` line must
 * match exactly. A plain `Result:` line is the kernel's convention: the verdict
 * of the Linux-kernel memory model, which allows at least every behaviour of
 * each machine the kernel runs on. So `Never` and `Always` must hold on the
 * machine too, while `Sometimes` is consistent with any observation (a stronger
 * machine may never show the outcome).
 */
export function expectationHolds(line: { result: Observation; exact: boolean }, observed: Observation): boolean {
  if (line.exact || line.result !== 'Sometimes') return observed === line.result;
  return true;
}

export function checkScenario(sc: Scenario, opts: CheckOptions = {}, clock: () => number = () => 0): CheckResult {
  const settings = directiveSettings(sc);
  const model = opts.model ?? settings.model ?? 'x86';
  const bounds: Bounds = { ...DEFAULT_BOUNDS, ...settings.bounds, ...stripUndefined(opts.bounds ?? {}) };
  const program = new LitmusProgram(sc, model);
  const prop = compileProp(sc);
  const t0 = clock();
  const result = explore(program, prop, { reduction: opts.reduction ?? true, bounds, onProgress: opts.onProgress });
  const ms = clock() - t0;
  const obs = result.complete ? observation(result.positive, result.negative) : null;
  const line = expectationLine(sc, model);
  const expected = line?.result ?? null;
  let verdict: Verdict;
  if (!result.complete) {
    // A cut-short search proves nothing, except a counterexample it did find.
    const refuted = (expected === 'Never' && result.positive > 0) || (expected === 'Always' && result.negative > 0);
    verdict = refuted ? 'violation' : 'incomplete';
  } else if (result.deadlocks > 0) verdict = 'liveness';
  else if (line !== null && obs !== null && !expectationHolds(line, obs)) verdict = 'violation';
  else verdict = 'ok';
  return {
    scenario: sc, program, model, bounds, result, observation: obs,
    validated: result.complete ? validated(sc.condition.quantifier, result.positive, result.negative) : null,
    expected, expectedExact: line?.exact ?? false, verdict, ms,
  };
}

export function checkSource(source: string, file: string, opts: CheckOptions = {}, clock?: () => number): CheckResult {
  return checkScenario(parseScenario(source, file), opts, clock);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
