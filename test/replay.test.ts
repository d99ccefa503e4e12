// A trace is data: replay never runs code a trace names, checks a variant module
// by its sha256, and compares everything the trace asserts, reporting the first
// difference.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceSchema, type Trace } from '../src/explore/trace.js';
import { sha256 } from '../src/sha256.js';
import { cli, ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const lit = (name: string): string => join(ROOT, 'scenarios', name);

async function traceOf(args: string[], name: string): Promise<{ file: string; t: Trace }> {
  const file = join(dir, name);
  const r = await cli([...args, '--no-time', '--trace', file]);
  assert.ok(r.code !== 1 && r.code !== 70, r.err);
  return { file, t: traceSchema().parse(JSON.parse(readFileSync(file, 'utf8'))) };
}

function tampered(name: string, t: Trace, edit: (t: Trace) => void): string {
  const copy = JSON.parse(JSON.stringify(t)) as Trace;
  edit(copy);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(copy));
  return file;
}

const deadlock = await traceOf([lit('membarrier/membarrier-targeted-stall.litmus'), '--model', 'x86'], 'stall.json');

test('a trace carries its format version and the sha256 of its scenario source', async () => {
  assert.equal(deadlock.t.version, 5);
  assert.equal(deadlock.t.scenario.sha256, sha256(deadlock.t.scenario.source));
  assert.equal(deadlock.t.kind, 'deadlock');
  assert.ok(deadlock.t.waits && deadlock.t.waits.length > 0);
  const r = await cli(['replay', deadlock.file]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Replay matches the recorded run/);
  assert.match(r.out, /Blocked forever:\n {2}CPU\d waits/);
});

test('a deadlock trace truncated to no choices diverges at its first step', async () => {
  const f = tampered('empty.json', deadlock.t, (t) => {
    t.choices = [];
  });
  const r = await cli(['replay', f]);
  assert.equal(r.code, 2);
  assert.match(r.out, /Replay DIVERGES from the recorded run: at step 1 \(step count\)/);
  assert.match(r.err, /diverges: at step 1/);
  // The same with the recorded steps emptied too: the end of the run differs.
  const g = tampered('empty2.json', deadlock.t, (t) => {
    t.choices = [];
    t.steps = [];
  });
  const r2 = await cli(['replay', g, '--json']);
  assert.equal(r2.code, 2);
  const j = JSON.parse(r2.out) as { matches: boolean; divergence: { step: number | null; what: string } };
  assert.equal(j.matches, false);
  assert.equal(j.divergence.step, null);
});

test('edits to kind, a step, the blocked CPUs, what they wait on or the assertion are each a divergence', async () => {
  const n = deadlock.t.steps.length;
  const cases: [string, (t: Trace) => void, RegExp][] = [
    ['kind', (t) => { t.kind = 'positive'; }, /in the kind: recorded 'positive', replayed 'deadlock'/],
    ['step', (t) => { t.steps[3]!.text = 'nothing happened'; }, /at step 4 \(step text\): recorded 'nothing happened'/],
    ['step-proc', (t) => { t.steps[5]!.line = 999; }, /at step 6 \(step details\)/],
    ['extra-step', (t) => { t.steps.push({ ...t.steps[n - 1]!, i: n }); }, new RegExp(`at step ${n + 1} \\(step count\\)`)],
    ['blocked', (t) => { t.blocked = [0]; }, /in the blocked CPUs/],
    ['cpus', (t) => { t.cpus = ['P0']; }, /in the CPUs: recorded \["P0"\]/],
    ['waits', (t) => { t.waits = ['CPU0 waits in nothing']; }, /in the what the blocked CPUs wait on/],
    ['assertion', (t) => { t.assertion = 'BUG_ON(x)'; }, /in the failed assertion/],
    ['final', (t) => { t.final = { x: '1' }; }, /in the final state/],
  ];
  for (const [name, edit, msg] of cases) {
    const r = await cli(['replay', tampered(`${name}.json`, deadlock.t, edit)]);
    assert.equal(r.code, 2, `${name}: ${r.err}`);
    assert.match(r.out, msg, name);
  }
});

test('replay never loads code named by a trace', async () => {
  // A module that would leave a mark if it were ever run.
  const mark = join(dir, 'ran');
  const evil = join(dir, 'evil.js');
  writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(mark)}, 'ran');\nmodule.exports = { name: 'evil', description: 'x' };\n`);
  const { t } = await traceOf([lit('membarrier/membarrier-A.litmus'), '--variant', 'no-ipi'], 'noipi.json');
  for (const [name, edit] of [
    ['variant-path', (x: Trace) => { x.variant = evil; }],
    ['variant-module', (x: Trace) => { x.variant_module = { file: evil, sha256: sha256(readFileSync(evil, 'utf8')) }; }],
  ] as const) {
    const r = await cli(['replay', tampered(`${name}.json`, t, edit)]);
    assert.equal(r.code, 1, `${name}: ${r.err}`);
    assert.match(r.err, /error\[SMP20[13]\]/, name);
  }
  assert.equal(existsSync(mark), false, 'the module named by the trace ran');
});

test('a variant module is used only from the command line, and only with the recorded sha256', async () => {
  const mod = join(dir, 'same.ts');
  const src = readFileSync(join(ROOT, 'examples', 'variants', 'propagate-carefully.ts'), 'utf8');
  writeFileSync(mod, src);
  const { file } = await traceOf([lit('membarrier/membarrier-B.litmus'), '--variant', mod], 'module.json');
  const without = await cli(['replay', file]);
  assert.equal(without.code, 1);
  assert.match(without.err, /error\[SMP203\] the trace was made with the variant module .* give it with --variant FILE/);
  const other = join(dir, 'other.ts');
  writeFileSync(other, src.replace("name: 'propagate-carefully'", "name: 'propagate-otherwise'"));
  const wrong = await cli(['replay', file, '--variant', other]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /error\[SMP203\] the variant module .* is not the one the trace recorded/);
  const right = await cli(['replay', file, '--variant', mod]);
  assert.equal(right.code, 0, right.err);
  // A built-in variant's trace takes no --variant.
  const extra = await cli(['replay', deadlock.file, '--variant', mod]);
  assert.equal(extra.code, 1);
  assert.match(extra.err, /error\[SMP203\]/);
});

test('an edited scenario source is refused; a source that fails to parse is shown with its own line', async () => {
  const edited = await cli(['replay', tampered('edited.json', deadlock.t, (t) => {
    t.scenario.source = t.scenario.source.replace('P0', 'P9');
  })]);
  assert.equal(edited.code, 1);
  assert.match(edited.err, /error\[SMP201\] .* does not match its recorded sha256/);
  // The embedded source is broken (and its hash updated); the file on disk is fine.
  const onDisk = join(dir, 'disk.litmus');
  writeFileSync(onDisk, readFileSync(lit('litmus/SB.litmus'), 'utf8'));
  const { t } = await traceOf([onDisk], 'sb.json');
  const broken = t.scenario.source.replace('WRITE_ONCE(*x, 1);', 'WRITE_ONCE(*x, 1) @;');
  const r = await cli(['replay', tampered('broken.json', t, (x) => {
    x.scenario.source = broken;
    x.scenario.sha256 = sha256(broken);
  })]);
  assert.equal(r.code, 1);
  assert.match(r.err, /error\[SMP001\] unexpected character '@'/);
  assert.match(r.err, /\| {2}WRITE_ONCE\(\*x, 1\) @;\n/);
  // An error found once the embedded source has parsed (a directive) points into it too.
  const reordered = t.scenario.source.replace(/\nP0\(/, '\nsmpcheck { frobnicate; }\n\nP0(');
  const d = await cli(['replay', tampered('directive.json', t, (x) => {
    x.scenario.source = reordered;
    x.scenario.sha256 = sha256(reordered);
  })]);
  assert.equal(d.code, 1, d.err);
  assert.match(d.err, /error\[SMP108\] unknown directive 'frobnicate'/);
  assert.match(d.err, /\| smpcheck \{ frobnicate; \}\n/);
});

test('a trace of an older format is refused with what to do', async () => {
  const r = await cli(['replay', tampered('v1.json', deadlock.t, (t) => {
    (t as { version: number }).version = 1;
  })]);
  assert.equal(r.code, 1);
  assert.match(r.err, /error\[SMP201\] .* is an smpcheck trace of format version 1; this smpcheck reads versions 2, 3, 4, 5 and writes 5: write the trace again with --trace/);
  // A version-1 trace as version 1 wrote it: no sha256, the variant as a path.
  const v1 = tampered('v1-real.json', deadlock.t, (t) => {
    const old = t as unknown as Record<string, unknown> & { scenario: Record<string, unknown> };
    old.version = 1;
    delete old.scenario.sha256;
    delete old.variant_module;
  });
  assert.match((await cli(['replay', v1])).err, /format version 1; this smpcheck reads versions 2, 3, 4, 5/);
});

test('a trace of version 2 (no kernel functions, IPI targets or state per step) still replays', async () => {
  const v2 = tampered('v2.json', deadlock.t, (t) => {
    (t as { version: number }).version = 2;
    delete t.state;
    for (const s of t.steps) {
      delete s.calls;
      delete s.target;
    }
  });
  const r = await cli(['replay', v2]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Replay matches the recorded run/);
});

test('a trace of version 3 (no-op steps as steps of their own) still replays, with its choices', async () => {
  // Written by smpcheck before no-op steps ran with the op after them (format version 4):
  // P1's barrier() there is a choice of its own.
  const f = join(ROOT, 'test/data/traces/membarrier-A-v3.json');
  const t = JSON.parse(readFileSync(f, 'utf8')) as { version: number; choices: number[]; steps: unknown[] };
  assert.equal(t.version, 3);
  assert.equal(t.choices.length, t.steps.length);
  const r = await cli(['replay', f]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Replay matches the recorded run/);
  // Written again now, the same run takes fewer choices than it has steps.
  const again = await cli(['check', join(ROOT, 'scenarios/membarrier/membarrier-A.litmus'), '--model', 'x86', '--json', '--no-time', '--trace', join(dir, 'A-v4.json')]);
  assert.equal(again.code, 0, again.err);
  const t4 = JSON.parse(readFileSync(join(dir, 'A-v4.json'), 'utf8')) as { version: number; choices: number[]; steps: unknown[] };
  assert.equal(t4.version, 5);
  assert.ok(t4.choices.length < t4.steps.length, `${t4.choices.length} choices, ${t4.steps.length} steps`);
  assert.match((await cli(['replay', join(dir, 'A-v4.json')])).out, /Replay matches the recorded run/);
});

test('replay compares the state at each step that a trace of version 3 carries', async () => {
  assert.ok(deadlock.t.state && deadlock.t.state.after.length === deadlock.t.steps.length);
  const f = tampered('state.json', deadlock.t, (t) => {
    t.state!.after[3]!.cpus[0]!.pending.push('forged');
  });
  const r = await cli(['replay', f]);
  assert.equal(r.code, 2);
  assert.match(r.out, /DIVERGES .* in the state at each step/);
});

test('a trace of version 4 (private accesses as steps of their own) still replays; one of version 5 begins with the accesses made before the first step', async () => {
  // Scenario A on three CPUs: P2's WRITE_ONCE(*y2, 1) is to a location only P2 reaches.
  // Written before such accesses ran with the step before them (format version 4), it is a choice.
  const f = join(ROOT, 'test/data/traces/membarrier-A-3cpus-v4.json');
  const t = JSON.parse(readFileSync(f, 'utf8')) as { version: number; choices: number[]; steps: { fn: string; loc?: string }[] };
  assert.equal(t.version, 4);
  assert.ok(t.steps.some((s) => s.fn === 'WRITE_ONCE' && s.loc === 'y2'));
  const r = await cli(['replay', f]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Replay matches the recorded run/);
  // Now the store is made before the first step: the trace's first step, with the state
  // before it (y2 = 0) and after it (y2 = 1); the run takes two choices fewer.
  const out = join(dir, 'A3-v5.json');
  const again = await cli(['check', join(ROOT, 'bench/scaling/membarrier-A-3cpus.litmus'), '--model', 'x86', '--no-time', '--trace', out]);
  assert.equal(again.code, 0, again.err);
  const t5 = traceSchema().parse(JSON.parse(readFileSync(out, 'utf8')));
  assert.equal(t5.version, 5);
  const first = t5.steps[0]!;
  assert.deepEqual([first.cpu, first.op, first.fn, first.loc, first.value], [2, 'st', 'WRITE_ONCE', 'y2', '1']);
  assert.match(first.text, /to memory \(private to this thread: made before the first step\)/);
  assert.equal(t5.state!.initial.mem['y2'], '0');
  assert.deepEqual(t5.state!.after[0]!.mem, { y2: '1' }, 'the state after a step lists the locations it changed');
  assert.ok(t5.choices.length < t.choices.length, `${t5.choices.length} choices now, ${t.choices.length} in version 4`);
  assert.match((await cli(['replay', out])).out, /Replay matches the recorded run/);
});
