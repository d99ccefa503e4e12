// The engine's entry point: explore a program with or without reduction.

import type { Program } from '../litmus/program.js';
import { exploreDpor } from './dpor.js';
import { exploreExplicit } from './explicit.js';
import type { ExploreOptions, ExploreResult } from './types.js';

export function explore(program: Program, prop: (v: readonly number[]) => boolean, opts: ExploreOptions): ExploreResult {
  return opts.reduction ? exploreDpor(program, prop, opts) : exploreExplicit(program, prop, opts);
}

export * from './types.js';
