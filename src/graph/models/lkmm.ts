// The Linux-kernel memory model (tools/memory-model, v6.18) as a consistency
// predicate: linux-kernel.cat's coherence, atomic, happens-before, propagation,
// rcu and plain-coherence axioms, and its flags (data-race, mixed-accesses),
// with lock.cat's spinlocks and linux-kernel.bell's sets. Written from the cat
// files' definitions, relation by relation. SRCU as the bell makes it:
// srcu_read_lock() a load of the srcu_struct ('srcu-lock'), srcu_read_unlock() a
// store of the index to it ('srcu-unlock'), matched by the data dependency of
// the index, synchronize_srcu() an event on the srcu_struct's location ('sync-srcu').
//
// Events carry the bell's annotations as tags: 'once', 'acquire', 'release',
// 'noreturn', 'plain' on accesses ('plain': a C access `*x`, unmarked), 'rmw' on
// the events of read-modify-write instructions (the bell's RMW set, a failed
// cmpxchg() included); fences 'mb', 'rmb', 'wmb', 'before-atomic',
// 'after-atomic', 'after-spinlock', 'after-unlock-lock', 'barrier', 'rcu-lock',
// 'rcu-unlock', 'sync-rcu'. A fully ordered atomic carries an 'mb' fence on each
// side, as herd's C front end gives it (v6.18's bell and cat give the same order
// through Mb tags on its read and write). Spinlocks (thread.ts) are lock.cat's
// events: 'lkr' (the read of spin_lock(), an Acquire), 'lkw' (its write), 'ul'
// (spin_unlock(), a Release), 'lf' (a failed spin_trylock() or spin_is_locked()
// returning true: lock.cat's LF and RL, reads with no ordering) and 'ru'
// (spin_is_locked() returning false).

import type { Relations } from '../graph.js';
import { EventSet, Rel } from '../relation.js';

/** The flags linux-kernel.cat and lock.cat raise on a consistent execution (herd prints `Flag NAME`). */
export type LkmmFlag = 'data-race' | 'mixed-accesses' | 'unmatched-unlock' | 'mixed-lock-accesses'
  | 'unmatched-srcu-lock' | 'unmatched-srcu-unlock' | 'multiple-srcu-matches' | 'invalid-sleep';

export function lkmmConsistent(x: Relations): boolean {
  return lkmmCheck(x).consistent;
}

export function lkmmCheck(x: Relations): { consistent: boolean; flags: LkmmFlag[] } {
  const no = { consistent: false, flags: [] };
  const n = x.n;
  const M = x.M.id();
  const R = x.R.id();
  const W = x.W.id();
  const id = Rel.of(n, (a, b) => a === b);
  const com = x.rf.union(x.co, x.fr);
  // coherence: SC per variable.
  if (!x.poLoc.union(com).isAcyclic()) return no;
  // atomic: nothing between the read and the write of a read-modify-write (lock.cat's lk-rmw included).
  if (!x.rmw.inter(x.fre.seq(x.coe)).isEmpty()) return no;

  // linux-kernel.bell: marked and plain accesses; lock.cat's events.
  const plainSet = x.tagged('plain');
  const Plain = plainSet.id();
  const Marked = x.M.minus(plainSet).union(x.F).id(); // (~M) | IW | every annotated access
  const LKR = x.tagged('lkr');
  const UL = x.tagged('ul');
  const Acquire = x.tagged('acquire').union(LKR).id();
  const Release = x.tagged('release').union(UL).id();
  const RMW = x.tagged('rmw').id();
  const LKW = x.tagged('lkw').id();
  const Noreturn = x.tagged('noreturn');
  const SrcuLock = x.tagged('srcu-lock');
  const SrcuUnlock = x.tagged('srcu-unlock');
  const notSrcuUnlock = EventSet.of(n, (e) => !SrcuUnlock.has[e]).id();
  // srcu-rscs: each srcu_read_lock() to the srcu_read_unlock() its index reaches by data,
  // through registers and memory (carry-srcu-data), on the same srcu_struct.
  const carrySrcuData = Rel.seqs(x.data, notSrcuUnlock, x.rf).star();
  const srcuRscs = Rel.seqs(SrcuLock.id(), carrySrcuData, x.data, SrcuUnlock.id()).inter(x.loc);

  // Release, acquire, and a lock handed over: po ; [UL] ; (po | rf) ; [LKR] ; po.
  const acqPo = Rel.seqs(Acquire, x.po, M);
  const poRel = Rel.seqs(M, x.po, Release);
  const poUnlockLockPo = Rel.seqs(x.po, UL.id(), x.po.union(x.rf), LKR.id(), x.po);
  // Fences. R4rmb: reads for which smp_rmb() works (not those of non-returning atomics).
  const R4rmbSet = x.R.minus(Noreturn);
  const R4rmb = R4rmbSet.id();
  const rmb = Rel.seqs(R4rmb, x.fencerel('rmb'), R4rmb);
  const wmb = Rel.seqs(W, x.fencerel('wmb'), W);
  const mb = Rel.seqs(M, x.fencerel('mb'), M).union(
    Rel.seqs(M, x.fencerel('before-atomic'), RMW, x.po.opt(), M),
    Rel.seqs(M, x.po.opt(), RMW, x.fencerel('after-atomic'), M),
    Rel.seqs(M, x.po.opt(), LKW, x.fencerel('after-spinlock'), M),
    Rel.seqs(M, poUnlockLockPo, x.tagged('after-unlock-lock').id(), x.po, M),
    Rel.seqs(M, x.po.opt(), SrcuUnlock.id(), x.fencerel('after-srcu-read-unlock'), M),
  );
  // gp: a grace period, synchronize_rcu(), is a strong fence.
  const gp = Rel.seqs(x.po, x.tagged('sync-rcu', 'sync-srcu').id(), x.po.opt());
  const strongFence = mb.union(gp);
  const nonrwFence = strongFence.union(poRel, acqPo);
  const fence = nonrwFence.union(wmb, rmb);

  // Dependencies, carried through a store and a later load of the same thread that
  // reads from it (linux-kernel.bell: carry-dep = (data ; [~Srcu-unlock] ; rfi)*).
  const carryDep = Rel.seqs(x.data, notSrcuUnlock, x.rfi).star();
  const addr = carryDep.seq(x.addr);
  const data = carryDep.seq(x.data);
  const ctrl = carryDep.seq(x.ctrl);
  // Preserved program order.
  const dep = addr.union(data);
  const rwdep = dep.union(ctrl).seq(W);
  const overwrite = x.co.union(x.fr);
  const toW = rwdep.union(overwrite.inter(x.int), Rel.seqs(addr, Plain, wmb));
  const toR = addr.seq(R).union(Rel.seqs(dep, Marked, x.rfi));
  const ppo = toR.union(toW, fence.inter(x.int), poUnlockLockPo.inter(x.int));

  // Propagation: cumulativity of strong fences and releases, of smp_wmb() and of lock handovers,
  // extended along rmw-sequences (rf ; rmw)*.
  const aCumul = (r: Rel): Rel => Rel.seqs(x.rfe, Marked).opt().seq(r);
  const rmwSequence = x.rf.seq(x.rmw).star();
  const cumulFence = Rel.seqs(Marked, aCumul(strongFence.union(poRel)).union(wmb, poUnlockLockPo), Marked, rmwSequence);
  const prop = Rel.seqs(Marked, overwrite.inter(x.ext).opt(), cumulFence.star(), Marked, x.rfe.opt(), Marked);

  // happens-before.
  const hb = Rel.seqs(Marked, ppo.union(x.rfe, prop.minus(id).inter(x.int)), Marked);
  if (!hb.isAcyclic()) return no;
  // propagation: each non-rf link needs a strong fence.
  const pb = Rel.seqs(prop, strongFence, hb.star(), Marked);
  if (!pb.isAcyclic()) return no;
  // rcu.
  const rcuFence = rcuFenceOf(x, hb, pb, prop, srcuRscs);
  const rb = Rel.seqs(prop, rcuFence, hb.star(), pb.star(), Marked);
  if (!rb.isIrreflexive()) return no;

  // Plain accesses and data races. After the rcu axiom, fence and strong-fence include rcu-fence.
  const fence2 = fence.union(rcuFence);
  const strongFence2 = strongFence.union(rcuFence);
  const xbstar = hb.union(pb, rb).star();
  const vis = Rel.seqs(cumulFence.star(), x.rfe.opt(), Marked, Rel.seqs(strongFence2, Marked, xbstar).union(xbstar.inter(x.int)));
  const notNoreturn = x.R.union(x.W).union(x.F).minus(Noreturn).id(); // [~Noreturn]: every event but those reads
  const wPreBounded = Marked.seq(addr.union(fence2).opt());
  const rPreBounded = Marked.seq(addr.union(nonrwFence, Rel.seqs(R4rmb, x.fencerel('rmb'), notNoreturn)).opt());
  const wPostBounded = Rel.seqs(fence2.opt(), Marked, rmwSequence);
  const rPostBounded = nonrwFence.union(Rel.seqs(notNoreturn, x.fencerel('rmb'), R4rmb)).opt().seq(Marked);
  const wwVis = fence2.union(Rel.seqs(strongFence2, xbstar, wPreBounded), Rel.seqs(wPostBounded, vis, wPreBounded));
  const wrVis = fence2.union(Rel.seqs(strongFence2, xbstar, rPreBounded), Rel.seqs(wPostBounded, vis, rPreBounded));
  const rwXbstar = fence2.union(Rel.seqs(rPostBounded, xbstar, wPreBounded));
  // Potential races: an access of another thread to the same location, one of the two plain.
  const plainM = Rel.cross(plainSet, x.M);
  const mPlain = Rel.cross(x.M.minus(x.IW), plainSet);
  const preRace = x.ext.inter(plainM.union(mPlain));
  // plain-coherence.
  const wrIncoh = preRace.inter(x.rf).inter(rwXbstar.inverse());
  const rwIncoh = preRace.inter(x.fr).inter(wrVis.inverse());
  const wwIncoh = preRace.inter(x.co).inter(wwVis.inverse());
  if (!wrIncoh.union(rwIncoh, wwIncoh).isEmpty()) return no;

  const flags: LkmmFlag[] = [];
  const Wset = x.W;
  const markedSet = x.M.minus(plainSet);
  const wwNonrace = wwVis.inter(Rel.cross(markedSet, Wset).union(rwXbstar)).inter(Rel.cross(Wset, markedSet).union(wrVis));
  const wwRace = preRace.inter(x.co).minus(wwNonrace);
  const wrRace = preRace.inter(x.co.opt().seq(x.rf)).minus(wrVis).minus(rwXbstar.inverse());
  const rwRace = preRace.inter(x.fr).minus(rwXbstar);
  if (!wwRace.union(wrRace, rwRace).isEmpty()) flags.push('data-race');

  // mixed-accesses: a plain write and a marked access of the same thread to the same location with no barrier between.
  const barrier = fenceRelOfSets(x).union(x.po.seq(Release), Acquire.seq(x.po));
  const plainW = plainSet.inter(x.W).id();
  const poLocNoBarrier = x.poLoc.minus(barrier);
  const mixed = Rel.seqs(plainW, poLocNoBarrier, Marked.inter(M)).union(Rel.seqs(Marked.inter(M), poLocNoBarrier, plainW));
  if (!mixed.isEmpty()) flags.push('mixed-accesses');

  // lock.cat: an unlock with no lock of its own before it; a lock word accessed otherwise than by spin_*().
  const lockEvents = x.tagged('lkr', 'lkw', 'ul', 'lf', 'ru', 'srcu-lock', 'srcu-unlock', 'sync-srcu');
  const critical = Rel.seqs(LKW, x.poLoc, UL.id()).minus(Rel.seqs(x.poLoc, x.tagged('lkw', 'ul').id(), x.poLoc));
  if (!UL.minus(critical.range()).isEmpty()) flags.push('unmatched-unlock');
  const ordinary = x.M.minus(x.IW).minus(lockEvents).id();
  if (!Rel.seqs(ordinary, x.loc, lockEvents.id()).isEmpty()) flags.push('mixed-lock-accesses');
  // linux-kernel.bell's SRCU checks.
  if (!SrcuLock.minus(srcuRscs.domain()).isEmpty()) flags.push('unmatched-srcu-lock');
  if (!SrcuUnlock.minus(srcuRscs.range()).isEmpty()) flags.push('unmatched-srcu-unlock');
  if (!srcuRscs.inverse().seq(srcuRscs).minus(id).isEmpty()) flags.push('multiple-srcu-matches');
  if (!rcuRscsOf(x).inter(Rel.seqs(x.po, x.tagged('sync-srcu').id(), x.po)).isEmpty()) flags.push('invalid-sleep');
  flags.sort();
  return { consistent: true, flags };
}

/** barrier's fencerel part: events separated by a barrier of any kind, an acquire or a release. */
function fenceRelOfSets(x: Relations): Rel {
  return Rel.seqs(x.po, x.tagged('barrier', 'rmb', 'wmb', 'mb', 'sync-rcu', 'sync-srcu', 'before-atomic', 'after-atomic', 'acquire', 'release', 'lkr', 'ul', 'rcu-lock', 'rcu-unlock', 'srcu-lock', 'srcu-unlock').id(), x.po);
}

/**
 * rcu-fence (linux-kernel.cat: rcu-link, rcu-order, rcu-fence): a sequence with at
 * least as many grace periods as read-side critical sections, joined by rcu-link,
 * orders like a strong fence: rcu-fence = po ; rcu-order ; po?. rcu-rscs pairs
 * each rcu_read_lock() with its rcu_read_unlock() (linux-kernel.bell), nested, in
 * program order.
 */
function rcuFenceOf(x: Relations, hb: Rel, pb: Rel, prop: Rel, srcuRscs: Rel): Rel {
  const gpId = x.tagged('sync-rcu').id();
  const srcuGp = x.tagged('sync-srcu').id();
  if (gpId.isEmpty() && srcuGp.isEmpty()) return new Rel(x.n); // without a grace period, rcu-order is empty
  const rscsi = rcuRscsOf(x).inverse();
  const srcuRscsi = srcuRscs.inverse();
  const link = Rel.seqs(x.po.opt(), hb.star(), pb.star(), prop, x.po);
  // rcu-order, the least fixed point of its recursive definition; the SRCU terms on one srcu_struct (& loc).
  const gps = gpId.union(srcuGp);
  let order = gps;
  for (;;) {
    const next = gps.union(
      Rel.seqs(gpId, link, rscsi),
      Rel.seqs(srcuGp, link, srcuRscsi).inter(x.loc),
      Rel.seqs(rscsi, link, gpId),
      Rel.seqs(srcuRscsi, link, srcuGp).inter(x.loc),
      Rel.seqs(gpId, link, order, link, rscsi),
      Rel.seqs(srcuGp, link, order, link, srcuRscsi).inter(x.loc),
      Rel.seqs(rscsi, link, order, link, gpId),
      Rel.seqs(srcuRscsi, link, order, link, srcuGp).inter(x.loc),
      Rel.seqs(order, link, order),
    );
    if (next.m.every((v, i) => v === order.m[i])) break;
    order = next;
  }
  return Rel.seqs(x.po, order, x.po.opt());
}

/** rcu-rscs (linux-kernel.bell): each rcu_read_lock() with its rcu_read_unlock(), nested, in program order. */
function rcuRscsOf(x: Relations): Rel {
  const rscs = new Rel(x.n);
  const open: number[][] = [];
  for (const e of x.g.events) {
    if (e.kind !== 'F' || e.thread < 0) continue;
    (open[e.thread] ??= []);
    if (e.tags.has('rcu-lock')) open[e.thread]!.push(e.id);
    if (e.tags.has('rcu-unlock')) rscs.add(open[e.thread]!.pop()!, e.id);
  }
  return rscs;
}
