// The published tables of the project's seed threads, and the scenarios, kernel
// variants and profiles that simulate each cell (`smpcheck sim --table seeds`).
//
// Thread 000 (membarrier SYNC_CORE, RFC v3, September 2017): `perf bench sched pipe`
// under `taskset 01` on a Xeon E5-2630 v3, Linux v4.13-rc6, microseconds per operation.
// Thread 004 (x86/mm/tlb async flushes, RFC v2 11/12, May 2019): an madvise(MADV_DONTNEED)
// loop with 1, 2 and 4 threads, nanoseconds per iteration; the machine is not stated.

import { join } from 'node:path';
import { parseScenario } from '../scenario/parser.js';
import { validateDirectives } from '../scenario/directives.js';
import { readBounded } from '../scenario/bounded-read.js';
import { SOURCE_BYTES_MAX } from '../scenario/lexer.js';
import type { Profile } from './profile.js';
import { simulateScenario } from './run.js';

export interface CellDef {
  table: string;
  row: string;
  column: string;
  published: number;
  /** The standard deviation published with the cell, null where the table gives none. */
  published_sd: number | null;
  /** The unit of published and simulated values. */
  unit: 'us' | 'ns';
  scenario: string;
  variant: string;
  profile: string;
  iterations: number;
}

export interface SeedCell {
  table: string;
  row: string;
  column: string;
  unit: 'us' | 'ns';
  published: number;
  /** The standard deviation published with the cell, null where the table gives none. */
  published_sd: number | null;
  simulated: number | null;
  /** (simulated - published) / published. */
  error: number | null;
  /** A parameter of the cell's profile was fitted on this cell's column (and row, when the fit names one). */
  fitted: boolean;
  scenario: string;
  variant: string;
  profile: string;
}

const SCHED_ITERATIONS = 2000;
const MADVISE_ITERATIONS = 400;

const sched = (row: 'inter-thread' | 'inter-process', column: 'before' | 'with' | 'sync-core', published: number, sd: number): CellDef => ({
  table: 'sched-pipe',
  row,
  column,
  published,
  published_sd: sd,
  unit: 'us',
  scenario: `scenarios/sim/sched-pipe-${row === 'inter-thread' ? 'threads' : 'processes'}${column === 'sync-core' ? '-sync-core' : ''}.litmus`,
  variant: column === 'before' ? 'v6.18' : 'sync-core-every-switch',
  profile: 'e5-2630-v3',
  iterations: SCHED_ITERATIONS,
});

const madvise = (threads: 1 | 2 | 4, column: 'baseline' | 'concurrent' | 'async', published: number): CellDef => ({
  table: 'madvise',
  row: `${threads} thread${threads > 1 ? 's' : ''}`,
  column,
  published,
  published_sd: null,
  unit: 'ns',
  scenario: `scenarios/sim/madvise-${threads}.sim`,
  variant: column === 'baseline' ? 'pre-4ce94eabac16' : column === 'concurrent' ? 'v6.18' : 'early-ack',
  profile: 'madvise-2019',
  iterations: MADVISE_ITERATIONS,
});

/** Every published cell, with what simulates it. */
export const SEED_CELLS: readonly CellDef[] = [
  // Thread 000 gives each cell's mean and standard deviation (usecs/op).
  sched('inter-thread', 'before', 2.55, 0.10), sched('inter-thread', 'with', 2.49, 0.08), sched('inter-thread', 'sync-core', 2.70, 0.10),
  sched('inter-process', 'before', 2.93, 0.13), sched('inter-process', 'with', 2.93, 0.13), sched('inter-process', 'sync-core', 3.20, 0.06),
  madvise(1, 'baseline', 661), madvise(1, 'concurrent', 663), madvise(1, 'async', 663),
  madvise(2, 'baseline', 1436), madvise(2, 'concurrent', 1225), madvise(2, 'async', 1115),
  madvise(4, 'baseline', 1571), madvise(4, 'concurrent', 1421), madvise(4, 'async', 1289),
];

/** Was a parameter of `profile` fitted on this cell? */
export function cellFitted(profile: Profile, table: string, row: string, column: string): boolean {
  const all = [...Object.values(profile.params), ...Object.values(profile.functions)];
  return all.some((p) => p.source.kind === 'fitted' && p.source.table === table && p.source.column === column && (p.source.row === undefined || p.source.row === row));
}

export function runSeedTables(root: string, profileOf: (name: string) => Profile, o: { iterations?: number; stepsMax?: number; only?: string } = {}): SeedCell[] {
  const out: SeedCell[] = [];
  const profiles = new Map<string, Profile>();
  for (const d of SEED_CELLS) {
    if (o.only !== undefined && d.table !== o.only) continue;
    let profile = profiles.get(d.profile);
    if (!profile) profiles.set(d.profile, (profile = profileOf(d.profile)));
    const file = join(root, d.scenario);
    const sc = parseScenario(readBounded(file, SOURCE_BYTES_MAX, 'scenario'), d.scenario);
    validateDirectives(sc);
    const r = simulateScenario(sc, profile, { variant: d.variant, iterations: o.iterations ?? d.iterations, stepsMax: o.stepsMax });
    const ns = r.perIteration?.mean ?? null;
    const simulated = ns === null ? null : d.unit === 'us' ? ns / 1000 : ns;
    out.push({
      table: d.table, row: d.row, column: d.column, unit: d.unit, published: d.published, published_sd: d.published_sd, simulated,
      error: simulated === null ? null : (simulated - d.published) / d.published,
      fitted: cellFitted(profile, d.table, d.row, d.column), scenario: d.scenario, variant: d.variant, profile: d.profile,
    });
  }
  return out;
}

/** Each table: published and simulated side by side, the error per cell; fitted cells marked. */
export function formatSeedTables(cells: readonly SeedCell[]): string {
  const lines: string[] = [];
  for (const table of [...new Set(cells.map((c) => c.table))]) {
    const cs = cells.filter((c) => c.table === table);
    const cols = [...new Set(cs.map((c) => c.column))];
    const rows = [...new Set(cs.map((c) => c.row))];
    const unit = cs[0]!.unit;
    const prec = unit === 'us' ? 2 : 0;
    lines.push(`Table ${table} (${unit === 'us' ? 'us per operation' : 'ns per iteration'}; profile ${cs[0]!.profile}): published / simulated (error)`);
    lines.push(['', ...cols].map((x, i) => (i === 0 ? x.padEnd(16) : x.padEnd(26))).join(''));
    for (const row of rows) {
      let line = row.padEnd(16);
      for (const col of cols) {
        const c = cs.find((x) => x.row === row && x.column === col)!;
        const sim = c.simulated === null ? '-' : c.simulated.toFixed(prec);
        const err = c.error === null ? '' : ` (${c.error >= 0 ? '+' : ''}${(100 * c.error).toFixed(1)}%)`;
        line += `${c.published.toFixed(prec)} / ${sim}${err}${c.fitted ? ' fit' : ''}`.padEnd(26);
      }
      lines.push(line.trimEnd());
    }
    const unfitted = cs.filter((c) => !c.fitted && c.error !== null);
    if (unfitted.length > 0) {
      const mean = unfitted.reduce((s, c) => s + Math.abs(c.error!), 0) / unfitted.length;
      const worst = Math.max(...unfitted.map((c) => Math.abs(c.error!)));
      lines.push(`Cells not fitted: ${unfitted.length}, mean |error| ${(100 * mean).toFixed(1)}%, worst ${(100 * worst).toFixed(1)}%`);
    }
    lines.push(`Kernel per column: ${cols.map((col) => `${col} = ${cs.find((c) => c.column === col)!.variant}`).join(', ')}`);
    lines.push('');
  }
  return lines.join('\n');
}
