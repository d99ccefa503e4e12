// An execution graph: the events of every thread in program order, the initial
// writes, which write each read reads from (rf) and the coherence order of the
// writes to each location (co). The relations every model starts from (po, rf,
// co, fr, same location, internal/external, the dependencies, rmw) are computed
// here once per graph; a model (models/*.ts) is a predicate over them.

import { EventSet, Rel } from './relation.js';

export type EventKind = 'R' | 'W' | 'F';

/**
 * What an event is beyond its kind, in the vocabulary of the model it was made
 * for: arm64 'A' (acquire: LDAR, the load of ...A/...AL atomics), 'L' (release:
 * STLR, the store of ...L/...AL atomics), 'NoRet' (the load of an atomic that
 * returns nothing, STADD), fences 'dmb.full', 'dmb.ld', 'dmb.st'; LKMM 'once',
 * 'acquire', 'release', 'noreturn', fences 'mb', 'rmb', 'wmb', 'before-atomic',
 * 'after-atomic', 'barrier'; x86 'mfence', 'locked'.
 */
export type Tag = string;

export interface GraphEvent {
  readonly id: number;
  /** -1 for an initial write. */
  readonly thread: number;
  readonly kind: EventKind;
  /** The location accessed; -1 for a fence. */
  readonly loc: number;
  readonly tags: ReadonlySet<Tag>;
  /** For the read of a read-modify-write that wrote: the id of its write. */
  readonly rmwWrite: number;
  /** Reads (ids) the event's address, its stored value, and its existence depend on. */
  readonly addr: readonly number[];
  readonly data: readonly number[];
  readonly ctrl: readonly number[];
}

export interface Graph {
  readonly events: readonly GraphEvent[];
  /** rf[r] = the write read by read r (-1 for other events). */
  readonly rf: readonly number[];
  /** For each location, its writes in coherence order (the initial write first). */
  readonly co: readonly (readonly number[])[];
}

/** The base relations of a graph, as herd names them. */
export class Relations {
  readonly n: number;
  readonly R: EventSet;
  readonly W: EventSet;
  readonly F: EventSet;
  readonly M: EventSet;
  /** Initial writes (IW). */
  readonly IW: EventSet;
  readonly po: Rel;
  readonly rf: Rel;
  readonly co: Rel;
  readonly fr: Rel;
  readonly loc: Rel;
  readonly int: Rel;
  readonly ext: Rel;
  readonly poLoc: Rel;
  readonly rmw: Rel;
  readonly addr: Rel;
  readonly data: Rel;
  readonly ctrl: Rel;
  readonly rfe: Rel;
  readonly rfi: Rel;
  readonly coe: Rel;
  readonly fre: Rel;

  constructor(readonly g: Graph) {
    const ev = g.events;
    const n = (this.n = ev.length);
    const is = (pred: (e: GraphEvent) => boolean): EventSet => EventSet.of(n, (i) => pred(ev[i]!));
    this.R = is((e) => e.kind === 'R');
    this.W = is((e) => e.kind === 'W');
    this.F = is((e) => e.kind === 'F');
    this.M = this.R.union(this.W);
    this.IW = is((e) => e.thread < 0);
    // Events of a thread are numbered in program order. Built a row at a time, by groups
    // (a thread's events, a location's accesses), as bit masks.
    const groups = (key: (e: GraphEvent) => number | null): Map<number, number[]> => {
      const m = new Map<number, number[]>();
      for (const e of ev) {
        const k = key(e);
        if (k === null) continue;
        let l = m.get(k);
        if (!l) m.set(k, (l = []));
        l.push(e.id);
      }
      return m;
    };
    this.po = new Rel(n);
    this.int = new Rel(n);
    this.ext = new Rel(n);
    this.loc = new Rel(n);
    const w = this.po.w;
    const mask = (ids: readonly number[]): Uint32Array => {
      const r = new Uint32Array(w);
      for (const i of ids) r[i >>> 5]! |= 1 << (i & 31);
      return r;
    };
    const all = mask([...Array(n).keys()]);
    for (const [t, ids] of groups((e) => e.thread)) {
      const same = mask(ids);
      for (const a of ids) {
        this.int.m.set(same, a * w);
        for (let j = 0; j < w; j++) this.ext.m[a * w + j] = all[j]! & ~same[j]!;
      }
      if (t < 0) continue;
      const sorted = [...ids].sort((x, y) => x - y);
      const later = new Uint32Array(w);
      for (let i = sorted.length - 1; i >= 0; i--) {
        const a = sorted[i]!;
        this.po.m.set(later, a * w);
        later[a >>> 5]! |= 1 << (a & 31);
      }
    }
    for (const [, ids] of groups((e) => (e.loc >= 0 ? e.loc : null))) {
      const same = mask(ids);
      for (const a of ids) this.loc.m.set(same, a * w);
    }
    this.rf = new Rel(n);
    g.rf.forEach((w, r) => {
      if (w >= 0) this.rf.add(w, r);
    });
    this.co = new Rel(n);
    for (const order of g.co) {
      for (let i = 0; i < order.length; i++) for (let j = i + 1; j < order.length; j++) this.co.add(order[i]!, order[j]!);
    }
    this.fr = this.rf.inverse().seq(this.co);
    this.poLoc = this.po.inter(this.loc);
    this.rmw = new Rel(n);
    for (const e of ev) if (e.rmwWrite >= 0) this.rmw.add(e.id, e.rmwWrite);
    const deps = (pick: (e: GraphEvent) => readonly number[]): Rel => {
      const r = new Rel(n);
      for (const e of ev) for (const d of pick(e)) r.add(d, e.id);
      return r;
    };
    this.addr = deps((e) => e.addr);
    this.data = deps((e) => e.data);
    this.ctrl = deps((e) => e.ctrl);
    this.rfe = this.rf.inter(this.ext);
    this.rfi = this.rf.inter(this.int);
    this.coe = this.co.inter(this.ext);
    this.fre = this.fr.inter(this.ext);
  }

  /** Events carrying a tag. */
  tagged(...tags: Tag[]): EventSet {
    return EventSet.of(this.n, (i) => tags.some((t) => this.g.events[i]!.tags.has(t)));
  }

  /** fencerel(F) = po ; [F] ; po: pairs of events separated by a fence tagged so. */
  fencerel(...tags: Tag[]): Rel {
    return Rel.seqs(this.po, this.tagged(...tags).id(), this.po);
  }
}
