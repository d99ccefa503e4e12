// Fuzzing the litmus front end and the checker behind it. Mutated library files,
// near-valid generated programs and random strings must either check (with a
// verdict) or be refused with a coded SmpError. Any other exception (TypeError,
// RangeError, an 'internal:' Error...) is a bug. The CLI must never exit 70 nor
// print a stack trace. Seeds are fixed, so every run sees the same inputs; each
// test prints how its inputs ended (verdicts and error codes) as a diagnostic
// (FUZZ_VERBOSE=1 adds the messages). The whole file runs in about two minutes (the runs per property are set by that budget).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkSource } from '../src/check.js';
import { SmpError } from '../src/scenario/errors.js';
import { cli, litmusFiles, read } from './helpers.js';

const SOURCES: string[] = litmusFiles('scenarios').map(read);

const MODELS = ['sc', 'x86'] as const;
const VERDICTS = new Set(['ok', 'violation', 'liveness', 'incomplete']);
const BOUNDS = { stepsMax: 200, executionsMax: 2000 };

// ---- generators ----------------------------------------------------------------------

const TOKENS = [
  '{', '}', '(', ')', '[', ']', ';', ',', '*', '&', '=', '==', '!=', ':', '-', '+', '/', '%', '?',
  'P0', 'P1', 'P2', 'P7', 'P8', 'P9', 'P01', 'exists', '~exists', 'forall', 'filter', 'locations', 'smpcheck', 'irq',
  'int', 'int *', 'int **', 'atomic_t', 'spinlock_t', 'VAL', 'NULL', 'true', 'false', 'if', 'else', 'while', 'return',
  'smp_mb();', 'smp_wmb();', 'smp_rmb();', 'READ_ONCE(*x)', 'WRITE_ONCE(*x, 1);', 'READ_ONCE(*y)', 'WRITE_ONCE(*y, r0);',
  'smp_load_acquire(x)', 'smp_store_release(y, 1);', 'xchg(x, 2)', 'cmpxchg(y, 0, 1)', 'atomic_inc(x);',
  'smp_cond_load_acquire(x, VAL == 1)', 'raise_irq(0, h);', 'raise_irq(1, h);', 'raise_irq(9, h);',
  'local_irq_disable();', 'local_irq_enable();', 'irq h(int *x) { WRITE_ONCE(*x, 1); }',
  'spin_lock(l);', 'rcu_read_lock();', 'membarrier();',
  '/\\', '\\/', '~', '!', '=>', '(*', '*)', '/*', '*/', '//', '\n', '\t', ' ',
  '0', '1', '2', '-1', '0x10', '0x', '1UL', '42', '2147483647', '2147483648', '4294967295', '4294967296',
  '-2147483648', '-2147483649', '99999999999999999999', '0xffffffffffffffffffff', '1e3', '1abc',
  'x', 'y', 'z', 'r0', 'r1', 'r9', '0:r0', '1:r0', '5:r0', 'foo', '_', 'C', 'X86',
  'Result: Never', 'Result[sc]: Perhaps', 'Result[x86]: Sometimes', 'Result:', 'bound steps 1;', 'model sc;', 'kernel v6.18;',
];

type Mutation =
  | { k: 'delete'; at: number; len: number }
  | { k: 'dup'; at: number; len: number; to: number }
  | { k: 'chars'; at: number; s: string }
  | { k: 'tokens'; at: number; toks: string[] }
  | { k: 'swap'; a: number; b: number; len: number }
  | { k: 'repeat'; at: number; len: number; times: number; line: boolean };

const pos = fc.noBias(fc.nat({ max: 1_000_000 }));
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constant('dup' as const), at: pos, len: fc.integer({ min: 1, max: 80 }), to: pos }),
  fc.record({ k: fc.constant('chars' as const), at: pos, s: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 6 }) }),
  fc.record({
    k: fc.constant('tokens' as const),
    at: pos,
    toks: fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 5 }),
  }),
  fc.record({ k: fc.constant('swap' as const), a: pos, b: pos, len: fc.integer({ min: 1, max: 30 }) }),
);

function applyMutation(src: string, m: Mutation): string {
  const n = src.length;
  const at = (p: number): number => (n === 0 ? 0 : p % (n + 1));
  switch (m.k) {
    case 'delete': {
      const a = at(m.at);
      return src.slice(0, a) + src.slice(a + m.len);
    }
    case 'dup': {
      const a = at(m.at);
      const piece = src.slice(a, a + m.len);
      const to = at(m.to);
      return src.slice(0, to) + piece + src.slice(to);
    }
    case 'chars': {
      const a = at(m.at);
      return src.slice(0, a) + m.s + src.slice(a);
    }
    case 'tokens': {
      const a = at(m.at);
      return `${src.slice(0, a)} ${m.toks.join(' ')} ${src.slice(a)}`;
    }
    case 'swap': {
      // Move a slice elsewhere.
      const a = at(m.a);
      const piece = src.slice(a, a + m.len);
      const rest = src.slice(0, a) + src.slice(a + m.len);
      const b = rest.length === 0 ? 0 : m.b % (rest.length + 1);
      return rest.slice(0, b) + piece + rest.slice(b);
    }
    case 'repeat': {
      if (m.line) {
        // A whole line, e.g. a statement of a thread body.
        const lines = src.split('\n');
        const i = m.at % lines.length;
        return [...lines.slice(0, i), ...Array<string>(m.times).fill(lines[i]!), ...lines.slice(i + 1)].join('\n');
      }
      const a = at(m.at);
      return src.slice(0, a) + src.slice(a, a + m.len).repeat(m.times) + src.slice(a);
    }
  }
}

/** Repeats a slice (often a whole statement) many times: long bodies, long chains, deep nesting. */
const repeatArb: fc.Arbitrary<Mutation> = fc.record({
  k: fc.constant('repeat' as const),
  at: pos,
  len: fc.integer({ min: 1, max: 30 }),
  times: fc.integer({ min: 2, max: 400 }),
  line: fc.boolean(),
});

/** A library file with 1 to 4 mutations applied. */
const mutatedArb: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: SOURCES.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
  .map(([i, ms]) => ms.reduce(applyMutation, SOURCES[i]!));

/** A library file with one long repeat among its mutations. */
const repeatedArb: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: SOURCES.length - 1 }), fc.array(mutationArb, { maxLength: 2 }), repeatArb)
  .map(([i, ms, r]) => [...ms, r].reduce(applyMutation, SOURCES[i]!));

/** Random text: raw characters, or a soup of litmus tokens, sometimes behind a valid header. */
const randomArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'binary-ascii', maxLength: 300 }),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((ts) => ts.join(' ')),
  fc
    .tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }), fc.array(fc.constantFrom(' ', '\n', '\t', ''), { maxLength: 80 }))
    .map(([ts, ws]) => `C Fuzz\n{}\n${ts.map((t, i) => t + (ws[i] ?? ' ')).join('')}`),
);

// Fragments of near-valid programs. Each list: mostly valid fragments, then a few invalid ones picked now and then.
const INIT_OK = ['x=1;', 'y=-1;', 'z=4294967295;', 'int *p = y;', 'int *p = &x;', 'atomic_t a = 3;', '0:r1=2;', '0:r2=x;', '1:r0=7;', 'x=0x10;', 'w;', 'q=5,'];
const INIT_BAD = ['2:r1=y;', 'y=2147483648;', '3:r0=1;', 'x=4294967296;', 'P0=1;', '0:r9=1;'];
const DIRECTIVES_OK = ['bound steps 100;', 'bound executions 50;', 'model sc;', 'model x86;'];
const DIRECTIVES_BAD = ['model arm;', 'bound steps 0;', 'bound foo 3;', 'kernel v6.18;', 'cpu 2;', 'frobnicate;', 'bound steps;'];
const HEADER_OK = [' * Result[sc]: Always', ' * Result[x86]: Sometimes', ' * Result[arm]: Never', ' * Some prose about the test.', ' *'];
const HEADER_BAD = [' * Result: Perhaps', ' * Result[sc] Never', ' * Result:', ' * Result[x86]: Never'];
const STMTS_OK = [
  'WRITE_ONCE(*x, 1);', 'WRITE_ONCE(*y, r0);', 'r0 = READ_ONCE(*y);', 'r1 = READ_ONCE(*x);', 'smp_mb();', 'smp_wmb();',
  'smp_rmb();', 'barrier();', 'r0 = smp_load_acquire(x);', 'smp_store_release(y, 2);', 'r0 = xchg(x, 2);',
  'r1 = cmpxchg(y, 0, 1);', 'atomic_inc(x);', 'r0 = atomic_fetch_add(1, y);', 'r1 = r0 / r1;', 'r1 = r0 % r0;',
  'r2 = READ_ONCE(*r2);', 'WRITE_ONCE(*r2, 1);', 'r2 = READ_ONCE(*p);', 'r0 = r0 + 1;', 'r0 = x + 1;', 'r0 = -x;',
  'r2 = x;', 'r0 = r2 == x;', 'r0 = smp_cond_load_acquire(x, VAL == 1);', 'r0 = smp_cond_load_relaxed(y, VAL != 0);',
  'r0 = smp_cond_load_acquire(x, VAL / r1);', 'raise_irq(0, h0);', 'raise_irq(1, h0);', 'raise_irq(1, h1);',
  'local_irq_disable();', 'local_irq_enable();', 'if (r0 == 1) WRITE_ONCE(*z, 1);',
  'if (r1) { r0 = READ_ONCE(*z); } else { smp_mb(); }', 'r0 = r1 ? READ_ONCE(*x) : 3;', 'r0 = 2147483647 + 1;',
  'r0 = 1 << 40;', 'r0 = (int)READ_ONCE(*x);',
];
const STMTS_BAD = ['r3 = 1;', '*x = 1;', 'spin_lock(l);', 'while (r0) { }', 'raise_irq(5, h0);', 'raise_irq(0, h7);', 'return;'];

const pick = (ok: string[], bad: string[], okWeight = 20): fc.Arbitrary<string> =>
  fc.oneof({ weight: okWeight, arbitrary: fc.constantFrom(...ok) }, { weight: 1, arbitrary: fc.constantFrom(...bad) });

const OBSERVABLES_OK = ['0:r0', '0:r1', '0:r2', 'x', 'y', 'z', 'p', '[x]'];
const OBSERVABLES_BAD = ['1:r0', '2:r0', '4:r0', '0:r9', 'nowhere'];
const VALUES_OK = ['0', '1', '2', '-1', 'x', 'y', '4294967295', '0x1'];
const VALUES_BAD = ['4294967296', 'nowhere', '-x'];

const propArb: fc.Arbitrary<string> = fc.letrec<{ p: string }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(pick(OBSERVABLES_OK, OBSERVABLES_BAD), fc.constantFrom('=', '!=', '=='), pick(VALUES_OK, VALUES_BAD)).map(([o, op, v]) => `${o}${op}${v}`),
    fc.tuple(tie('p'), fc.constantFrom(' /\\ ', ' \\/ ', ' => '), tie('p')).map(([a, op, b]) => `${a}${op}${b}`),
    tie('p').map((a) => `~${a}`),
    tie('p').map((a) => `(${a})`),
    fc.constantFrom('true', 'false'),
  ),
})).p;

const bodyArb = fc.array(pick(STMTS_OK, STMTS_BAD, 80), { maxLength: 4 }).map((ss) => ss.map((s) => `\t${s}`).join('\n'));
const PARAMS = 'int *x, int *y, int *z, int **p';
const DECLS = '\tint r0;\n\tint r1;\n\tint *r2;';

/**
 * Near-valid programs built from fragments: they mostly parse, so they reach the
 * checker and its run-time errors (division by zero, dereference of an integer,
 * pointer arithmetic), interrupts, waits and bounds.
 */
const nearValidArb: fc.Arbitrary<string> = fc
  .record({
    header: pick(['C Near', 'C Near+x (* c *)', '  C\tNear-2'], ['C', 'X86 Near', '']),
    comment: fc.option(
      fc
        .tuple(fc.constantFrom(' * Result: Never', ' * Result: Sometimes', ' *'), fc.subarray(HEADER_OK), fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...HEADER_BAD) }))
        .map(([plain, more, bad]) => (bad === null ? [plain, ...more] : [plain, ...more, bad])),
      { nil: undefined },
    ),
    inits: fc.array(pick(INIT_OK, INIT_BAD), { maxLength: 4 }),
    directives: fc.option(fc.array(pick(DIRECTIVES_OK, DIRECTIVES_BAD, 6), { maxLength: 2 }), { freq: 3, nil: undefined }),
    handlers: fc.array(bodyArb, { maxLength: 2 }),
    threads: fc.array(bodyArb, { minLength: 2, maxLength: 3 }),
    ids: fc.oneof(
      { weight: 15, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 3, maxLength: 3 }) },
    ),
    quantifier: pick(['exists', '~exists', 'forall', '~ exists'], ['filter', 'exist', '']),
    locations: fc.option(fc.array(pick(OBSERVABLES_OK, OBSERVABLES_BAD), { maxLength: 3 }), { freq: 3, nil: undefined }),
    prop: propArb,
  })
  .map((g) => {
    const parts = [g.header, ''];
    if (g.comment) parts.push('(*', ...g.comment, ' *)', '');
    parts.push(`{ ${g.inits.join(' ')} }`, '');
    if (g.directives) parts.push(`smpcheck { ${g.directives.join(' ')} }`, '');
    // raise_irq() names the handlers that exist (the bad statements name others).
    const fix = (b: string): string =>
      g.handlers.length === 0 ? b.replace(/raise_irq\(\d, h[01]\)/g, 'smp_mb()') : g.handlers.length === 1 ? b.replace(/h1\)/g, 'h0)') : b;
    g.handlers.forEach((b, i) => parts.push(`irq h${i}(${PARAMS})\n{\n${DECLS}\n${fix(b)}\n}`, ''));
    g.threads.forEach((b, i) => parts.push(`P${g.ids ? g.ids[i] : i}(${PARAMS})\n{\n${DECLS}\n${fix(b)}\n}`, ''));
    if (g.locations) parts.push(`locations [${g.locations.join('; ')}]`);
    parts.push(`${g.quantifier} (${g.prop})`, '');
    return parts.join('\n');
  });

// ---- the property --------------------------------------------------------------------

function show(src: string): string {
  return `input (${src.length} chars):\n----\n${src}\n----\nas JSON: ${JSON.stringify(src)}`;
}

/** How the inputs of the current test ended: verdicts and error codes (reported as diagnostics). */
let tally = new Map<string, number>();
const count = (k: string): void => {
  tally.set(k, (tally.get(k) ?? 0) + 1);
};
function report(t: { diagnostic: (s: string) => void }): Map<string, number> {
  const seen = tally;
  t.diagnostic([...seen].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', '));
  tally = new Map();
  return seen;
}

/** Checks `src` on both machines; returns a failure description, or null when the outcome is acceptable. */
function checkOne(src: string): string | null {
  for (const model of MODELS) {
    try {
      const r = checkSource(src, 'fuzz.litmus', { model, bounds: BOUNDS });
      count(r.verdict);
      if (!VERDICTS.has(r.verdict)) return `model ${model}: unexpected verdict '${String(r.verdict)}'`;
    } catch (e) {
      count(e instanceof SmpError ? (process.env.FUZZ_VERBOSE ? `${e.code} ${e.message.slice(0, 50)}` : e.code) : 'crash');
      if (!(e instanceof SmpError)) {
        const err = e as Error;
        return `model ${model}: ${err?.name ?? typeof e} thrown instead of an SmpError: ${err?.message ?? String(e)}\n${err?.stack ?? ''}`;
      }
      if (!/^SMP\d{3}$/.test(e.code)) return `model ${model}: malformed error code '${e.code}'`;
      if (e.message.trim() === '') return `model ${model}: ${e.code} with an empty message`;
    }
  }
  return null;
}

function property(src: string): void {
  const failure = checkOne(src);
  assert.equal(failure, null, `${failure}\n${show(src)}`);
}

/** Runs `property` on `numRuns` inputs from a fixed seed; the report carries the failing input and the reason. */
function fuzz(t: { diagnostic: (s: string) => void }, arb: fc.Arbitrary<string>, seed: number, numRuns: number): Map<string, number> {
  tally = new Map();
  fc.assert(fc.property(arb, property), { seed, numRuns, includeErrorInReport: true });
  return report(t);
}

test('fuzz: the unmutated library files check on both machines under the fuzz bounds', async () => {
  for (const src of SOURCES) property(src);
});

test('fuzz: mutated library files check or fail with a coded SmpError (sc and x86)', async (t) => {
  fuzz(t, mutatedArb, 1234, 300);
});

// Repeated slices once found a crash: more than 64 stores in a row overflowed the
// x86 store buffer with an internal error; that is now a bound (incomplete).
test('fuzz: library files with a slice repeated up to 400 times check or fail with a coded SmpError', async (t) => {
  fuzz(t, repeatedArb, 97531, 120);
});

test('fuzz: near-valid generated programs check or fail with a coded SmpError (sc and x86)', async (t) => {
  const seen = fuzz(t, nearValidArb, 2468, 1000);
  // The generator is only useful if most programs reach the checker.
  const checked = ['ok', 'violation', 'liveness', 'incomplete'].reduce((n, k) => n + (seen.get(k) ?? 0), 0);
  assert.ok(checked >= 250, `only ${checked} of 2000 checks reached the explorer`);
});

test('fuzz: random strings and token soups fail with a coded SmpError (sc and x86)', async (t) => {
  fuzz(t, randomArb, 4321, 600);
});

// ---- the CLI ---------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('fuzz: the CLI on mutated files exits 0-4, never 70, and prints no stack trace', async () => {
  let k = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: mutatedArb }, { weight: 2, arbitrary: nearValidArb }, { weight: 1, arbitrary: randomArb }), async (src) => {
      const file = join(dir, `m${k++}.litmus`);
      writeFileSync(file, src);
      const r = await cli(['check', file, '--no-time']);
      assert.ok([0, 1, 2, 3, 4].includes(r.code), `exit code ${r.code}\nstderr: ${r.err}\n${show(src)}`);
      assert.ok(!r.err.includes('    at '), `stack trace on stderr:\n${r.err}\n${show(src)}`);
      if (r.code === 1) assert.match(r.err, /error\[SMP\d{3}\]/, `exit 1 without a coded error:\n${r.err}\n${show(src)}`);
    }),
    { seed: 5678, numRuns: 100, includeErrorInReport: true },
  );
});

// ---- regressions found by fuzzing -------------------------------------------------------

// Minimal input: SB.litmus with P0's store repeated 65 times. The scheduler may
// leave every store in the buffer, and the 65th overflows STORE_BUFFER_MAX. (P1 reads
// x: a store to a location only its own thread reaches goes to memory at once.)
const storeBufferOverflow = [
  'C SB+65stores', '', '{}', '', 'P0(int *x)', '{', ...Array<string>(65).fill('\tWRITE_ONCE(*x, 1);'), '}', '',
  'P1(int *x)', '{', '\tint r0;', '\tr0 = READ_ONCE(*x);', '}', '', 'exists (x=1)', '',
].join('\n');

test('regression: x86 store buffer overflow (65 stores in a row) is a bound: the search is incomplete', async () => {
  assert.equal(checkOne(storeBufferOverflow), null);
  const res = checkSource(storeBufferOverflow, 'sb65.litmus', { model: 'x86' });
  assert.equal(res.verdict, 'incomplete');
  assert.match(res.result.incompleteReason ?? '', /store_buffer_max/);
  const file = join(dir, 'sb65.litmus');
  writeFileSync(file, storeBufferOverflow);
  const r = await cli(['check', file, '--model', 'x86', '--no-time']);
  assert.notEqual(r.code, 70, r.err);
  assert.ok(!r.err.includes('    at '), r.err);
});

test('64 stores in a row fit the x86 store buffer', async () => {
  const src = storeBufferOverflow.replace(/(\tWRITE_ONCE\(\*x, 1\);\n)+/, '\tWRITE_ONCE(*x, 1);\n'.repeat(64));
  const r = checkSource(src, 'sb64.litmus', { model: 'x86' });
  assert.equal(r.verdict, 'ok');
  assert.equal(r.observation, 'Always');
});
