// A litmus thread run without memory: each shared access becomes an event in
// program order, and the value a read returns stays symbolic, a Term that
// names the read. Registers hold terms, so every value knows the reads it
// depends on: that is where the address, data and control dependencies of the
// events come from. Where the path depends on a value not known yet (an `if` on
// a register that holds a read, whether a cmpxchg() succeeds, which location a
// pointer held in a register names), the run takes a guess and records it as a
// constraint that the values of a complete graph must meet. Runs are replayed
// from a list of guesses, so all of a thread's runs are enumerated depth-first
// and each is reproduced exactly from its list.

import { addrOf, isAddr, locOfAddr, type Expr, type Stmt, type Thread } from '../scenario/ast.js';
import { SmpError, type Span } from '../scenario/errors.js';
import { binop, rmwFn } from '../litmus/program.js';
import type { EventKind, Tag } from './graph.js';
import type { Mapping } from './mapping.js';

/** A value computed from the values of reads of the same thread (by their index in the thread). */
export interface Term {
  /** The reads the value depends on, sorted. */
  readonly reads: readonly number[];
  /** The value, when it depends on no read and can be computed. */
  readonly c: number | null;
  eval(val: (read: number) => number): number;
}

export function konst(v: number): Term {
  return { reads: [], c: v, eval: () => v };
}

function readTerm(i: number): Term {
  return { reads: [i], c: null, eval: (val) => val(i) };
}

function mergeReads(ts: readonly Term[]): number[] {
  return [...new Set(ts.flatMap((t) => t.reads))].sort((a, b) => a - b);
}

/** f over terms; computed now when every argument is known (an error, such as a division by zero, stays for eval()). */
export function lift(f: (...xs: number[]) => number, ...ts: Term[]): Term {
  const reads = mergeReads(ts);
  if (ts.every((t) => t.c !== null)) {
    try {
      const v = f(...ts.map((t) => t.c!));
      return { reads, c: v, eval: () => v };
    } catch (e) {
      if (!(e instanceof SmpError)) throw e;
      return { reads, c: null, eval: () => { throw e; } };
    }
  }
  return { reads, c: null, eval: (val) => f(...ts.map((t) => t.eval(val))) };
}

export interface ThreadEvent {
  kind: EventKind;
  loc: number;
  tags: Tag[];
  /** For the read of an atomic that writes: the index of its write in the thread. */
  rmwWrite: number;
  /** For a write: the value written. */
  value: Term | null;
  addr: number[];
  data: number[];
  ctrl: number[];
}

export interface Constraint {
  term: Term;
  holds: (v: number) => boolean;
}

export interface ThreadRun {
  events: ThreadEvent[];
  constraints: Constraint[];
  /** The registers at the end. */
  regs: Term[];
  /** A user error the run reached (a dereference of an integer): reported if a consistent graph contains the run. */
  error: SmpError | null;
}

/** How control dependencies reach later events: arm64 and herd's assembly (every event after the branch), or the C front end (the branches' own events). */
export type CtrlScope = 'after-branch' | 'in-branch';

class Chooser {
  private pos = 0;
  readonly arity: number[] = [];
  constructor(private readonly prefix: readonly number[]) {}
  choose(n: number): number {
    const c = this.pos < this.prefix.length ? this.prefix[this.pos]! : 0;
    this.arity.push(n);
    this.pos++;
    return c;
  }
  taken(): number[] {
    return this.arity.map((_, i) => (i < this.prefix.length ? this.prefix[i]! : 0));
  }
}

class Stop extends Error {}

/** Every run of a thread, in depth-first order of its guesses. */
export function threadRuns(t: Thread, nLocs: number, map: Mapping, scope: CtrlScope, file: string, runsMax: number): ThreadRun[] {
  const runs: ThreadRun[] = [];
  let prefix: number[] = [];
  for (;;) {
    const ch = new Chooser(prefix);
    runs.push(runOnce(t, nLocs, map, scope, file, ch));
    if (runs.length > runsMax) throw new SmpError('SMP111', `thread ${t.name} has more than ${runsMax} paths`, t.span, file);
    const taken = ch.taken();
    let i = taken.length - 1;
    while (i >= 0 && taken[i]! + 1 >= ch.arity[i]!) i--;
    if (i < 0) return runs;
    prefix = [...taken.slice(0, i), taken[i]! + 1];
  }
}

function runOnce(t: Thread, nLocs: number, map: Mapping, scope: CtrlScope, file: string, ch: Chooser): ThreadRun {
  const events: ThreadEvent[] = [];
  const constraints: Constraint[] = [];
  const regs: Term[] = t.regs.map((r) => konst(r.init));
  let error: SmpError | null = null;
  // The lock words this path holds (spin_lock() and a spin_trylock() that took it, until spin_unlock()).
  const holding = new Set<number>();
  // Control dependencies of the next event: the reads every enclosing or earlier branch tested.
  let ctrl: number[] = [];

  const emit = (kind: EventKind, loc: number, tags: Tag[], value: Term | null, addr: Term | null, data: readonly number[] = []): number => {
    events.push({ kind, loc, tags, rmwWrite: -1, value, addr: addr ? [...addr.reads] : [], data: [...data], ctrl: [...ctrl] });
    return events.length - 1;
  };
  const fences = (tags: Tag[]): void => {
    for (const tag of tags) emit('F', -1, [tag], null, null);
  };
  /** A truth value: known, or guessed and recorded. */
  const truth = (c: Term): boolean => {
    if (c.c !== null) return c.c !== 0;
    const yes = ch.choose(2) === 0;
    constraints.push({ term: c, holds: (v) => (v !== 0) === yes });
    return yes;
  };
  /** The location a pointer names: known, or guessed among every location (or none: a user error). */
  const deref = (a: Term, span: Span): number => {
    if (a.c !== null) {
      if (!isAddr(a.c)) {
        error = new SmpError('SMP303', `dereference of the integer ${a.c}, which is not the address of a shared location`, span, file);
        throw new Stop();
      }
      return locOfAddr(a.c);
    }
    const k = ch.choose(nLocs + 1);
    if (k === nLocs) {
      constraints.push({ term: a, holds: (v) => !isAddr(v) });
      error = new SmpError('SMP303', 'dereference of a value that is not the address of a shared location', span, file);
      throw new Stop();
    }
    constraints.push({ term: a, holds: (v) => v === addrOf(k) });
    return k;
  };
  const hasAccess = (e: Expr): boolean => {
    switch (e.k) {
      case 'load': case 'rmw': case 'await': case 'exec': case 'syscall': case 'spin': return true;
      case 'bin': return hasAccess(e.a) || hasAccess(e.b);
      case 'un': return hasAccess(e.a);
      case 'cond': return hasAccess(e.c) || hasAccess(e.a) || hasAccess(e.b);
      default: return false;
    }
  };

  const expr = (e: Expr): Term => {
    switch (e.k) {
      case 'num': return konst(e.v);
      case 'reg': return regs[e.reg]!;
      case 'addr': return konst(addrOf(e.loc));
      case 'un': {
        const a = expr(e.a);
        return lift((x) => (e.op === '!' ? (x === 0 ? 1 : 0) : e.op === '-' ? binop('-', 0, x, e.span, file) : binop('^', x, -1, e.span, file)), a);
      }
      case 'cond': {
        const c = expr(e.c);
        if (hasAccess(e.a) || hasAccess(e.b)) return truth(c) ? expr(e.a) : expr(e.b);
        const a = expr(e.a);
        const b = expr(e.b);
        return lift((x, y, z) => (x !== 0 ? y : z), c, a, b);
      }
      case 'bin': {
        const a = expr(e.a);
        if (e.op === '&&' || e.op === '||') {
          if (hasAccess(e.b)) {
            // The right operand accesses memory only when the left does not decide.
            const t = truth(a);
            if (e.op === '&&' ? !t : t) return konst(e.op === '&&' ? 0 : 1);
            return lift((y) => (y !== 0 ? 1 : 0), expr(e.b));
          }
          const b = expr(e.b);
          return lift((x, y) => (e.op === '&&' ? (x !== 0 && y !== 0 ? 1 : 0) : x !== 0 || y !== 0 ? 1 : 0), a, b);
        }
        const b = expr(e.b);
        return lift((x, y) => binop(e.op, x, y, e.span, file), a, b);
      }
      case 'load': {
        const a = expr(e.addr);
        const loc = deref(a, e.span);
        return readTerm(emit('R', loc, map.load(e.order), null, a));
      }
      case 'exec': {
        // The instruction fetch of the code at a code location (arm64 only, support.ts): a read
        // tagged 'ifetch'; its value is the version of the code the thread runs.
        const a = expr(e.addr);
        return readTerm(emit('R', deref(a, e.span), ['ifetch'], null, a));
      }
      case 'rmw': {
        const a = expr(e.addr);
        const args = e.args.map(expr);
        const loc = deref(a, e.span);
        const conditional = e.op === 'cmpxchg' || e.op === 'add_unless';
        const f = (old: number, ...xs: number[]): number | undefined => rmwFn(e.op, xs, e.span, file)(old);
        // Whether it writes: a guess for cmpxchg() and atomic_add_unless(), constrained by the value read.
        const writes = conditional ? ch.choose(2) === 0 : true;
        const ev = writes ? map.rmw(e.order, e.ret !== 'none') : map.failedRmw(e.order);
        const r = events.length + ev.before.length;
        if (conditional) {
          const willWrite = lift((old, ...xs) => (f(old, ...xs) === undefined ? 0 : 1), readTerm(r), ...args);
          constraints.push({ term: willWrite, holds: (v) => (v !== 0) === writes });
        }
        fences(ev.before);
        const ri = emit('R', loc, ev.read, null, a);
        if (ri !== r) throw new Error('internal: read-modify-write read misplaced');
        const old = readTerm(ri);
        const next = lift((o, ...xs) => f(o, ...xs) ?? o, old, ...args);
        if (writes) {
          // The written value depends on the atomic's own read (inside the instruction) and on its arguments (data).
          const own = map.opReadIsData && e.op !== 'xchg' && e.op !== 'cmpxchg' ? [ri] : [];
          const wi = emit('W', loc, ev.write, next, a, [...new Set([...own, ...mergeReads(args)])].sort((x, y) => x - y));
          events[ri]!.rmwWrite = wi;
        }
        fences(ev.after);
        if (e.ret === 'new') return next;
        if (e.ret === 'changed') return konst(writes ? 1 : 0);
        return old;
      }
      case 'spin': {
        // lock.cat (v6.18) on a lock word, 0 unlocked and 1 locked: spin_lock() is a read
        // (LKR, an acquire) that must see it unlocked and a write (LKW) that locks it, paired as
        // an rmw; spin_unlock() is a release write of 0 (UL); a spin_trylock() that fails and a
        // spin_is_locked() that returns true read a locking write (LF, RL: no ordering); one
        // that returns false reads an unlock or the initial value (RU). lock.cat builds rf and
        // co for them from the same rules: reads of a lock word by value, coherence, atomicity.
        const a = expr(e.addr);
        const loc = deref(a, e.span);
        const lockWord = (held: boolean): Constraint['holds'] => (v) => (v !== 0) === held;
        const take = (): void => {
          holding.add(loc);
          const r = emit('R', loc, ['lkr'], null, a);
          constraints.push({ term: readTerm(r), holds: lockWord(false) });
          events[r]!.rmwWrite = emit('W', loc, ['lkw'], konst(1), a);
        };
        switch (e.op) {
          case 'lock': take(); return konst(0);
          case 'unlock':
            // lock.cat leaves an unlock without its lock out of the coherence order (its
            // unmatched-unlock flag): a lock word by value cannot say that, so it is refused.
            if (!holding.has(loc)) {
              throw new SmpError('SMP103', `${e.fn}() of a lock this path of ${t.name} does not hold (lock.cat's unmatched unlock) is not supported`, e.span, file);
            }
            holding.delete(loc);
            emit('W', loc, ['ul'], konst(0), a);
            return konst(0);
          case 'trylock': {
            if (ch.choose(2) === 0) { take(); return konst(1); }
            const r = emit('R', loc, ['lf'], null, a);
            constraints.push({ term: readTerm(r), holds: lockWord(true) });
            return konst(0);
          }
          case 'synchronize_srcu': emit('F', loc, ['sync-srcu'], null, a); return konst(0);
          case 'is_locked': {
            const held = ch.choose(2) === 0;
            const r = emit('R', loc, [held ? 'lf' : 'ru'], null, a);
            constraints.push({ term: readTerm(r), holds: lockWord(held) });
            return konst(held ? 1 : 0);
          }
        }
        throw new Error('internal: unknown spinlock operation');
      }
      default:
        throw new Error(`internal: ${e.k} reached the graph engine`);
    }
  };

  const block = (stmts: readonly Stmt[]): void => {
    for (const s of stmts) {
      switch (s.k) {
        case 'assign':
          regs[s.reg] = expr(s.e);
          break;
        case 'store': {
          const a = expr(s.addr);
          const v = expr(s.e);
          emit('W', deref(a, s.span), map.store(s.order), v, a, v.reads);
          break;
        }
        case 'fence':
          fences(map.fence(s.fence));
          break;
        case 'eval':
          expr(s.e);
          break;
        case 'insn':
          // arm64 only (support.ts): DC CVAU and IC IVAU are events on the line of their
          // location; DSB ISH is a full DMB that also waits for cache maintenance; ISB.
          if (s.op === 'dc_cvau' || s.op === 'ic_ivau') {
            const a = expr(s.addr!);
            emit('F', deref(a, s.span), [s.op === 'dc_cvau' ? 'dc.cvau' : 'ic.ivau'], null, a);
          } else emit('F', -1, s.op === 'isb' ? ['isb'] : ['dmb.full', 'dsb.full'], null, null);
          break;
        case 'if': {
          const c = expr(s.c);
          const saved = ctrl;
          ctrl = [...new Set([...ctrl, ...c.reads])].sort((a, b) => a - b);
          block(truth(c) ? s.then : s.else);
          if (scope === 'in-branch') ctrl = saved;
          break;
        }
        default:
          throw new Error(`internal: ${s.k} reached the graph engine`);
      }
    }
  };

  try {
    block(t.body);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return { events, constraints, regs, error };
}
