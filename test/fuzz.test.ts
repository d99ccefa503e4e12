// Fuzzing the litmus front end and the checker behind it: mutated library files
// and random strings must either check (with a verdict) or be refused with a
// coded SmpError. Any other exception (TypeError, RangeError, an 'internal:'
// Error...) is a bug. The CLI must never exit 70 nor print a stack trace.

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
  'Result: Never', 'Result[sc]: Maybe', 'Result[x86]: Sometimes', 'Result:', 'bound steps 1;', 'model sc;', 'kernel v6.18;',
];

type Mutation =
  | { k: 'delete'; at: number; len: number }
  | { k: 'dup'; at: number; len: number; to: number }
  | { k: 'chars'; at: number; s: string }
  | { k: 'tokens'; at: number; toks: string[] }
  | { k: 'swap'; a: number; b: number; len: number };

const pos = fc.nat({ max: 1_000_000 });
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
  }
}

/** A library file with 1 to 4 mutations applied. */
const mutatedArb: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: SOURCES.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
  .map(([i, ms]) => ms.reduce(applyMutation, SOURCES[i]!));

/** Random text: raw characters, or a soup of litmus tokens, sometimes behind a valid header. */
const randomArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'binary-ascii', maxLength: 300 }),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((ts) => ts.join(' ')),
  fc
    .tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }), fc.array(fc.constantFrom(' ', '\n', '\t', ''), { maxLength: 80 }))
    .map(([ts, ws]) => `C Fuzz\n{}\n${ts.map((t, i) => t + (ws[i] ?? ' ')).join('')}`),
);

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
      count(e instanceof SmpError ? e.code : 'crash');
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

test('fuzz: the unmutated library files check on both machines under the fuzz bounds', () => {
  for (const src of SOURCES) property(src);
});

test('fuzz: mutated library files check or fail with a coded SmpError (sc and x86)', (t) => {
  fc.assert(fc.property(mutatedArb, property), { seed: 1234, numRuns: 400 });
  report(t);
});

test('fuzz: random strings and token soups fail with a coded SmpError (sc and x86)', (t) => {
  fc.assert(fc.property(randomArb, property), { seed: 4321, numRuns: 400 });
  report(t);
});

// ---- the CLI ---------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('fuzz: the CLI on mutated files exits 0-4, never 70, and prints no stack trace', () => {
  let k = 0;
  fc.assert(
    fc.property(fc.oneof({ weight: 3, arbitrary: mutatedArb }, { weight: 1, arbitrary: randomArb }), (src) => {
      const file = join(dir, `m${k++}.litmus`);
      writeFileSync(file, src);
      const r = cli(['check', file, '--no-time']);
      assert.ok([0, 1, 2, 3, 4].includes(r.code), `exit code ${r.code}\nstderr: ${r.err}\n${show(src)}`);
      assert.ok(!r.err.includes('    at '), `stack trace on stderr:\n${r.err}\n${show(src)}`);
      if (r.code === 1) assert.match(r.err, /error\[SMP\d{3}\]/, `exit 1 without a coded error:\n${r.err}\n${show(src)}`);
    }),
    { seed: 5678, numRuns: 60 },
  );
});
