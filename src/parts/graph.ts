// The graph engine's searches as a check (src/check.ts) calls them: loaded only for
// arm64, lkmm and --engine graph (src/parts.ts says how).

export { exploreGraphs } from '../graph/explore.js';
export { exploreKernelGraphs, bracketDeps } from '../graph/kernel.js';
