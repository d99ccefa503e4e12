// The Armv8-A AArch64 memory model as a consistency predicate, for explicit
// memory accesses (LDR/STR, LDAR/STLR, LSE atomics) and DMB barriers: the part
// of herd's aarch64.cat (herdtools7 7.57, libdir/aarch64.cat with
// aarch64hwreqs.cat and aarch64deps.cat) that such programs reach; and, when a
// graph has them, instruction fetches, DC CVAU, IC IVAU, DSB ISH and context
// synchronisation events (arm64-ifetch.ts: herd's `-variant ifetch`). TLB
// maintenance, tags, exclusives (LDXR/STXR) and DSB LD/ST are not modelled:
// the kernel mapping of the scenario language (src/graph/mapping.ts) never
// produces them.
//
// Where each part comes from (names as in the .cat files):
//   aarch64deps.cat   lws, lrs; data/addr/ctrl through registers and through
//                     memory (dtrm: a register dependency continued by a store
//                     and a later load of the same location, lrs)
//   aarch64hwreqs.cat dob, aob, bob, lob (pob is empty: no pick dependencies,
//                     as no CSEL is generated)
//   aarch64.cat       ca, Exp-haz-ob, Exp-obs, ob; the external axiom; the
//                     internal axioms coRW1, coWW, coWR; atomic
// Every part here is about explicit accesses (herd's Exp): an instruction fetch
// (a read tagged 'ifetch') is left out of them, and arm64-ifetch.ts orders it.

import type { Relations } from '../graph.js';
import { EventSet, Rel } from '../relation.js';
import { hasFetchEvents, ifetchConsistent } from './arm64-ifetch.js';

/** The explicit reads and memory accesses: every read but the instruction fetches. */
export interface Explicit {
  R: EventSet;
  M: EventSet;
}

export function explicitAccesses(x: Relations): Explicit {
  const fetch = x.tagged('ifetch');
  return { R: x.R.minus(fetch), M: x.M.minus(fetch) };
}

/** The arm64 dependency relations: register dependencies, continued through memory. */
export function armDeps(x: Relations, e: Explicit): { addr: Rel; data: Rel; ctrl: Rel; lrs: Rel; lws: Rel } {
  // lws: a later access to the same location that writes.
  const lws = x.poLoc.restrict(e.M, x.W);
  // lrs: a later read of the same location with no write to it in between.
  const between = x.poLoc.seq(x.W.id()).seq(x.poLoc);
  const lrs = x.poLoc.minus(between).restrict(x.W, e.R);
  // dtrm*: a read's value reaches a store's data register, then a po-later load of
  // that location with no intervening store (through memory), any number of times.
  // Dependencies start at explicit reads (a fetched instruction's value is not a register's).
  const from = e.R.id();
  const chain = from.seq(x.data).seq(lrs).star();
  return { addr: chain.seq(from).seq(x.addr), data: chain.seq(from).seq(x.data), ctrl: chain.seq(from).seq(x.ctrl), lrs, lws };
}

export function arm64Consistent(x: Relations): boolean {
  const e = explicitAccesses(x);
  const { addr, data, ctrl, lrs, lws } = armDeps(x, e);
  const R = e.R;
  const M = e.M;
  const A = x.tagged('A');
  const L = x.tagged('L');
  const Aid = A.id();
  const Lid = L.id();
  // Internal visibility requirements (aarch64.cat: coRW1-Exp, coWW-Exp, coWR-Exp).
  const ca = x.fr.union(x.co);
  const caInt = ca.inter(x.int);
  const coRW1 = Rel.seqs(R.id(), x.poLoc.union(x.rmw), x.W.id(), x.rfi, R.id());
  if (!coRW1.isIrreflexive()) return false;
  if (!Rel.seqs(x.W.id(), x.poLoc, x.W.id(), caInt, x.W.id()).isIrreflexive()) return false;
  if (!Rel.seqs(x.W.id(), x.poLoc, R.id(), caInt, x.W.id()).isIrreflexive()) return false;
  // atomic: no write between the read and the write of an atomic.
  if (!x.rmw.inter(x.fr.seq(x.co)).isEmpty()) return false;

  // Dependency-ordered-before. The context synchronisation events are ISB and, for the
  // kernel model, the exception return (ERET) and entry, tagged 'isb'.
  const isb = x.tagged('isb').id();
  const dob = addr.union(
    data,
    ctrl.seq(x.W.id()),
    Rel.seqs(ctrl.union(addr.seq(x.po)), isb, x.po, R.id()),
    Rel.seqs(addr, x.po, x.W.id()),
    addr.seq(lrs),
    data.seq(lrs),
  );
  // Atomic-ordered-before.
  const aob = x.rmw.union(Rel.seqs(x.rmw, lrs, Aid));
  // Barrier-ordered-before.
  const readsReturning = R.minus(x.tagged('NoRet'));
  const amoAL = Rel.seqs(Aid, x.rmw, Lid).range(); // the store of an atomic with both A and L
  const bob = x.fencerel('dmb.full').union(
    readsReturning.id().seq(x.fencerel('dmb.ld')),
    Rel.seqs(x.W.id(), x.fencerel('dmb.st'), x.W.id()),
    amoAL.id().seq(x.po),
    Rel.seqs(Lid, x.po, Aid),
    Aid.seq(x.po),
    x.po.seq(Lid),
  );
  // Locally-ordered-before, restricted to explicit memory accesses (local-hw-reqs); a path
  // through a fetch gives no pair that another path does not give.
  const lob = lws.union(dob, aob, bob).restrict(M, M).plus();
  // Explicitly-hazard-ordered-before: two reads of a location in program order, the
  // second overwritten externally.
  const hazOb = Rel.seqs(R.id(), x.poLoc, R.id(), ca.inter(x.ext), x.W.id());
  // Observed-by: external reads-from and coherence-after.
  const obs = x.rf.union(ca).inter(x.ext).restrict(M, M);
  const ob = lob.union(hazOb, obs);
  // Instruction fetch and cache maintenance add their orders (arm64-ifetch.ts); the orders
  // they add between explicit accesses are ones ob already has, so a graph without them is
  // decided here.
  if (hasFetchEvents(x)) return ifetchConsistent(x, e, ob, ctrl, addr);
  return ob.plus().isIrreflexive(); // the external visibility requirement
}
