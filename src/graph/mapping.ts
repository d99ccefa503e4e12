// How each primitive of the scenario language becomes events on each model of
// the graph engine: the tags its read, write and fence events carry.
//
// arm64 follows the kernel's own headers (v6.18), with LSE atomics
// (CONFIG_ARM64_LSE_ATOMICS, the instructions chosen at boot on every CPU
// that has them):
//   arch/arm64/include/asm/barrier.h: smp_mb() = DMB ISH, smp_rmb() = DMB ISHLD,
//     smp_wmb() = DMB ISHST; smp_load_acquire() = LDAR; smp_store_release() = STLR;
//     READ_ONCE()/WRITE_ONCE() are plain LDR/STR; smp_mb__before_atomic() and
//     smp_mb__after_atomic() are not defined there, so include/asm-generic/barrier.h
//     makes them smp_mb(); barrier() is a compiler barrier only.
//   arch/arm64/include/asm/atomic_lse.h: atomic_add() etc. are ST<op> (STADD: the
//     load returns nothing, NoRet); value-returning atomics are LD<op> with the
//     ordering suffix of their variant: none (relaxed), A (acquire), L
//     (release), AL (fully ordered).
//   arch/arm64/include/asm/cmpxchg.h: xchg() is SWP{,A,L,AL} and cmpxchg() is
//     CAS{,A,L,AL} with the same suffixes; a CAS that fails only reads (with A
//     semantics when it has A).
// LKMM follows tools/memory-model/linux-kernel.def: the annotation of each
// access ('once', 'acquire', 'release', 'noreturn' for atomics that return
// nothing), fences by name, and a fully ordered atomic between two 'mb'
// fences (herd's reading of the 'mb' annotation; v6.18's bell and cat give the
// same order through Mb tags on the read and write); a cmpxchg() that fails is
// its read alone, marked once whatever its suffix (the bell's FailedRMW).
// x86 follows arch/x86/include/asm/barrier.h: smp_mb() is MFENCE (or a locked
// instruction: the same ordering); every atomic read-modify-write, whatever its
// suffix and whether or not it writes, is a LOCK-prefixed instruction.

import type { Fence, Order } from '../scenario/ast.js';
import type { Tag } from './graph.js';

export type GraphModelName = 'sc' | 'x86' | 'arm64' | 'lkmm';
export const GRAPH_MODELS: readonly GraphModelName[] = ['sc', 'x86', 'arm64', 'lkmm'];

/** The events of one read-modify-write: fences around it, its read, its write. */
export interface RmwEvents {
  before: Tag[]; // a fence event per tag, before the read
  read: Tag[];
  write: Tag[];
  after: Tag[]; // a fence event per tag, after the write
}

export interface Mapping {
  load(order: Order): Tag[];
  store(order: Order): Tag[];
  /** The fence events (one per tag) a barrier primitive becomes; none for a compiler barrier. */
  fence(f: Fence): Tag[];
  /** An atomic that writes; `returns` is false for atomic_inc() and friends. */
  rmw(order: Order, returns: boolean): RmwEvents;
  /** A cmpxchg() (or a conditional add) that does not write. */
  failedRmw(order: Order): RmwEvents;
  /**
   * The write of an arithmetic atomic (add, sub, and, or, xor, atomic_add_unless()) has a data
   * dependency on its own read: herd's C front end computes the value written from the value
   * read (xchg() and cmpxchg() write a value given: no such dependency).
   */
  opReadIsData?: true;
}

const none: RmwEvents = { before: [], read: [], write: [], after: [] };

const sc: Mapping = {
  load: () => [],
  store: () => [],
  fence: () => [],
  rmw: () => none,
  failedRmw: () => none,
};

const x86: Mapping = {
  load: () => [],
  store: () => [],
  fence: (f) => (f === 'mb' ? ['mfence'] : []),
  rmw: () => ({ before: [], read: ['locked'], write: ['locked'], after: [] }),
  failedRmw: () => ({ before: [], read: ['locked'], write: [], after: [] }),
};

const arm64: Mapping = {
  load: (o) => (o === 'acquire' ? ['A'] : []),
  store: (o) => (o === 'release' ? ['L'] : []),
  fence: (f) => {
    const table = {
      mb: ['dmb.full'], rmb: ['dmb.ld'], wmb: ['dmb.st'], barrier: [],
      mb__before_atomic: ['dmb.full'], mb__after_atomic: ['dmb.full'],
      // Refused before they get here (support.ts): RCU is kernel code on arm64, not an instruction.
      rcu_read_lock: [], rcu_read_unlock: [], synchronize_rcu: [], mb__after_spinlock: [], mb__after_unlock_lock: [], mb__after_srcu_read_unlock: [],
    } as const satisfies Record<Fence, readonly Tag[]>;
    return [...table[f]];
  },
  rmw: (o, returns) => {
    if (!returns) return { before: [], read: ['NoRet'], write: [], after: [] };
    return { before: [], read: o === 'mb' || o === 'acquire' ? ['A'] : [], write: o === 'mb' || o === 'release' ? ['L'] : [], after: [] };
  },
  failedRmw: (o) => ({ before: [], read: o === 'mb' || o === 'acquire' ? ['A'] : [], write: [], after: [] }),
};

const lkmm: Mapping = {
  load: (o) => [o === 'acquire' ? 'acquire' : o === 'plain' ? 'plain' : o === 'srcu' ? 'srcu-lock' : 'once'],
  store: (o) => [o === 'release' ? 'release' : o === 'plain' ? 'plain' : o === 'srcu' ? 'srcu-unlock' : 'once'],
  fence: (f) => {
    const table = {
      mb: 'mb', rmb: 'rmb', wmb: 'wmb', barrier: 'barrier', mb__before_atomic: 'before-atomic', mb__after_atomic: 'after-atomic',
      rcu_read_lock: 'rcu-lock', rcu_read_unlock: 'rcu-unlock', synchronize_rcu: 'sync-rcu',
      mb__after_spinlock: 'after-spinlock', mb__after_unlock_lock: 'after-unlock-lock', mb__after_srcu_read_unlock: 'after-srcu-read-unlock',
    } as const satisfies Record<Fence, Tag>;
    return [table[f]];
  },
  rmw: (o, returns) => {
    // 'rmw': an event of a read-modify-write instruction (the bell's RMW set), whether or not it writes.
    if (!returns) return { before: [], read: ['noreturn', 'rmw'], write: ['once', 'rmw'], after: [] };
    if (o === 'mb') return { before: ['mb'], read: ['once', 'rmw'], write: ['once', 'rmw'], after: ['mb'] };
    return { before: [], read: [o === 'acquire' ? 'acquire' : 'once', 'rmw'], write: [o === 'release' ? 'release' : 'once', 'rmw'], after: [] };
  },
  // linux-kernel.bell: FailedRMW loses its Acquire, Release and Mb tags, and stays in RMW.
  failedRmw: () => ({ before: [], read: ['once', 'rmw'], write: [], after: [] }),
  opReadIsData: true,
};

export const MAPPINGS = { sc, x86, arm64, lkmm } as const satisfies Record<GraphModelName, Mapping>;
