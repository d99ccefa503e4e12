// Collects final states, distinct execution graphs and witnesses during a search.

import type { ExploreResult, Outcome } from './types.js';
import { GRAPH_ENTRY_BYTES, OUTCOME_ENTRY_BYTES } from './memory.js';

/** A graph as a task first reached it (Collector.journal). */
export interface JournalEntry {
  key: string;
  values: number[];
  run?: number[];
}

/** Runs a journal keeps per kind beyond the witnesses asked for (the rest are found again if the merge needs them). */
export const JOURNAL_RUNS = 16;

export class Collector {
  private readonly graphs = new Set<string>();
  private readonly outcomes = new Map<string, Outcome>();
  positive = 0;
  negative = 0;
  deadlocks = 0;
  /** What the set of graphs and the table of final states hold, counted for the memory budget. */
  bytes = 0;
  readonly assertions = new Map<string, number>();
  witnesses: ExploreResult['witnesses'] = { positive: null, negative: null, deadlock: null, assertion: null };
  /** The witness and the further runs kept per kind (each reached a graph not seen before), up to witnessesMax. */
  readonly witnessList: ExploreResult['witnessList'] = { positive: [], negative: [] };

  /**
   * With a journal: every graph as it was first reached, with its final state and, for
   * the first JOURNAL_RUNS of each kind, the run (what a search split into tasks sends
   * from a task to the merge, src/explore/merge.ts).
   */
  readonly journal: JournalEntry[] | null;
  private readonly journalKept = { positive: 0, negative: 0 };

  constructor(
    private readonly prop: (values: readonly number[]) => boolean,
    private readonly onGraph?: (graphKey: string, choices: readonly number[]) => void,
    private readonly witnessesMax = 1,
    /** A key's bytes for the memory budget (default: its length). */
    private readonly keyBytes: (key: string) => number = (k) => k.length,
    /** Keep a journal, with the runs of this many graphs per kind beyond the witnesses (null: none). */
    private readonly journalRuns: number | null = null,
  ) {
    this.journal = journalRuns !== null ? [] : null;
  }

  has(graphKey: string): boolean {
    return this.graphs.has(graphKey);
  }

  get graphCount(): number {
    return this.graphs.size;
  }

  /** A final state reached by a run; `choices` is only read when a witness is still missing. */
  final(graphKey: string, values: number[], choices: () => number[]): void {
    if (this.graphs.has(graphKey)) return;
    this.graphs.add(graphKey);
    this.bytes += GRAPH_ENTRY_BYTES + this.keyBytes(graphKey);
    this.onGraph?.(graphKey, choices());
    if (this.journal) {
      const kind = this.prop(values) ? 'positive' : 'negative';
      const keep = this.journalKept[kind] < this.journalRuns! + this.witnessesMax;
      if (keep) this.journalKept[kind]++;
      this.journal.push(keep ? { key: graphKey, values, run: choices() } : { key: graphKey, values });
    }
    const k = values.join(',');
    let o = this.outcomes.get(k);
    if (!o) {
      o = { values, graphs: 0, positive: this.prop(values) };
      this.outcomes.set(k, o);
      this.bytes += OUTCOME_ENTRY_BYTES + k.length + 8 * values.length;
    }
    o.graphs++;
    const kind = o.positive ? 'positive' : 'negative';
    this[kind]++;
    const list = this.witnessList[kind];
    if (list.length < this.witnessesMax) {
      const run = choices();
      if (list.length === 0) this.witnesses[kind] = run;
      // Runs kept beyond the first count against the memory budget (none by default).
      else this.bytes += 8 * run.length;
      list.push(run);
    }
  }

  /** A run in which a kernel assertion failed; `choices` includes the failing step. */
  assertion(name: string, choices: () => number[]): void {
    this.assertions.set(name, (this.assertions.get(name) ?? 0) + 1);
    if (!this.witnesses.assertion) this.witnesses.assertion = choices();
  }

  deadlock(choices: () => number[]): void {
    this.deadlocks++;
    if (!this.witnesses.deadlock) this.witnesses.deadlock = choices();
  }

  /** What a search's result reports of what was collected (src/explore/types.ts ExploreResult). */
  found(): Pick<ExploreResult, 'outcomes' | 'graphs' | 'positive' | 'negative' | 'deadlocks' | 'assertions' | 'witnesses' | 'witnessList'> {
    return {
      outcomes: this.sortedOutcomes(),
      graphs: this.graphCount,
      positive: this.positive,
      negative: this.negative,
      deadlocks: this.deadlocks,
      assertions: [...this.assertions].map(([name, runs]) => ({ name, runs })),
      witnesses: this.witnesses,
      witnessList: this.witnessList,
    };
  }

  sortedOutcomes(): Outcome[] {
    return [...this.outcomes.values()].sort((a, b) => {
      for (let i = 0; i < a.values.length; i++) {
        const d = a.values[i]! - b.values[i]!;
        if (d !== 0) return d;
      }
      return 0;
    });
  }
}
