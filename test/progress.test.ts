// Progress a person can watch: time-based (the CLI's clock, never the engine's), a live
// line on a terminal, plain lines elsewhere, i/N and the time left for a suite, and
// nothing with --quiet or --no-progress. Standard output is the same with or without it.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main, type Io } from '../src/cli/main.js';
import { bar, describeProgress, formatDuration } from '../src/cli/progress.js';
import { checkSource } from '../src/check.js';
import { read, ROOT } from './helpers.js';
import type { Progress } from '../src/explore/types.js';

/** The CLI with a clock that advances `tickMs` at every reading, so that progress shows without waiting. */
async function run(args: string[], o: { isTTY: boolean; tickMs: number; columns?: number }): Promise<{ code: number; out: string; err: string; reads: number }> {
  let out = '';
  let err = '';
  let t = 0;
  let reads = 0;
  const io: Io = {
    out: (s) => { out += s; },
    err: (s) => { err += s; },
    isTTY: o.isTTY,
    now: () => { reads++; t += o.tickMs; return t; },
    errColumns: o.columns,
  };
  const code = await main(args, io);
  return { code, out, err, reads };
}

const lit = (f: string): string => join(ROOT, 'scenarios', f);
// A check of 310 executions: long enough for dozens of progress calls.
const LONG = lit('membarrier/membarrier-D.litmus');

test('a check longer than a second shows a live line on a terminal, redrawn in place and erased at the end', async () => {
  const r = await run([LONG, '--model', 'sc', '--no-time'], { isTTY: true, tickMs: 300, columns: 200 });
  assert.equal(r.code, 0, r.err);
  const draws = r.err.split('\r\x1b[K').filter((s) => s !== '');
  assert.ok(draws.length >= 2, `redrawn: ${JSON.stringify(r.err.slice(0, 300))}`);
  for (const d of draws) {
    assert.match(d, /^membarrier-D on sc: [\d,]+ executions, [\d,]+ graphs, [\d,]+\/s, \d+:\d\d \[[#-]{20}\] ~\d+%$/);
  }
  assert.ok(r.err.endsWith('\r\x1b[K'), 'the live line is erased when the check ends');
  assert.ok(!r.err.includes('\n'), 'a live line never ends a line');
  // Standard output is what it is without progress.
  const quiet = await run([LONG, '--model', 'sc', '--no-time', '--quiet'], { isTTY: true, tickMs: 300 });
  assert.equal(quiet.err, '');
  assert.equal(quiet.out, r.out);
});

test('the live line is cut to the terminal\'s width, so that it never wraps', async () => {
  const r = await run([LONG, '--model', 'sc', '--no-time'], { isTTY: true, tickMs: 300, columns: 40 });
  const draws = r.err.split('\r\x1b[K').filter((s) => s !== '');
  assert.ok(draws.length > 0);
  for (const d of draws) assert.ok(d.length < 40, d);
});

test('a quick check shows nothing: progress starts after about a second', async () => {
  const r = await run([lit('litmus/SB.litmus'), '--no-time'], { isTTY: true, tickMs: 1 });
  assert.equal(r.err, '');
});

test('not a terminal: nothing by default; --progress prints whole lines, never a carriage return', async () => {
  assert.equal((await run([LONG, '--model', 'sc', '--no-time'], { isTTY: false, tickMs: 3000 })).err, '');
  const r = await run([LONG, '--model', 'sc', '--no-time', '--progress'], { isTTY: false, tickMs: 3000 });
  assert.equal(r.code, 0);
  assert.ok(!r.err.includes('\r') && !r.err.includes('\x1b'), JSON.stringify(r.err.slice(0, 200)));
  const lines = r.err.trimEnd().split('\n');
  assert.ok(lines.length >= 1);
  for (const l of lines) assert.match(l, /^membarrier-D on sc: [\d,]+ executions, [\d,]+ graphs, [\d,]+\/s, \d+:\d\d \[[#-]{20}\] ~\d+%$/);
  // --no-progress and --quiet win over a terminal.
  assert.equal((await run([LONG, '--model', 'sc', '--no-time', '--no-progress'], { isTTY: true, tickMs: 3000 })).err, '');
});

test('suite: each row as its check finishes, with i/N and the time left on standard error', async () => {
  const dir = join(ROOT, 'scenarios', 'irq');
  const lines = await run(['suite', dir, '--no-time', '--progress'], { isTTY: false, tickMs: 10 });
  assert.equal(lines.code, 0, lines.err);
  const status = lines.err.trimEnd().split('\n');
  assert.equal(status.length, 10);
  status.forEach((l, i) => {
    assert.match(l, new RegExp(`^suite: ${i + 1}/10 checks, \\d+:\\d\\d${i < 9 ? ', ~\\d+:\\d\\d left' : ''}$`));
  });
  // Standard output is the table, the same as without progress (and as docs/cli.md shows it).
  const plain = await run(['suite', dir, '--no-time'], { isTTY: false, tickMs: 10 });
  assert.equal(plain.err, '');
  assert.equal(lines.out, plain.out);
  const doc = read(join(ROOT, 'docs', 'cli.md'));
  assert.ok(doc.includes(plain.out.trimEnd()), 'the suite transcript of docs/cli.md');
  // On a terminal: a live status line between rows, erased before each row and at the end.
  const live = await run(['suite', dir, '--no-time'], { isTTY: true, tickMs: 10, columns: 120 });
  assert.equal(live.out, plain.out);
  assert.match(live.err, /\r\x1b\[K\[1\/10\] SB\+ipi-ack on sc/);
  assert.match(live.err, /\r\x1b\[Ksuite: 3\/10 checks, \d+:\d\d, ~\d+:\d\d left/);
  assert.ok(live.err.endsWith('\r\x1b[K'));
  // Two checks at once: the same table, and the live line counts checks as they finish.
  const jobs = await run(['suite', dir, '--no-time', '--jobs', '2'], { isTTY: true, tickMs: 10, columns: 120 });
  assert.equal(jobs.code, 0, jobs.err);
  assert.equal(jobs.out, plain.out);
  assert.match(jobs.err, /\r\x1b\[Ksuite: \d\/10 checks, \d+:\d\d, ~\d+:\d\d left/);
  assert.ok(jobs.err.endsWith('\r\x1b[K'));
  assert.ok(!jobs.err.includes('\n'), 'a live line never ends a line');
});

test('the engine reads no clock: progress calls carry counters and a share that ends at 1', async () => {
  const src = read(LONG);
  const seen: Progress[] = [];
  const r = checkSource(src, LONG, { model: 'sc', onProgress: (p) => seen.push(p), progressEvery: 1 });
  assert.ok(seen.length > 10);
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i]!.executions >= seen[i - 1]!.executions);
    assert.ok(seen[i]!.share! >= 0 && seen[i]!.share! <= 1);
  }
  assert.equal(seen[seen.length - 1]!.share, 1);
  assert.ok(seen[Math.floor(seen.length / 2)]!.share! < 1);
  // The same search with and without the callback: progress changes nothing.
  const q = checkSource(src, LONG, { model: 'sc' });
  assert.deepEqual({ ...q.result, witnesses: null }, { ...r.result, witnesses: null });
});

test('the pieces: durations, bar, phrase', async () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(61_400), '1:01');
  assert.equal(formatDuration(3_725_000), '1:02:05');
  assert.equal(bar(0.5, 10), '[#####-----]');
  assert.equal(bar(1.2, 4), '[####]');
  assert.equal(describeProgress({ executions: 12345, graphs: 678, steps: 1, share: 0.25 }, 2000), '12,345 executions, 678 graphs, 6,173/s, 0:02 [#####---------------] ~25%');
  assert.equal(describeProgress({ executions: 10, graphs: 2, steps: 1 }, 0), '10 executions, 2 graphs, 0/s, 0:00');
});
