// Binary relations over the events of one execution graph, and the operators of
// herd's cat language that the models use: union (|), intersection (&),
// difference (\), sequence (;), inverse (^-1), reflexive and transitive closures
// (?, +, *), the identity on a set ([S]), and the checks acyclic, irreflexive and
// empty. A relation over n events is an n x n boolean matrix; execution graphs
// of litmus tests have tens of events, so the cubic operations are cheap.

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

  /** [S]: the identity relation on the set. */
  id(): Rel {
    const r = new Rel(this.n);
    for (let e = 0; e < this.n; e++) if (this.has[e]) r.add(e, e);
    return r;
  }
}

export class Rel {
  readonly m: Uint8Array;

  constructor(readonly n: number, m?: Uint8Array) {
    this.m = m ?? new Uint8Array(n * n);
  }

  static of(n: number, pred: (a: number, b: number) => boolean): Rel {
    const r = new Rel(n);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (pred(a, b)) r.m[a * n + b] = 1;
    return r;
  }

  /** The cartesian product S * T. */
  static cross(s: EventSet, t: EventSet): Rel {
    return Rel.of(s.n, (a, b) => s.has[a] === 1 && t.has[b] === 1);
  }

  has(a: number, b: number): boolean {
    return this.m[a * this.n + b] === 1;
  }

  add(a: number, b: number): void {
    this.m[a * this.n + b] = 1;
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
    for (let i = 0; i < r.m.length; i++) if (o.m[i]) r.m[i] = 0;
    return r;
  }

  /** r ; o: a -> c when a -r-> b -o-> c for some b. */
  seq(o: Rel): Rel {
    const n = this.n;
    const r = new Rel(n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        if (!this.m[a * n + b]) continue;
        for (let c = 0; c < n; c++) if (o.m[b * n + c]) r.m[a * n + c] = 1;
      }
    }
    return r;
  }

  /** r1 ; r2 ; ... ; rk. */
  static seqs(first: Rel, ...rest: Rel[]): Rel {
    return rest.reduce((acc, r) => acc.seq(r), first);
  }

  inverse(): Rel {
    return Rel.of(this.n, (a, b) => this.has(b, a));
  }

  /** r? : r or the identity. */
  opt(): Rel {
    const r = new Rel(this.n, this.m.slice());
    for (let e = 0; e < this.n; e++) r.add(e, e);
    return r;
  }

  /** r+ : the transitive closure (Warshall). */
  plus(): Rel {
    const n = this.n;
    const r = new Rel(n, this.m.slice());
    for (let k = 0; k < n; k++) {
      for (let a = 0; a < n; a++) {
        if (!r.m[a * n + k]) continue;
        for (let b = 0; b < n; b++) if (r.m[k * n + b]) r.m[a * n + b] = 1;
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
    return Rel.of(this.n, (a, b) => this.has(a, b) && s.has[a] === 1 && t.has[b] === 1);
  }

  domain(): EventSet {
    return EventSet.of(this.n, (a) => {
      for (let b = 0; b < this.n; b++) if (this.has(a, b)) return true;
      return false;
    });
  }

  range(): EventSet {
    return EventSet.of(this.n, (b) => {
      for (let a = 0; a < this.n; a++) if (this.has(a, b)) return true;
      return false;
    });
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
