// Binary relations over the events of one execution graph, and the operators of
// herd's cat language that the models use: union (|), intersection (&),
// difference (\), sequence (;), inverse (^-1), reflexive and transitive closures
// (?, +, *), the identity on a set ([S]), and the checks acyclic, irreflexive and
// empty. A relation over n events is an n x n boolean matrix; execution graphs
// of litmus tests have tens of events, those of the kernel model a few hundred:
// rows are bit sets, so sequence and closure cost n * n * n / 32 word operations.

/** A set of events, as a boolean per event. */
export class EventSet {
  constructor(readonly n: number, readonly has: Uint8Array = new Uint8Array(n)) {}

  static of(n: number, pred: (e: number) => boolean): EventSet {
    const s = new EventSet(n);
    for (let e = 0; e < n; e++) if (pred(e)) s.has[e] = 1;
    return s;
  }

  union(o: EventSet): EventSet {
    return EventSet.of(this.n, (e) => this.has[e] === 1 || o.has[e] === 1);
  }

  inter(o: EventSet): EventSet {
    return EventSet.of(this.n, (e) => this.has[e] === 1 && o.has[e] === 1);
  }

  minus(o: EventSet): EventSet {
    return EventSet.of(this.n, (e) => this.has[e] === 1 && o.has[e] !== 1);
  }

  isEmpty(): boolean {
    return this.has.every((b) => b === 0);
  }

  /** [S]: the identity relation on the set. */
  id(): Rel {
    const r = new Rel(this.n);
    for (let e = 0; e < this.n; e++) if (this.has[e]) r.add(e, e);
    return r;
  }
}

export class Rel {
  /** Row a is words [a * w, (a + 1) * w): bit b of the row is the pair (a, b). */
  readonly m: Uint32Array;
  readonly w: number;

  constructor(readonly n: number, m?: Uint32Array) {
    this.w = (n + 31) >>> 5;
    this.m = m ?? new Uint32Array(n * this.w);
  }

  static of(n: number, pred: (a: number, b: number) => boolean): Rel {
    const r = new Rel(n);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (pred(a, b)) r.add(a, b);
    return r;
  }

  /** The cartesian product S * T. */
  static cross(s: EventSet, t: EventSet): Rel {
    const r = new Rel(s.n);
    const row = new Uint32Array(r.w);
    for (let b = 0; b < s.n; b++) if (t.has[b]) row[b >>> 5]! |= 1 << (b & 31);
    for (let a = 0; a < s.n; a++) if (s.has[a]) r.m.set(row, a * r.w);
    return r;
  }

  has(a: number, b: number): boolean {
    return (this.m[a * this.w + (b >>> 5)]! & (1 << (b & 31))) !== 0;
  }

  add(a: number, b: number): void {
    this.m[a * this.w + (b >>> 5)]! |= 1 << (b & 31);
  }

  union(...os: Rel[]): Rel {
    const r = new Rel(this.n, this.m.slice());
    for (const o of os) for (let i = 0; i < r.m.length; i++) r.m[i]! |= o.m[i]!;
    return r;
  }

  inter(o: Rel): Rel {
    const r = new Rel(this.n, this.m.slice());
    for (let i = 0; i < r.m.length; i++) r.m[i]! &= o.m[i]!;
    return r;
  }

  minus(o: Rel): Rel {
    const r = new Rel(this.n, this.m.slice());
    for (let i = 0; i < r.m.length; i++) r.m[i]! &= ~o.m[i]!;
    return r;
  }

  /** r ; o: a -> c when a -r-> b -o-> c for some b (row a of the result: the OR of o's rows b). */
  seq(o: Rel): Rel {
    const { n, w } = this;
    const r = new Rel(n);
    const A = this.m;
    const B = o.m;
    const R = r.m;
    for (let a = 0; a < n; a++) {
      const ra = a * w;
      for (let k = 0; k < w; k++) {
        let bits = A[ra + k]!;
        while (bits !== 0) {
          const t = bits & -bits;
          const b = (k << 5) + (31 - Math.clz32(t));
          bits ^= t;
          const rb = b * w;
          for (let j = 0; j < w; j++) R[ra + j]! |= B[rb + j]!;
        }
      }
    }
    return r;
  }

  /** r1 ; r2 ; ... ; rk. */
  static seqs(first: Rel, ...rest: Rel[]): Rel {
    return rest.reduce((acc, r) => acc.seq(r), first);
  }

  inverse(): Rel {
    const r = new Rel(this.n);
    for (let a = 0; a < this.n; a++) {
      for (let k = 0; k < this.w; k++) {
        let bits = this.m[a * this.w + k]!;
        while (bits !== 0) {
          const t = bits & -bits;
          bits ^= t;
          r.add((k << 5) + (31 - Math.clz32(t)), a);
        }
      }
    }
    return r;
  }

  /** r? : r or the identity. */
  opt(): Rel {
    const r = new Rel(this.n, this.m.slice());
    for (let e = 0; e < this.n; e++) r.add(e, e);
    return r;
  }

  /** r+ : the transitive closure (Warshall, a row at a time). */
  plus(): Rel {
    const { n, w } = this;
    const r = new Rel(n, this.m.slice());
    const M = r.m;
    for (let k = 0; k < n; k++) {
      const kw = k >>> 5;
      const kb = 1 << (k & 31);
      const rk = k * w;
      for (let a = 0; a < n; a++) {
        const ra = a * w;
        if ((M[ra + kw]! & kb) === 0) continue;
        for (let j = 0; j < w; j++) M[ra + j]! |= M[rk + j]!;
      }
    }
    return r;
  }

  /** r* : the reflexive-transitive closure. */
  star(): Rel {
    return this.plus().opt();
  }

  /** [S] ; r ; [T]: r restricted to pairs from S to T. */
  restrict(s: EventSet, t: EventSet): Rel {
    const r = new Rel(this.n);
    const mask = new Uint32Array(this.w);
    for (let b = 0; b < this.n; b++) if (t.has[b]) mask[b >>> 5]! |= 1 << (b & 31);
    for (let a = 0; a < this.n; a++) {
      if (!s.has[a]) continue;
      for (let j = 0; j < this.w; j++) r.m[a * this.w + j] = this.m[a * this.w + j]! & mask[j]!;
    }
    return r;
  }

  domain(): EventSet {
    return EventSet.of(this.n, (a) => {
      for (let j = 0; j < this.w; j++) if (this.m[a * this.w + j] !== 0) return true;
      return false;
    });
  }

  range(): EventSet {
    const acc = new Uint32Array(this.w);
    for (let a = 0; a < this.n; a++) for (let j = 0; j < this.w; j++) acc[j]! |= this.m[a * this.w + j]!;
    return EventSet.of(this.n, (b) => (acc[b >>> 5]! & (1 << (b & 31))) !== 0);
  }

  isEmpty(): boolean {
    return this.m.every((x) => x === 0);
  }

  isIrreflexive(): boolean {
    for (let e = 0; e < this.n; e++) if (this.has(e, e)) return false;
    return true;
  }

  isAcyclic(): boolean {
    return this.plus().isIrreflexive();
  }
}
