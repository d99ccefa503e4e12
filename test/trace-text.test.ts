// Terminal output that fits: trace columns sized to the terminal or --width, wrapping a
// long step onto more lines instead of cutting it, and never splitting a name.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main, type Io } from '../src/cli/main.js';
import { checkSource } from '../src/check.js';
import { buildTrace, pickWitness, renderTraceText, traceSchema } from '../src/explore/trace.js';
import { runWithVariant } from '../src/kernel/variant-module.js';
import { cli, read, ROOT } from './helpers.js';

const FILE = join(ROOT, 'scenarios', 'sync-core', 'irq-exit-resched-full.litmus');
const ARGS = [FILE, '--variant', 'pre-a493d1ca1a03', '--model', 'x86', '--no-time', '--show-trace'];

function trace() {
  const r = checkSource(read(FILE), FILE, { model: 'x86', variant: 'pre-a493d1ca1a03' });
  const w = pickWitness(r)!;
  return runWithVariant(r.variant, () => buildTrace(r, w.kind, w.choices));
}

const names = (text: string): string[] => text.match(/[A-Za-z_][A-Za-z0-9_]{3,}/g) ?? [];

test('without a width every step is printed whole, on one line', async () => {
  const t = trace();
  const out = renderTraceText(t);
  const lines = out.split('\n');
  assert.equal(lines.length, 2 + t.steps.length + t.steps.filter((s) => s.warn).length);
  for (const s of t.steps) assert.ok(out.includes(s.text), s.text);
  assert.ok(!out.includes('…'));
});

test('with a width the table fits it, a long step wraps, and no name is cut', async () => {
  const t = trace();
  for (const width of [160, 140, 120]) {
    const out = renderTraceText(t, { width });
    const lines = out.split('\n');
    for (const l of lines) assert.ok(l.length <= width, `width ${width}: ${l.length} columns: ${l}`);
    assert.ok(lines.length > 2 + t.steps.length, `width ${width}: some step wraps`);
    const words = new Set(lines.flatMap(names));
    for (const s of t.steps) for (const n of names(s.text)) assert.ok(words.has(n), `width ${width}: '${n}' of step ${s.i + 1} is whole`);
    // A wrapped step's lines are the step: its number first, then continuation lines without one.
    const continued = lines.slice(2).filter((l) => /^\s+\|/.test(l)).length;
    assert.equal(lines.length - 2 - continued, t.steps.length);
  }
  // A column is never narrower than its longest name: a width too small for that cuts nothing,
  // and the table is then as narrow as it can be.
  const tiny = renderTraceText(t, { width: 20 });
  assert.ok(tiny.split('\n').some((l) => l.includes('MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,')));
  assert.equal(renderTraceText(t, { width: 80 }), tiny);
  const words = new Set(tiny.split('\n').flatMap(names));
  for (const s of t.steps) for (const n of names(s.text)) assert.ok(words.has(n), `'${n}' of step ${s.i + 1} is whole`);
});

test('--width and the terminal\'s width size the CLI\'s trace; a pipe gets whole steps', async () => {
  const run = async (args: string[], outColumns?: number): Promise<string> => {
    let out = '';
    const io: Io = { out: (s) => { out += s; }, err: () => {}, isTTY: false, now: () => 0, outColumns };
    await main(args, io);
    return out.slice(out.indexOf('\nTrace ('));
  };
  const widest = (s: string): number => Math.max(...s.split('\n').map((l) => l.length));
  assert.ok(widest(await run(ARGS)) > 120);
  assert.ok(widest(await run(ARGS, 125)) <= 125);
  assert.ok(widest(await run([...ARGS, '--width', '150'], 125)) <= 150);
  assert.ok(widest(await run([...ARGS, '--width', '150'], 125)) > 125, '--width wins over the terminal');
  assert.equal((await cli([...ARGS, '--width', 'wide'])).code, 1);
});

test('--show-trace under --json embeds the trace, which validates as a trace file does', async () => {
  const r = await cli([...ARGS, '--json']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]!) as { verdict: string; trace: unknown };
  assert.equal(o.verdict, 'ok');
  const t = traceSchema().parse(o.trace);
  assert.equal(t.kind, 'positive');
  assert.deepEqual(t, trace());
  // Without --show-trace there is no trace field; with it and no witness, null.
  assert.equal('trace' in JSON.parse((await cli([FILE, '--variant', 'pre-a493d1ca1a03', '--model', 'x86', '--no-time', '--json'])).out), false);
});
