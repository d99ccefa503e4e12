// The search's memory budget. What a search keeps grows with what it explores: the
// distinct execution graphs (and, without reduction, the states) it has seen, the
// distinct final states, and the interned histories they are made of. Each is counted here, exactly and in
// bytes: the key's characters (one byte each: keys are Latin-1, src/machine/
// packed-key.ts) plus a fixed cost per entry for the table that holds it. The count
// is a function of the search alone, so a search stopped by the budget stops at the
// same point on every run; the V8 heap is never measured.

import { getHeapStatistics } from 'node:v8';

/** A graph key in the set of graphs seen: the Set's slot and the string's header. */
export const GRAPH_ENTRY_BYTES = 48;
/** A distinct final state: the Map's slot, its key's header, the outcome object and its values array (plus 8 bytes a value). */
export const OUTCOME_ENTRY_BYTES = 96;
/** A state of the explicit-state search: the Map's slot, the key's header, the BigInt path count. */
export const STATE_ENTRY_BYTES = 80;
/** An interned history step: the Map's slot, the key's header and the number. */
export const INTERNED_ENTRY_BYTES = 48;

/**
 * A packed key's bytes as the budget counts them: five bytes a number (src/machine/
 * packed-key.ts; a number below 2^30 takes at most five), whatever the numbers are.
 * The count depends on how many numbers the key holds, not on their values, so it is
 * the same whichever order the histories they name were numbered in: a search split
 * into tasks counts the same bytes in one thread as across threads or machines.
 */
export function packedKeyBytes(key: string): number {
  let n = 0;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) < 128) n++;
  return 5 * n;
}

const MiB = 1024 * 1024;

/** The default budget: 1 GiB, or a quarter of this process's heap limit when that is less. */
export const MEMORY_MAX_DEFAULT = Math.min(1024 * MiB, Math.floor(getHeapStatistics().heap_size_limit / 4 / MiB) * MiB);

/** `536870912` as `512MiB`: the largest binary unit that divides it. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 * MiB], ['MiB', MiB], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}

/** `512MiB`, `2GiB`, `64KiB`, `1000000` (bytes); null if it is not a size. */
export function parseBytes(text: string): number | null {
  const m = /^(\d{1,15})(B|KiB|MiB|GiB|K|M|G)?$/.exec(text);
  if (!m) return null;
  const unit = { B: 1, KiB: 1024, K: 1024, MiB: MiB, M: MiB, GiB: 1024 * MiB, G: 1024 * MiB }[m[2] ?? 'B']!;
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) ? n : null;
}

export function memoryReason(memoryMax: number, executions: number): string {
  return `the search stopped at its memory budget, ${formatBytes(memoryMax)} of graphs and states kept, after ${executions} executions (memory_max)`;
}
