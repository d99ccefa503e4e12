// The engine's entry point: explore a program with or without reduction.

import type { Program } from '../litmus/program.js';
import { exploreDpor } from './dpor.js';
import { exploreExplicit } from './explicit.js';
import { exploreParallel } from './parallel.js';
import { exploreRandom } from './random.js';
import type { ExploreOptions, ExploreResult } from './types.js';

export function explore(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions): ExploreResult {
  if (!opts.reduction) return exploreExplicit(program, prop, opts);
  if (opts.random) return exploreRandom(program, prop, opts, opts.random);
  const workers = opts.workers ?? 1;
  if (workers > 1 && opts.programSpec && !opts.onRun && !opts.onGraph && !opts.interner) return exploreParallel(program, prop, opts, opts.programSpec, workers);
  return exploreDpor(program, prop, opts);
}

export * from './types.js';
