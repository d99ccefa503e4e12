// The binary, in a child process with a small heap and a time limit per case, on
// the input shapes that once took quadratic time or memory: long runs of spaces in
// the header, unclosed comment openers, long lines, deep nesting, CR-only line
// endings, astral characters, truncated files, and tampered traces. Each case must
// end with a coded result (exit 0-4; exit 1 with error[SMPnnn]), never exit 70, a
// stack trace, a crash of V8 or the time limit. Inputs come from a fixed seed.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { cli, read, ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-fuzzcli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BIN = join(ROOT, 'bin', 'smpcheck.js');
/** Per case: the heap V8 may use, and the time after which the case fails. */
const HEAP_MB_MAX = 192;
const CASE_MS_MAX = 30_000;

const SOURCES = ['litmus/SB.litmus', 'litmus/MP+wmb+rmb.litmus', 'litmus/IRIW.litmus', 'irq/SB+ipi-ack.litmus', 'membarrier/membarrier-A.litmus']
  .map((f) => read(join(ROOT, 'scenarios', f)));

const body = (text: string): string => `C F\n\n(*\n * Result: Never\n *)\n\n{ x=0; }\n\nP0(int *x)\n{\n${text}\n}\n\nexists (x=2)\n`;

const sourceArb = fc.constantFrom(...SOURCES);
const big = fc.integer({ min: 1_000, max: 300_000 });

/** The mutation families, each a generator of whole files. */
const litmusArb = fc.oneof(
  big.map((n) => `C WS\n\n(*\n * Result: Never\n * a${' '.repeat(n)}b\n *)\n\n{ x=0; }\n\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1);\n}\n\nexists (x=2)\n`),
  fc.tuple(big, fc.boolean()).map(([n, lines]) => body(lines ? '(* x\n'.repeat(n / 5) : `\t${'(* '.repeat(n / 3)}`)),
  fc.tuple(big, fc.constantFrom('/* ', '(*', '*)', '{', '(')).map(([n, t]) => body(`\t${t.repeat(n / t.length)}`)),
  fc.tuple(big, fc.constantFrom('@', '$', ';', '')).map(([n, c]) => body(`\tWRITE_ONCE(*x, 1); ${' '.repeat(n)}${c}`)),
  fc.tuple(big, fc.constantFrom(['(', ')'], ['{', '}'], ['(int)', ''], ['-', ''], ['!', ''], ['if (r0) ', ''])).map(([n, [a, b]]) =>
    body(`\tint r0;\n\tr0 = ${a!.repeat(n / 2 / a!.length)}1${b!.repeat(n / 2)};`)),
  sourceArb.map((s) => s.replace(/\n/g, '\r')),
  fc.tuple(sourceArb, fc.nat(), fc.constantFrom('\u{1F600}', '\u{10FFFF}', '\uD800', '\u00e9')).map(([s, k, c]) => {
    const i = k % (s.length + 1);
    return `${s.slice(0, i)}${c}${s.slice(i)}`;
  }),
  fc.tuple(sourceArb, fc.nat()).map(([s, k]) => s.slice(0, k % (s.length + 1))),
);

interface Run {
  status: number | null;
  signal: string | null;
  stderr: string;
}

function run(args: string[]): Run {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB_MAX}`, BIN, ...args], {
    encoding: 'utf8', timeout: CASE_MS_MAX, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr ?? '' };
}

function coded(r: Run, what: string): void {
  const tail = r.stderr.slice(0, 1500);
  assert.equal(r.signal, null, `${what}: killed by ${r.signal} (time limit ${CASE_MS_MAX} ms)\n${tail}`);
  assert.ok(r.status !== null && [0, 1, 2, 3, 4].includes(r.status), `${what}: exit ${r.status}\n${tail}`);
  assert.ok(!r.stderr.includes('    at '), `${what}: stack trace\n${tail}`);
  assert.ok(!/FATAL ERROR|out of memory/.test(r.stderr), `${what}: V8 died\n${tail}`);
  if (r.status === 1) assert.match(r.stderr, /error\[SMP\d{3}\]/, `${what}: exit 1 without a coded error\n${tail}`);
}

test('fuzz (child process): mutated scenario files end with a coded result in time and memory', { timeout: 600_000 }, async () => {
  let k = 0;
  fc.assert(
    fc.property(litmusArb, (src) => {
      const f = join(dir, `m${k++}.litmus`);
      writeFileSync(f, src);
      coded(run(['check', f, '--no-time', '--no-progress', '--executions-max', '20000']), `${f} (${src.length} chars: ${JSON.stringify(src.slice(0, 80))}...)`);
    }),
    { seed: 20261202, numRuns: 24, includeErrorInReport: true },
  );
});

test('fuzz (child process): tampered traces replay to a match, a divergence or a coded error', { timeout: 600_000 }, async () => {
  const tf = join(dir, 'base.json');
  assert.equal((await cli([join(ROOT, 'scenarios', 'irq', 'SB+ipi-ack.litmus'), '--no-time', '--trace', tf])).code, 0);
  const base = readFileSync(tf, 'utf8');
  const t = JSON.parse(base) as Record<string, unknown> & { choices: number[]; steps: unknown[] };
  const editArb = fc.oneof(
    fc.nat().map((n) => ({ ...t, choices: t.choices.slice(0, n % (t.choices.length + 1)) })),
    fc.tuple(fc.nat(), fc.integer({ min: -2, max: 40 })).map(([i, p]) => ({ ...t, choices: t.choices.map((c, j) => (j === i % t.choices.length ? p : c)) })),
    fc.constantFrom('kind', 'final', 'steps', 'waits', 'blocked', 'variant', 'variant_module', 'scenario', 'version', 'machine')
      .chain((key) => fc.jsonValue().map((v) => ({ ...t, [key]: v }))),
    fc.nat().map((n) => base.slice(0, n % base.length)),
  );
  let k = 0;
  fc.assert(
    fc.property(editArb, (edited) => {
      const f = join(dir, `t${k++}.json`);
      writeFileSync(f, typeof edited === 'string' ? edited : JSON.stringify(edited));
      coded(run(['replay', f]), f);
    }),
    { seed: 8080, numRuns: 12, includeErrorInReport: true },
  );
});
