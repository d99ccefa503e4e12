// Each model of the graph engine is a consistency predicate over the relations of a graph.

import type { Relations } from '../graph.js';
import type { GraphModelName } from '../mapping.js';
import { arm64Consistent } from './arm64.js';
import { lkmmCheck, lkmmConsistent } from './lkmm.js';
import { scConsistent } from './sc.js';
import { x86Consistent } from './x86.js';

export const CONSISTENT = {
  sc: scConsistent,
  x86: x86Consistent,
  arm64: arm64Consistent,
  lkmm: lkmmConsistent,
} as const satisfies Record<GraphModelName, (x: Relations) => boolean>;

/** Models that also raise flags on consistent executions (herd's `flag` statements). */
export const FLAGGED: Partial<Record<GraphModelName, (x: Relations) => { consistent: boolean; flags: readonly string[] }>> = {
  lkmm: lkmmCheck,
};
