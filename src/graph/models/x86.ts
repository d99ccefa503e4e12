// x86-TSO as a consistency predicate, after herd's x86tso.cat: coherence per
// location (po-loc | com acyclic), atomicity of locked read-modify-writes, and a
// global happens-before made of program order without its write-to-read pairs,
// MFENCE (smp_mb()), locked instructions (every atomic read-modify-write, failed
// cmpxchg included: full barriers both ways), external reads-from, coherence and
// from-reads.

import type { Relations } from '../graph.js';
import { Rel } from '../relation.js';

export function x86Consistent(x: Relations): boolean {
  // uniproc: SC per location.
  if (!x.poLoc.union(x.rf, x.co, x.fr).isAcyclic()) return false;
  // atomic: nothing between the read and the write of a locked instruction.
  if (!x.rmw.inter(x.fr.seq(x.co)).isEmpty()) return false;
  const ppo = x.po.minus(Rel.cross(x.W, x.R));
  const locked = x.tagged('locked').id();
  const implied = x.po.seq(locked).union(locked.seq(x.po));
  const mfence = x.fencerel('mfence');
  const ghb = ppo.union(implied, mfence, x.rfe, x.co, x.fr);
  return ghb.isAcyclic();
}
