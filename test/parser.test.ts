// The litmus front end: what a correct file parses into, and the coded error
// (SMPnnn, line:col) for each kind of mistake, as the library and the CLI report it.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkScenario, checkSource } from '../src/check.js';
import { parseScenario, THREADS_MAX } from '../src/scenario/parser.js';
import { directiveSettings } from '../src/scenario/directives.js';
import { errorJson, formatError, SmpError, type ErrorCode } from '../src/scenario/errors.js';
import type { Prop, Scenario, Stmt } from '../src/scenario/ast.js';
import { addrOf } from '../src/scenario/ast.js';
import { LitmusProgram } from '../src/litmus/program.js';
import { cli, litmusFiles, read } from './helpers.js';

// ---- helpers ---------------------------------------------------------------------------

/** Lines joined with '\n', so that line numbers in the tests are easy to read. */
const L = (...lines: string[]): string => lines.join('\n');

/** A one-thread scenario whose P0 body is `body` (line 6 is the first body line). */
const P0 = (body: string, cond = 'exists (0:r0=0)'): string =>
  L('C T', '{}', 'P0(int *x, int *y)', '{', '\tint r0;', body, '}', cond, '');

function thrown(f: () => unknown): SmpError {
  try {
    f();
  } catch (e) {
    if (e instanceof SmpError) return e;
    throw new assert.AssertionError({ message: `expected an SmpError, got ${(e as Error)?.stack ?? String(e)}` });
  }
  assert.fail('expected an SmpError, but nothing was thrown');
}

/** parseScenario (then directiveSettings) throws `code` at line:col; returns the error. */
function expectError(src: string, code: ErrorCode, line: number, col: number, message?: RegExp): SmpError {
  const e = thrown(() => directiveSettings(parseScenario(src, 'err.litmus')));
  assert.equal(e.code, code, `code (message: ${e.message})`);
  assert.deepEqual(e.span && { line: e.span.line, col: e.span.col }, { line, col }, `line:col of ${e.code} ${e.message}`);
  assert.equal(e.file, 'err.litmus');
  assert.ok(e.message.length > 0);
  if (message) assert.match(e.message, message);
  return e;
}

/** 1-based line and column of the first occurrence of `needle` (after `from`). */
function where(src: string, needle: string, from = 0): { line: number; col: number } {
  const i = src.indexOf(needle, from);
  assert.ok(i >= 0, `'${needle}' occurs in the source`);
  const before = src.slice(0, i);
  return { line: before.split('\n').length, col: i - before.lastIndexOf('\n') };
}

function expectErrorAt(src: string, code: ErrorCode, needle: string, message?: RegExp, from = 0): SmpError {
  const { line, col } = where(src, needle, from);
  return expectError(src, code, line, col, message);
}

/** The proposition as a compact string: and/or/not/implies over `lhs=rhs` atoms. */
function showProp(sc: Scenario, p: Prop): string {
  switch (p.k) {
    case 'true':
    case 'false':
      return p.k;
    case 'eq': {
      const lhs = p.lhs.k === 'reg' ? `${p.lhs.thread}:${sc.threads[p.lhs.thread]!.regs[p.lhs.reg]!.name}` : p.lhs.k === 'loc' ? sc.locations[p.lhs.loc]!.name : `cpu${p.lhs.cpu}:${p.lhs.name}`;
      return `${lhs}${p.neg ? '!=' : '='}${p.rhs}`;
    }
    case 'not':
      return `not(${showProp(sc, p.a)})`;
    default:
      return `${p.k}(${showProp(sc, p.a)}, ${showProp(sc, p.b)})`;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-parser-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function tmpFile(src: string, name = `t${fileNo++}.litmus`): string {
  const f = join(dir, name);
  writeFileSync(f, src);
  return f;
}

// ---- a correct file ------------------------------------------------------------------------

const FULL = L(
  'C Full+features', //                                          1
  '', //                                                         2
  '(*', //                                                       3
  ' * Result[sc]: Never', //                                     4
  ' * Result[x86]: Sometimes', //                                5
  ' * Result: Sometimes', //                                     6
  ' *', //                                                       7
  ' * Question: does the front end read every part', //         8
  ' * of this file?', //                                         9
  ' *)', //                                                     10
  '', //                                                        11
  '{ x=1; y=-2; int *p = y; 0:r1=3; 1:r2=x; }', //              12
  '', //                                                        13
  'smpcheck { bound steps 100; model sc; }', //                 14
  '', //                                                        15
  'irq ack(int *done)', //                                      16
  '{', //                                                       17
  '\tWRITE_ONCE(*done, 1);', //                                 18
  '}', //                                                       19
  '', //                                                        20
  'P0(int *x, int *y, int **p, int *done)', //                  21
  '{', //                                                       22
  '\tint r0;', //                                               23
  '\tint r1;', //                                               24
  '\tint *r2;', //                                              25
  '', //                                                        26
  '\tr0 = READ_ONCE(*x) + r1;', //                              27
  '\tr2 = READ_ONCE(*p);', //                                   28
  '\traise_irq(1, ack);', //                                    29
  '\tWRITE_ONCE(*y, r0);', //                                   30
  '}', //                                                       31
  '', //                                                        32
  'P1(int *x, int *y)', //                                      33
  '{', //                                                       34
  '\tint r0;', //                                               35
  '\tint *r2;', //                                              36
  '', //                                                        37
  '\tr0 = READ_ONCE(*y);', //                                   38
  '\tif (r0 == 4)', //                                          39
  '\t\tWRITE_ONCE(*r2, 9);', //                                 40
  '}', //                                                       41
  '', //                                                        42
  'locations [x; 0:r2; done]', //                               43
  'exists (0:r0=4 /\\ ~(1:r0=0 \\/ y=-2) /\\ (x=9 \\/ x=1))', // 44
  '',
);

test('a complete file parses: name, threads, registers, locations, inits', async () => {
  const sc = parseScenario(FULL, 'full.litmus');
  assert.equal(sc.name, 'Full+features');
  assert.equal(sc.arch, 'C');
  assert.equal(sc.file, 'full.litmus');
  assert.equal(sc.source, FULL);

  assert.deepEqual(sc.threads.map((t) => [t.id, t.name, t.params]), [
    [0, 'P0', ['x', 'y', 'p', 'done']],
    [1, 'P1', ['x', 'y']],
  ]);
  assert.deepEqual(sc.threads[0]!.span, { line: 21, col: 1, len: 2 });
  assert.deepEqual(sc.threads[1]!.span, { line: 33, col: 1, len: 2 });
  // Registers: declaration order, pointer-ness from '*', inits from the init block.
  assert.deepEqual(sc.threads[0]!.regs, [
    { name: 'r0', pointer: false, init: 0 },
    { name: 'r1', pointer: false, init: 3 },
    { name: 'r2', pointer: true, init: 0 },
  ]);
  const x = sc.locations.findIndex((l) => l.name === 'x');
  assert.deepEqual(sc.threads[1]!.regs, [
    { name: 'r0', pointer: false, init: 0 },
    { name: 'r2', pointer: true, init: addrOf(x) },
  ]);
  assert.deepEqual(sc.threads[0]!.body.map((s) => s.k), ['assign', 'assign', 'raise_irq', 'store']);
  assert.deepEqual(sc.threads[1]!.body.map((s) => s.k), ['assign', 'if']);

  // Locations: in order of first mention, with their initial values.
  assert.deepEqual(sc.locations.map((l) => l.name), ['x', 'y', 'p', 'done']);
  assert.deepEqual(sc.locations.map((l) => l.init), [1, -2, addrOf(1), 0]);
  assert.deepEqual(sc.locations.map((l) => l.pointer), [false, false, true, false]);
  assert.deepEqual(sc.locations[0]!.span, { line: 12, col: 3, len: 1 });

  // The condition and `locations [...]` decide what is observed, in herd's order.
  assert.equal(sc.condition.quantifier, 'exists');
  assert.equal(sc.condition.text, '(0:r0=4 /\\ ~(1:r0=0 \\/ y=-2) /\\ (x=9 \\/ x=1))');
  assert.equal(showProp(sc, sc.condition.prop), 'and(and(0:r0=4, not(or(1:r0=0, y=-2))), or(x=9, x=1))');
  const r = checkScenario(sc);
  assert.deepEqual(r.program.observedNames, ['0:r0', '0:r2', '1:r0', 'done', 'x', 'y']);
});

test('the header comment: Result lines become expectations, the rest is the description', async () => {
  const sc = parseScenario(FULL, 'full.litmus');
  assert.deepEqual(
    sc.expectations.map((e) => [e.key, e.result]),
    [['sc', 'Never'], ['x86', 'Sometimes'], ['', 'Sometimes']],
  );
  assert.deepEqual(sc.expectations[0]!.span, { line: 4, col: 4, len: 17 });
  assert.deepEqual(sc.expectations[2]!.span, { line: 6, col: 4, len: 17 });
  assert.equal(sc.description, 'Question: does the front end read every part\nof this file?');

  // A Result on the comment's first line: its column counts the '(*'.
  const one = parseScenario(L('C T', '  (* Result: Never *)', '{}', 'P0(int *x) { }', 'exists (x=1)'));
  assert.deepEqual(one.expectations, [{ key: '', result: 'Never', span: { line: 2, col: 6, len: 13 } }]);
  assert.equal(one.description, '');

  // All three observations, and a key for an unknown machine is kept (the suite reports it).
  const all = parseScenario(L('C T', '(*', 'Result[sc]: Always', 'Result[x86]: Sometimes', 'Result[arm]: Never', '*)', '{}', 'P0(int *x) { }', 'exists (x=1)'));
  assert.deepEqual(all.expectations.map((e) => `${e.key}:${e.result}`), ['sc:Always', 'x86:Sometimes', 'arm:Never']);

  // Only a comment before the init block is the header comment.
  const late = parseScenario(L('C T', '{}', '(* Result: Never *)', 'P0(int *x) { }', 'exists (x=1)'));
  assert.deepEqual(late.expectations, []);
  assert.equal(late.description, '');
});

test('the init block: integers, negative, hex, suffixes, unsigned wrap, commas, pointers and register inits', async () => {
  const sc = parseScenario(
    L(
      'C Inits',
      '{ a=1; b=-2, c=0x10; d=4294967295; e=2147483647; f=-2147483648; g=7UL; int *p = a; int *q = &b; atomic_t h = 3; i; 0:r1=5; 0:r2=-1; 1:r0=c; }',
      'P0(int *a) { int r0; int r1; int r2; }',
      'P1(int *b) { int *r0; }',
      'exists (0:r0=0)',
    ),
  );
  const init = Object.fromEntries(sc.locations.map((l) => [l.name, l.init]));
  const idx = (n: string): number => sc.locations.findIndex((l) => l.name === n);
  assert.deepEqual(init, {
    a: 1, b: -2, c: 16, d: -1, e: 2147483647, f: -2147483648, g: 7, p: addrOf(idx('a')), q: addrOf(idx('b')), h: 3, i: 0,
  });
  assert.equal(sc.locations[idx('p')]!.pointer, true);
  assert.equal(sc.locations[idx('q')]!.pointer, true);
  assert.equal(sc.locations[idx('h')]!.atomic, true);
  assert.equal(sc.locations[idx('a')]!.pointer, false);
  assert.deepEqual(sc.threads[0]!.regs.map((r) => r.init), [0, 5, -1]);
  assert.deepEqual(sc.threads[1]!.regs, [{ name: 'r0', pointer: true, init: addrOf(idx('c')) }]);
});

test('initial values of locations, pointers and registers are what the threads read', async () => {
  const src = L(
    'C Inits+run',
    '{ x=7; y=5; int *p = y; 0:r1=3; }',
    'P0(int *x, int **p)',
    '{',
    '\tint r0;',
    '\tint r1;',
    '\tint *r2;',
    '\tint r3;',
    '\tr0 = READ_ONCE(*x) + r1;',
    '\tr2 = READ_ONCE(*p);',
    '\tr3 = READ_ONCE(*r2);',
    '}',
    'forall (0:r0=10 /\\ 0:r2=y /\\ 0:r3=5 /\\ x=7)',
  );
  for (const model of ['sc', 'x86'] as const) {
    const r = checkSource(src, 'inits.litmus', { model });
    assert.equal(r.observation, 'Always', model);
    assert.equal(r.validated, true);
    assert.deepEqual(r.program.observedNames, ['0:r0', '0:r2', '0:r3', 'x']);
    assert.equal(r.program.formatValue(r.result.outcomes[0]!.values[1]!), 'y');
  }
});

test('quantifiers: exists, ~exists and forall', async () => {
  const sb = read(litmusFiles('scenarios').find((f) => f.endsWith('/SB.litmus'))!);
  const cond = 'exists (0:r0=0 /\\ 1:r0=0)';
  assert.ok(sb.includes(cond));
  const variants = [
    { q: cond, quantifier: 'exists', sc: false, x86: true },
    { q: '~exists (0:r0=0 /\\ 1:r0=0)', quantifier: 'not-exists', sc: true, x86: false },
    { q: '~ exists (0:r0=0 /\\ 1:r0=0)', quantifier: 'not-exists', sc: true, x86: false },
    { q: 'forall (0:r0=1 \\/ 1:r0=1)', quantifier: 'forall', sc: true, x86: false },
    { q: 'forall (~(0:r0=0 /\\ 1:r0=0))', quantifier: 'forall', sc: true, x86: false },
  ] as const;
  for (const v of variants) {
    const src = sb.replace(cond, v.q);
    const sc = parseScenario(src, 'SB.litmus');
    assert.equal(sc.condition.quantifier, v.quantifier, v.q);
    assert.equal(checkScenario(sc, { model: 'sc' }).validated, v.sc, `${v.q} on sc`);
    assert.equal(checkScenario(sc, { model: 'x86' }).validated, v.x86, `${v.q} on x86`);
  }
});

test('condition syntax: /\\ binds tighter than \\/, ~ tighter than both, parentheses, =, ==, !=, =>, true', async () => {
  const prop = (c: string): string => {
    const sc = parseScenario(L('C T', '{}', 'P0(int *x, int *y) { int r0; int r1; }', c));
    return showProp(sc, sc.condition.prop);
  };
  assert.equal(prop('exists (0:r0=1 \\/ 0:r1=2 /\\ x=1)'), 'or(0:r0=1, and(0:r1=2, x=1))');
  assert.equal(prop('exists ((0:r0=1 \\/ 0:r1=2) /\\ x=1)'), 'and(or(0:r0=1, 0:r1=2), x=1)');
  assert.equal(prop('exists (~x=1 /\\ y=1)'), 'and(not(x=1), y=1)');
  assert.equal(prop('exists ~(x=1 /\\ y=1)'), 'not(and(x=1, y=1))');
  assert.equal(prop('exists (!x=1)'), 'not(x=1)');
  assert.equal(prop('exists (0:r0 == 1 /\\ 0:r1 != 2)'), 'and(0:r0=1, 0:r1!=2)');
  assert.equal(prop('exists (x=1 /\\ y=1 /\\ 0:r0=0)'), 'and(and(x=1, y=1), 0:r0=0)');
  assert.equal(prop('exists (x=1 \\/ y=1 \\/ 0:r0=0)'), 'or(or(x=1, y=1), 0:r0=0)');
  assert.equal(prop('forall (x=1 => y=1)'), 'implies(x=1, y=1)');
  assert.equal(prop('exists (true)'), 'true');
  assert.equal(prop('exists ([x]=-1)'), 'x=-1');
  assert.equal(prop('exists (0:r0=0x10)'), '0:r0=16');
  assert.equal(prop('exists (0:r0=4294967295)'), '0:r0=-1');
  assert.equal(prop('exists (0:r0=y)'), `0:r0=${addrOf(1)}`);
  assert.equal(prop('exists x=1'), 'x=1');
});

test('smpcheck { ... } directives: parsed in order, read by directiveSettings and obeyed by the checker', async () => {
  const sc = parseScenario(FULL, 'full.litmus');
  assert.deepEqual(sc.directives, [
    { name: 'bound', args: ['steps', '100'], span: { line: 14, col: 12, len: 5 } },
    { name: 'model', args: ['sc'], span: { line: 14, col: 29, len: 5 } },
  ]);
  assert.deepEqual(directiveSettings(sc), { model: 'sc', bounds: { stepsMax: 100 }, placement: null, kthreads: new Set(), preempt: 0, preemptModel: 'none', syscallExit: 'sysret', paravirt: 'none', migratable: new Set(), pages: [], unmapped: [], clean: [] });
  const r = checkScenario(sc);
  assert.equal(r.model, 'sc');
  assert.equal(r.bounds.stepsMax, 100);
  // Options passed by the caller win over the file's directives.
  const o = checkScenario(sc, { model: 'x86', bounds: { stepsMax: 500 } });
  assert.equal(o.model, 'x86');
  assert.equal(o.bounds.stepsMax, 500);

  const more = parseScenario(L('C T', '{}', 'smpcheck {', '  bound executions 7;', '  model x86;', '}', 'P0(int *x) { }', 'exists (x=0)'));
  assert.deepEqual(directiveSettings(more), { model: 'x86', bounds: { executionsMax: 7 }, placement: null, kthreads: new Set(), preempt: 0, preemptModel: 'none', syscallExit: 'sysret', paravirt: 'none', migratable: new Set(), pages: [], unmapped: [], clean: [] });
  assert.deepEqual(directiveSettings(parseScenario(L('C T', '{}', 'smpcheck { }', 'P0(int *x) { }', 'exists (x=0)'))), { bounds: {}, placement: null, kthreads: new Set(), preempt: 0, preemptModel: 'none', syscallExit: 'sysret', paravirt: 'none', migratable: new Set(), pages: [], unmapped: [], clean: [] });
});

test('interrupt handlers: irq NAME(...) bodies, raise_irq(CPU, NAME), local_irq_disable/enable', async () => {
  const src = L(
    'C Irq', //                                  1
    '{}', //                                     2
    'P0(int *x, int *flag)', //                  3
    '{', //                                      4
    '\tint r0;', //                              5
    '\traise_irq(1, second);', //                6
    '\traise_irq(0, first);', //                 7
    '\tr0 = smp_cond_load_acquire(flag, VAL == 1);', // 8
    '}', //                                      9
    'irq first(int *x)', //                     10
    '{', //                                     11
    '\tint r5;', //                             12
    '\tr5 = READ_ONCE(*x);', //                 13
    '}', //                                     14
    'P1(int *x, int *flag)', //                 15
    '{', //                                     16
    '\tlocal_irq_disable();', //                17
    '\tWRITE_ONCE(*x, 1);', //                  18
    '\tlocal_irq_enable();', //                 19
    '}', //                                     20
    'irq second(int *flag)', //                 21
    '{', //                                     22
    '\tWRITE_ONCE(*flag, 1);', //               23
    '}', //                                     24
    'exists (0:r0=1)', //                       25
  );
  const sc = parseScenario(src, 'irq.litmus');
  assert.deepEqual(sc.handlers.map((h) => [h.id, h.name, h.params, h.regs.map((r) => r.name)]), [
    [0, 'first', ['x'], ['r5']],
    [1, 'second', ['flag'], []],
  ]);
  assert.deepEqual(sc.handlers[0]!.span, { line: 10, col: 5, len: 5 });
  const raises = sc.threads[0]!.body.filter((s): s is Extract<Stmt, { k: 'raise_irq' }> => s.k === 'raise_irq');
  assert.deepEqual(raises.map((s) => [s.cpu, s.handler, s.span.line, s.span.col]), [[1, 1, 6, 2], [0, 0, 7, 2]]);
  assert.deepEqual(sc.threads[1]!.body.map((s) => (s.k === 'irq' ? `irq:${s.enable}` : s.k)), ['irq:false', 'store', 'irq:true']);
  for (const model of ['sc', 'x86'] as const) {
    const r = checkScenario(sc, { model });
    assert.equal(r.result.complete, true);
    assert.equal(r.observation, 'Always', `the handler always sets the flag on ${model}`);
    assert.equal(r.result.deadlocks, 0);
  }
});

test('READ_ONCE(*x) inside a thread body is code, not a (* comment', async () => {
  const src = L(
    'C Star (* a comment on the header line *)',
    '(* Result: Always *)',
    '{}',
    'P0(int *x, int *y)',
    '{',
    '\tint r0;',
    '\tint r1;',
    '\t(* an OCaml comment inside the body *)',
    '\tWRITE_ONCE(*x, READ_ONCE(*y));',
    '\tr0 = (READ_ONCE(*x));',
    '\tr1 = READ_ONCE(*(y)) + READ_ONCE(*x); /* C comment (* */',
    '\t// line comment (*',
    '}',
    '(* a comment before the condition *)',
    'forall (0:r0=0 /\\ 0:r1=0)',
  );
  const sc = parseScenario(src, 'star.litmus');
  assert.equal(sc.name, 'Star');
  assert.deepEqual(sc.threads[0]!.body.map((s) => s.k), ['store', 'assign', 'assign']);
  assert.deepEqual(sc.expectations.map((e) => e.result), ['Always']);
  assert.equal(checkScenario(sc, { model: 'sc' }).verdict, 'ok');
  assert.equal(checkScenario(sc, { model: 'x86' }).verdict, 'ok');
  // Every scenario of the library reads through READ_ONCE(*x) or a friend.
  for (const f of litmusFiles('scenarios')) assert.ok(parseScenario(read(f), f).threads.length > 0);
});

// ---- lexical errors -------------------------------------------------------------------------

test('SMP002: unterminated (* and /* comments', async () => {
  const e = expectError(L('C T', '(* header comment', '{}', 'P0(int *x) { }', 'exists (x=1)'), 'SMP002', 2, 1, /"\(\*" without "\*\)"/);
  assert.equal(e.span!.len, 2);
  expectError(L('C T', '{}', 'P0(int *x) {', '\t/* open', '}', 'exists (x=1)'), 'SMP002', 4, 2, /"\/\*" without "\*\/"/);
  // Inside a body '(* ' is a comment only when closed on the same line; otherwise it is code.
  expectError(P0('\t(* note'), 'SMP100', 6, 2);
});

test('SMP001: unexpected characters and malformed numbers', async () => {
  expectError(P0('\tr0 = READ_ONCE(*x) @ 1;'), 'SMP001', 6, 21, /unexpected character '@'/);
  expectError(P0('\tr0 = $y;'), 'SMP001', 6, 7, /'\$'/);
  expectError(P0('\tr0 =\u0001 1;'), 'SMP001', 6, 6, /'\\x01'/);
  expectError(P0('\tr0 = 1;', 'exists (0:r0=é)'), 'SMP001', 8, 14, /'é'/);
  expectError(P0('\tr0 = 12abc;'), 'SMP001', 6, 7, /malformed number/);
});

// ---- syntax errors ----------------------------------------------------------------------

test('SMP100: missing ; or }, missing condition, trailing text', async () => {
  // The missing ';' is reported at the token that follows.
  expectError(P0('\tWRITE_ONCE(*x, 1)\n\tr0 = 1;'), 'SMP100', 7, 2, /expected ';' after a statement, found 'r0'/);
  expectError(P0('\tint r1\n\tr0 = 1;'), 'SMP100', 7, 2, /';' after a declaration/);
  expectError(P0('\tr0 = 1'), 'SMP100', 7, 1, /';' after an assignment, found '}'/);
  // A thread body without its '}' is reported at its '{'.
  expectError(L('C T', '{}', 'P0(int *x) {', '\tWRITE_ONCE(*x, 1);', 'exists (x=1)'), 'SMP100', 3, 12, /unterminated thread body: expected '}'/);
  expectError(L('C T', '{ x=1;'), 'SMP100', 2, 7, /unterminated init block/);
  expectError(L('C T', '{ x=1 y=2; }', 'P0(int *x) { }', 'exists (x=1)'), 'SMP100', 2, 7, /';' after an initialisation/);
  expectError(L('C T', 'P0(int *x) { }', 'exists (x=1)'), 'SMP100', 2, 1, /init block/);
  expectError(L('C T', '{}', 'exists (x=1)'), 'SMP100', 3, 1, /expected a thread/);
  expectError(L('C T', '{}', 'P0(int *x) { }', ''), 'SMP100', 4, 1, /final condition .*end of the file/);
  expectError(L('C T', '{}', 'P0(int *x) { }', 'exists (x=1) foo'), 'SMP100', 4, 14, /unexpected 'foo' after the final condition/);
  expectError(L('C T', '{}', 'P0(int *x) { }', 'exists (x=1'), 'SMP100', 4, 12, /'\)' in the condition/);
  expectError(L('C T', '{}', 'P0(int *x) { }', 'exists (x<1)'), 'SMP100', 4, 10, /expected '=' or '!='/);
});

test('SMP003: empty file or no header line', async () => {
  expectError('', 'SMP003', 1, 1);
  expectError('   \n\n  ', 'SMP003', 1, 1);
  expectError('C', 'SMP003', 1, 1);
});

// ---- name errors ---------------------------------------------------------------------------

test('SMP102: undeclared registers, VAL outside smp_cond_load_*()', async () => {
  expectError(P0('\tr1 = READ_ONCE(*x);'), 'SMP102', 6, 2, /undeclared register 'r1'/);
  expectError(P0('\tr0 = r7 + 1;'), 'SMP102', 6, 7, /unknown name 'r7'/);
  expectError(P0('\tr0 = 1;', 'exists (0:r5=1)'), 'SMP102', 8, 11, /P0 has no register 'r5'/);
  expectError(L('C T', '{ 0:r7=1; }', 'P0(int *x) { int r0; }', 'exists (x=1)'), 'SMP102', 2, 5, /P0 has no register 'r7'/);
  expectError(P0('\tr0 = VAL;'), 'SMP102', 6, 7, /'VAL'/);
});

test('SMP101: unknown shared locations in the condition and in &name', async () => {
  expectError(P0('\tr0 = 1;', 'exists (z=1)'), 'SMP101', 8, 9, /unknown shared location 'z'/);
  expectError(P0('\tr0 = 1;', 'exists (0:r0=0 /\\ [w]=1)'), 'SMP101', 8, 20, /'w'/);
  expectError(P0('\tr0 = 1;', 'exists (0:r0=z)'), 'SMP101', 8, 14, /'z'/);
  expectError(P0('\tr0 = 1;', 'locations [q]\nexists (0:r0=1)'), 'SMP101', 8, 12, /'q'/);
  expectError(P0('\tr0 = &z;'), 'SMP101', 6, 8, /not a parameter of this thread/);
});

test('SMP104: raise_irq to an unknown CPU or handler, unknown threads', async () => {
  const irq = (raise: string): string => L('C T', '{}', 'irq h(int *x) { }', 'P0(int *x) {', `\t${raise}`, '}', 'P1(int *x) { }', 'exists (x=1)');
  // Which CPUs exist is known once the placement is: the program checks it, at the CPU argument.
  const e = thrown(() => new LitmusProgram(parseScenario(irq('raise_irq(2, h);'), 'err.litmus'), 'x86'));
  assert.equal(e.code, 'SMP104');
  assert.deepEqual([e.span?.line, e.span?.col], [5, 12]);
  assert.match(e.message, /unknown CPU 2: the scenario has CPUs 0\.\.1/);
  expectError(irq('raise_irq(99999999999999999999, h);'), 'SMP104', 5, 12, /unknown CPU/);
  expectError(irq('raise_irq(1, g);'), 'SMP104', 5, 15, /unknown interrupt handler 'g'/);
  expectError(L('C T', '{}', 'P0(int *x) { raise_irq(0, h); }', 'exists (x=1)'), 'SMP104', 3, 27, /unknown interrupt handler 'h'/);
  expectError(P0('\tr0 = 1;', 'exists (5:r0=1)'), 'SMP104', 8, 9, /unknown thread 5/);
  expectError(L('C T', '{ 3:r0=1; }', 'P0(int *x) { int r0; }', 'exists (x=1)'), 'SMP104', 2, 5, /unknown thread 3/);
});

test('kernel observables: cpuN:NAME in the condition; unknown names and CPUs are coded errors', async () => {
  const sc = parseScenario(P0('\tr0 = membarrier(MEMBARRIER_CMD_QUERY, 0, 0);', 'exists (cpu0:ipi_mb=0 /\\ 0:r0=0 /\\ ~cpu0:membarrier_state=1)'), 'T.litmus');
  assert.deepEqual(sc.observed.map((o) => (o.k === 'kernel' ? `cpu${o.cpu}:${o.name}` : o.k)), ['reg', 'cpu0:ipi_mb', 'cpu0:membarrier_state']);
  assert.equal(sc.usesKernel, true);
  expectError(P0('\tr0 = 1;', 'exists (cpu0:ipi_foo=0)'), 'SMP101', 8, 14, /unknown kernel observable 'ipi_foo' \(ipi_mb, ipi_sync_core/);
  const e = thrown(() => new LitmusProgram(parseScenario(P0('\tr0 = 1;', 'exists (cpu3:ipis=0)'), 'err.litmus'), 'x86'));
  assert.equal(e.code, 'SMP104');
  assert.deepEqual(e.span && { line: e.span.line, col: e.span.col }, { line: 8, col: 9 });
  assert.match(e.message, /unknown CPU 3 in 'cpu3:ipis': the scenario has CPUs 0\.\.0/);
  expectError(P0('\tr0 = 1;', 'exists (cpu99999:ipis=0)'), 'SMP104', 8, 9, /unknown CPU 'cpu99999'/);
  expectError(P0('\tr0 = 1;', 'exists (cpu0:=0)'), 'SMP100', 8, 14, /kernel observable/);
});

test('rseq critical sections and code locations: coded errors with locations', async () => {
  const body = (b: string): string => L('C T', '{}', 'P0(int *x, int *y)', '{', '\tint r0;', b, '}', 'exists (x=0)', '');
  const ok = parseScenario(body('\trseq {\n\t\tr0 = READ_ONCE(*x);\n\t\trseq_commit(y, r0);\n\t} abort {\n\t\tr0 = 2;\n\t}'), 'T.litmus');
  const st = ok.threads[0]!.body[0]!;
  assert.equal(st.k, 'rseq');
  assert.equal(ok.usesKernel, true);
  expectError(body('\trseq {\n\t\tr0 = READ_ONCE(*x);\n\t} abort {\n\t}'), 'SMP109', 6, 2, /ends with its commit store/);
  expectError(body('\trseq_commit(y, 1);'), 'SMP109', 6, 2, /last statement of an rseq critical section/);
  expectError(body('\trseq {\n\t\trseq_commit(y, 1);\n\t}'), 'SMP100', 9, 1, /expected 'abort \{ \.\.\. \}'/);
  expectError(body('\trseq {\n\t\texit(0);\n\t\trseq_commit(y, 1);\n\t} abort {\n\t}'), 'SMP103', 7, 3, /system calls inside an rseq critical section/);
  expectError(body('\trseq {\n\t\trseq {\n\t\t\trseq_commit(y, 1);\n\t\t} abort {\n\t\t}\n\t\trseq_commit(y, 1);\n\t} abort {\n\t}'), 'SMP103', 7, 3, /do not nest/);
  expectError(body('\tr0 = exec_code(x + 1);'), 'SMP109', 6, 7, /exec_code\(\) takes a location parameter/);
});

// ---- unsupported constructs ------------------------------------------------------------------------

test('SMP103: unsupported kernel calls are named in the message', async () => {
  const cases: [string, RegExp][] = [
    ['\traw_spin_lock(l);', /^raw_spin_lock\(\) is not supported: of the spinlocks, spin_lock\(\), spin_unlock\(\), spin_trylock\(\) and spin_is_locked\(\) are modelled \(--model lkmm\)$/],
    ['\tspin_lock_irq(l);', /^spin_lock_irq\(\) .*spinlocks/],
    ['\traw_spin_lock_irqsave(l, f);', /^raw_spin_lock_irqsave\(\) .*spinlocks/],
    ['\tcall_rcu(h, f);', /^call_rcu\(\) is not supported: RCU primitives are not modelled yet$/],
    ['\tcleanup_srcu_struct(s);', /^cleanup_srcu_struct\(\) .*RCU/],
    ['\tsrcu_barrier(s);', /^srcu_barrier\(\) .*RCU/],
    ['\tr0 = frobnicate(x);', /^frobnicate\(\) is not supported$/],
  ];
  for (const [body, msg] of cases) {
    const col = body.search(/[a-z]+_?[a-z_]*\(/) + 1;
    expectError(P0(body), 'SMP103', 6, col, msg);
  }
  // Also as the value of an assignment.
  expectError(P0('\tr0 = srcu_read_lock_nmisafe(s);'), 'SMP103', 6, 7, /srcu_read_lock_nmisafe\(\)/);
});

test('SMP103: loops, return, plain pointer accesses, unsupported types, filter, other architectures', async () => {
  expectError(P0('\twhile (READ_ONCE(*x) == 0) { }'), 'SMP103', 6, 2, /'while' loops are not supported.*smp_cond_load_acquire/);
  expectError(P0('\tfor (;;) { }'), 'SMP103', 6, 2, /'for' loops/);
  expectError(P0('\tdo { } while (0);'), 'SMP103', 6, 2, /'do' loops/);
  expectError(P0('\treturn;'), 'SMP103', 6, 2, /'return'/);
  expectError(P0('\tx = 1;'), 'SMP103', 6, 2, /assignment to the pointer parameter 'x'/);
  expectError(P0('\tstruct foo *f;'), 'SMP103', 6, 2, /type 'struct'/);
  expectError(P0('\tr0 = 1;', 'filter (x=1)\nexists (0:r0=1)'), 'SMP103', 8, 1, /'filter' on a value the condition and the 'locations' clause do not name/);
  // herd's other front ends: the header names the architecture.
  expectError(L('X86 SB', '"Fre PodWR Fre PodWR"', '{ x=0; y=0; }', ' P0          | P1          ;', ' MOV [x],$1  | MOV [y],$1  ;'), 'SMP103', 1, 1, /architecture 'X86' is not supported/);
  expectError(L('', '  AArch64 MP', '{}'), 'SMP103', 2, 3, /'AArch64'/);
});

// ---- definitions ---------------------------------------------------------------------------------------

test('SMP105: duplicate threads, handlers, registers, parameters; reserved names', async () => {
  expectError(L('C T', '{}', 'P0(int *x) { }', 'P1(int *x) { }', 'P0(int *y) { }', 'exists (x=1)'), 'SMP105', 5, 1, /thread P0 is defined twice/);
  expectError(L('C T', '{}', 'irq h(int *x) { }', 'irq h(int *x) { }', 'P0(int *x) { }', 'exists (x=1)'), 'SMP105', 4, 5, /handler 'h' is defined twice/);
  expectError(P0('\tint r0;'), 'SMP105', 6, 6, /'r0' is declared twice/);
  expectError(L('C T', '{}', 'P0(int *x, int *x) { }', 'exists (x=1)'), 'SMP105', 3, 17, /parameter 'x' is declared twice/);
  expectError(L('C T', '{ exists=1; }', 'P0(int *x) { }', 'exists (x=1)'), 'SMP105', 2, 3, /'exists' is reserved/);
  expectError(L('C T', '{}', 'P0(int *P1) { }', 'exists (x=1)'), 'SMP105', 3, 9, /'P1' is reserved/);
});

test('SMP106: threads are numbered P0, P1, ... without gaps', async () => {
  expectError(L('C T', '{}', 'P0(int *x) { }', 'P2(int *x) { }', 'exists (x=1)'), 'SMP106', 4, 1, /thread P1 is missing/);
  expectError(L('C T', '{}', 'P1(int *x) { }', 'exists (x=1)'), 'SMP106', 3, 1, /thread P0 is missing/);
  // Order of definition does not matter.
  const sc = parseScenario(L('C T', '{}', 'P1(int *y) { }', 'P0(int *x) { }', 'exists (x=0)'));
  assert.deepEqual(sc.threads.map((t) => t.name), ['P0', 'P1']);
});

test('SMP107: malformed Result lines in the header', async () => {
  const hdr = (...lines: string[]): string => L('C T', '(*', ...lines, ' *)', '{}', 'P0(int *x) { }', 'exists (x=1)');
  expectError(hdr(' * Result: Perhaps'), 'SMP107', 3, 4, /expected 'Never', 'Sometimes', 'Always', 'Maybe', 'Assertion', 'Deadlock' or 'DEADLOCK' after 'Result:', found 'Perhaps'/);
  expectError(hdr(' * Result: DEADLOCK DATARACE'), 'SMP107', 3, 4, /'DATARACE' follows an observation/);
  expectError(hdr(' * Result: Sometimes RACE'), 'SMP107', 3, 1, /malformed expectation/);
  expectError(hdr(' * Result[x86]: never'), 'SMP107', 3, 4, /after 'Result\[x86\]:', found 'never'/);
  expectError(hdr(' * Result:'), 'SMP107', 3, 4, /found ''/);
  expectError(hdr(' * Result Never'), 'SMP107', 3, 1, /malformed expectation/);
  expectError(hdr(' * Result: Never because of the barrier'), 'SMP107', 3, 1, /malformed expectation/);
  expectError(hdr(' * Result[sc]: Never', ' * Result[sc]: Always'), 'SMP107', 4, 4, /'Result\[sc\]' is stated twice/);
  expectError(hdr(' * Result[s;c]: Never'), 'SMP107', 3, 4, /malformed expectation key/);
});

test('SMP108: unknown, reserved and malformed directives', async () => {
  const dirs = (d: string): string => L('C T', '{}', `smpcheck { ${d} }`, 'P0(int *x) { }', 'exists (x=1)');
  // Reserved and unknown directives parse, and directiveSettings refuses them.
  const reserved = dirs('kernel v6.18;');
  assert.equal(parseScenario(reserved).directives[0]!.name, 'kernel');
  expectError(reserved, 'SMP108', 3, 12, /directive 'kernel' is reserved for the kernel model/);
  for (const name of ['variant', 'process', 'task', 'sched', 'mm']) {
    expectError(dirs(`${name} 1;`), 'SMP108', 3, 12, new RegExp(`'${name}' is reserved`));
  }
  expectError(dirs('frobnicate;'), 'SMP108', 3, 12, /unknown directive 'frobnicate'/);
  expectError(dirs('model sc; model arm;'), 'SMP108', 3, 22, /'model' takes one of: sc, x86/);
  expectError(dirs('model;'), 'SMP108', 3, 12, /'model' takes/);
  expectError(dirs('bound steps 0;'), 'SMP108', 3, 12, /positive integer/);
  expectError(dirs('bound steps 100000001;'), 'SMP108', 3, 12, /positive integer/);
  expectError(dirs('bound steps -5;'), 'SMP108', 3, 12, /positive integer/);
  expectError(dirs('bound executions;'), 'SMP108', 3, 12, /positive integer/);
  expectError(dirs('bound states 5;'), 'SMP108', 3, 12, /unknown bound 'states'/);
  expectError(dirs('preempt 4;'), 'SMP108', 3, 12, /'preempt' takes the number of timer ticks per CPU, 0 to 3/);
  expectError(dirs('preempt -1;'), 'SMP108', 3, 12, /'preempt' takes/);
  expectError(dirs('preempt;'), 'SMP108', 3, 12, /'preempt' takes/);
  expectError(dirs('preempt 1;'), 'SMP108', 3, 12, /'preempt' needs a CPU that runs several tasks/);
  // A directive without its ';' is refused by the parser itself.
  const e = thrown(() => parseScenario(dirs('model sc'), 'err.litmus'));
  assert.equal(e.code, 'SMP108');
  assert.deepEqual([e.span!.line, e.span!.col], [3, 21]);
  // The checker refuses them too, before any search.
  assert.equal(thrown(() => checkSource(reserved, 'k.litmus')).code, 'SMP108');
});

// ---- values and limits -------------------------------------------------------------------------------

test('SMP110: integers outside the 32-bit range', async () => {
  expectError(L('C T', '{ x=4294967296; }', 'P0(int *x) { }', 'exists (x=1)'), 'SMP110', 2, 5, /integer 4294967296 is outside the 32-bit range/);
  expectError(L('C T', '{ x=-2147483649; }', 'P0(int *x) { }', 'exists (x=1)'), 'SMP110', 2, 6, /-2147483649/);
  expectError(P0('\tr0 = 99999999999;'), 'SMP110', 6, 7, /99999999999/);
  expectError(P0('\tr0 = 0x100000000;'), 'SMP110', 6, 7, /4294967296/);
  expectError(P0('\tr0 = 1;', 'exists (0:r0=4294967296)'), 'SMP110', 8, 14, /outside the 32-bit range/);
  expectError(P0('\tr0 = 1;', 'exists (0:r0=-x)'), 'SMP110', 8, 15, /expected a value/);
  expectError(L('C T', '{ x=-y; }', 'P0(int *x) { }', 'exists (x=1)'), 'SMP110', 2, 6, /expected an integer or a location name/);
  // The edges are accepted.
  const sc = parseScenario(L('C T', '{ a=2147483647; b=-2147483648; c=4294967295; }', 'P0(int *a) { }', 'exists (a=0)'));
  assert.deepEqual(sc.locations.map((l) => l.init), [2147483647, -2147483648, -1]);
});

test(`SMP111: more than ${THREADS_MAX} threads and other limits`, async () => {
  const threads = (n: number): string =>
    L('C T', '{}', ...Array.from({ length: n }, (_, i) => `P${i}(int *x) { WRITE_ONCE(*x, ${i}); }`), 'exists (x=1)');
  assert.equal(parseScenario(threads(THREADS_MAX)).threads.length, THREADS_MAX);
  expectError(threads(THREADS_MAX + 1), 'SMP111', 3 + THREADS_MAX, 1, new RegExp(`more than ${THREADS_MAX} threads`));
  expectError(threads(12), 'SMP111', 3 + THREADS_MAX, 1);

  const handlers = L('C T', '{}', ...Array.from({ length: 9 }, (_, i) => `irq h${i}(int *x) { }`), 'P0(int *x) { }', 'exists (x=1)');
  expectError(handlers, 'SMP111', 11, 5, /more than 8 interrupt handlers/);
  const locs = L('C T', `{ ${Array.from({ length: 65 }, (_, i) => `v${i};`).join(' ')} }`, 'P0(int *x) { }', 'exists (x=1)');
  expectErrorAt(locs, 'SMP111', 'v64', /more than 64 shared locations/);
  const regs = L('C T', '{}', `P0(int *x) { ${Array.from({ length: 65 }, (_, i) => `int r${i};`).join(' ')} }`, 'exists (x=1)');
  expectErrorAt(regs, 'SMP111', 'r64', /more than 64 registers/);
  // Nesting: blocks, parentheses, if/else chains and the condition.
  expectError(P0(`\t${'{'.repeat(40)}${'}'.repeat(40)}`), 'SMP111', 6, 34, /nesting deeper than 32 levels/);
  expectError(P0(`\tr0 = ${'('.repeat(40)}1${')'.repeat(40)};`), 'SMP111', 6, 23, /nesting deeper/);
  expectError(P0(`\tr0 = ${'-'.repeat(40)}1;`), 'SMP111', 6, 38, /nesting deeper/);
  expectError(P0(`\t${'if (r0) '.repeat(40)}r0 = 1;`), 'SMP111', 6, 262, /nesting deeper/);
  expectError(P0('\tr0 = 1;', `exists ${'('.repeat(40)}x=1${')'.repeat(40)}`), 'SMP111', 8, 41, /condition nested deeper than 32/);
  // A file over the size limit is refused before it is read.
  expectError(`C T\n${' '.repeat(1_000_001)}`, 'SMP111', 1, 1, /longer than 1000000 characters/);
});

test('SMP109: type errors in calls and parameters', async () => {
  expectError(L('C T', '{}', 'P0(int x) { }', 'exists (x=1)'), 'SMP109', 3, 8, /must be a pointer/);
  expectError(P0('\tr0 = READ_ONCE(x);'), 'SMP109', 6, 17, /READ_ONCE\(\) takes a dereference/);
  expectError(P0('\tr0 = smp_load_acquire(*x);'), 'SMP109', 6, 24, /takes a pointer, not a dereference/);
  expectError(P0('\tr0 = READ_ONCE(*x, 1);'), 'SMP109', 6, 19, /takes 1 argument/);
  expectError(P0('\tr0 = smp_mb();'), 'SMP109', 6, 7, /has no value/);
  expectError(L('C T', '{}', 'irq h(int *x) { }', 'P0(int *x) { int r0; raise_irq(r0, h); }', 'exists (x=1)'), 'SMP109', 4, 32, /constant CPU number/);
});

// ---- formatError ----------------------------------------------------------------------------------

test('formatError: the source line and a caret under the column, on a line with tabs', async () => {
  // Line 6 starts with a tab and has a second tab before the offending character.
  const src = P0('\tr0 =\t1 @ 2;');
  const e = thrown(() => parseScenario(src, 'dir/tab.litmus'));
  assert.equal(e.code, 'SMP001');
  assert.deepEqual(e.span, { line: 6, col: 9, len: 1 });
  const lines = formatError(e, src).split('\n');
  assert.equal(lines.length, 4);
  assert.ok(lines[0]!.startsWith('dir/tab.litmus:6:9'), lines[0]);
  assert.ok(lines[0]!.endsWith(" error[SMP001] unexpected character '@'"), lines[0]);
  // Tabs print as one space each, so the caret stays under its character.
  assert.deepEqual(lines.slice(1), ['  |', '6 |  r0 = 1 @ 2;', '  |         ^']);
  assert.equal(lines[2]![lines[3]!.indexOf('^')], '@');

  // A multi-character span is underlined in full; a two-digit line widens the gutter.
  const src2 = L('C T', '', '', '', '', '', '', '', '', '{}', 'P0(int *x) {', '\tint r0;', '\t\tr0 = READ_ONCE(*x) + r9;', '}', 'exists (x=1)');
  const e2 = thrown(() => parseScenario(src2, 'wide.litmus'));
  assert.equal(e2.code, 'SMP102');
  assert.deepEqual([e2.span!.line, e2.span!.col, e2.span!.len], [13, 24, 2]);
  const lines2 = formatError(e2, src2).split('\n');
  assert.ok(lines2[0]!.startsWith('wide.litmus:13:24'), lines2[0]);
  assert.ok(lines2[0]!.endsWith(" error[SMP102] unknown name 'r9': not a register or a parameter of this thread"), lines2[0]);
  assert.deepEqual(lines2.slice(1), ['   |', '13 |   r0 = READ_ONCE(*x) + r9;', `   | ${' '.repeat(23)}^^`]);
  const at = lines2[3]!.indexOf('^');
  assert.equal(lines2[2]!.slice(at, at + 2), 'r9');

  // Without the source: only the first line. Without a span: no line:col.
  assert.equal(formatError(new SmpError(e.code, e.message, e.span, e.file)), lines[0]);
  assert.match(formatError(new SmpError('SMP004', "cannot read 'x'", undefined, 'x')), /^x:? error\[SMP004\] cannot read 'x'$/);
  assert.match(formatError(new SmpError('SMP200', 'bad flag')), /^smpcheck:? error\[SMP200\] bad flag$/);
  assert.deepEqual(errorJson(e), { error: 'SMP001', message: "unexpected character '@'", file: 'dir/tab.litmus', line: 6, col: 9 });
});

// The brief for these tests specifies the compiler-style header `file:line:col: error[SMPnnn] message`
// (what formatError printed until commit 01b5b76, and what editors' problem matchers expect);
// src/scenario/errors.ts and docs/cli.md now print and document `file:line:col error[SMPnnn] message`.
test('formatError: the first line is `file:line:col error[SMPnnn] message`', async () => {
  const src = P0('\tr0 =\t1 @ 2;');
  const e = thrown(() => parseScenario(src, 'dir/tab.litmus'));
  assert.equal(
    formatError(e, src),
    ["dir/tab.litmus:6:9 error[SMP001] unexpected character '@'", '  |', '6 |  r0 = 1 @ 2;', '  |         ^'].join('\n'),
  );
});

// ---- run-time errors -----------------------------------------------------------------------------

test('run-time errors: division by zero is SMP301 at the operator', async () => {
  const src = P0('\tint r1;\n\tr0 = READ_ONCE(*x);\n\tr1 = 5 / r0;', 'exists (0:r1=0)');
  for (const model of ['sc', 'x86'] as const) {
    const e = thrown(() => checkSource(src, 'div.litmus', { model }));
    assert.equal(e.code, 'SMP301', model);
    assert.match(e.message, /division by zero/);
    assert.equal(e.file, 'div.litmus');
    assert.deepEqual([e.span!.line, e.span!.col], [8, 9]);
  }
  const rem = thrown(() => checkSource(P0('\tint r1;\n\tr1 = 5 % r0;', 'exists (0:r1=0)'), 'rem.litmus'));
  assert.equal(rem.code, 'SMP301');
  assert.match(rem.message, /remainder/);
  // The file parses: the error is found by running it.
  assert.doesNotThrow(() => parseScenario(src));
});

test('run-time errors: dereferencing an integer is SMP303, pointer arithmetic is SMP302', async () => {
  const deref = P0('\tint *r1;\n\tr1 = 5;\n\tr0 = READ_ONCE(*r1);');
  for (const model of ['sc', 'x86'] as const) {
    const e = thrown(() => checkSource(deref, 'deref.litmus', { model }));
    assert.equal(e.code, 'SMP303');
    assert.match(e.message, /dereference of the integer 5/);
    assert.deepEqual([e.span!.line, e.span!.col], [8, 7]);
  }
  // A register initialised to 0 is not a pointer either.
  assert.equal(thrown(() => checkSource(P0('\tint *r1;\n\tWRITE_ONCE(*r1, 1);'), 'null.litmus')).code, 'SMP303');
  const arith = thrown(() => checkSource(P0('\tr0 = x + 1;'), 'arith.litmus'));
  assert.equal(arith.code, 'SMP302');
  assert.deepEqual([arith.span!.line, arith.span!.col], [6, 9]);
});

// ---- the CLI -------------------------------------------------------------------------------------

test('CLI: a malformed file exits 1 with a located error and a caret, and no stack trace', async () => {
  const file = tmpFile(P0('\tWRITE_ONCE(*x, 1)\n\tr0 = 1;'), 'missing-semi.litmus');
  const r = await cli([file]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.ok(r.err.startsWith(`${file}:7:2`), r.err);
  assert.ok(r.err.split('\n')[0]!.endsWith(" error[SMP100] expected ';' after a statement, found 'r0'"), r.err);
  assert.match(r.err, /error\[SMP/);
  assert.match(r.err, /\n7 \|  r0 = 1;\n  \|  \^\^\n$/);
  assert.ok(!r.err.includes('    at '), r.err);

  // The explicit 'check' command behaves the same.
  assert.deepEqual(await cli(['check', file, '--no-time']), r);
});

test('CLI --json: the error is a JSON object on stdout', async () => {
  const file = tmpFile(P0('\traw_spin_lock(l);'), 'spin.litmus');
  const r = await cli(['check', '--json', file]);
  assert.equal(r.code, 1);
  assert.match(r.err, /error\[SMP103\] raw_spin_lock\(\)/);
  assert.ok(!r.err.includes('    at '), r.err);
  const obj = JSON.parse(r.out.trim()) as Record<string, unknown>;
  assert.deepEqual(obj, {
    error: 'SMP103',
    message: 'raw_spin_lock() is not supported: of the spinlocks, spin_lock(), spin_unlock(), spin_trylock() and spin_is_locked() are modelled (--model lkmm)',
    file,
    line: 6,
    col: 2,
  });
});

test('CLI: lexer, header, directive and run-time errors all exit 1 without a stack trace', async () => {
  const cases: [string, string, RegExp][] = [
    [L('C T', '(* open', '{}'), 'SMP002', /:2:1:? error\[SMP002\]/],
    ['', 'SMP003', /:1:1:? error\[SMP003\]/],
    [L('X86 SB', '{}'), 'SMP103', /:1:1:? error\[SMP103\] architecture 'X86'/],
    [L('C T', '{}', 'smpcheck { kernel v6.18; }', 'P0(int *x) { }', 'exists (x=1)'), 'SMP108', /:3:12:? error\[SMP108\]/],
    [P0('\tint r1;\n\tr1 = 5 / r0;', 'exists (0:r1=0)'), 'SMP301', /:7:9:? error\[SMP301\] division by zero/],
    [P0('\tint *r1;\n\tr0 = READ_ONCE(*r1);'), 'SMP303', /:7:7:? error\[SMP303\]/],
  ];
  for (const [src, code, re] of cases) {
    const file = tmpFile(src);
    const r = await cli([file, '--model', 'all']);
    assert.equal(r.code, 1, `${code}: ${r.err}`);
    assert.match(r.err, re);
    assert.ok(r.err.includes(`error[${code}]`));
    assert.ok(!r.err.includes('    at '), r.err);
    if (code !== 'SMP003') assert.match(r.err, /\n +\| +\^+\n/, `caret line for ${code}`);
  }
  const missing = await cli([join(dir, 'no-such-file.litmus')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /error\[SMP004\] cannot read/);
});

test('CLI: a correct file exits 0', async () => {
  const sb = litmusFiles('scenarios').find((f) => f.endsWith('/SB.litmus'))!;
  const r = await cli([tmpFile(read(sb)), '--no-time', '--model', 'all']);
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  assert.match(r.out, /^Test SB Allowed/);
});

// ---- known bugs (see the report): crashes instead of coded errors ----------------------------------------

/** The input must be refused with some SmpError, by the library and by the CLI (no exit 70). */
async function refusedCleanly(src: string, codes: ErrorCode[]): Promise<void> {
  let e: unknown;
  try {
    checkSource(src, 'bug.litmus', { model: 'x86' });
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof SmpError, `expected an SmpError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  assert.ok(codes.includes(e.code), `expected one of ${codes.join(', ')}, got ${e.code}: ${e.message}`);
  const r = await cli([tmpFile(src), '--model', 'x86']);
  assert.equal(r.code, 1, r.err.slice(0, 300));
  assert.ok(!r.err.includes('    at '), r.err.slice(0, 300));
}

test('a chain of 50000 ~ in the condition is SMP111, not a stack overflow', async () => {
  await refusedCleanly(P0('\tr0 = 1;', `exists (${'~'.repeat(50_000)}0:r0=1)`), ['SMP111']);
});

test('a condition with 50000 conjuncts is refused or checked, not a stack overflow', async () => {
  const src = P0('\tr0 = 1;', `exists (${Array<string>(50_000).fill('0:r0=1').join(' /\\ ')})`);
  let e: unknown = null;
  try {
    checkSource(src, 'and.litmus', { model: 'sc' });
  } catch (err) {
    e = err;
  }
  assert.ok(e === null || e instanceof SmpError, String(e));
});

test('5000 nested calls xchg(x, xchg(x, ...)) are SMP111, not a stack overflow', async () => {
  await refusedCleanly(P0(`\tr0 = ${'xchg(x, '.repeat(5000)}1${')'.repeat(5000)};`), ['SMP111']);
});

test('a chain of 100000 ?: is SMP111, not a stack overflow', async () => {
  await refusedCleanly(P0(`\tr0 = ${'1?1:'.repeat(100_000)}1;`), ['SMP111']);
});

test('an expression with 50000 terms 1+1+... is refused or checked, not a stack overflow at run time', async () => {
  const src = P0(`\tr0 = ${Array<string>(50_000).fill('1').join('+')};`, 'exists (0:r0=50000)');
  let e: unknown = null;
  let verdict = '';
  try {
    verdict = checkSource(src, 'sum.litmus', { model: 'sc' }).verdict;
  } catch (err) {
    e = err;
  }
  assert.ok(e === null ? verdict === 'ok' : e instanceof SmpError, String(e));
});

test("raise_irq(0x, h): a malformed CPU number is a coded error, not an internal one", async () => {
  await refusedCleanly(L('C T', '{}', 'irq h(int *x) { }', 'P0(int *x) { raise_irq(0x, h); }', 'exists (x=1)'), ['SMP001', 'SMP104', 'SMP109', 'SMP110']);
});

test("'0x' without digits is a malformed number (SMP001), not 'integer NaN'", async () => {
  expectError(P0('\tr0 = 0x;'), 'SMP001', 6, 7, /malformed number/);
});
