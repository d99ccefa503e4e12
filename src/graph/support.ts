// What the graph engine runs: user-level litmus programs (shared accesses,
// barriers, atomics, registers and `if`) through thread.ts and explore.ts, and
// scenarios of the kernel model on sc, x86, arm64 and LKMM through kernel.ts
// (needsKernelModel()). Everything else is refused with SMP112, naming the
// construct, rather than answered by a model that leaves it out: user pages
// (TLBs and page walks), instruction fetch on the graph engine but on arm64,
// LKMM's own constructs (plain accesses, spinlocks, RCU) in the threads of a
// scenario on the kernel model; the arm64 instructions (dc_cvau(), ic_ivau(),
// dsb_ish(), isb()) on every machine but arm64, where they mean nothing.

import { ARM64_INSNS, LKMM_FENCES, RCU_FENCES, type Expr, type Scenario, type Stmt } from '../scenario/ast.js';
import { SmpError, type Span } from '../scenario/errors.js';
import type { GraphModelName } from './mapping.js';

const KERNEL_DIRECTIVES = new Set(['cpu', 'kthread', 'preempt', 'config', 'mmap']);

/** Throws SMP112 when the scenario uses something the graph engine does not model on this machine. */
export function checkGraphSupport(sc: Scenario, model: GraphModelName): void {
  const refuse = (what: string, span?: Span): never => {
    const why = model === 'arm64'
      ? `${what}: arm64 kernel paths are not modelled yet (the arm64 machine runs user-level litmus programs only)`
      : model === 'lkmm'
        ? `${what}: the graph engine runs it on LKMM with the kernel model`
        : `${what}: the graph engine runs user-level litmus programs only (the default engine runs this on ${model})`;
    throw new SmpError('SMP112', why, span ?? sc.threads[0]?.span, sc.file);
  };
  for (const d of sc.directives) if (KERNEL_DIRECTIVES.has(d.name)) refuse(`the '${d.name}' directive places the scenario on the kernel model`, d.span);
  if (sc.handlers.length > 0) refuse(`interrupt handlers (irq ${sc.handlers[0]!.name}) run on the kernel model's interrupt controller`, sc.handlers[0]!.span);
  for (const o of sc.observed) if (o.k === 'kernel') refuse(`'cpu${o.cpu}:${o.name}' asks the kernel model`, o.span);

  const expr = (e: Expr): void => {
    switch (e.k) {
      case 'syscall': refuse(`${e.name}() is a system call into the kernel model`, e.span); break;
      case 'exec':
        if (model !== 'arm64') refuse(`${e.fn}() runs code: instruction fetch is modelled on the graph engine for arm64 only (the default engine runs it on sc and x86)`, e.span);
        expr(e.addr);
        break;
      case 'await': refuse(`${e.fn}() waits: waiting loads are not modelled on the graph engine yet`, e.span); break;
      case 'rmw':
        if (model === 'arm64' && e.op === 'add_unless') {
          refuse(`${e.fn}() is a loop around cmpxchg() in the kernel (no single instruction on arm64, not in linux-kernel.def): not modelled on ${model} yet`, e.span);
        }
        expr(e.addr);
        e.args.forEach(expr);
        break;
      case 'load': expr(e.addr); break;
      case 'spin': expr(e.addr); break;
      case 'bin': expr(e.a); expr(e.b); break;
      case 'un': expr(e.a); break;
      case 'cond': expr(e.c); expr(e.a); expr(e.b); break;
      default: break;
    }
  };
  const block = (stmts: readonly Stmt[]): void => {
    for (const s of stmts) {
      switch (s.k) {
        case 'assign': expr(s.e); break;
        case 'store':
          if (s.fn === 'write_code' && model !== 'arm64') refuse('write_code() writes code: instruction fetch is modelled on the graph engine for arm64 only (the default engine runs it on sc and x86)', s.span);
          expr(s.addr);
          expr(s.e);
          break;
        case 'fence':
          if (RCU_FENCES.includes(s.fence)) {
            if (model !== 'lkmm') refuse(`${s.fn}() is RCU: it is modelled on --model lkmm only`, s.span);
            if (depth > 0) refuse(`${s.fn}() inside an if: RCU read-side critical sections are modelled at a thread's top level only`, s.span);
          }
          break;
        case 'eval': expr(s.e); break;
        case 'insn': if (model !== 'arm64') throw arm64Only(s, sc.file, model); break;
        case 'if':
          expr(s.c);
          depth++;
          block(s.then);
          block(s.else);
          depth--;
          break;
        case 'irq': refuse(`${s.fn}() masks interrupts of the kernel model's interrupt controller`, s.span); break;
        case 'raise_irq': refuse('raise_irq() sends an interrupt through the kernel model', s.span); break;
        case 'rseq': refuse('an rseq critical section needs the kernel model', s.span); break;
        case 'loop': throw new SmpError('SMP112', 'a loop (loop N { }) is run by the machine engine (sc, x86) and smpcheck sim only: not on the graph engine', s.span, sc.file);
        default: refuse(`this statement (${s.k}) runs the kernel model`, s.span);
      }
    }
  };
  let depth = 0;
  if (model !== 'lkmm') {
    const only = findLkmmOnly(sc);
    if (only) refuse(`${only.what}: it is modelled on --model lkmm only`, only.span);
  }
  for (const t of sc.threads) {
    block(t.body);
    // rcu_read_lock() and rcu_read_unlock() pair up, nested, in program order (linux-kernel.bell's rcu-rscs).
    let open = 0;
    for (const s of t.body) {
      if (s.k !== 'fence') continue;
      if (s.fence === 'rcu_read_lock') open++;
      if (s.fence === 'rcu_read_unlock' && --open < 0) refuse(`${s.fn}() without an rcu_read_lock() before it in P${t.id}`, s.span);
    }
    if (open > 0) refuse(`rcu_read_lock() without its rcu_read_unlock() in P${t.id}`, t.span);
  }
}

/**
 * Does the scenario need the kernel model (system calls, kernel threads, interrupts,
 * waiting loads)? Then the graph engine runs it with the kernel's code
 * (src/graph/kernel.ts) on sc, x86, arm64 and LKMM; what that does not model yet is refused
 * with SMP112: user pages (TLBs and page walks), instruction fetch off arm64, RCU and
 * LKMM's other constructs in the scenario's threads.
 */
export function needsKernelModel(sc: Scenario, model: GraphModelName): boolean {
  if (model !== 'lkmm') {
    // Spinlocks, plain accesses and filters have no meaning on the kernel model's machines either.
    const only = findLkmmOnly(sc);
    if (only) throw new SmpError('SMP112', `${only.what}: it is modelled on --model lkmm only`, only.span, sc.file);
  }
  try {
    checkGraphSupport(sc, model);
    return false;
  } catch (e) {
    if (!(e instanceof SmpError) || e.code !== 'SMP112') throw e;
    if (model === 'lkmm') {
      // The kernel model on LKMM runs marked accesses, barriers, atomics and the kernel's
      // spinlocks; the scenario threads' own LKMM constructs would need data races and
      // RCU of user code beside the kernel's, which it does not give.
      const only = findLkmmOnly(sc);
      if (only) throw new SmpError('SMP112', `${only.what}: not modelled in a scenario on the kernel model (it runs on --model lkmm in user-level litmus programs)`, only.span, sc.file);
    }
    const refuse = (what: string, span?: Span): never => {
      throw new SmpError('SMP112', `${what}: not modelled on the graph engine's kernel model yet`, span ?? sc.threads[0]?.span, sc.file);
    };
    const mmap = sc.directives.find((d) => d.name === 'mmap');
    if (mmap) refuse('user pages (the mmap directive) need TLBs and page walks', mmap.span);
    if (sc.codeLocs.length > 0 && model !== 'arm64') refuse('write_code()/exec_code() need instruction fetch (modelled on arm64)');
    const insn = findArm64Insn(sc);
    if (insn && model !== 'arm64') throw arm64Only(insn, sc.file, model);
    for (const t of sc.threads) {
      const walk = (stmts: readonly Stmt[]): void => {
        for (const s of stmts) {
          if (s.k === 'fence' && RCU_FENCES.includes(s.fence)) refuse(`${s.fn}() is RCU, modelled on --model lkmm only`, s.span);
          if (s.k === 'if') { walk(s.then); walk(s.else); }
          if (s.k === 'loop') throw new SmpError('SMP112', 'a loop (loop N { }) is run by the machine engine (sc, x86) and smpcheck sim only: not on the graph engine', s.span, sc.file);
          if (s.k === 'rseq') { walk(s.body); walk(s.abort); }
        }
      };
      walk(t.body);
    }
    return true;
  }
}

/**
 * The first construct of a scenario that only the Linux-kernel memory model gives a
 * meaning to: an RCU primitive, a spinlock operation, a plain C access, a `filter`.
 */
export function findLkmmOnly(sc: Scenario): { what: string; span: Span } | null {
  const expr = (e: Expr): { what: string; span: Span } | null => {
    switch (e.k) {
      case 'spin': return { what: e.op === 'synchronize_srcu' ? `${e.fn}() is SRCU` : `${e.fn}() is a spinlock operation (lock.cat)`, span: e.span };
      case 'load': return e.order === 'plain' ? { what: 'a plain C load (*x)', span: e.span } : e.order === 'srcu' ? { what: `${e.fn}() is SRCU`, span: e.span } : expr(e.addr);
      case 'rmw': return expr(e.addr) ?? e.args.map(expr).find((x) => x !== null) ?? null;
      case 'bin': return expr(e.a) ?? expr(e.b);
      case 'un': return expr(e.a);
      case 'cond': return expr(e.c) ?? expr(e.a) ?? expr(e.b);
      case 'await': case 'exec': return expr(e.addr);
      case 'syscall': return e.args.map(expr).find((x) => x !== null) ?? null;
      default: return null;
    }
  };
  const walk = (stmts: readonly Stmt[]): { what: string; span: Span } | null => {
    for (const s of stmts) {
      if (s.k === 'fence' && RCU_FENCES.includes(s.fence)) return { what: `${s.fn}() is RCU`, span: s.span };
      if (s.k === 'fence' && LKMM_FENCES.includes(s.fence)) return { what: `${s.fn}() is a ${s.fence === 'mb__after_srcu_read_unlock' ? 'SRCU' : 'spinlock'} barrier`, span: s.span };
      if (s.k === 'store' && s.order === 'plain') return { what: 'a plain C store (*x = v)', span: s.span };
      if (s.k === 'store' && s.order === 'srcu') return { what: `${s.fn}() is SRCU`, span: s.span };
      const inner = s.k === 'if' ? expr(s.c) ?? walk(s.then) ?? walk(s.else)
        : s.k === 'rseq' ? walk(s.body) ?? walk(s.abort)
          : s.k === 'assign' || s.k === 'eval' ? expr(s.e)
            : s.k === 'store' ? expr(s.addr) ?? expr(s.e) : null;
      if (inner) return inner;
    }
    return null;
  };
  for (const t of [...sc.threads, ...sc.handlers]) {
    const found = walk(t.body);
    if (found) return found;
  }
  if (sc.filter) return { what: "a 'filter' clause", span: sc.threads[0]!.span };
  return null;
}

/** The first arm64 instruction statement (dc_cvau(), ic_ivau(), dsb_ish(), isb()) of a scenario's threads and handlers. */
export function findArm64Insn(sc: Scenario): Extract<Stmt, { k: 'insn' }> | null {
  const walk = (stmts: readonly Stmt[]): Extract<Stmt, { k: 'insn' }> | null => {
    for (const s of stmts) {
      if (s.k === 'insn') return s;
      const inner = s.k === 'if' ? [...s.then, ...s.else] : s.k === 'loop' ? s.body : s.k === 'rseq' ? [...s.body, ...s.abort] : [];
      const f = walk(inner);
      if (f) return f;
    }
    return null;
  };
  for (const t of [...sc.threads, ...sc.handlers]) {
    const f = walk(t.body);
    if (f) return f;
  }
  return null;
}

/** SMP112 for an arm64 instruction on another machine, where it has no meaning. */
export function arm64Only(s: Extract<Stmt, { k: 'insn' }>, file: string, model: string): SmpError {
  return new SmpError('SMP112', `${s.fn}() is the arm64 instruction ${ARM64_INSNS[s.op].asm}: it has no meaning on ${model} (use --model arm64)`, s.span, file);
}
