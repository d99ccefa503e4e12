// Instruction fetch on arm64: the part of the AArch64 model that herd's
// `-variant ifetch` switches on (aarch64.cat and aarch64hwreqs.cat of
// herdtools7 7.57: f-ib, DSB-ob, CSE-ob, the DC and IC rules of
// local-hw-reqs, Instr-read-ordered-before, IC-ob, Instr-obs with IC-ca, and
// the enumerations DC-after and IC-after of enumerations.cat), for a CPU
// without CTR_EL0.IDC and DIC: the instruction cache is not coherent with data,
// and the data cache must be cleaned to the point of unification before an
// invalidated instruction cache refetches.
//
// The events: an instruction fetch is a read tagged 'ifetch' of a code location
// (exec_code(): the fetch of the instruction the CPU runs; its value is the
// version run); 'dc.cvau' and 'ic.ivau' are events on the line of a location
// (one location per cache line); 'dsb.full' is DSB ISH (also tagged dmb.full);
// the context synchronisation events (CSE) are 'isb' (ISB, and ERET in the
// kernel model) and 'irq-entry' (an exception entry: the interrupt taken).
//
// What orders a fetch:
//   - a fetch reads a write that is ordered before it (rf; [IF]) and happens
//     before every later instruction's effects ([IF]; po; [~IF]); fetches are
//     not ordered among themselves, and nothing makes a fetch read the latest
//     write: it may read any older one (no coherence edge leaves a fetch);
//   - a DSB ISH orders what is before it (accesses, DC, IC) before every later
//     event but a fetch (DSB-ob); a CSE orders before every later event,
//     fetches included, what DSB-ob or a control dependency orders before it
//     (CSE-ob); an exception entry is ordered after the interrupt that caused
//     it, so everything after it, fetches included, comes after the IPI's send;
//   - DC CVAU is ordered with accesses to its line in program order and with
//     DMB-separated accesses; IC IVAU followed by a DSB is placed, for each
//     fetch of its line, before or after it (IC-after); DC CVAU likewise for
//     each write of its line (DC-after, the initial write before);
//   - IC-ca: a fetch after an IC that reads a write older than a write W that
//     is before a DC: then the IC is ordered before that DC, which a
//     DC; DSB; IC sequence forbids. So a fetch ordered after the IC of a
//     DC CVAU; DSB ISH; IC IVAU; DSB ISH sequence that cleaned W reads W or a
//     later write.
// The graph is consistent when some choice of the IC-after and DC-after
// orientations makes ob acyclic. Leaves out: IDC and DIC (coherent caches),
// IC IALLU, DSB LD/ST (the scenario language has DSB ISH only), the CMODX
// flag (concurrent modification of instructions other than B, NOP, ...).

import { SmpError } from '../../scenario/errors.js';
import type { Relations } from '../graph.js';
import { EventSet, Rel } from '../relation.js';
import type { Explicit } from './arm64.js';

/** At most this many IC-after and DC-after pairs left open by the other orders (2^n choices are tried). */
export const IFETCH_OPEN_PAIRS_MAX = 16;

/** Does the graph have events of instruction fetch or cache maintenance? */
export function hasFetchEvents(x: Relations): boolean {
  return !x.tagged('ifetch', 'dc.cvau', 'ic.ivau').isEmpty();
}

/**
 * The external visibility requirement with instruction fetch: `ob0` is the ob of
 * explicit accesses (models/arm64.ts, not closed), `ctrl` and `addr` the dependencies.
 */
export function ifetchConsistent(x: Relations, e: Explicit, ob0: Rel, ctrl: Rel, addr: Rel): boolean {
  const n = x.n;
  const IF = x.tagged('ifetch');
  const DC = x.tagged('dc.cvau');
  const IC = x.tagged('ic.ivau');
  const notIF = EventSet.of(n, (i) => IF.has[i] !== 1);
  const dsb = x.tagged('dsb.full').id();
  const CSE = x.tagged('isb', 'irq-entry').id();
  const po = x.po;
  const scl = x.loc; // one location per cache line
  const Mid = e.M.id();
  const DCid = DC.id();
  // DSB-ordered-before: accesses and cache maintenance before a DSB ISH, every later non-fetch event.
  const dsbOb = Rel.seqs(e.M.union(DC).union(IC).id(), po, dsb, po, notIF.id());
  // CSE-ordered-before: a control dependency or DSB-ob into a CSE orders every later event.
  const cseOb = Rel.seqs(e.R.id(), ctrl, CSE, po).union(Rel.seqs(dsbOb, CSE, po));
  // The exception entry comes after the interrupt it takes (the read of the IPI's send).
  const entry = Rel.seqs(x.tagged('irq-entry').id(), po);
  // A fetch precedes the effects of its own and every later instruction (f-ib and local-hw-reqs).
  const fetchPo = Rel.seqs(IF.id(), po, notIF.id());
  // DC CVAU with accesses: DMB-separated, or to the same line in program order.
  const dmb = x.fencerel('dmb.full');
  const poScl = po.inter(scl);
  const dcLocal = Rel.seqs(Mid, dmb, DCid).union(
    Rel.seqs(DCid, dmb, Mid), Rel.seqs(DCid, dmb, DCid),
    Rel.seqs(Mid, poScl, DCid), Rel.seqs(DCid, poScl, Mid), Rel.seqs(DCid, poScl, DCid),
  );
  // An address dependency into cache maintenance.
  const addrCmo = Rel.seqs(e.R.id(), addr, DC.union(IC).id());
  // Instr-obs: the write a fetch reads is before it.
  const rfIF = x.rf.seq(IF.id());
  const base = ob0.union(dsbOb, cseOb, entry, fetchPo, dcLocal, addrCmo, rfIF);
  const closed = base.plus();
  if (!closed.isIrreflexive()) return false;

  // The pairs IC-after and DC-after orient: an IC IVAU that a DSB follows with each fetch of
  // its line; a DC CVAU with each write of its line (an initial write always before it).
  const completedIC = Rel.seqs(IC.id(), po, dsb).domain();
  const icPairs = pairs(Rel.cross(completedIC, IF).inter(scl));
  const dcPairs = pairs(Rel.cross(DC, x.W).inter(scl));
  const fixed: [number, number][] = [];
  const open: [number, number][] = [];
  for (const [a, b] of [...icPairs, ...dcPairs]) {
    if (x.IW.has[b]) fixed.push([b, a]);
    else if (closed.has(a, b)) fixed.push([a, b]);
    else if (closed.has(b, a)) fixed.push([b, a]);
    else open.push([a, b]);
  }
  if (open.length > IFETCH_OPEN_PAIRS_MAX) {
    throw new SmpError('SMP111', `${open.length} pairs of cache maintenance and fetches or writes of one line left unordered (ifetch_open_pairs_max=${IFETCH_OPEN_PAIRS_MAX}): fewer DC CVAU, IC IVAU, write_code() or exec_code() on one location`);
  }
  const isIC = IC.has;
  const ca = x.fr.union(x.co);
  const afterDsb = Rel.seqs(IC.id(), po, dsb, po, notIF.id()); // an IC to what follows its DSB
  for (let choice = 0; choice < 2 ** open.length; choice++) {
    const icAfter = new Rel(n);
    const dcAfter = new Rel(n);
    const place = ([a, b]: [number, number]): void => {
      const ic = isIC[a] === 1 || isIC[b] === 1;
      (ic ? icAfter : dcAfter).add(a, b);
    };
    fixed.forEach(place);
    open.forEach(([a, b], k) => place((choice >> k) & 1 ? [b, a] : [a, b]));
    // Instr-read-ordered-before: a fetch before an IC, before what follows the IC's DSB.
    const irob = icAfter.seq(afterDsb);
    // IC-ob: a fetch before a later fetch of the same thread that is so ordered.
    const icOb = Rel.seqs(IF.id(), po, IF.id(), irob);
    // IC-coherence-after: a fetch after the IC reads a write older than one a DC cleans after it.
    const icCa = Rel.seqs(icAfter.restrict(IC, IF), ca, x.W.id(), dcAfter.restrict(x.W, DC));
    const ob = closed.union(icAfter, dcAfter, irob, icOb, icCa);
    if (ob.isAcyclic()) return true;
  }
  return false;
}

function pairs(r: Rel): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < r.n; a++) for (let b = 0; b < r.n; b++) if (r.has(a, b)) out.push([a, b]);
  return out;
}
