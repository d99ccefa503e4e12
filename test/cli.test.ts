// The command line: exit codes, JSON shapes, traces and replay, determinism,
// and the binary itself in a child process.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceSchema } from '../src/explore/trace.js';
import { VERSION } from '../src/version.js';
import { cli, read, ROOT } from './helpers.js';

const lit = (name: string): string => join(ROOT, 'scenarios', name);
const tmp = mkdtempSync(join(tmpdir(), 'smpcheck-cli-'));
const tmpDirs = [tmp];
after(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
}

const SB = read(lit('litmus/SB.litmus'));

test('version matches package.json', async () => {
  const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { version: string };
  assert.equal(VERSION, pkg.version);
  const r = await cli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.out.trim(), VERSION);
});

test('--help lists the commands and the exit codes', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0);
  for (const w of ['check', 'suite', 'replay', 'Exit codes', '70 internal error']) assert.ok(r.out.includes(w), w);
  const c = await cli(['check', '--help']);
  for (const w of ['--model', '--json', '--trace', '--show-trace', '--no-reduction', '--steps-max']) assert.ok(c.out.includes(w), w);
});

test('exit 0 when the expectation holds, with herd lines first', async () => {
  const r = await cli([lit('litmus/SB.litmus'), '--no-time']);
  assert.equal(r.code, 0);
  const lines = r.out.split('\n');
  assert.equal(lines[0], 'Test SB Allowed');
  assert.equal(lines[1], 'States 4');
  assert.ok(lines.includes('Ok'));
  assert.ok(lines.includes('Positive: 1 Negative: 3'));
  assert.ok(lines.includes('Observation SB Sometimes 1 3'));
  assert.ok(lines.includes('Verdict ok'));
  assert.equal(r.err, '');
});

test('exit 2 when the header is contradicted, and the reproduce command is printed', async () => {
  const f = write('SB-wrong.litmus', SB.replace('Result[x86]: Sometimes', 'Result[x86]: Never'));
  const r = await cli([f, '--no-time']);
  assert.equal(r.code, 2);
  assert.ok(r.out.includes('CONTRADICTED'));
  assert.ok(r.err.includes(`Reproduce: smpcheck check ${f} --model x86 --show-trace`));
});

test('exit 1 on bad input, exit 1 on a bad option, most severe code wins', async () => {
  const bad = write('bad.litmus', 'C bad\n{}\nP0(int *x) { WRITE_ONCE(*x, 1) }\nexists (x=1)\n');
  const r = await cli([bad]);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.litmus:3:32 error\[SMP100\] expected ';' after a statement, found '}'/);
  assert.ok(!r.err.includes('    at '), 'no stack trace');
  assert.equal((await cli([lit('litmus/SB.litmus'), '--steps-max', 'lots'])).code, 1);
  assert.equal((await cli([lit('litmus/SB.litmus'), '--model', 'power'])).code, 1);
  const wrong = write('SB-wrong2.litmus', SB.replace('Result[x86]: Sometimes', 'Result[x86]: Never'));
  assert.equal((await cli([wrong, bad, '--no-time'])).code, 1);
  assert.equal((await cli([lit('litmus/SB.litmus'), wrong, '--no-time'])).code, 2);
  assert.equal((await cli([join(tmp, 'missing.litmus')])).code, 1);
});

test('exit 4 when a bound cuts the search short; a counterexample found anyway is a violation', async () => {
  const r = await cli([lit('litmus/SB6.litmus'), '--executions-max', '5', '--no-time']);
  assert.equal(r.code, 4);
  assert.ok(r.out.includes('INCOMPLETE'));
  assert.ok(r.out.includes('Observation SB6 Unknown'));
  const never = write('SB-never.litmus', SB.replace('Result[x86]: Sometimes', 'Result[x86]: Never'));
  const v = await cli([never, '--executions-max', '2', '--no-time']);
  // The first runs of SB on x86 include the forbidden-by-the-header outcome or not;
  // either way the verdict is honest: a found counterexample is a violation, else incomplete.
  assert.ok(v.code === 2 || v.code === 4);
  assert.ok(v.out.includes(v.code === 2 ? 'CONTRADICTED by a counterexample' : 'not decided'));
});

test('exit 3 on a deadlock, with a deadlock trace', async () => {
  const f = write('deadlock.litmus', `C deadlock
(* Result: Never *)
{}
irq ack(int *done) { WRITE_ONCE(*done, 1); }
P0(int *done, int *go) {
	int r0;
	raise_irq(1, ack);
	r0 = smp_cond_load_acquire(done, VAL == 1);
	WRITE_ONCE(*go, 1);
}
P1(int *done, int *go) {
	int r0;
	local_irq_disable();
	r0 = smp_cond_load_acquire(go, VAL == 1);
	local_irq_enable();
}
exists (0:r0=2)
`);
  const r = await cli([f, '--no-time', '--show-trace', '--trace', join(tmp, 'dl.json')]);
  assert.equal(r.code, 3);
  assert.ok(r.out.includes('Verdict liveness'));
  assert.ok(r.out.includes('Trace (deadlock)'));
  const t = traceSchema().parse(JSON.parse(readFileSync(join(tmp, 'dl.json'), 'utf8')));
  assert.equal(t.kind, 'deadlock');
  assert.equal(t.final, null);
  assert.deepEqual(t.blocked, [0, 1]);
});

test('--json prints one object per check with the documented fields', async () => {
  const r = await cli([lit('litmus/SB.litmus'), lit('litmus/MP.litmus'), '--model', 'all', '--json', '--no-time']);
  assert.equal(r.code, 0);
  const objs = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(objs.length, 4);
  const sb = objs[1]!;
  for (const k of ['test', 'model', 'result', 'verdict', 'states', 'positive', 'negative', 'stats']) assert.ok(k in sb, k);
  assert.equal(sb.test, 'SB');
  assert.equal(sb.model, 'x86');
  assert.equal(sb.result, 'Sometimes');
  assert.deepEqual(sb.states, [{ '0:r0': 0, '1:r0': 0 }, { '0:r0': 0, '1:r0': 1 }, { '0:r0': 1, '1:r0': 0 }, { '0:r0': 1, '1:r0': 1 }]);
  const stats = sb.stats as Record<string, unknown>;
  for (const k of ['executions', 'steps', 'ms']) assert.equal(typeof stats[k], 'number', k);
});

test('pointer values print as location names', async () => {
  const f = write('ptr.litmus', `C ptr
{ int *p = x; x = 5; }
P0(int **p, int *x, int *y) {
	int *r0;
	int r1;
	r0 = READ_ONCE(*p);
	r1 = READ_ONCE(*r0);
	WRITE_ONCE(*p, y);
}
exists (0:r0=x /\\ 0:r1=5 /\\ p=y)
`);
  const r = await cli([f, '--no-time', '--json']);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out) as { result: string; states: unknown[] };
  assert.equal(j.result, 'Always');
  assert.deepEqual(j.states, [{ '0:r0': 'x', '0:r1': 5, p: 'y' }]);
});

test('--trace writes a valid trace that replays to the same final state', async () => {
  const tf = join(tmp, 'sb.json');
  assert.equal((await cli([lit('litmus/SB.litmus'), '--trace', tf, '--no-time'])).code, 0);
  const t = traceSchema().parse(JSON.parse(readFileSync(tf, 'utf8')));
  assert.equal(t.kind, 'positive');
  assert.deepEqual(t.final, { '0:r0': '0', '1:r0': '0' });
  assert.equal(t.steps.length, t.choices.length);
  const r = await cli(['replay', tf]);
  assert.equal(r.code, 0);
  assert.ok(r.out.includes('Replay matches the recorded run'));
  // Tampered traces: a different recorded final state, an impossible choice, not a trace.
  writeFileSync(join(tmp, 'diverge.json'), JSON.stringify({ ...t, final: { '0:r0': '1', '1:r0': '1' } }));
  assert.equal((await cli(['replay', join(tmp, 'diverge.json')])).code, 2);
  writeFileSync(join(tmp, 'bad-choice.json'), JSON.stringify({ ...t, choices: [29, ...t.choices] }));
  const bc = await cli(['replay', join(tmp, 'bad-choice.json')]);
  assert.equal(bc.code, 1);
  assert.ok(bc.err.includes('error[SMP202]'));
  writeFileSync(join(tmp, 'not-trace.json'), '{"format":"other"}');
  const nt = await cli(['replay', join(tmp, 'not-trace.json')]);
  assert.equal(nt.code, 1);
  assert.ok(nt.err.includes('error[SMP201]'));
  writeFileSync(join(tmp, 'not-json.json'), '{');
  assert.equal((await cli(['replay', join(tmp, 'not-json.json')])).code, 1);
});

test('every witness of the library replays to its recorded final state', async () => {
  for (const f of ['litmus/IRIW.litmus', 'litmus/SB6.litmus', 'irq/irq-window.litmus', 'irq/SB+ipi-mb-ack.litmus']) {
    for (const model of ['sc', 'x86']) {
      const tf = join(tmp, 'w.json');
      await cli([lit(f), '--model', model, '--trace', tf, '--no-time']);
      const r = await cli(['replay', tf]);
      assert.equal(r.code, 0, `${f} ${model}: ${r.err}`);
    }
  }
});

test('a kernel variant is recorded in the trace and replayed with it', async () => {
  const tf = join(tmp, 'noipi.json');
  const f = lit('membarrier/membarrier-A.litmus');
  assert.equal((await cli([f, '--variant', 'no-ipi', '--trace', tf, '--no-time'])).code, 0);
  const t = traceSchema().parse(JSON.parse(readFileSync(tf, 'utf8')));
  assert.equal(t.kernel, 'v6.18');
  assert.equal(t.variant, 'no-ipi');
  assert.equal(t.kind, 'positive');
  const r = await cli(['replay', tf]);
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.includes('Replay matches the recorded run'));
});

test('output is byte-for-byte deterministic with --no-time', async () => {
  const args = [lit('litmus/IRIW.litmus'), lit('irq/SB+ipi-nowait.litmus'), '--model', 'all', '--show-trace', '--no-time'];
  const a = await cli(args);
  const b = await cli(args);
  assert.equal(a.out, b.out);
  const j1 = await cli([...args, '--json']);
  const j2 = await cli([...args, '--json']);
  assert.equal(j1.out, j2.out);
});

test('suite: exit 0 when all hold, 2 when one is contradicted, 1 without expectations', async () => {
  const ok = await cli(['suite', join(ROOT, 'scenarios/irq'), '--no-time']);
  assert.equal(ok.code, 0);
  assert.ok(ok.out.includes('10 confirmed, 0 contradicted'));
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-suite-'));
  tmpDirs.push(dir);
  writeFileSync(join(dir, 'a.litmus'), SB);
  writeFileSync(join(dir, 'b.litmus'), SB.replace('Result[sc]: Never', 'Result[sc]: Sometimes'));
  const bad = await cli(['suite', dir, '--json', '--no-time']);
  assert.equal(bad.code, 2);
  // JSON Lines: one object per check (its row and the check's own object), then the summary.
  const lines = bad.out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  assert.equal(lines.length, 9);
  const checks = lines.slice(0, 8);
  assert.deepEqual(checks.map((c) => `${c.test}/${c.model}/${c.status}`), [
    'SB/sc/confirmed', 'SB/x86/confirmed', 'SB/arm64/confirmed', 'SB/lkmm/confirmed',
    'SB/sc/contradicted', 'SB/x86/confirmed', 'SB/arm64/confirmed', 'SB/lkmm/confirmed',
  ]);
  for (const c of checks) {
    assert.equal(c.check.test, 'SB');
    assert.equal(c.check.model, c.model);
    assert.equal(c.check.verdict, c.status === 'contradicted' ? 'violation' : 'ok');
  }
  const j = lines[8] as { summary: { contradicted: number; confirmed: number; checks: number }; files: number };
  assert.equal(j.summary.contradicted, 1);
  // SB states four lines (sc, x86, arm64, lkmm) in each of a.litmus and b.litmus: one contradicted, seven confirmed.
  assert.equal(j.summary.confirmed, 7);
  assert.equal(j.summary.checks, 8);
  assert.equal(j.files, 2);
  const none = mkdtempSync(join(tmpdir(), 'smpcheck-suite-'));
  tmpDirs.push(none);
  writeFileSync(join(none, 'c.litmus'), SB.replace(/ \* Result\[[a-z0-9]+\]: \w+\n/g, ''));
  assert.equal((await cli(['suite', none, '--no-time'])).code, 1);
});

test('the installed binary runs as a Unix tool: exit codes and streams', async () => {
  const bin = join(ROOT, 'bin/smpcheck.js');
  const ok = spawnSync(process.execPath, [bin, lit('litmus/MP.litmus'), '--no-time'], { encoding: 'utf8' });
  assert.equal(ok.status, 0);
  assert.ok(ok.stdout.startsWith('Test MP Allowed\n'));
  const bad = spawnSync(process.execPath, [bin, join(tmp, 'missing.litmus')], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /error\[SMP004\]/);
  const v = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.equal(v.trim(), VERSION);
});

test('a deadlock expected by the header: exit 0, and the trace ends with what each CPU waits on', async () => {
  const file = lit('membarrier/membarrier-targeted-stall.litmus');
  const r = await cli(['check', file, '--show-trace', '--no-time']);
  assert.equal(r.code, 0);
  assert.match(r.out, /Expected Deadlock \(Result\[x86\]\): confirmed/);
  assert.match(r.out, /Trace \(deadlock\)/);
  assert.match(r.out, /Blocked forever:\n {2}CPU0 waits in csd_lock_wait \(csd\[0->1\]\.flags = 1\)\n {2}CPU1 waits in smp_cond_load_acquire \(done = 0\), interrupts off, pending: generic_smp_call_function_single_interrupt\n {2}CPU2 waits in mutex_lock \(membarrier_ipi_mutex = 1\)\n/);
  // The JSON trace carries the same phrases; the variant with the fix has no deadlock.
  const out = join(tmp, 'stall.json');
  assert.equal((await cli(['check', file, '--trace', out])).code, 0);
  const t = traceSchema().parse(JSON.parse(readFileSync(out, 'utf8')));
  assert.equal(t.kind, 'deadlock');
  assert.equal(t.waits?.length, 3);
  const fixed = await cli(['check', file, '--variant', 'post-89976cd73739', '--json']);
  assert.equal(fixed.code, 0);
  assert.equal(JSON.parse(fixed.out).stats.deadlocks, 0);
});

test('suite --jobs 2 prints each row as soon as it and the rows before it are done, and counts checks as they finish', async () => {
  const r = await cli(['suite', join(ROOT, 'scenarios/irq'), join(ROOT, 'scenarios/rseq'), '--no-time', '--progress', '--jobs', '2']);
  assert.equal(r.code, 0);
  const rows = r.out.split('\n').filter((l) => /confirmed|consistent|contradicted|incomplete/.test(l) && !l.startsWith('suite:'));
  const counts = r.err.split('\n').map((l) => /^suite: (\d+)\/(\d+) checks/.exec(l)).filter((m) => m !== null).map((m) => [Number(m![1]), Number(m![2])]);
  // A status line after each row (in lines mode), its count never going back.
  assert.equal(counts.length, rows.length);
  const total = counts[0]![1]!;
  assert.equal(total, rows.length);
  for (let i = 1; i < counts.length; i++) assert.ok(counts[i]![0]! >= counts[i - 1]![0]!);
  // The first rows came out while checks were still running, not all at the end.
  assert.ok(counts[0]![0]! < total, `first row printed after ${counts[0]![0]} of ${total} checks`);
  assert.equal(counts[counts.length - 1]![0], total);
});

test('suite --jobs 2 prints what one job prints, byte for byte, and exits the same', async () => {
  for (const extra of [[], ['--json']]) {
    const one = await cli(['suite', join(ROOT, 'scenarios/irq'), join(ROOT, 'scenarios/rseq'), '--no-time', '--no-progress', ...extra]);
    const two = await cli(['suite', join(ROOT, 'scenarios/irq'), join(ROOT, 'scenarios/rseq'), '--no-time', '--no-progress', '--jobs', '2', ...extra]);
    assert.equal(two.code, one.code);
    assert.equal(two.out, one.out);
    assert.equal(two.err, one.err);
  }
});
