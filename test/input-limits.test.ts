// Inputs of every shape under the size limit are answered in time linear in their
// size, and a larger file is refused before it is read. These tests assert the coded
// result of each shape; how fast they are answered is measured by hand (README,
// "Reliability"), and the test runner's timeout bounds them.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echoLine, ECHO_CHARS_MAX } from '../src/scenario/errors.js';
import { SOURCE_BYTES_MAX, SOURCE_CHARS_MAX } from '../src/scenario/lexer.js';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** A one-thread scenario whose P0 body is `body`; its header expects `Never` for x=2. */
const scenario = (body: string): string =>
  `C WS\n\n(*\n * Result: Never\n *)\n\n{ x=0; }\n\nP0(int *x)\n{\n${body}\n}\n\nexists (x=2)\n`;

const SLOW = { timeout: 120_000 };

/** The CLI's answer: its exit code and, for an error, its code and where. */
async function answer(f: string): Promise<{ code: number; err: string; out: string; error: string | null }> {
  const r = await cli([f, '--no-time']);
  assert.ok(!r.err.includes('    at '), `no stack trace:\n${r.err.slice(0, 2000)}`);
  assert.notEqual(r.code, 70, r.err.slice(0, 2000));
  // Whatever the input, what is echoed stays readable.
  for (const line of r.err.split('\n')) assert.ok(line.length <= 4 * ECHO_CHARS_MAX + 200, `an echoed line of ${line.length} characters`);
  const m = /error\[(SMP\d{3})\]/.exec(r.err);
  return { ...r, error: m ? m[1]! : null };
}

test('a run of 900,000 spaces in the header prose is read in linear time', SLOW, async () => {
  const f = file('spaces.litmus', `C WS\n\n(*\n * Result: Never\n * a${' '.repeat(900_000)}b\n *)\n\n{ x=0; }\n\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1);\n}\n\nexists (x=2)\n`);
  const r = await answer(f);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Verdict ok/);
});

test('300,000 unclosed "(* " openers in a thread body, on one line or one per line', SLOW, async () => {
  const one = await answer(file('openers.litmus', scenario(`\t${'(* '.repeat(300_000)}`)));
  assert.equal(one.code, 1);
  assert.equal(one.error, 'SMP100');
  const many = await answer(file('openers-lines.litmus', scenario('(* x\n'.repeat(190_000))));
  assert.equal(many.code, 1);
  assert.equal(many.error, 'SMP100');
  const c = await answer(file('c-openers.litmus', scenario(`\t${'/* '.repeat(300_000)}`)));
  assert.equal(c.code, 1);
  assert.equal(c.error, 'SMP002');
});

test('deep nesting of parentheses and braces is refused at the nesting limit', SLOW, async () => {
  const parens = await answer(file('parens.litmus', scenario(`\tint r0;\n\tr0 = ${'('.repeat(400_000)}1${')'.repeat(400_000)};`)));
  assert.equal(parens.error, 'SMP111');
  assert.match(parens.err, /nesting deeper than/);
  const braces = await answer(file('braces.litmus', scenario(`\t${'{'.repeat(400_000)}${'}'.repeat(400_000)}`)));
  assert.equal(braces.error, 'SMP111');
  // Casts, unary operators, if statements and the condition nest too.
  const nests: [string, string][] = [
    ['casts', scenario(`\tint r0;\n\tr0 = ${'(int)'.repeat(180_000)}1;`)],
    ['minus', scenario(`\tint r0;\n\tr0 = ${'-'.repeat(300_000)}1;`)],
    ['ifs', scenario(`\tint r0;\n\t${'if (r0) '.repeat(110_000)}r0 = 1;`)],
    ['cond', `C T\n{}\nP0(int *x) { }\nexists ${'('.repeat(300_000)}x=1${')'.repeat(300_000)}\n`],
  ];
  for (const [name, src] of nests) {
    const r = await answer(file(`${name}.litmus`, src));
    assert.equal(r.error, 'SMP111', `${name}: ${r.err.slice(0, 300)}`);
    assert.match(r.err, /nested deeper than|nesting deeper than/, name);
  }
});

test('a long header comment, many statements and 999,000 blank lines are answered', SLOW, async () => {
  const prose = await answer(file('prose.litmus', `C WS\n\n(*\n${'prose line here\n'.repeat(60_000)} *)\n{ x=0; }\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1);\n}\nexists (x=2)\n`));
  assert.equal(prose.code, 0, prose.err);
  // P1 reads x, so P0's stores are not to a location only P0 reaches (they are steps).
  const shared = scenario('\tWRITE_ONCE(*x, 1);\n'.repeat(45_000)).replace('\nexists', '\nP1(int *x)\n{\n\tint r0;\n\tr0 = READ_ONCE(*x);\n}\n\nexists');
  const stmts = await answer(file('stmts.litmus', shared));
  // 45,000 stores exceed the store buffer or the steps of one execution: a bound, not an error.
  assert.equal(stmts.code, 4, stmts.err);
  const blank = await answer(file('blank.litmus', `${'\n'.repeat(999_000)}C X\n{}\nP0(int *x) { WRITE_ONCE(*x, 1) @; }\nexists (x=1)\n`));
  assert.equal(blank.error, 'SMP001');
  assert.match(blank.err, /:999003:32 error\[SMP001\]/);
});

test('a long offending line is echoed cut around the caret', SLOW, async () => {
  const r = await answer(file('longline.litmus', scenario(`\tWRITE_ONCE(*x, 1); ${' '.repeat(900_000)}@`)));
  assert.equal(r.error, 'SMP001');
  const lines = r.err.split('\n');
  assert.match(lines[0]!, /:11:900021 error\[SMP001\] unexpected character '@'/);
  const echoed = lines[2]!.slice(lines[2]!.indexOf('| ') + 2);
  const caret = lines[3]!.slice(lines[3]!.indexOf('| ') + 2);
  assert.ok(echoed.length <= ECHO_CHARS_MAX + 2, `echoed ${echoed.length} characters`);
  assert.ok(echoed.startsWith('…'));
  assert.equal(echoed[caret.indexOf('^')], '@');
  // The caret of a span at the start of a long line stays at the start, the end is cut.
  const e = echoLine(`${'a'.repeat(5000)}\n`, { line: 1, col: 3, len: 2 });
  assert.deepEqual([e.col, e.len, e.text.length], [3, 2, ECHO_CHARS_MAX + 1]);
  assert.ok(e.text.endsWith('…'));
});

test('a file over the size limit is refused from its size, before it is read', SLOW, async () => {
  // 10 GiB, sparse: reading it whole would take minutes and the memory it needs.
  const huge = join(dir, 'huge.litmus');
  writeFileSync(huge, '');
  truncateSync(huge, 10 * 1024 ** 3);
  const r = await answer(huge);
  assert.equal(r.code, 1);
  assert.equal(r.error, 'SMP111');
  assert.match(r.err, new RegExp(`larger than ${SOURCE_BYTES_MAX} bytes`));
  // 10 MB without a header: refused the same way, and nothing of it echoed.
  const noHeader = await answer(file('noheader.litmus', 'x'.repeat(10_000_000)));
  assert.equal(noHeader.error, 'SMP111');
  assert.ok(noHeader.err.length < 500, noHeader.err.slice(0, 600));
  // Under the byte limit but over the character limit: refused by its length.
  const long = await answer(file('long.litmus', `C L\n(* ${'y'.repeat(SOURCE_CHARS_MAX)} *)\n{}\nP0(int *x) { }\nexists (x=1)\n`));
  assert.equal(long.error, 'SMP111');
  assert.match(long.err, /longer than 1000000 characters/);
});

test('CR-only line endings are line endings', async () => {
  const src = 'C CR\r\r(*\r * Result: Never\r *)\r\r{ x=0; }\r\rP0(int *x)\r{\r\tWRITE_ONCE(*x, 1);\r}\r\rexists (x=2)\r';
  const r = await answer(file('cr.litmus', src));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Expected Never \(Result\): confirmed/);
  // An error in such a file names the right line.
  const bad = await answer(file('cr-bad.litmus', src.replace('WRITE_ONCE(*x, 1);', 'WRITE_ONCE(*x, 1) @;')));
  assert.match(bad.err, /cr-bad\.litmus:11:20 error\[SMP001\]/);
  assert.match(bad.err, /\n11 \| {2}WRITE_ONCE\(\*x, 1\) @;\n/);
});

test('caret columns count characters, not UTF-16 units, after astral characters', async () => {
  const r = await answer(file('astral.litmus', 'C AS\n{ x=0; }\nP0(int *x)\n{\n\t/* \u{1F600}\u{1F600} */ WRITE_ONCE(*x, 1) @;\n}\nexists (x=2)\n'));
  assert.match(r.err, /astral\.litmus:5:29 error\[SMP001\] unexpected character '@'/);
  const lines = r.err.split('\n');
  const echoed = Array.from(lines[2]!.slice(lines[2]!.indexOf('| ') + 2));
  const caret = lines[3]!.slice(lines[3]!.indexOf('| ') + 2);
  assert.equal(echoed[caret.indexOf('^')], '@');
  // An astral character the lexer does not accept is named whole.
  const emoji = await answer(file('emoji.litmus', 'C AS\n{ x=0; }\nP0(int *x)\n{\n\t\u{1F600};\n}\nexists (x=2)\n'));
  assert.match(emoji.err, /:5:2 error\[SMP001\] unexpected character '\u{1F600}'/u);
});
