// The two large parts of smpcheck that a check loads only when it needs them: the
// kernel model (src/kernel/, about forty modules: scenarios that call into the kernel,
// or a variant module) and the graph engine (src/graph/: arm64, lkmm, --engine graph).
// A classic litmus test on sc or x86 needs neither, and loading them was most of its
// start-up (README, Performance).
//
// How: the code that uses a part (src/check.ts, src/litmus/program.ts) reaches it
// through kernelModel() or graphEngine(), which return it once it is loaded and throw
// an internal error before. It is loaded in one of two ways:
//   - `await loadParts({ kernel, graph })`: the command line, before it runs a check
//     synchronously (needsOf() in src/check.ts says what a check needs);
//   - a static import of src/parts/all.ts, which loads both: the library entry
//     (src/index.ts), worker threads, and tests that call the engine directly.

import type * as KernelModel from './parts/kernel.js';
import type * as GraphEngine from './parts/graph.js';

export type KernelModelPart = typeof KernelModel;
export type GraphEnginePart = typeof GraphEngine;

/** What a check needs beyond the machine engine. */
export interface Parts {
  kernel?: boolean;
  graph?: boolean;
}

let kernel: KernelModelPart | undefined;
let graph: GraphEnginePart | undefined;

/** The kernel model's functions (src/parts/kernel.ts); loaded before any check that calls into the kernel. */
export function kernelModel(): KernelModelPart {
  if (!kernel) throw new Error('internal: the kernel model is not loaded (await loadParts({ kernel: true }) first, or import src/parts/all.js)');
  return kernel;
}

/** The graph engine's searches (src/parts/graph.ts); loaded before any check on the graph engine. */
export function graphEngine(): GraphEnginePart {
  if (!graph) throw new Error('internal: the graph engine is not loaded (await loadParts({ graph: true }) first, or import src/parts/all.js)');
  return graph;
}

/** Loads the parts `need` names that are not loaded yet. */
export async function loadParts(need: Parts): Promise<void> {
  if (need.kernel && !kernel) kernel = await import('./parts/kernel.js');
  if (need.graph && !graph) graph = await import('./parts/graph.js');
}

/** Used by src/parts/all.ts, which imports both parts statically. */
export function provideParts(p: { kernel: KernelModelPart; graph: GraphEnginePart }): void {
  kernel = p.kernel;
  graph = p.graph;
}
