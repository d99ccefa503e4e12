// smpcheck sim as a library: a scenario, a kernel variant and a profile in; runs of the
// timing simulator (src/sim/engine.ts) and their distribution out.

import { arm64Only, findArm64Insn } from '../graph/support.js';
import type { Scenario, Stmt } from '../scenario/ast.js';
import { LitmusProgram } from '../litmus/program.js';
import type { ModelName } from '../machine/machine.js';
import { resolveVariant } from '../check.js';
import { runWithVariant } from '../kernel/variant-module.js';
import { DEFAULT_KERNEL, type Variant } from '../kernel/variants.js';
import { simulate, SIM_STEPS_MAX_DEFAULT, type SimResult } from './engine.js';
import type { Profile } from './profile.js';
import { Rng } from './rng.js';

export const SIM_RUNS_MAX = 10_000;
/** Processes of the machine in a simulated run (the explorers' masks limit them to 32). */
export const SIM_PROCS_MAX = 1024;

export interface SimOptions {
  model?: ModelName;
  variant?: string;
  /** Every `loop N` of the scenario runs this many times instead. */
  iterations?: number;
  /** Runs with jittered parameters (default 1: one run with the profile's values exactly). */
  runs?: number;
  seed?: number;
  stepsMax?: number;
  /** Keep a per-CPU timeline of one iteration in the steady state (for --plot). */
  timeline?: boolean;
}

export interface Stats {
  mean: number;
  sd: number;
  min: number;
  median: number;
  max: number;
}

export interface SimReport {
  scenario: Scenario;
  variant: Variant;
  model: ModelName;
  profile: Profile;
  iterations: number | null;
  runs: SimResult[];
  seed: number;
  /** The distribution of the time per iteration over the runs (null: no thread loops). */
  perIteration: Stats | null;
}

/** The scenario with every loop's count set to n (a copy: the parsed scenario is left as it was). */
export function withIterations(sc: Scenario, n: number): Scenario {
  const map = (stmts: Stmt[]): Stmt[] => stmts.map((s): Stmt => {
    switch (s.k) {
      case 'loop': return { ...s, n, body: map(s.body) };
      case 'if': return { ...s, then: map(s.then), else: map(s.else) };
      case 'rseq': return { ...s, body: map(s.body), abort: map(s.abort) };
      default: return s;
    }
  });
  return { ...sc, threads: sc.threads.map((t) => ({ ...t, body: map(t.body) })) };
}

/** The loop counts of a scenario (the first one found; null when it has no loop). */
export function loopCount(sc: Scenario): number | null {
  const find = (stmts: readonly Stmt[]): number | null => {
    for (const s of stmts) {
      if (s.k === 'loop') return s.n;
      const inner = s.k === 'if' ? find(s.then) ?? find(s.else) : s.k === 'rseq' ? find(s.body) ?? find(s.abort) : null;
      if (inner !== null) return inner;
    }
    return null;
  };
  for (const t of sc.threads) {
    const n = find(t.body);
    if (n !== null) return n;
  }
  return null;
}

export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = s.length > 1 ? Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / (s.length - 1)) : 0;
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { mean, sd, min: s[0]!, median, max: s[s.length - 1]! };
}

export function simulateScenario(parsed: Scenario, profile: Profile, opts: SimOptions = {}): SimReport {
  const sc = opts.iterations !== undefined ? withIterations(parsed, opts.iterations) : parsed;
  const variant = resolveVariant(opts.variant ?? DEFAULT_KERNEL);
  const model = opts.model ?? 'x86';
  const nRuns = opts.runs ?? 1;
  const seed = opts.seed ?? 1;
  const rng = nRuns > 1 ? new Rng(seed) : null;
  const runs: SimResult[] = [];
  const insn = findArm64Insn(sc);
  if (insn) throw arm64Only(insn, sc.file, `smpcheck sim (${model})`);
  runWithVariant(variant, () => {
    const program = new LitmusProgram(sc, model, variant, 'x86', SIM_PROCS_MAX);
    for (let i = 0; i < nRuns; i++) runs.push(simulate(program, profile, rng, opts.stepsMax ?? SIM_STEPS_MAX_DEFAULT, opts.timeline === true && i === 0));
  });
  const per = runs.map((r) => r.perIterationNs).filter((x): x is number => x !== null);
  return { scenario: sc, variant, model, profile, iterations: loopCount(sc), runs, seed, perIteration: per.length > 0 ? stats(per) : null };
}
