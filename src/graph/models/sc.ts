// Sequential consistency as a consistency predicate (herd's sc.cat, in spirit):
// program order, reads-from, coherence and from-reads together are acyclic, and
// no write comes between the two halves of a read-modify-write.

import type { Relations } from '../graph.js';

export function scConsistent(x: Relations): boolean {
  if (!x.rmw.inter(x.fr.seq(x.co)).isEmpty()) return false; // atomicity
  return x.po.union(x.rf, x.co, x.fr).isAcyclic();
}
