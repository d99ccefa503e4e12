// The arm64 predicate of models/arm64.ts, computed directly on a graph given as
// per-CPU event sequences, for the kernel graph engine (src/graph/kernel.ts),
// which asks it once for every read or write it adds that is not coherence-last.
//
// models/arm64.ts states the model as herd's aarch64.cat does, in relation
// algebra: about forty relations over every pair of events, each sequence with
// program order a cubic operation. Here the same axioms are evaluated with what
// program order is on one CPU, an interval of event numbers, so each term is a
// few masks per event:
//   - the internal axioms coRW1, coWW, coWR and atomic, pair by pair on a CPU;
//   - ob's edges, one bit-set row per event: obs (external rf, co, fr), hazard
//     ordering (a read before another of its location that is overwritten
//     externally), and lob's terms lws, dob (with dependencies continued through
//     memory, dtrm), aob and bob (DMB, acquire and release);
//   - the external axiom as acyclicity of their union, which is ob+'s
//     irreflexivity (lob+ adds no cycle lob's terms do not have).
// Instruction fetches and cache maintenance are not handled here: a graph with
// them is decided by models/arm64.ts (the caller falls back when this returns null).
// test/kernel-graph-direct.test.ts compares the two on every check of the
// kernel scenarios it runs.

/** An explicit memory access of a kernel graph. */
export interface DEvent {
  cpu: number;
  write: boolean;
  loc: number;
  /** Tags: 'A', 'L', 'NoRet'. */
  A: boolean;
  L: boolean;
  noRet: boolean;
  /** A read: the write it reads (event), -1 for the initial value. */
  rf: number;
  /** The read of a read-modify-write that wrote: its write (event). */
  rmwW: number;
  /** Reads (events, po-earlier on the CPU) its address, value and existence depend on. */
  addr: readonly number[];
  data: readonly number[];
  ctrl: readonly number[];
}

/** A barrier, between events `at - 1` and `at` of its CPU. */
export interface DFence {
  cpu: number;
  at: number;
  full: boolean;
  ld: boolean;
  st: boolean;
  isb: boolean;
  ctrl: readonly number[];
}

export interface DGraph {
  /** Events numbered CPU by CPU, in program order on each. */
  events: DEvent[];
  fences: DFence[];
  /** [start, end) of each CPU's events. */
  start: number[];
  end: number[];
  /** Per location, its writes (events) in coherence order (the initial write implicit, first). */
  co: Map<number, number[]>;
}

/** ob's matrix, kept from one call to the next (the engine asks for it often). */
let obBuf = new Uint32Array(0);
/** fre's rows, kept likewise. */
let freBuf = new Uint32Array(0);

export function arm64DirectConsistent(g: DGraph): boolean {
  const ev = g.events;
  const n = ev.length;
  if (n === 0) return true;
  const w = (n + 31) >>> 5;
  const coPos = new Int32Array(n).fill(-1);
  for (const ws of g.co.values()) for (let i = 0; i < ws.length; i++) coPos[ws[i]!] = i;
  const srcPos = (r: number): number => (ev[r]!.rf < 0 ? -1 : coPos[ev[r]!.rf]!);
  // Per event, the one before it on its CPU with its location (-1: none): the pairs of
  // same-location accesses the axioms below compare are walked along these links.
  const prevSame = new Int32Array(n).fill(-1);
  for (let c = 0; c < g.start.length; c++) {
    const last = new Map<number, number>();
    for (let x = g.start[c]!; x < g.end[c]!; x++) {
      const l = ev[x]!.loc;
      const p = last.get(l);
      if (p !== undefined) prevSame[x] = p;
      last.set(l, x);
    }
  }

  // Internal axioms, per CPU and location.
  for (let r = 0; r < n; r++) {
    const e = ev[r]!;
    if (e.write) continue;
    // coRW1: no read of a write that comes after it on its CPU.
    if (e.rf >= 0 && ev[e.rf]!.cpu === e.cpu && e.rf > r) return false;
    // atomic: the write of a read-modify-write comes right after the write it read.
    if (e.rmwW >= 0 && coPos[e.rmwW] !== srcPos(r) + 1) return false;
    // coWR: a read sees its CPU's last write before it, or a write coherence-after that.
    const sp = srcPos(r);
    for (let x = prevSame[r]!; x >= 0; x = prevSame[x]!) if (ev[x]!.write && coPos[x]! > sp) return false;
  }
  // coWW: two writes of a location on a CPU are in coherence order.
  for (let b = 0; b < n; b++) {
    if (!ev[b]!.write) continue;
    for (let a = prevSame[b]!; a >= 0; a = prevSame[a]!) if (ev[a]!.write && coPos[b]! < coPos[a]!) return false;
  }

  // ob's rows: the events, then one node per event k standing for "every write of k's CPU
  // from k on" (a chain: node k -> node k+1 on the CPU, and -> k when k is a write), so that
  // addr;po;[W] is an edge per source, not per source and write. A cycle through the chain
  // nodes is a cycle of the events' edges (a -> chain node of k -> ... -> write m means
  // a is ordered before every write from k on, m among them).
  const nn = 2 * n;
  const ww = (nn + 31) >>> 5;
  if (obBuf.length < nn * ww) obBuf = new Uint32Array(Math.max(nn * ww, 2 * obBuf.length));
  const ob = obBuf;
  ob.fill(0, 0, nn * ww);
  const set = (a: number, b: number): void => {
    ob[a * ww + (b >>> 5)]! |= 1 << (b & 31);
  };
  for (let c = 0; c < g.start.length; c++) {
    for (let k = g.start[c]!; k < g.end[c]!; k++) {
      if (k + 1 < g.end[c]!) set(n + k, n + k + 1);
      if (ev[k]!.write) set(n + k, k);
    }
  }
  /** Row a gains every event in [lo, hi). */
  const range = (a: number, lo: number, hi: number): void => {
    if (lo >= hi) return;
    const row = a * ww;
    const jl = lo >>> 5;
    const jh = (hi - 1) >>> 5;
    // Bits lo..31 of word jl, whole words between, bits 0..(hi - 1) of word jh.
    const lowMask = (~0 << (lo & 31)) | 0;
    const highMask = (hi & 31) === 0 ? ~0 : (1 << (hi & 31)) - 1;
    if (jl === jh) {
      ob[row + jl]! |= lowMask & highMask;
      return;
    }
    ob[row + jl]! |= lowMask;
    for (let j = jl + 1; j < jh; j++) ob[row + j] = ~0;
    ob[row + jh]! |= highMask;
  };
  const orMask = (a: number, mask: Uint32Array, off: number): void => {
    for (let j = 0; j < w; j++) ob[a * ww + j]! |= mask[off + j]!;
  };

  // obs: external rf, co and fr.
  if (freBuf.length < n * w) freBuf = new Uint32Array(Math.max(n * w, 2 * freBuf.length));
  const fre = freBuf;
  fre.fill(0, 0, n * w);
  // coe: from each write to the first later write of each other CPU only. The edges to
  // that CPU's later writes follow through lws (below: an access before a write of its
  // location on its CPU), and coWW (above) put its writes in coherence order as in
  // program order: the same transitive closure, so the same answer, with n * CPUs edges
  // instead of n^2.
  const nextOf = new Int32Array(g.start.length);
  for (const ws of g.co.values()) {
    nextOf.fill(-1);
    for (let i = ws.length - 1; i >= 0; i--) {
      const a = ws[i]!;
      const ca = ev[a]!.cpu;
      for (let c = 0; c < nextOf.length; c++) if (c !== ca && nextOf[c]! >= 0) set(a, nextOf[c]!);
      nextOf[ca] = a;
    }
  }
  for (let r = 0; r < n; r++) {
    const e = ev[r]!;
    if (e.write) continue;
    if (e.rf >= 0 && ev[e.rf]!.cpu !== e.cpu) set(e.rf, r);
    const ws = g.co.get(e.loc) ?? [];
    for (let j = srcPos(r) + 1; j < ws.length; j++) {
      const x = ws[j]!;
      if (ev[x]!.cpu !== e.cpu) fre[r * w + (x >>> 5)]! |= 1 << (x & 31);
    }
    orMask(r, fre, r * w);
  }
  // Hazard ordering: a read before a read of its location that is overwritten externally.
  for (let b = 0; b < n; b++) {
    const e = ev[b]!;
    if (e.write) continue;
    for (let a = prevSame[b]!; a >= 0; a = prevSame[a]!) if (!ev[a]!.write) orMask(a, fre, b * w);
  }

  // lrs: for a read, its CPU's last write of its location before it (-1: none).
  const lrsOf = new Int32Array(n).fill(-1);
  for (let x = 0; x < n; x++) {
    if (ev[x]!.write) continue;
    for (let a = prevSame[x]!; a >= 0; a = prevSame[a]!) {
      if (ev[a]!.write) {
        lrsOf[x] = a;
        break;
      }
    }
  }
  // Per write, the reads whose lrs it is (a list through lrsNext, in program order).
  const lrsFirst = new Int32Array(n).fill(-1);
  const lrsNext = new Int32Array(n).fill(-1);
  for (let y = n - 1; y >= 0; y--) {
    const x = lrsOf[y]!;
    if (x < 0) continue;
    lrsNext[y] = lrsFirst[x]!;
    lrsFirst[x] = y;
  }
  // Dependencies continued through memory: a read depends on the reads it is
  // dtrm-reached from ([R];data;lrs)*, itself included.
  const src = new Uint32Array(n * w);
  for (let r = 0; r < n; r++) {
    if (ev[r]!.write) continue;
    src[r * w + (r >>> 5)]! |= 1 << (r & 31);
    const wr = lrsOf[r]!;
    if (wr >= 0) for (const d of ev[wr]!.data) if (!ev[d]!.write) for (let j = 0; j < w; j++) src[r * w + j]! |= src[d * w + j]!;
  }
  const depMask = (ds: readonly number[]): Uint32Array | null => {
    let m: Uint32Array | null = null;
    for (const d of ds) {
      if (ev[d]!.write) continue;
      m ??= new Uint32Array(w);
      for (let j = 0; j < w; j++) m[j]! |= src[d * w + j]!;
    }
    return m;
  };
  /** Every event of a mask gains the edge to b. */
  const fromMask = (m: Uint32Array, b: number): void => {
    for (let j = 0; j < w; j++) {
      let bits = m[j]!;
      while (bits !== 0) {
        const t = bits & -bits;
        bits ^= t;
        set((j << 5) + (31 - Math.clz32(t)), b);
      }
    }
  };
  const addrOf: (Uint32Array | null)[] = new Array(n).fill(null);
  for (let x = 0; x < n; x++) {
    const e = ev[x]!;
    const end = g.end[e.cpu]!;
    const addr = depMask(e.addr);
    const data = depMask(e.data);
    addrOf[x] = addr;
    if (addr) {
      fromMask(addr, x); // addr
      if (x + 1 < end) fromMask(addr, n + x + 1); // addr;po;[W], through the chain
    }
    if (data) fromMask(data, x); // data
    if (e.write) {
      const ctrl = depMask(e.ctrl);
      if (ctrl) fromMask(ctrl, x); // ctrl;[W]
      // (addr | data);lrs.
      if (addr || data) {
        for (let y = lrsFirst[x]!; y >= 0; y = lrsNext[y]!) {
          if (addr) fromMask(addr, y);
          if (data) fromMask(data, y);
        }
      }
    }
    // lws: an access before a write of its location on the CPU.
    if (e.write) for (let a = prevSame[x]!; a >= 0; a = prevSame[a]!) set(a, x);
    // aob: rmw, and rmw;lrs;[A].
    if (e.rmwW >= 0) {
      set(x, e.rmwW);
      for (let y = lrsFirst[e.rmwW]!; y >= 0; y = lrsNext[y]!) if (ev[y]!.A) set(x, y);
    }
    // bob: acquire before everything after it, everything before a release, release before acquire,
    // and the write of an acquire-release atomic before everything after it.
    if (e.A) range(x, x + 1, end);
    if (e.L) {
      for (let a = g.start[e.cpu]!; a < x; a++) set(a, x);
      for (let y = x + 1; y < end; y++) if (ev[y]!.A) set(x, y);
    }
    if (e.rmwW >= 0 && e.A && ev[e.rmwW]!.L) range(e.rmwW, e.rmwW + 1, end);
  }
  // Barriers (bob), and ISB's part of dob: (ctrl | addr;po);[ISB];po;[R].
  for (const f of g.fences) {
    const s = g.start[f.cpu]!;
    const end = g.end[f.cpu]!;
    for (let a = s; a < f.at; a++) {
      const e = ev[a]!;
      if (f.full || (f.ld && !e.write && !e.noRet)) range(a, f.at, end);
      if (f.st && e.write) for (let y = f.at; y < end; y++) if (ev[y]!.write) set(a, y);
    }
    if (f.isb) {
      const m = depMask(f.ctrl) ?? new Uint32Array(w);
      for (let y = s; y < f.at; y++) {
        const am = addrOf[y];
        if (am) for (let j = 0; j < w; j++) m[j]! |= am[j]!;
      }
      for (let y = f.at; y < end; y++) if (!ev[y]!.write) fromMask(m, y);
    }
  }
  return acyclic(ob, nn, ww);
}

/** Is the relation (bit-set rows) acyclic? Depth-first search, colouring events. */
function acyclic(m: Uint32Array, n: number, w: number): boolean {
  const colour = new Uint8Array(n); // 0 new, 1 on the path, 2 done
  const stackE = new Int32Array(n);
  const stackJ = new Int32Array(n);
  const stackBits = new Int32Array(n);
  for (let root = 0; root < n; root++) {
    if (colour[root] !== 0) continue;
    let sp = 0;
    stackE[0] = root;
    stackJ[0] = 0;
    stackBits[0] = m[root * w]! | 0;
    colour[root] = 1;
    while (sp >= 0) {
      const a = stackE[sp]!;
      let bits = stackBits[sp]!;
      let j = stackJ[sp]!;
      let next = -1;
      for (;;) {
        if (bits !== 0) {
          const t = bits & -bits;
          bits ^= t;
          const b = (j << 5) + (31 - Math.clz32(t));
          if (colour[b] === 1) return false;
          if (colour[b] === 0) {
            next = b;
            break;
          }
          continue;
        }
        if (++j >= w) break;
        bits = m[a * w + j]! | 0;
      }
      stackBits[sp] = bits;
      stackJ[sp] = j;
      if (next < 0) {
        colour[a] = 2;
        sp--;
        continue;
      }
      colour[next] = 1;
      sp++;
      stackE[sp] = next;
      stackJ[sp] = 0;
      stackBits[sp] = m[next * w]! | 0;
    }
  }
  return true;
}
