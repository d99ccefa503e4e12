// Parser for the Linux-kernel C litmus format (tools/memory-model/litmus-tests/
// style) with smpcheck's documented extensions (docs/scenario-format.md):
//   - `Result[KEY]: Never|Sometimes|Always` lines in the header comment;
//   - an `smpcheck { directive args; ... }` block;
//   - interrupt handlers `irq NAME(params) { ... }` and the statements
//     `raise_irq(CPU, NAME)`, `local_irq_disable()`, `local_irq_enable()`,
//     `smp_cond_load_acquire(p, cond)` / `smp_cond_load_relaxed(p, cond)`.
// Anything else that is not plain litmus is a coded SMP103 error naming it.

import {
  ARM64_INSNS, type Arm64Insn,
  addrOf, type BinOp, type Condition, type Directive, type Expectation, type Expr, type Fence,
  type Location, EXPECTEDS, OBSERVATIONS, type Expected, type Observable, type Order, type Prop,
  type Register, type RmwOp, type Scenario, type SpinOp, type Stmt, type Thread, type Value, KERNEL_OBSERVABLES,
} from './ast.js';
import { SmpError, type Span } from './errors.js';
import { lex, SOURCE_CHARS_MAX, type Comment, type Token } from './lexer.js';
import { UAPI_CONSTANTS } from '../kernel/uapi.js';
import { CPUS_MAX } from '../machine/machine.js';

export const THREADS_MAX = 8;
export const HANDLERS_MAX = 8;
export const LOCATIONS_MAX = 64;
export const REGISTERS_MAX = 64;
export const NESTING_MAX = 32;
export const EXPR_NODES_MAX = 512; // operators and calls in one statement or in the condition

const TYPE_WORDS = new Set([
  'int', 'long', 'short', 'char', 'unsigned', 'signed', 'atomic_t', 'atomic_long_t',
  'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'bool', 'intptr_t', 'uintptr_t', 'const', 'volatile',
  'spinlock_t', // a lock word: 0 unlocked, 1 locked (lock.cat), used by spin_*() on --model lkmm
]);
const UNSUPPORTED_TYPES = new Set([
  'raw_spinlock_t', 'struct', 'union', 'rwlock_t', 'atomic64_t', 'seqcount_t',
]);

type Ty = { atomic: boolean; ptr: number; spinlock?: true };

interface ThreadScope {
  params: Map<string, number>; // name -> location index
  regs: Map<string, number>;
  regList: Register[];
  depth: number;
  inCondLoad: boolean;
  inRseq?: boolean;
}

export function parseScenario(text: string, file = '<input>'): Scenario {
  // A lone CR (classic Mac line endings) ends a line like LF does; CRLF stays as is.
  const source = text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
  try {
    if (source.length > SOURCE_CHARS_MAX) {
      throw new SmpError('SMP111', `file is longer than ${SOURCE_CHARS_MAX} characters (source_chars_max)`, { line: 1, col: 1, len: 1 });
    }
    return new Parser(source, file).parseFile();
  } catch (e) {
    if (e instanceof SmpError) throw e.withFile(file).withSource(source);
    throw e;
  }
}

class Parser {
  private toks: Token[] = [];
  private comments: Comment[] = [];
  private pos = 0;
  private locations: Location[] = [];
  private locIndex = new Map<string, number>();
  private regInits: { thread: number; reg: string; value: Value; ptr: boolean; span: Span }[] = [];
  private handlerNames = new Map<string, number>();
  private pendingRaises: { stmt: Extract<Stmt, { k: 'raise_irq' }>; name: string; span: Span }[] = [];
  private nodes = 0; // operators and calls in the current statement or condition
  private usesKernel = false;
  private readonly codeLocs = new Set<number>();

  /** write_code()/exec_code() take a location parameter, which becomes a code location. */
  private codeLoc(addr: Expr, fn: string, span: Span): void {
    if (addr.k !== 'addr') throw new SmpError('SMP109', `${fn}() takes a location parameter of the thread (code locations are fixed)`, span);
    this.codeLocs.add(addr.loc);
  }

  constructor(private readonly source: string, private readonly file: string) {}

  parseFile(): Scenario {
    const { name, arch, rest } = this.header();
    const lexed = lex(rest);
    this.toks = lexed.tokens;
    this.comments = lexed.comments;

    this.initBlock();
    const directives = this.peekId('smpcheck') ? this.directiveBlock() : [];

    const threads: Thread[] = [];
    const handlers: Thread[] = [];
    // Handlers are collected first so that raise_irq() in any thread can name them.
    const bodies: { kind: 'P' | 'irq'; start: number }[] = [];
    while (this.isThreadStart() || this.peekId('irq')) {
      bodies.push({ kind: this.peekId('irq') ? 'irq' : 'P', start: this.pos });
      this.skipDefinition();
    }
    const afterBodies = this.pos;
    for (const b of bodies) {
      if (b.kind !== 'irq') continue;
      this.pos = b.start;
      this.next(); // irq
      const nameTok = this.expectId('handler name');
      if (this.handlerNames.has(nameTok.text)) {
        throw new SmpError('SMP105', `interrupt handler '${nameTok.text}' is defined twice`, nameTok.span);
      }
      if (this.handlerNames.size >= HANDLERS_MAX) {
        throw new SmpError('SMP111', `more than ${HANDLERS_MAX} interrupt handlers`, nameTok.span);
      }
      this.handlerNames.set(nameTok.text, this.handlerNames.size);
    }
    for (const b of bodies) {
      this.pos = b.start;
      if (b.kind === 'irq') {
        this.next();
        const nameTok = this.expectId('handler name');
        handlers.push(this.threadBody(this.handlerNames.get(nameTok.text)!, nameTok.text, nameTok.span));
      } else {
        const t = this.next();
        const id = Number(t.text.slice(1));
        if (threads.some((x) => x.id === id)) throw new SmpError('SMP105', `thread ${t.text} is defined twice`, t.span);
        if (threads.length >= THREADS_MAX) {
          throw new SmpError('SMP111', `more than ${THREADS_MAX} threads (threads_max)`, t.span);
        }
        threads.push(this.threadBody(id, t.text, t.span));
      }
    }
    this.pos = afterBodies;
    if (threads.length === 0) {
      throw new SmpError('SMP100', `expected a thread 'P0(...) { ... }', found ${this.describe(this.peek())}`, this.peek().span);
    }
    threads.sort((a, b) => a.id - b.id);
    threads.forEach((t, i) => {
      if (t.id !== i) throw new SmpError('SMP106', `thread P${i} is missing (threads are P0, P1, ...)`, t.span);
    });
    for (const r of this.pendingRaises) {
      const h = this.handlerNames.get(r.name);
      if (h === undefined) throw new SmpError('SMP104', `unknown interrupt handler '${r.name}'`, r.span);
      r.stmt.handler = h;
    }
    this.applyRegInits(threads);

    const locationsClause = this.peekId('locations') ? this.locationsClause(threads) : [];
    let filter: Prop | null = null;
    const filterTok = this.peek();
    if (this.peekId('filter')) {
      // herd's filter: executions whose final state does not satisfy it are left out.
      this.next();
      this.nodes = 0;
      filter = this.prop(threads, 0);
    }
    const condition = this.condition(threads);
    if (this.peek().kind !== 'eof') {
      throw new SmpError('SMP100', `unexpected ${this.describe(this.peek())} after the final condition`, this.peek().span);
    }

    const observed = sortObservables(dedupe([...collectObservables(condition.prop), ...locationsClause]), threads, this.locations);
    if (filter) {
      // The filter's observables are needed to apply it, and are not printed unless named elsewhere (herd).
      for (const o of collectObservables(filter)) {
        if (!observed.some((x) => obsKey(x) === obsKey(o))) {
          throw new SmpError('SMP103', "a 'filter' on a value the condition and the 'locations' clause do not name is not supported", filterTok.span);
        }
      }
    }
    const { expectations, description } = this.headerComment();

    return {
      name, arch, file: this.file, source: this.source,
      locations: this.locations, threads, handlers, observed, condition, filter, expectations, directives, description,
      usesKernel: this.usesKernel,
      codeLocs: [...this.codeLocs].sort((x, y) => x - y),
    };
  }

  // ---- header -------------------------------------------------------------

  private header(): { name: string; arch: string; rest: string } {
    const m = /^(\s*)(\S+)[ \t]+([^\s]+)[^\n]*/.exec(this.source);
    if (!m || this.source.trim() === '') {
      throw new SmpError('SMP003', "expected a litmus header line 'C NAME'", { line: 1, col: 1, len: 1 });
    }
    const lead = m[1]!;
    const line = lead.split('\n').length;
    const col = lead.length - lead.lastIndexOf('\n');
    const arch = m[2]!;
    if (arch !== 'C') {
      throw new SmpError(
        'SMP103',
        `architecture '${arch}' is not supported: smpcheck reads Linux-kernel C litmus tests ('C NAME')`,
        { line, col, len: arch.length },
      ).naming(arch);
    }
    const name = m[3]!;
    // Blank out the header line, keeping offsets so every span stays true.
    const end = m.index + m[0].length;
    const rest = this.source.slice(0, end).replace(/[^\n]/g, ' ') + this.source.slice(end);
    return { name, arch, rest };
  }

  private headerComment(): { expectations: Expectation[]; description: string } {
    const expectations: Expectation[] = [];
    const prose: string[] = [];
    const first = this.comments[0];
    // Only a comment before the first token (the init block) is the header comment.
    if (!first || (this.toks[0] && comparePos(first.span, this.toks[0].span) > 0)) return { expectations, description: '' };
    const lines = first.text.split('\n');
    lines.forEach((raw, i) => {
      const text = raw.replace(/^\s*\*?\s?/, '');
      const lineNo = first.span.line + i;
      // The kernel's judgelitmus.sh reads `Result: Sometimes DATARACE` too: a word after the result.
      const m = /^Result(\[([^\]]*)\])?\s*:\s*(\S*)(?:\s+(DATARACE))?\s*$/.exec(text.trim());
      if (m) {
        const key = (m[2] ?? '').trim();
        const result = m[3]!;
        const colBase = raw.indexOf('Result') + 1 + (i === 0 ? first.span.col + 1 : 0);
        const span = { line: lineNo, col: colBase, len: text.trim().length };
        if (!EXPECTEDS.includes(result as Expected)) {
          throw new SmpError('SMP107', `expected 'Never', 'Sometimes', 'Always', 'Maybe', 'Assertion', 'Deadlock' or 'DEADLOCK' after 'Result${m[1] ?? ''}:', found '${result}'`, span);
        }
        if (m[4] && !(OBSERVATIONS as readonly string[]).includes(result) && result !== 'Maybe') {
          throw new SmpError('SMP107', `'DATARACE' follows an observation ('Never', 'Sometimes', 'Always' or 'Maybe'), not '${result}'`, span);
        }
        if (!/^[A-Za-z0-9_.+\-,= /]*$/.test(key)) {
          throw new SmpError('SMP107', `malformed expectation key '${key}'`, span);
        }
        if (expectations.some((e) => e.key === key)) {
          throw new SmpError('SMP107', `expectation 'Result${m[1] ?? ''}' is stated twice`, span);
        }
        expectations.push({ key, result: result as Expected, span, ...(m[4] ? { datarace: true as const } : {}) });
      } else if (/^Result\b/.test(text.trim())) {
        throw new SmpError('SMP107', "malformed expectation: write 'Result: Never' or 'Result[x86]: Sometimes'", {
          line: lineNo, col: 1, len: raw.length || 1,
        });
      } else {
        prose.push(text);
      }
    });
    const description = prose.join('\n').trim();
    return { expectations, description };
  }

  // ---- init block ----------------------------------------------------------

  private initBlock(): void {
    this.expect('{', "the init block '{ ... }'");
    while (!this.peekP('}')) {
      if (this.peek().kind === 'eof') throw new SmpError('SMP100', "unterminated init block: expected '}'", this.peek().span);
      if (this.peekP(';')) {
        this.next();
        continue;
      }
      if (this.isThreadStart() || this.peekId('smpcheck') || this.peekId('irq')) {
        throw new SmpError('SMP100', `expected '}' to close the init block before '${this.peek().text}'`, this.peek().span);
      }
      // P:reg = value
      if (this.peek().kind === 'num' && this.peekAt(1).text === ':') {
        const t = this.next();
        this.next();
        const ty = this.optType();
        const reg = this.expectId('register name');
        this.expect('=', "'=' in a register initialisation");
        const value = this.initValue();
        this.regInits.push({ thread: Number(t.text), reg: reg.text, value, ptr: ty.ptr > 0, span: reg.span });
        this.initSep();
        continue;
      }
      const ty = this.optType();
      const nameTok = this.expectId('location name');
      let init: Value = 0;
      if (this.peekP('=')) {
        this.next();
        init = this.initValue();
      }
      const idx = this.declareLocation(nameTok.text, nameTok.span);
      const loc = this.locations[idx]!;
      loc.init = init;
      loc.atomic = loc.atomic || ty.atomic;
      if (ty.spinlock && ty.ptr === 0) loc.spinlock = true;
      loc.pointer = loc.pointer || ty.ptr > 0 || init >= 2 ** 48;
      this.initSep();
    }
    this.next();
  }

  private initSep(): void {
    if (this.peekP(';') || this.peekP(',')) this.next();
    else if (!this.peekP('}')) this.expect(';', "';' after an initialisation");
  }

  private initValue(): Value {
    let neg = false;
    if (this.peekP('-')) {
      this.next();
      neg = true;
    }
    if (this.peekP('&')) this.next();
    const t = this.next();
    if (t.kind === 'num') return checkInt(neg ? -parseNum(t) : parseNum(t), t.span);
    if (t.kind === 'id' && t.text === 'ATOMIC_INIT' && this.peekP('(') && !neg) {
      // atomic_t v = ATOMIC_INIT(1);  (herd7 accepts it too)
      this.next();
      const v = this.initValue();
      this.expect(')', "')' to close ATOMIC_INIT(");
      return v;
    }
    if (t.kind === 'id' && !neg) {
      const idx = this.declareLocation(t.text, t.span);
      return addrOf(idx);
    }
    throw new SmpError('SMP110', `expected an integer or a location name, found ${this.describe(t)}`, t.span);
  }

  private declareLocation(name: string, span: Span): number {
    const have = this.locIndex.get(name);
    if (have !== undefined) return have;
    if (this.locations.length >= LOCATIONS_MAX) {
      throw new SmpError('SMP111', `more than ${LOCATIONS_MAX} shared locations (locations_max)`, span);
    }
    if (/^(P\d+|VAL|irq|smpcheck|exists|forall|locations)$/.test(name)) {
      throw new SmpError('SMP105', `'${name}' is reserved and cannot name a shared location`, span);
    }
    this.locations.push({ name, init: 0, atomic: false, pointer: false, span });
    this.locIndex.set(name, this.locations.length - 1);
    return this.locations.length - 1;
  }

  private applyRegInits(threads: Thread[]): void {
    for (const ri of this.regInits) {
      const t = threads[ri.thread];
      if (!t) throw new SmpError('SMP104', `unknown thread ${ri.thread} in the init block`, ri.span);
      const r = t.regs.find((x) => x.name === ri.reg);
      if (!r) throw new SmpError('SMP102', `P${ri.thread} has no register '${ri.reg}'`, ri.span);
      r.init = ri.value;
      r.pointer = r.pointer || ri.ptr;
    }
  }

  // ---- smpcheck { ... } ------------------------------------------------------

  /**
   * The `(Pn)` of fork(), clone(), wake_up() and tgkill(): a thread of the scenario
   * (checked against it in src/litmus/program.ts); `verb` names it in the error.
   */
  private threadArg(fn: string, verb: string): number {
    this.next();
    this.expect('(', "'('");
    const who = this.next();
    const m = who.kind === 'id' ? /^P(\d+)$/.exec(who.text) : null;
    if (!m) throw new SmpError('SMP109', `${fn}() takes the thread ${verb}, e.g. ${fn}(P1)`, who.span);
    this.expect(')', "')'");
    this.usesKernel = true;
    return Number(m[1]);
  }

  private directiveBlock(): Directive[] {
    this.next();
    this.expect('{', "'{' after 'smpcheck'");
    const out: Directive[] = [];
    while (!this.peekP('}')) {
      const nameTok = this.expectId('directive name');
      const args: string[] = [];
      while (!this.peekP(';')) {
        const t = this.next();
        if (t.kind === 'eof' || t.text === '}') {
          throw new SmpError('SMP108', `directive '${nameTok.text}' must end with ';'`, t.span);
        }
        args.push(t.text);
      }
      this.next();
      out.push({ name: nameTok.text, args, span: nameTok.span });
    }
    this.next();
    return out;
  }

  // ---- threads ---------------------------------------------------------------

  private isThreadStart(): boolean {
    const t = this.peek();
    return t.kind === 'id' && /^P\d+$/.test(t.text) && this.peekAt(1).text === '(';
  }

  private skipDefinition(): void {
    // Skip 'irq NAME' or 'Pn', the parameter list and the balanced body.
    if (this.peekId('irq')) this.next();
    this.next();
    this.expect('(', "'(' after the thread name");
    while (!this.peekP(')')) {
      if (this.peek().kind === 'eof') throw new SmpError('SMP100', "unterminated parameter list: expected ')'", this.peek().span);
      this.next();
    }
    this.next();
    const open = this.expect('{', "'{' to open the thread body");
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === 'eof') throw new SmpError('SMP100', "unterminated thread body: expected '}'", open.span);
      if (t.text === '{') depth++;
      else if (t.text === '}') depth--;
    }
  }

  private threadBody(id: number, name: string, span: Span): Thread {
    this.expect('(', "'('");
    const scope: ThreadScope = { params: new Map(), regs: new Map(), regList: [], depth: 0, inCondLoad: false };
    const params: string[] = [];
    if (this.peekId('void')) this.next();
    while (!this.peekP(')')) {
      const ty = this.optType();
      const p = this.expectId('parameter name');
      if (ty.ptr === 0) {
        throw new SmpError('SMP109', `parameter '${p.text}' must be a pointer to a shared location (e.g. 'int *${p.text}')`, p.span);
      }
      if (scope.params.has(p.text)) throw new SmpError('SMP105', `parameter '${p.text}' is declared twice`, p.span);
      const idx = this.declareLocation(p.text, p.span);
      const loc = this.locations[idx]!;
      loc.atomic = loc.atomic || ty.atomic;
      if (ty.spinlock && ty.ptr === 1) loc.spinlock = true;
      if (ty.ptr > 1) loc.pointer = true;
      scope.params.set(p.text, idx);
      params.push(p.text);
      if (!this.peekP(')')) this.expect(',', "',' between parameters");
    }
    this.next();
    this.expect('{', "'{'");
    const body = this.stmtsUntilClose(scope);
    return { id, name, params, regs: scope.regList, body, span };
  }

  private stmtsUntilClose(scope: ThreadScope): Stmt[] {
    const out: Stmt[] = [];
    while (!this.peekP('}')) {
      if (this.peek().kind === 'eof') throw new SmpError('SMP100', "expected '}'", this.peek().span);
      out.push(...this.stmt(scope));
    }
    this.next();
    return out;
  }

  private stmt(scope: ThreadScope): Stmt[] {
    const t = this.peek();
    this.nodes = 0;
    if (t.text === ';') {
      this.next();
      return [];
    }
    if (t.text === '{') {
      this.next();
      return this.nested(scope, () => this.stmtsUntilClose(scope), t.span);
    }
    if (t.kind === 'id' && (TYPE_WORDS.has(t.text) || UNSUPPORTED_TYPES.has(t.text))) return this.localDecl(scope);
    if (t.kind === 'id' && (t.text === 'while' || t.text === 'for' || t.text === 'do' || t.text === 'goto')) {
      throw new SmpError('SMP103', `'${t.text}' loops are not supported in litmus threads (use smp_cond_load_acquire() to wait)`, t.span).naming(t.text);
    }
    if (t.kind === 'id' && t.text === 'return') {
      throw new SmpError('SMP103', "'return' is not supported in litmus threads", t.span);
    }
    if (t.kind === 'id' && t.text === 'if') return [this.ifStmt(scope)];
    if (t.kind === 'id' && t.text === 'loop' && this.peekAt(1).kind === 'num') return [this.loopStmt(scope)];
    if (t.kind === 'id' && t.text === 'rseq' && this.peekAt(1).text === '{') return [this.rseqStmt(scope)];
    if (t.text === '(' && this.peekAt(1).kind === 'id' && (this.peekAt(1).text === 'void' || TYPE_WORDS.has(this.peekAt(1).text))) {
      // A cast of a statement's value, as in '(void)atomic_add_unless(v, 1, 0);': ignored.
      this.next();
      while (!this.peekP(')')) {
        if (this.peek().kind === 'eof') throw new SmpError('SMP100', "unterminated cast: expected ')'", t.span);
        this.next();
      }
      this.next();
      if (!(this.peek().kind === 'id' && this.peekAt(1).text === '(')) {
        throw new SmpError('SMP100', `expected a call after the cast, found ${this.describe(this.peek())}`, this.peek().span);
      }
      const s2 = this.callStmt(scope);
      this.expect(';', "';' after a statement");
      return [s2];
    }
    if (t.kind === 'id' && this.peekAt(1).text === '=' ) {
      // register assignment
      this.next();
      const reg = scope.regs.get(t.text);
      if (reg === undefined) {
        if (scope.params.has(t.text)) {
          throw new SmpError('SMP103', `assignment to the pointer parameter '${t.text}' is not supported`, t.span);
        }
        throw new SmpError('SMP102', `undeclared register '${t.text}' (declare it with 'int ${t.text};')`, t.span);
      }
      this.next();
      const e = this.expr(scope);
      this.expect(';', "';' after an assignment");
      return [{ k: 'assign', reg, e, span: t.span }];
    }
    if (t.text === '*') {
      // A plain C store, `*x = e;` (unmarked: --model lkmm only, which flags data races).
      this.next();
      this.node(t.span);
      const addr = this.unaryNoStar(scope);
      this.expect('=', "'=' in a plain store '*x = v;'");
      const e = this.expr(scope);
      this.expect(';', "';' after a store");
      return [{ k: 'store', addr, e, order: 'plain', fn: '*', span: t.span }];
    }
    if (t.kind === 'id' && this.peekAt(1).text === '(') {
      const s = this.callStmt(scope);
      this.expect(';', "';' after a statement");
      return [s];
    }
    throw new SmpError('SMP100', `expected a statement, found ${this.describe(t)}`, t.span);
  }

  /** loop N { stmts }: the body N times, N a literal from 1 to LOOP_ITERATIONS_MAX. */
  private loopStmt(scope: ThreadScope): Stmt {
    const t = this.next();
    const nt = this.next();
    const n = Number(nt.text);
    if (!/^\d+$/.test(nt.text) || !Number.isSafeInteger(n) || n < 1 || n > LOOP_ITERATIONS_MAX) {
      throw new SmpError('SMP110', `a loop runs from 1 to ${LOOP_ITERATIONS_MAX} times (loop_iterations_max), not '${nt.text}'`, nt.span);
    }
    if (scope.inRseq) throw new SmpError('SMP103', 'a loop inside an rseq critical section is not supported', t.span);
    this.expect('{', "'{' after 'loop N'");
    const body = this.nested(scope, () => this.stmtsUntilClose(scope), t.span);
    return { k: 'loop', n, body, span: t.span, nSpan: nt.span };
  }

  /** rseq { stmts; rseq_commit(p, v); } abort { stmts } */
  private rseqStmt(scope: ThreadScope): Stmt {
    const t = this.next();
    if (scope.inRseq) throw new SmpError('SMP103', 'rseq critical sections do not nest', t.span);
    this.expect('{', "'{' after 'rseq'");
    scope.inRseq = true;
    let body: Stmt[];
    try {
      body = this.nested(scope, () => this.stmtsUntilClose(scope), t.span);
    } finally {
      scope.inRseq = false;
    }
    const bad = body.find((s) => s.k === 'spawn' || s.k === 'execve' || s.k === 'exit' || s.k === 'kthread_mm' || s.k === 'text_poke' || s.k === 'wake' || s.k === 'signal');
    if (bad) throw new SmpError('SMP103', 'system calls inside an rseq critical section are not supported (the kernel does not allow them there)', bad.span);
    const last = body[body.length - 1];
    if (!last || last.k !== 'store' || last.fn !== 'rseq_commit') {
      throw new SmpError('SMP109', "an rseq critical section ends with its commit store: 'rseq_commit(p, v);' as its last statement", t.span);
    }
    if (!this.peekId('abort')) throw new SmpError('SMP100', `expected 'abort { ... }' after the rseq critical section, found ${this.describe(this.peek())}`, this.peek().span);
    this.next();
    this.expect('{', "'{' after 'abort'");
    const abort = this.nested(scope, () => this.stmtsUntilClose(scope), t.span);
    this.usesKernel = true;
    return { k: 'rseq', body: body.slice(0, -1), commit: { addr: last.addr, e: last.e, span: last.span }, abort, span: t.span };
  }

  private nested<T>(scope: ThreadScope, f: () => T, span: Span): T {
    if (scope.depth >= NESTING_MAX) throw new SmpError('SMP111', `nesting deeper than ${NESTING_MAX} levels`, span);
    scope.depth++;
    try {
      return f();
    } finally {
      scope.depth--;
    }
  }

  private localDecl(scope: ThreadScope): Stmt[] {
    const base = this.optTypeWords();
    const out: Stmt[] = [];
    for (;;) {
      let ptr = base.ptr;
      while (this.peekP('*')) {
        this.next();
        ptr++;
      }
      const nameTok = this.expectId('register name');
      if (scope.regs.has(nameTok.text) || scope.params.has(nameTok.text)) {
        throw new SmpError('SMP105', `'${nameTok.text}' is declared twice`, nameTok.span);
      }
      if (scope.regList.length >= REGISTERS_MAX) {
        throw new SmpError('SMP111', `more than ${REGISTERS_MAX} registers in one thread`, nameTok.span);
      }
      if (nameTok.text === 'VAL') throw new SmpError('SMP105', "'VAL' is reserved", nameTok.span);
      scope.regs.set(nameTok.text, scope.regList.length);
      scope.regList.push({ name: nameTok.text, pointer: ptr > 0, init: 0 });
      if (this.peekP('=')) {
        this.next();
        const e = this.expr(scope);
        out.push({ k: 'assign', reg: scope.regs.get(nameTok.text)!, e, span: nameTok.span });
      }
      if (this.peekP(',')) {
        this.next();
        continue;
      }
      break;
    }
    this.expect(';', "';' after a declaration");
    return out;
  }

  private ifStmt(scope: ThreadScope): Stmt {
    const t = this.next();
    this.expect('(', "'(' after 'if'");
    const c = this.expr(scope);
    this.expect(')', "')' to close the condition");
    const then = this.nested(scope, () => this.stmt(scope), t.span);
    let els: Stmt[] = [];
    if (this.peekId('else')) {
      this.next();
      els = this.nested(scope, () => this.stmt(scope), t.span);
    }
    return { k: 'if', c, then, else: els, span: t.span };
  }

  // ---- expressions ----------------------------------------------------------------

  private expr(scope: ThreadScope): Expr {
    return this.nested(scope, () => this.ternary(scope), this.peek().span);
  }

  /** Counts an operator or call against EXPR_NODES_MAX. */
  private node(span: Span): void {
    if (++this.nodes > EXPR_NODES_MAX) {
      throw new SmpError('SMP111', `more than ${EXPR_NODES_MAX} operators in one statement or condition (expr_nodes_max)`, span);
    }
  }

  private ternary(scope: ThreadScope): Expr {
    const c = this.binary(scope, 0);
    if (this.peekP('?')) {
      const q = this.next();
      this.node(q.span);
      const a = this.expr(scope);
      this.expect(':', "':' in a conditional expression");
      const b = this.expr(scope);
      return { k: 'cond', c, a, b, span: q.span };
    }
    return c;
  }

  private static readonly PREC: BinOp[][] = [
    ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
  ];

  private binary(scope: ThreadScope, level: number): Expr {
    if (level >= Parser.PREC.length) return this.unary(scope);
    let a = this.binary(scope, level + 1);
    for (;;) {
      const t = this.peek();
      const op = Parser.PREC[level]!.find((o) => o === t.text && t.kind === 'punct');
      if (!op) return a;
      this.next();
      this.node(t.span);
      const b = this.binary(scope, level + 1);
      a = { k: 'bin', op, a, b, span: t.span };
    }
  }

  private unary(scope: ThreadScope): Expr {
    const t = this.peek();
    if (t.text === '-' || t.text === '!' || t.text === '~') {
      this.next();
      this.node(t.span);
      const a = this.nested(scope, () => this.unary(scope), t.span);
      return { k: 'un', op: t.text, a, span: t.span };
    }
    if (t.text === '*') {
      // A plain C load, `*x` (unmarked: --model lkmm only).
      this.next();
      this.node(t.span);
      const addr = this.nested(scope, () => this.unary(scope), t.span);
      return { k: 'load', addr, order: 'plain', fn: '*', span: t.span };
    }
    if (t.text === '&') {
      this.next();
      const id = this.expectId('location name');
      const loc = this.locIndex.get(id.text);
      if (loc === undefined || !scope.params.has(id.text)) {
        throw new SmpError('SMP101', `'&${id.text}': '${id.text}' is not a parameter of this thread`, id.span);
      }
      return { k: 'addr', loc, span: id.span };
    }
    return this.primary(scope);
  }

  private primary(scope: ThreadScope): Expr {
    const t = this.next();
    if (t.kind === 'num') return { k: 'num', v: checkInt(parseNum(t), t.span), span: t.span };
    if (t.text === '(') {
      if (this.peek().kind === 'id' && TYPE_WORDS.has(this.peek().text)) {
        // a C cast: (int)e, (int *)e: ignored, but nested like any other operator
        this.optType();
        this.expect(')', "')' to close the cast");
        return this.nested(scope, () => this.unary(scope), t.span);
      }
      const e = this.nested(scope, () => this.expr(scope), t.span);
      this.expect(')', "')'");
      return e;
    }
    if (t.kind === 'id') {
      if (this.peekP('(')) {
        this.pos--;
        return this.callExpr(scope);
      }
      if (t.text === 'VAL') {
        if (!scope.inCondLoad) throw new SmpError('SMP102', "'VAL' is only defined inside smp_cond_load_*()", t.span);
        return { k: 'val', span: t.span };
      }
      const r = scope.regs.get(t.text);
      if (r !== undefined) return { k: 'reg', reg: r, name: t.text, span: t.span };
      const p = scope.params.get(t.text);
      if (p !== undefined) return { k: 'addr', loc: p, span: t.span };
      if (t.text === 'NULL') return { k: 'num', v: 0, span: t.span };
      const uapi = UAPI_CONSTANTS[t.text];
      if (uapi !== undefined) return { k: 'num', v: uapi, span: t.span };
      if (t.text === 'true') return { k: 'num', v: 1, span: t.span };
      if (t.text === 'false') return { k: 'num', v: 0, span: t.span };
      throw new SmpError('SMP102', `unknown name '${t.text}': not a register or a parameter of this thread`, t.span);
    }
    throw new SmpError('SMP100', `expected an expression, found ${this.describe(t)}`, t.span);
  }

  /** The address operand: `*e` for READ_ONCE/WRITE_ONCE, `e` for the others. */
  private addrArg(scope: ThreadScope, star: boolean, fn: string): Expr {
    if (star) {
      if (!this.peekP('*')) {
        throw new SmpError('SMP109', `${fn}() takes a dereference: write ${fn}(*x${fn === 'WRITE_ONCE' ? ', v' : ''})`, this.peek().span);
      }
      this.next();
      return this.unaryNoStar(scope);
    }
    if (this.peekP('*')) {
      throw new SmpError('SMP109', `${fn}() takes a pointer, not a dereference: write ${fn}(x, ...)`, this.peek().span);
    }
    return this.expr(scope);
  }

  private unaryNoStar(scope: ThreadScope): Expr {
    if (this.peekP('(')) {
      this.next();
      const e = this.expr(scope);
      this.expect(')', "')'");
      return e;
    }
    return this.primary(scope);
  }

  private args(scope: ThreadScope, fn: string, n: number, first?: 'star' | 'ptr'): Expr[] {
    const out: Expr[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0) this.expect(',', `',' between the arguments of ${fn}()`);
      out.push(i === 0 && first ? this.addrArg(scope, first === 'star', fn) : this.expr(scope));
    }
    if (!this.peekP(')')) {
      throw new SmpError('SMP109', `${fn}() takes ${n} argument${n === 1 ? '' : 's'}`, this.peek().span);
    }
    this.next();
    return out;
  }

  private callStmt(scope: ThreadScope): Stmt {
    const t = this.peek();
    const fn = t.text;
    const fence = FENCES[fn];
    if (fence !== undefined) {
      this.next();
      this.expect('(', "'('");
      this.args(scope, fn, 0);
      return { k: 'fence', fence, fn, span: t.span };
    }
    if (Object.hasOwn(ARM64_INSNS, fn)) {
      // An arm64 instruction: dc_cvau(x), ic_ivau(x) take a location, dsb_ish(), isb() nothing.
      const op = fn as Arm64Insn;
      this.next();
      this.expect('(', "'('");
      const [addr] = this.args(scope, fn, ARM64_INSNS[op].takesLoc ? 1 : 0, ARM64_INSNS[op].takesLoc ? 'ptr' : undefined);
      return { k: 'insn', op, addr: addr ?? null, fn, span: t.span };
    }
    const store = STORES[fn];
    if (store) {
      this.next();
      this.expect('(', "'('");
      const [addr, e] = this.args(scope, fn, 2, store.star ? 'star' : 'ptr');
      if (fn === 'write_code') this.codeLoc(addr!, fn, t.span);
      if (fn === 'rseq_commit' && !scope.inRseq) throw new SmpError('SMP109', 'rseq_commit() is the last statement of an rseq critical section', t.span);
      return { k: 'store', addr: addr!, e: e!, order: store.order, fn, span: t.span };
    }
    if (fn === 'kthread_use_mm' || fn === 'kthread_unuse_mm') {
      // A kernel thread adopts or drops the process's mm (the argument, if any, is ignored: one mm).
      this.next();
      this.expect('(', "'('");
      if (!this.peekP(')')) this.expr(scope);
      this.expect(')', "')'");
      this.usesKernel = true;
      return { k: 'kthread_mm', use: fn === 'kthread_use_mm', span: t.span };
    }
    if (fn === 'text_poke') {
      // text_poke(): a kernel thread patches kernel text through the temporary mm
      // (the address and the bytes are not modelled: any arguments are ignored).
      this.next();
      this.expect('(', "'('");
      while (!this.peekP(')')) {
        this.expr(scope);
        if (this.peekP(',')) this.next();
        else break;
      }
      this.expect(')', "')'");
      this.usesKernel = true;
      return { k: 'text_poke', span: t.span };
    }
    if (fn === 'fork' || fn === 'clone') {
      // fork(Pn) / clone(Pn): thread Pn of the scenario starts here (checked in src/litmus/program.ts).
      return { k: 'spawn', how: fn, thread: this.threadArg(fn, 'that starts'), span: t.span };
    }
    if (fn === 'wake_up') {
      // wake_up(Pn): thread Pn starts asleep in a system call and runs once woken (checked in src/litmus/program.ts).
      return { k: 'wake', thread: this.threadArg(fn, 'it wakes'), span: t.span };
    }
    if (fn === 'tgkill') {
      // tgkill(Pn): a signal for thread Pn (checked in src/litmus/program.ts).
      return { k: 'signal', thread: this.threadArg(fn, 'it signals'), span: t.span };
    }
    if (fn === 'execve') {
      // execve(): a new program image (the arguments, if any, are ignored).
      this.next();
      this.expect('(', "'('");
      while (!this.peekP(')')) {
        this.expr(scope);
        if (this.peekP(',')) this.next();
      }
      this.expect(')', "')'");
      this.usesKernel = true;
      return { k: 'execve', span: t.span };
    }
    if (fn === 'exit') {
      // exit(): the thread leaves; the kernel model runs do_exit() -> exit_mm().
      this.next();
      this.expect('(', "'('");
      if (!this.peekP(')')) this.expr(scope); // the status is ignored
      this.expect(')', "')'");
      this.usesKernel = true;
      return { k: 'exit', span: t.span };
    }
    if (fn === 'local_irq_disable' || fn === 'local_irq_enable') {
      this.next();
      this.expect('(', "'('");
      this.args(scope, fn, 0);
      return { k: 'irq', enable: fn === 'local_irq_enable', fn, span: t.span };
    }
    if (fn === 'raise_irq') {
      this.next();
      this.expect('(', "'('");
      const cpuTok = this.next();
      if (cpuTok.kind !== 'num') throw new SmpError('SMP109', 'raise_irq() takes a constant CPU number first', cpuTok.span);
      const cpu = parseNum(cpuTok);
      this.expect(',', "','");
      const h = this.expectId('interrupt handler name');
      this.expect(')', "')'");
      // Which CPUs exist depends on the 'cpu N runs ...' directives: LitmusProgram checks it.
      if (!Number.isSafeInteger(cpu) || cpu >= CPUS_MAX) throw new SmpError('SMP104', `unknown CPU ${cpuTok.text}`, cpuTok.span);
      const stmt: Extract<Stmt, { k: 'raise_irq' }> = { k: 'raise_irq', cpu, handler: -1, span: t.span, cpuSpan: cpuTok.span };
      this.pendingRaises.push({ stmt, name: h.text, span: h.span });
      return stmt;
    }
    const e = this.callExpr(scope);
    return { k: 'eval', e, span: t.span };
  }

  private callExpr(scope: ThreadScope): Expr {
    const t = this.next();
    const fn = t.text;
    this.node(t.span);
    this.expect('(', "'('");
    if (fn === 'exec_code') {
      const [addr] = this.args(scope, fn, 1, 'ptr');
      this.codeLoc(addr!, fn, t.span);
      return { k: 'exec', addr: addr!, fn, span: t.span };
    }
    const load = LOADS[fn];
    if (load) {
      const [addr] = this.args(scope, fn, 1, load.star ? 'star' : 'ptr');
      return { k: 'load', addr: addr!, order: load.order, fn, span: t.span };
    }
    const rmw = RMWS[fn];
    if (rmw) {
      const n = rmw.arity;
      const out: Expr[] = [];
      // Kernel argument order: xchg(p, v), cmpxchg(p, o, n), atomic_add_return(i, v), atomic_inc(v).
      for (let i = 0; i < n; i++) {
        if (i > 0) this.expect(',', `',' between the arguments of ${fn}()`);
        out.push(i === rmw.ptrArg ? this.addrArg(scope, false, fn) : this.expr(scope));
      }
      if (!this.peekP(')')) throw new SmpError('SMP109', `${fn}() takes ${n} argument${n === 1 ? '' : 's'}`, this.peek().span);
      this.next();
      const addr = out[rmw.ptrArg]!;
      const args = out.filter((_, i) => i !== rmw.ptrArg);
      return { k: 'rmw', op: rmw.op, addr, args, order: rmw.order, ret: rmw.ret, fn, span: t.span };
    }
    if (fn === 'membarrier') {
      // The system call: membarrier(cmd, flags, cpu_id), answered by the kernel model.
      const args = this.args(scope, fn, 3);
      this.usesKernel = true;
      return { k: 'syscall', name: 'membarrier', args, span: t.span };
    }
    if (fn === 'futex_wait' || fn === 'futex_wake' || fn === 'pipe_read' || fn === 'pipe_write') {
      // Blocking and waking: futex_wait(f, val), futex_wake(f, nr_wake) on the futex word f;
      // pipe_read(p), pipe_write(p, v) on the pipe p (src/kernel/futex/, src/kernel/fs/pipe.ts).
      const args = this.args(scope, fn, fn === 'pipe_read' ? 1 : 2, 'ptr');
      this.usesKernel = true;
      return { k: 'syscall', name: fn, args, span: t.span };
    }
    if (fn === 'madvise' || fn === 'munmap' || fn === 'mprotect' || fn === 'mremap' || fn === 'reclaim' || fn === 'shrink') {
      // Address-space calls on a user page (`mmap` directive): madvise(a, MADV_DONTNEED),
      // munmap(a), mprotect(a, PROT_READ), mremap(a, b); and reclaim(a) and shrink(a) by
      // a kernel thread (kswapd; shrink(a) ages the folio first). A page is named by
      // its pointer; the length is one page.
      const args = this.args(scope, fn, fn === 'munmap' || fn === 'reclaim' || fn === 'shrink' ? 1 : 2, 'ptr');
      this.usesKernel = true;
      return { k: 'syscall', name: fn, args, span: t.span };
    }
    const spin = SPINS[fn];
    if (spin) {
      const [addr] = this.args(scope, fn, 1, 'ptr');
      return { k: 'spin', op: spin, addr: addr!, fn, span: t.span };
    }
    const cond = CONDLOADS[fn];
    if (cond) {
      const addr = this.addrArg(scope, false, fn);
      this.expect(',', `',' between the arguments of ${fn}()`);
      const saved = scope.inCondLoad;
      scope.inCondLoad = true;
      const pred = this.expr(scope);
      scope.inCondLoad = saved;
      this.expect(')', "')'");
      return { k: 'await', addr, pred, order: cond.order, fn, span: t.span };
    }
    if (FENCES[fn] !== undefined || STORES[fn] || fn === 'raise_irq' || fn.startsWith('local_irq_')) {
      throw new SmpError('SMP109', `${fn}() has no value and cannot be used in an expression`, t.span);
    }
    throw new SmpError('SMP103', `${fn}() is not supported${unsupportedHint(fn)}`, t.span).naming(fn);
  }

  // ---- locations [...] and the final condition ----------------------------------------

  private locationsClause(threads: Thread[]): Observable[] {
    this.next();
    this.expect('[', "'[' after 'locations'");
    const out: Observable[] = [];
    while (!this.peekP(']')) {
      out.push(this.observable(threads));
      if (this.peekP(';') || this.peekP(',')) this.next();
      else if (!this.peekP(']')) this.expect(';', "';' between locations");
    }
    this.next();
    return out;
  }

  private condition(threads: Thread[]): Condition {
    const t = this.peek();
    let quantifier: Condition['quantifier'];
    if (this.peekId('exists')) {
      this.next();
      quantifier = 'exists';
    } else if (this.peekP('~') && this.peekAt(1).text === 'exists') {
      this.next();
      this.next();
      quantifier = 'not-exists';
    } else if (this.peekId('forall')) {
      this.next();
      quantifier = 'forall';
    } else if (this.peekId('filter')) {
      throw new SmpError('SMP100', "a 'filter' clause comes before the final condition, once", t.span);
    } else {
      throw new SmpError('SMP100', `expected the final condition ('exists', '~exists' or 'forall'), found ${this.describe(t)}`, t.span);
    }
    const startTok = this.pos;
    this.nodes = 0;
    const prop = this.prop(threads, 0);
    const text = this.toks.slice(startTok, this.pos).map((x) => x.text);
    return { quantifier, prop, text: joinCondition(text) };
  }

  private prop(threads: Thread[], depth: number): Prop {
    if (depth > NESTING_MAX) throw new SmpError('SMP111', `condition nested deeper than ${NESTING_MAX} levels`, this.peek().span);
    const a = this.propOr(threads, depth);
    if (this.peekP('=>') || this.peekP('->')) {
      this.node(this.next().span);
      return { k: 'implies', a, b: this.prop(threads, depth + 1) };
    }
    return a;
  }

  private propOr(threads: Thread[], depth: number): Prop {
    let a = this.propAnd(threads, depth);
    while (this.peekP('\\/')) {
      this.node(this.next().span);
      a = { k: 'or', a, b: this.propAnd(threads, depth) };
    }
    return a;
  }

  private propAnd(threads: Thread[], depth: number): Prop {
    let a = this.propNot(threads, depth);
    while (this.peekP('/\\')) {
      this.node(this.next().span);
      a = { k: 'and', a, b: this.propNot(threads, depth) };
    }
    return a;
  }

  private propNot(threads: Thread[], depth: number): Prop {
    if (this.peekP('~') || this.peekP('!')) {
      this.node(this.next().span);
      return { k: 'not', a: this.propNot(threads, depth + 1) };
    }
    if (this.peekP('(')) {
      this.next();
      const p = this.prop(threads, depth + 1);
      this.expect(')', "')' in the condition");
      return p;
    }
    if (this.peekId('true')) {
      this.next();
      return { k: 'true' };
    }
    if (this.peekId('false')) {
      this.next();
      return { k: 'false' };
    }
    const start = this.peek().span;
    const lhs = this.observable(threads);
    const opTok = this.next();
    if (opTok.text !== '=' && opTok.text !== '==' && opTok.text !== '!=') {
      throw new SmpError('SMP100', `expected '=' or '!=' in the condition, found ${this.describe(opTok)}`, opTok.span);
    }
    const rhs = this.condValue();
    return { k: 'eq', lhs, rhs, neg: opTok.text === '!=', span: start };
  }

  private condValue(): Value {
    let neg = false;
    if (this.peekP('-')) {
      this.next();
      neg = true;
    }
    if (this.peekP('&')) this.next();
    const t = this.next();
    if (t.kind === 'num') return checkInt(neg ? -parseNum(t) : parseNum(t), t.span);
    if (t.kind === 'id' && !this.locIndex.has(t.text) && UAPI_CONSTANTS[t.text] !== undefined) {
      // A return value or errno compared with its name: 1:r0=-EPERM, 0:r1=MEMBARRIER_CMD_GLOBAL.
      const v = UAPI_CONSTANTS[t.text]!;
      return neg ? -v : v;
    }
    if (t.kind === 'id' && !neg) {
      const loc = this.locIndex.get(t.text);
      if (loc === undefined) throw new SmpError('SMP101', `unknown shared location '${t.text}'`, t.span);
      return addrOf(loc);
    }
    throw new SmpError('SMP110', `expected a value, found ${this.describe(t)}`, t.span);
  }

  private observable(threads: Thread[]): Observable {
    const t = this.next();
    if (t.kind === 'num' && this.peekP(':')) {
      this.next();
      const regTok = this.expectId('register name');
      const th = threads[Number(t.text)];
      if (!th) throw new SmpError('SMP104', `unknown thread ${t.text} (the scenario has P0..P${threads.length - 1})`, t.span);
      const reg = th.regs.findIndex((r) => r.name === regTok.text);
      if (reg < 0) throw new SmpError('SMP102', `P${th.id} has no register '${regTok.text}'`, regTok.span);
      return { k: 'reg', thread: th.id, reg };
    }
    if (t.text === '[') {
      const inner = this.expectId('location name');
      this.expect(']', "']'");
      return this.locObservable(inner);
    }
    if (t.kind === 'id' && /^cpu[0-9]+$/.test(t.text) && this.peekP(':') && !this.locIndex.has(t.text)) {
      this.next();
      const nameTok = this.expectId('kernel observable');
      const name = KERNEL_OBSERVABLES.find((n) => n === nameTok.text);
      if (!name) {
        throw new SmpError('SMP101', `unknown kernel observable '${nameTok.text}' (${KERNEL_OBSERVABLES.join(', ')})`, nameTok.span);
      }
      const cpu = Number(t.text.slice(3));
      if (!Number.isSafeInteger(cpu) || cpu > 63) throw new SmpError('SMP104', `unknown CPU '${t.text}'`, t.span);
      this.usesKernel = true;
      return { k: 'kernel', cpu, name, span: t.span };
    }
    if (t.kind === 'id') return this.locObservable(t);
    throw new SmpError('SMP100', `expected a register like '0:r0', a location or a kernel fact like 'cpu1:ipi_mb', found ${this.describe(t)}`, t.span);
  }

  private locObservable(t: Token): Observable {
    const loc = this.locIndex.get(t.text);
    if (loc === undefined) throw new SmpError('SMP101', `unknown shared location '${t.text}'`, t.span);
    return { k: 'loc', loc };
  }

  // ---- token helpers ---------------------------------------------------------------

  private peek(): Token {
    return this.toks[this.pos]!;
  }
  private peekAt(k: number): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.toks[this.pos]!;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private peekP(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }
  private peekId(s: string): boolean {
    const t = this.peek();
    return t.kind === 'id' && t.text === s;
  }
  private expect(p: string, what: string): Token {
    const t = this.peek();
    if (t.text !== p || t.kind === 'eof') throw new SmpError('SMP100', `expected ${what}, found ${this.describe(t)}`, t.span);
    return this.next();
  }
  private expectId(what: string): Token {
    const t = this.peek();
    if (t.kind !== 'id') throw new SmpError('SMP100', `expected ${what}, found ${this.describe(t)}`, t.span);
    return this.next();
  }
  private describe(t: Token): string {
    return t.kind === 'eof' ? 'the end of the file' : `'${t.text}'`;
  }

  private optTypeWords(): Ty {
    let atomic = false;
    let spinlock: true | undefined;
    let words = 0;
    while (this.peek().kind === 'id' && (TYPE_WORDS.has(this.peek().text) || UNSUPPORTED_TYPES.has(this.peek().text))) {
      if (this.peek().text === 'struct' && this.peekAt(1).text === 'srcu_struct') {
        // struct srcu_struct: the SRCU domain srcu_read_lock() and friends name (--model lkmm).
        this.next();
        this.next();
        words++;
        continue;
      }
      const w = this.next();
      if (UNSUPPORTED_TYPES.has(w.text)) {
        throw new SmpError('SMP103', `type '${w.text}' is not supported${w.text.includes('spinlock') ? ' (spinlocks are not modelled yet)' : ''}`, w.span).naming(w.text);
      }
      if (w.text === 'atomic_t' || w.text === 'atomic_long_t') atomic = true;
      if (w.text === 'spinlock_t') spinlock = true;
      words++;
    }
    return spinlock ? { atomic, ptr: 0, spinlock } : { atomic, ptr: 0 };
  }

  private optType(): Ty {
    const ty = this.optTypeWords();
    while (this.peekP('*')) {
      this.next();
      ty.ptr++;
    }
    return ty;
  }
}

// ---- tables of supported kernel primitives ---------------------------------------------

const FENCES: Record<string, Fence> = {
  smp_mb: 'mb', smp_rmb: 'rmb', smp_wmb: 'wmb', barrier: 'barrier',
  smp_mb__before_atomic: 'mb__before_atomic', smp_mb__after_atomic: 'mb__after_atomic',
  rcu_read_lock: 'rcu_read_lock', rcu_read_unlock: 'rcu_read_unlock', synchronize_rcu: 'synchronize_rcu', synchronize_rcu_expedited: 'synchronize_rcu',
  smp_mb__after_spinlock: 'mb__after_spinlock', smp_mb__after_unlock_lock: 'mb__after_unlock_lock',
  smp_mb__after_srcu_read_unlock: 'mb__after_srcu_read_unlock',
};

const LOADS: Record<string, { star: boolean; order: Order }> = {
  READ_ONCE: { star: true, order: 'once' },
  smp_load_acquire: { star: false, order: 'acquire' },
  atomic_read: { star: false, order: 'once' },
  atomic_read_acquire: { star: false, order: 'acquire' },
  rcu_dereference: { star: true, order: 'once' }, // linux-kernel.def: a READ_ONCE(); arm64 and x86: a plain load
  srcu_read_lock: { star: false, order: 'srcu' }, // linux-kernel.def: a load of the srcu_struct (--model lkmm only)
  srcu_down_read: { star: false, order: 'srcu' },
};

const STORES: Record<string, { star: boolean; order: Order }> = {
  WRITE_ONCE: { star: true, order: 'once' },
  smp_store_release: { star: false, order: 'release' },
  atomic_set: { star: false, order: 'once' },
  atomic_set_release: { star: false, order: 'release' },
  rcu_assign_pointer: { star: true, order: 'release' }, // linux-kernel.def: a release store, as smp_store_release()
  write_code: { star: false, order: 'once' }, // a store of new code (a version number) to a code location
  rseq_commit: { star: false, order: 'once' }, // the commit store that ends an rseq critical section
  srcu_read_unlock: { star: false, order: 'srcu' }, // linux-kernel.def: a store of the index to the srcu_struct (--model lkmm only)
  srcu_up_read: { star: false, order: 'srcu' },
};

/** Spinlocks (include/linux/spinlock.h), as linux-kernel.def names them: --model lkmm only (lock.cat). */
const SPINS: Record<string, SpinOp> = {
  spin_lock: 'lock', spin_unlock: 'unlock', spin_trylock: 'trylock', spin_is_locked: 'is_locked',
  synchronize_srcu: 'synchronize_srcu', synchronize_srcu_expedited: 'synchronize_srcu',
};

const CONDLOADS: Record<string, { order: Order }> = {
  smp_cond_load_acquire: { order: 'acquire' },
  smp_cond_load_relaxed: { order: 'relaxed' },
  atomic_cond_read_acquire: { order: 'acquire' },
  atomic_cond_read_relaxed: { order: 'relaxed' },
};

interface RmwSpec { op: RmwOp; arity: number; ptrArg: number; order: Order; ret: 'old' | 'new' | 'none' | 'changed' }

const RMWS: Record<string, RmwSpec> = (() => {
  const t: Record<string, RmwSpec> = {};
  const suffixes: [string, Order][] = [['', 'mb'], ['_relaxed', 'relaxed'], ['_acquire', 'acquire'], ['_release', 'release']];
  for (const [sfx, order] of suffixes) {
    t[`xchg${sfx}`] = { op: 'xchg', arity: 2, ptrArg: 0, order, ret: 'old' };
    t[`cmpxchg${sfx}`] = { op: 'cmpxchg', arity: 3, ptrArg: 0, order, ret: 'old' };
    t[`atomic_xchg${sfx}`] = { op: 'xchg', arity: 2, ptrArg: 0, order, ret: 'old' };
    t[`atomic_cmpxchg${sfx}`] = { op: 'cmpxchg', arity: 3, ptrArg: 0, order, ret: 'old' };
    t[`atomic_add_return${sfx}`] = { op: 'add', arity: 2, ptrArg: 1, order, ret: 'new' };
    t[`atomic_sub_return${sfx}`] = { op: 'sub', arity: 2, ptrArg: 1, order, ret: 'new' };
    t[`atomic_inc_return${sfx}`] = { op: 'add', arity: 1, ptrArg: 0, order, ret: 'new' };
    t[`atomic_dec_return${sfx}`] = { op: 'sub', arity: 1, ptrArg: 0, order, ret: 'new' };
    t[`atomic_fetch_add${sfx}`] = { op: 'add', arity: 2, ptrArg: 1, order, ret: 'old' };
    t[`atomic_fetch_sub${sfx}`] = { op: 'sub', arity: 2, ptrArg: 1, order, ret: 'old' };
    t[`atomic_fetch_inc${sfx}`] = { op: 'add', arity: 1, ptrArg: 0, order, ret: 'old' };
    t[`atomic_fetch_dec${sfx}`] = { op: 'sub', arity: 1, ptrArg: 0, order, ret: 'old' };
    t[`atomic_fetch_and${sfx}`] = { op: 'and', arity: 2, ptrArg: 1, order, ret: 'old' };
    t[`atomic_fetch_or${sfx}`] = { op: 'or', arity: 2, ptrArg: 1, order, ret: 'old' };
    t[`atomic_fetch_xor${sfx}`] = { op: 'xor', arity: 2, ptrArg: 1, order, ret: 'old' };
  }
  // Non-value-returning atomics are unordered in the kernel's model (but locked on x86).
  t['atomic_inc'] = { op: 'add', arity: 1, ptrArg: 0, order: 'relaxed', ret: 'none' };
  t['atomic_dec'] = { op: 'sub', arity: 1, ptrArg: 0, order: 'relaxed', ret: 'none' };
  t['atomic_add'] = { op: 'add', arity: 2, ptrArg: 1, order: 'relaxed', ret: 'none' };
  t['atomic_sub'] = { op: 'sub', arity: 2, ptrArg: 1, order: 'relaxed', ret: 'none' };
  t['atomic_and'] = { op: 'and', arity: 2, ptrArg: 1, order: 'relaxed', ret: 'none' };
  t['atomic_or'] = { op: 'or', arity: 2, ptrArg: 1, order: 'relaxed', ret: 'none' };
  t['atomic_xor'] = { op: 'xor', arity: 2, ptrArg: 1, order: 'relaxed', ret: 'none' };
  // Conditional adds: fully ordered when they add, unordered when they do not (locked on x86 either way).
  t['atomic_add_unless'] = { op: 'add_unless', arity: 3, ptrArg: 0, order: 'mb', ret: 'changed' };
  t['atomic_inc_not_zero'] = { op: 'add_unless', arity: 1, ptrArg: 0, order: 'mb', ret: 'changed' };
  return t;
})();

/** Every kernel primitive the litmus front end accepts (for docs and tests). */
export const SUPPORTED_PRIMITIVES: readonly string[] = [
  ...Object.keys(FENCES), ...Object.keys(LOADS), ...Object.keys(STORES), ...Object.keys(CONDLOADS), ...Object.keys(RMWS), ...Object.keys(SPINS),
  'local_irq_disable', 'local_irq_enable', 'raise_irq', 'membarrier', 'exit', 'kthread_use_mm', 'kthread_unuse_mm', 'text_poke',
  'fork', 'clone', 'execve', 'exec_code', 'rseq', 'wake_up', 'tgkill', 'madvise', 'munmap', 'mprotect', 'mremap', 'reclaim', 'shrink',
  'futex_wait', 'futex_wake', 'pipe_read', 'pipe_write', ...Object.keys(ARM64_INSNS),
].sort();

function unsupportedHint(fn: string): string {
  if (/^(spin_|raw_spin_)|after_spinlock|after_unlock_lock/.test(fn)) return ': of the spinlocks, spin_lock(), spin_unlock(), spin_trylock() and spin_is_locked() are modelled (--model lkmm)';
  if (/^atomic(64|_long)?_/.test(fn)) return `: this atomic operation is not modelled yet (supported: ${'atomic_read, atomic_set, atomic_inc, atomic_add_return, atomic_xchg, atomic_cmpxchg, atomic_fetch_*'}, ...; see docs/scenario-format.md)`;
  if (/rcu|srcu/.test(fn)) return ': RCU primitives are not modelled yet';
  return '';
}

function parseNum(t: Token): number {
  const s = t.text.replace(/[uUlL]+$/, '');
  const v = s.startsWith('0x') || s.startsWith('0X') ? parseInt(s.slice(2), 16) : parseInt(s, 10);
  return v;
}

export const INT_MIN = -(2 ** 31);
export const LOOP_ITERATIONS_MAX = 100_000_000; // iterations of one `loop N { }`
export const INT_MAX = 2 ** 32 - 1; // unsigned 32-bit constants are accepted and wrapped

function checkInt(v: number, span: Span): number {
  if (!Number.isSafeInteger(v) || v < INT_MIN || v > INT_MAX) {
    throw new SmpError('SMP110', `integer ${v} is outside the 32-bit range`, span);
  }
  return v | 0;
}

function comparePos(a: Span, b: Span): number {
  return a.line !== b.line ? a.line - b.line : a.col - b.col;
}

function joinCondition(toks: string[]): string {
  let out = '';
  for (const t of toks) {
    if (t === '/\\' || t === '\\/' || t === '=>' || t === '->') out += ` ${t} `;
    else if (t === '~' || t === '!') out += '~';
    else out += t;
  }
  return out.replace(/\s+/g, ' ').trim();
}

function collectObservables(p: Prop): Observable[] {
  switch (p.k) {
    case 'true':
    case 'false':
      return [];
    case 'eq':
      return [p.lhs];
    case 'not':
      return collectObservables(p.a);
    default:
      return [...collectObservables(p.a), ...collectObservables(p.b)];
  }
}

function obsKey(o: Observable): string {
  return o.k === 'reg' ? `${o.thread}:${o.reg}` : o.k === 'loc' ? `loc:${o.loc}` : `cpu${o.cpu}:${o.name}`;
}

function dedupe(xs: Observable[]): Observable[] {
  const seen = new Set<string>();
  return xs.filter((o) => {
    const k = obsKey(o);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** herd's order: registers by thread then name, then locations by name. */
export function sortObservables(xs: Observable[], threads: Thread[], locs: Location[]): Observable[] {
  const name = (o: Observable): string =>
    o.k === 'reg' ? threads[o.thread]!.regs[o.reg]!.name : o.k === 'loc' ? locs[o.loc]!.name : `cpu${o.cpu}:${o.name}`;
  const rank = { reg: 0, loc: 1, kernel: 2 } as const;
  return [...xs].sort((a, b) => {
    if (a.k !== b.k) return rank[a.k] - rank[b.k];
    if (a.k === 'reg' && b.k === 'reg' && a.thread !== b.thread) return a.thread - b.thread;
    const na = name(a);
    const nb = name(b);
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}
