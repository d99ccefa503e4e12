// The Linux-kernel memory model (tools/memory-model, v6.18) as a consistency
// predicate: linux-kernel.cat's coherence, atomic, happens-before and
// propagation axioms, for programs of marked accesses (READ_ONCE/WRITE_ONCE,
// acquire/release, atomics) and the barriers smp_mb(), smp_rmb(), smp_wmb(),
// smp_mb__before_atomic(), smp_mb__after_atomic() and barrier(). Not here yet,
// and refused before a program gets here: locks (lock.cat), RCU and SRCU (the
// rcu axiom), plain accesses (the data-race flag): every access is marked, so
// [Marked] is every memory event and the plain-access terms (to-w's
// addr;[Plain];wmb) are empty.
//
// Events carry linux-kernel.bell's annotations as tags: 'once', 'acquire',
// 'release', 'noreturn' on accesses; fences 'mb', 'rmb', 'wmb',
// 'before-atomic', 'after-atomic', 'barrier'. A fully ordered atomic carries an
// 'mb' fence on each side, as herd's C front end gives it.

import type { Relations } from '../graph.js';
import { Rel } from '../relation.js';

export function lkmmConsistent(x: Relations): boolean {
  const M = x.M.id();
  const W = x.W.id();
  const com = x.rf.union(x.co, x.fr);
  // coherence: SC per variable.
  if (!x.poLoc.union(com).isAcyclic()) return false;
  // atomic: nothing between the read and the write of a read-modify-write.
  if (!x.rmw.inter(x.fre.seq(x.coe)).isEmpty()) return false;

  // Release, acquire.
  const Acquire = x.tagged('acquire').id();
  const Release = x.tagged('release').id();
  const acqPo = Rel.seqs(Acquire, x.po, M);
  const poRel = Rel.seqs(M, x.po, Release);
  // Fences. R4rmb: reads for which smp_rmb() works (not those of non-returning atomics).
  const R4rmb = x.R.minus(x.tagged('noreturn')).id();
  const rmb = Rel.seqs(R4rmb, x.fencerel('rmb'), R4rmb);
  const wmb = Rel.seqs(W, x.fencerel('wmb'), W);
  // RMW: the events of read-modify-write instructions.
  const RMW = x.rmw.domain().union(x.rmw.range()).id();
  const mb = Rel.seqs(M, x.fencerel('mb'), M).union(
    Rel.seqs(M, x.fencerel('before-atomic'), RMW, x.po.opt(), M),
    Rel.seqs(M, x.po.opt(), RMW, x.fencerel('after-atomic'), M),
  );
  // gp: a grace period, synchronize_rcu(), is a strong fence.
  const gp = Rel.seqs(x.po, x.tagged('sync-rcu').id(), x.po.opt());
  const strongFence = mb.union(gp);
  const nonrwFence = strongFence.union(poRel, acqPo);
  const fence = nonrwFence.union(wmb, rmb);

  // Dependencies, carried through a store and a later load of the same thread that
  // reads from it (linux-kernel.bell: carry-dep = (data ; rfi)*).
  const carryDep = x.data.seq(x.rfi).star();
  const addr = carryDep.seq(x.addr);
  const data = carryDep.seq(x.data);
  const ctrl = carryDep.seq(x.ctrl);
  // Preserved program order.
  const dep = addr.union(data);
  const rwdep = dep.union(ctrl).seq(W);
  const overwrite = x.co.union(x.fr);
  const toW = rwdep.union(overwrite.inter(x.int));
  const toR = addr.union(dep.seq(x.rfi));
  const ppo = toR.union(toW, fence);

  // Propagation: cumulativity of strong fences and releases, and of smp_wmb().
  const aCumul = (r: Rel): Rel => x.rfe.opt().seq(r);
  const cumulFence = Rel.seqs(M, aCumul(strongFence.union(poRel)).union(wmb), M);
  const prop = Rel.seqs(M, overwrite.inter(x.ext).opt(), cumulFence.star(), M, x.rfe.opt(), M);

  // happens-before.
  const id = Rel.of(x.n, (a, b) => a === b);
  const hb = Rel.seqs(M, ppo.union(x.rfe, prop.minus(id).inter(x.int)), M);
  if (!hb.isAcyclic()) return false;
  // propagation: each non-rf link needs a strong fence.
  const pb = Rel.seqs(prop, strongFence, hb.star(), M);
  if (!pb.isAcyclic()) return false;
  return rcuConsistent(x, hb, pb, prop);
}

/**
 * The rcu axiom (linux-kernel.cat: rcu-link, rcu-order, rcu-fence, rb): a sequence
 * with at least as many grace periods as read-side critical sections, joined by
 * rcu-link, orders like a strong fence, and rb (prop ; rcu-fence ; hb* ; pb*) is
 * irreflexive. rcu-rscs pairs each rcu_read_lock() with its rcu_read_unlock()
 * (linux-kernel.bell), nested, in program order; SRCU is not modelled.
 */
function rcuConsistent(x: Relations, hb: Rel, pb: Rel, prop: Rel): boolean {
  const gpId = x.tagged('sync-rcu').id();
  if (gpId.isEmpty()) return true; // without a grace period, rcu-order is empty
  const rscs = new Rel(x.n);
  const open: number[][] = [];
  for (const e of x.g.events) {
    if (e.kind !== 'F' || e.thread < 0) continue;
    (open[e.thread] ??= []);
    if (e.tags.has('rcu-lock')) open[e.thread]!.push(e.id);
    if (e.tags.has('rcu-unlock')) rscs.add(open[e.thread]!.pop()!, e.id);
  }
  const rscsi = rscs.inverse();
  const link = Rel.seqs(x.po.opt(), hb.star(), pb.star(), prop, x.po);
  // rcu-order, the least fixed point of its recursive definition.
  let order = gpId;
  for (;;) {
    const next = gpId.union(
      Rel.seqs(gpId, link, rscsi),
      Rel.seqs(rscsi, link, gpId),
      Rel.seqs(gpId, link, order, link, rscsi),
      Rel.seqs(rscsi, link, order, link, gpId),
      Rel.seqs(order, link, order),
    );
    if (next.m.every((v, i) => v === order.m[i])) break;
    order = next;
  }
  const rcuFence = Rel.seqs(x.po, order, x.po.opt());
  const rb = Rel.seqs(prop, rcuFence, hb.star(), pb.star(), x.M.id());
  return rb.isIrreflexive();
}
