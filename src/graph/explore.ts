// The graph engine: every execution graph of a litmus program, each checked by
// the model's consistency predicate. Each thread is run once per path
// (thread.ts: events in program order, read values symbolic); for every
// combination of paths, every coherence order of the writes to each location
// and every choice of the write each read reads from (rf) is a candidate graph.
// The values of the reads follow from rf (a value that depends on itself
// through rf and dependencies is forbidden by every model here: such a cycle is
// a cycle of dependencies and external reads-from, or reads from a write later
// in program order), the guesses of each path are checked against them, and the
// model decides whether the graph is consistent. This is herd's method, not
// GenMC's: it enumerates more candidates, but it is complete for models that
// allow load buffering (po | rf cycles), which arm64 and LKMM do.
//
// Exhaustive, deterministic (fixed orders everywhere) and counted: candidates
// explored, consistent graphs (distinct by construction, and counted as a set).

import type { Observable, Scenario } from '../scenario/ast.js';
import { SmpError } from '../scenario/errors.js';
import { Collector } from '../explore/collector.js';
import type { Bounds, ExploreResult } from '../explore/types.js';
import { Relations, type Graph, type GraphEvent } from './graph.js';
import { MAPPINGS, type GraphModelName } from './mapping.js';
import { threadRuns, type ThreadRun } from './thread.js';
import { CONSISTENT, FLAGGED } from './models/index.js';
import { compileProp } from '../scenario/condition.js';

/** At most this many paths per thread (guesses double them). */
export const THREAD_PATHS_MAX = 4096;

export interface GraphExploreOptions {
  bounds: Bounds;
  /** Called for every consistent graph (tests, the differential scripts). */
  onGraph?: (g: Graph, values: number[]) => void;
}

export function exploreGraphs(sc: Scenario, model: GraphModelName, prop: (values: readonly number[]) => boolean, o: GraphExploreOptions): ExploreResult {
  const map = MAPPINGS[model];
  const flagged = FLAGGED[model] ?? ((x: Relations) => ({ consistent: CONSISTENT[model](x), flags: [] }));
  const flags = new Set<string>();
  // herd's filter: an execution whose final state does not satisfy it is left out.
  const filter = compileProp(sc, 'filter');
  const nLocs = sc.locations.length;
  const scope = model === 'lkmm' ? 'in-branch' : 'after-branch';
  const runs = sc.threads.map((t) => threadRuns(t, nLocs, map, scope, sc.file, THREAD_PATHS_MAX));
  const collector = new Collector(prop);
  let executions = 0;
  let steps = 0;
  for (const rs of runs) for (const r of rs) steps += r.events.length;
  let incompleteReason: string | null = null;

  const pick = new Array<number>(runs.length).fill(0);
  combos: for (;;) {
    const chosen = pick.map((k, t) => runs[t]![k]!);
    const cand = buildEvents(sc, chosen);
    const { events, offset } = cand;
    const writesOf: number[][] = sc.locations.map((_, loc) => events.filter((e) => e.kind === 'W' && e.loc === loc).map((e) => e.id));
    const reads = events.filter((e) => e.kind === 'R').map((e) => e.id);
    // Coherence orders: the writes of one thread to a location stay in program order
    // (every model here has SC per location: po-loc | com is acyclic).
    // Every ordering is listed before it is filtered: more than executions_max of them would not
    // fit in memory, and would not be explored anyway (lock words of many critical sections).
    const byThread = writesOf.map((ws) => threadSequences(ws.slice(1), events));
    const tooMany = byThread.findIndex((seqs) => interleavingsAbove(seqs, o.bounds.executionsMax));
    if (tooMany >= 0) {
      incompleteReason = `executions_max=${o.bounds.executionsMax} reached: the writes to ${sc.locations[tooMany]!.name} have more coherence orders than that`;
      break;
    }
    const coChoices = byThread.map((seqs, loc) => interleavings(seqs).map((p) => [writesOf[loc]![0]!, ...p]));
    const coPick = new Array<number>(nLocs).fill(0);
    for (;;) {
      const co = coPick.map((k, loc) => coChoices[loc]![k]!);
      const coPos = new Array<number>(events.length).fill(-1);
      for (const order of co) order.forEach((w, i) => (coPos[w] = i));
      const rf = new Array<number>(events.length).fill(-1);
      // Each read, in order, takes a write its location's coherence allows (pruning).
      const chooseRf = (k: number): boolean => {
        if (k === reads.length) {
          if (executions >= o.bounds.executionsMax) {
            incompleteReason = `executions_max=${o.bounds.executionsMax} reached`;
            return false;
          }
          if (collector.bytes > o.bounds.memoryMax) {
            incompleteReason = `memory_max=${o.bounds.memoryMax} bytes reached`;
            return false;
          }
          executions++;
          const g: Graph = { events, rf: [...rf], co };
          const values = solve(sc, chosen, cand, rf);
          if (values !== null) {
            const observed = values.error ? [] : sc.observed.map((ob) => observe(ob, chosen, offset, values.value, co, sc));
            if (values.error || filter(observed)) {
              const check = flagged(new Relations(g));
              if (check.consistent) {
                if (values.error) throw values.error;
                for (const f of check.flags) flags.add(f);
                collector.final(graphKey(g), observed, () => []);
                o.onGraph?.(g, observed);
              }
            }
          }
          return true;
        }
        const r = reads[k]!;
        for (const w of writesOf[events[r]!.loc]!) {
          if (!coherentRead(events, rf, coPos, r, w)) continue;
          rf[r] = w;
          if (!chooseRf(k + 1)) return false;
        }
        rf[r] = -1;
        return true;
      };
      if (!chooseRf(0)) break combos;
      if (!advance(coPick, coChoices.map((c) => c.length))) break;
    }
    if (!advance(pick, runs.map((r) => r.length))) break;
  }

  const outcomes = collector.sortedOutcomes();
  return {
    reduction: true,
    engine: 'graph',
    outcomes,
    graphs: collector.graphCount,
    positive: collector.positive,
    negative: collector.negative,
    executions,
    sleepBlocked: 0,
    interleavings: null,
    states: null,
    steps,
    deadlocks: 0,
    complete: incompleteReason === null,
    incompleteReason,
    memoryBytes: collector.bytes,
    flags: [...flags].sort(),
    assertions: [],
    witnesses: { positive: null, negative: null, deadlock: null, assertion: null },
    witnessList: { positive: [], negative: [] },
  };
}

/** The events of a combination of thread runs: the initial writes (event i writes location i), then each thread's. */
function buildEvents(sc: Scenario, chosen: ThreadRun[]): { events: GraphEvent[]; offset: number[] } {
  const events: GraphEvent[] = sc.locations.map((_, loc) => ({
    id: loc, thread: -1, kind: 'W', loc, tags: new Set(), rmwWrite: -1, addr: [], data: [], ctrl: [],
  }));
  const offset: number[] = [];
  chosen.forEach((run, t) => {
    const base = events.length;
    offset.push(base);
    run.events.forEach((e, i) => {
      const g = (xs: readonly number[]): number[] => xs.map((x) => base + x);
      events.push({
        id: base + i, thread: t, kind: e.kind, loc: e.loc, tags: new Set(e.tags), rmwWrite: e.rmwWrite >= 0 ? base + e.rmwWrite : -1,
        addr: g(e.addr), data: g(e.data), ctrl: g(e.ctrl),
      });
    });
  });
  return { events, offset };
}

interface Values {
  /** The value of every write (the value written) and every read (the value read). */
  value: number[];
  error: SmpError | null;
}

/**
 * The values of a candidate: each read's is its write's, each write's its term's.
 * Null when a value depends on itself or a guess of a path does not hold.
 */
function solve(sc: Scenario, chosen: ThreadRun[], cand: { events: GraphEvent[]; offset: number[] }, rf: number[]): Values | null {
  const { events, offset } = cand;
  const value = new Array<number>(events.length).fill(0);
  const state = new Uint8Array(events.length); // 0 not computed, 1 in progress, 2 done
  let error: SmpError | null = null;
  class Cycle extends Error {}
  const valueOf = (id: number): number => {
    if (state[id] === 2) return value[id]!;
    if (state[id] === 1) throw new Cycle();
    state[id] = 1;
    const e = events[id]!;
    let v: number;
    if (e.thread < 0) v = sc.locations[e.loc]!.init;
    else if (e.kind === 'R') v = valueOf(rf[id]!);
    else v = termOf(e).eval((i) => valueOf(offset[e.thread]! + i));
    value[id] = v;
    state[id] = 2;
    return v;
  };
  const termOf = (e: GraphEvent) => chosen[e.thread]!.events[e.id - offset[e.thread]!]!.value!;
  try {
    for (let id = 0; id < events.length; id++) if (events[id]!.kind !== 'F') valueOf(id);
    for (let t = 0; t < chosen.length; t++) {
      const run = chosen[t]!;
      for (const c of run.constraints) {
        if (!c.holds(c.term.eval((i) => valueOf(offset[t]! + i)))) return null;
      }
      error ??= run.error;
    }
  } catch (e) {
    if (e instanceof Cycle) return null;
    if (e instanceof SmpError) {
      error ??= e;
      return { value, error };
    }
    throw e;
  }
  return { value, error };
}

function observe(ob: Observable, chosen: ThreadRun[], offset: number[], value: number[], co: readonly (readonly number[])[], sc: Scenario): number {
  if (ob.k === 'reg') return chosen[ob.thread]!.regs[ob.reg]!.eval((i) => value[offset[ob.thread]! + i]!);
  if (ob.k === 'loc') {
    const order = co[ob.loc]!;
    return value[order[order.length - 1]!]!;
  }
  throw new Error(`internal: the kernel observable ${ob.name} of ${sc.name} reached the graph engine`);
}

/** The identity of a graph: its events (by thread, kind, location, tags and dependencies), rf and co. */
function graphKey(g: Graph): string {
  const ev = g.events.map((e) => `${e.thread}${e.kind}${e.loc}[${[...e.tags].join(',')}]${e.rmwWrite}a${e.addr.join('.')}d${e.data.join('.')}c${e.ctrl.join('.')}`).join(';');
  return `${ev}|${g.rf.join(',')}|${g.co.map((o) => o.join(',')).join('/')}`;
}

/**
 * Whether read r may read from write w, given the reads before it: SC per
 * location within r's thread (CoRW: not a write later in program order; CoWR and
 * CoRR: not a write coherence-before one the thread wrote or read earlier; CoRW2:
 * coherence-before every later write of the thread), and atomicity (the read of a
 * read-modify-write reads the write just before its own). Every model here
 * requires all of these, so pruning with them loses no consistent graph.
 */
function coherentRead(events: readonly GraphEvent[], rf: readonly number[], coPos: readonly number[], r: number, w: number): boolean {
  const e = events[r]!;
  if (e.rmwWrite >= 0 && coPos[w] !== coPos[e.rmwWrite]! - 1) return false;
  // An instruction fetch (arm64) is not coherent with the thread's own accesses: the model decides.
  if (e.tags.has('ifetch')) return true;
  for (const f of events) {
    if (f.thread !== e.thread || f.loc !== e.loc || f.id === r || f.tags.has('ifetch')) continue;
    if (f.id < r) {
      const seen = f.kind === 'W' ? f.id : rf[f.id]!;
      if (seen >= 0 && coPos[w]! < coPos[seen]!) return false;
    } else if (f.kind === 'W') {
      if (f.id === w || coPos[w]! >= coPos[f.id]!) return false;
    }
  }
  return true;
}

/** The writes of each thread, in program order (ids grow along a thread), threads in order. */
function threadSequences(ws: readonly number[], events: readonly GraphEvent[]): number[][] {
  const m = new Map<number, number[]>();
  for (const w of [...ws].sort((a, b) => a - b)) {
    const t = events[w]!.thread;
    let l = m.get(t);
    if (!l) m.set(t, (l = []));
    l.push(w);
  }
  return [...m.keys()].sort((a, b) => a - b).map((t) => m.get(t)!);
}

/** Whether the number of interleavings of the sequences (a multinomial coefficient) exceeds max. */
function interleavingsAbove(seqs: readonly (readonly number[])[], max: number): boolean {
  let total = 0;
  let count = 1;
  for (const s of seqs) {
    for (let i = 1; i <= s.length; i++) {
      total++;
      count = (count * total) / i;
      if (count > max) return true;
    }
  }
  return false;
}

/**
 * Every interleaving of the sequences that keeps each in order: the coherence orders in
 * which the writes of one thread to a location stay in program order (every model here has
 * SC per location), in a fixed order (deterministic).
 */
function interleavings(seqs: readonly (readonly number[])[]): number[][] {
  const out: number[][] = [];
  const pos = seqs.map(() => 0);
  const cur: number[] = [];
  const n = seqs.reduce((a, s) => a + s.length, 0);
  const go = (): void => {
    if (cur.length === n) {
      out.push([...cur]);
      return;
    }
    seqs.forEach((s, i) => {
      if (pos[i]! < s.length) {
        cur.push(s[pos[i]!]!);
        pos[i]!++;
        go();
        pos[i]!--;
        cur.pop();
      }
    });
  };
  go();
  return out;
}

/** Every ordering of a list (lexicographic in the list's order: deterministic). */
export function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  const out: T[][] = [];
  xs.forEach((x, i) => {
    for (const rest of permutations([...xs.slice(0, i), ...xs.slice(i + 1)])) out.push([x, ...rest]);
  });
  return out;
}

/** The next combination of an odometer; false after the last. */
function advance(digits: number[], sizes: readonly number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! + 1 < sizes[i]!) {
      digits[i]!++;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}
