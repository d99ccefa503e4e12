// No user mistake is an internal error: every documented error code is reached by a
// mistake and exits 1 with that code, every option given a bad value exits 1, and
// file-system errors, variant modules that fail and oversized scripts are coded.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_CODES, type ErrorCode } from '../src/scenario/errors.js';
import { parseScript, ScriptError, SCRIPT_BYTES_MAX } from '../src/host/script.js';
import { cli, type CliRun, read, ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-usererr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const lit = (name: string): string => join(ROOT, 'scenarios', name);
const SB = lit('litmus/SB.litmus');
const L = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** A user mistake: exit 1, a coded error, no stack trace. */
function refused(r: CliRun, what: string, code?: ErrorCode | RegExp): void {
  assert.notEqual(r.code, 70, `${what}: internal error\n${r.err}`);
  assert.equal(r.code, 1, `${what}: exit ${r.code}\n${r.err}`);
  assert.ok(!r.err.includes('    at '), `${what}: stack trace\n${r.err}`);
  assert.match(r.err, code instanceof RegExp ? code : code ? new RegExp(`error\\[${code}\\]`) : /error\[(SMP|HOST)\d{3}\]|error: |Usage:/, what);
}

const throwing = file('throws.ts', `
import * as K from 'smpcheck';
export default {
  name: 'throws',
  description: 'a replacement that throws while the model runs',
  overrides: {
    *membarrier_private_expedited(k: K.Kernel, cpu: number) {
      yield* k.smp_mb('membarrier.a', 'switch_mm.cr3/mmdrop');
      throw new TypeError('oops at ' + cpu);
    },
  },
};
`);
const notGenerator = file('plain.js', `
module.exports = { default: { name: 'plain', description: 'not a generator',
  overrides: { membarrier_private_expedited() { return 0; } } } };
`);

const yieldsJunk = file('junk.js', `
module.exports = { default: { name: 'junk', description: 'yields what the machine cannot run',
  overrides: { *membarrier_private_expedited() { yield 42; yield { k: 'st', loc: -7 }; return 0; } } } };
`);

const yieldsFar = file('far.js', `
module.exports = { default: { name: 'far', description: 'an op the machine fails on',
  overrides: { *membarrier_private_expedited() { yield { k: 'rmw', loc: 99999, f: (x) => x.y.z, site: { fn: 'far' } }; return 0; } } } };
`);

/** A trace made once, to tamper with. */
const traceFile = join(dir, 'sb.json');
await cli([SB, '--no-time', '--trace', traceFile]);
const trace = JSON.parse(readFileSync(traceFile, 'utf8')) as { choices: number[]; variant_module: unknown };
const modTrace = join(dir, 'mod.json');
await cli([lit('membarrier/membarrier-B.litmus'), '--no-time', '--variant', join(ROOT, 'examples', 'variants', 'propagate-carefully.ts'), '--trace', modTrace]);

/** One mistake per documented code: the command line that makes it. */
const MISTAKES: Record<ErrorCode, () => string[]> = {
  SMP001: () => [file('e001.litmus', L('C T', '{}', 'P0(int *x) { @ }', 'exists (x=1)'))],
  SMP002: () => [file('e002.litmus', L('C T', '(* open', '{}'))],
  SMP003: () => [file('e003.litmus', '')],
  SMP004: () => [join(dir, 'missing.litmus')],
  SMP100: () => [file('e100.litmus', L('C T', '{}', 'P0(int *x) { WRITE_ONCE(*x, 1) }', 'exists (x=1)'))],
  SMP101: () => [file('e101.litmus', L('C T', '{}', 'P0(int *x) { WRITE_ONCE(*x, 1); }', 'exists (y=1)'))],
  SMP102: () => [file('e102.litmus', L('C T', '{}', 'P0(int *x) { int r0; r0 = READ_ONCE(*x) + r9; }', 'exists (x=1)'))],
  SMP103: () => [join(ROOT, 'docs', 'examples', 'spinlock.litmus')],
  SMP104: () => [file('e104.litmus', L('C T', '{}', 'P0(int *x) { raise_irq(0, h); }', 'exists (x=1)'))],
  SMP105: () => [file('e105.litmus', L('C T', '{}', 'P0(int *x, int *x) { }', 'exists (x=1)'))],
  SMP106: () => [file('e106.litmus', L('C T', '{}', 'P1(int *x) { }', 'exists (x=1)'))],
  SMP107: () => [file('e107.litmus', L('C T', '(*', ' * Result: Perhaps', ' *)', '{}', 'P0(int *x) { }', 'exists (x=1)'))],
  SMP108: () => [file('e108.litmus', L('C T', '{}', 'smpcheck { frobnicate; }', 'P0(int *x) { }', 'exists (x=1)'))],
  SMP109: () => [file('e109.litmus', L('C T', '{}', 'irq h(int *x) { }', 'P0(int *x) { int r0; raise_irq(r0, h); }', 'exists (x=1)'))],
  SMP110: () => [file('e110.litmus', L('C T', '{ x=4294967296; }', 'P0(int *x) { }', 'exists (x=1)'))],
  SMP111: () => [file('e111.litmus', L('C T', '{}', ...Array.from({ length: 9 }, (_, i) => `P${i}(int *x) { }`), 'exists (x=1)'))],
  SMP112: () => [lit('tlb/madvise-stale-read.litmus'), '--model', 'lkmm'],
  SMP200: () => [SB, '--steps-max', 'lots'],
  SMP201: () => ['replay', file('e201.json', '{"format":"other"}')],
  SMP202: () => ['replay', file('e202.json', JSON.stringify({ ...trace, choices: [29, ...trace.choices] }))],
  SMP203: () => ['replay', modTrace],
  SMP204: () => [lit('membarrier/membarrier-A.litmus'), '--variant', throwing, '--no-time'],
  SMP205: () => ['merge', file('e205.json', '{"format":"smpcheck-part"}')],
  SMP210: () => {
    process.env.SMPCHECK_VIEWER_JS = join(dir, 'no-viewer.js');
    return ['view', traceFile, '--out', join(dir, 'v.html')];
  },
  SMP220: () => ['sim', lit('sim/sched-pipe-threads.litmus'), '--profile', file('e220.json', '{"format":"smpcheck-profile/1"}')],
  SMP301: () => [file('e301.litmus', L('C T', '{}', 'P0(int *x) { int r0; int r1; r0 = READ_ONCE(*x); r1 = 5 / r0; }', 'exists (0:r1=0)'))],
  SMP302: () => [file('e302.litmus', L('C T', '{}', 'P0(int *x) { int r0; r0 = x + 1; }', 'exists (0:r0=0)'))],
  SMP303: () => [file('e303.litmus', L('C T', '{}', 'P0(int *x) { int r0; int *r1; r1 = 5; r0 = READ_ONCE(*r1); }', 'exists (0:r0=0)'))],
};

test('every documented error code is reached by a user mistake and exits 1, never 70', async () => {
  assert.deepEqual(Object.keys(MISTAKES).sort(), Object.keys(ERROR_CODES).sort(), 'one mistake per code');
  const doc = read(join(ROOT, 'docs', 'cli.md'));
  for (const [code, args] of Object.entries(MISTAKES)) {
    assert.ok(doc.includes(`| ${code} |`), `${code} is documented in docs/cli.md`);
    const r = await cli(args());
    delete process.env.SMPCHECK_VIEWER_JS;
    refused(r, code, code as ErrorCode);
  }
});

test('file-system errors are coded: --trace to a missing directory or a directory, an input that is a directory', async () => {
  for (const target of ['/nonexistent/dir/t.json', dir]) {
    const r = await cli([SB, '--no-time', '--trace', target]);
    refused(r, `--trace ${target}`, 'SMP004');
    assert.match(r.err, /cannot write the trace/);
  }
  refused(await cli([dir]), 'a directory as input', /error\[SMP004\] cannot read scenario .* it is a directory/);
  refused(await cli(['replay', dir]), 'a directory as a trace', 'SMP004');
  refused(await cli(['replay', join(dir, 'nope.json')]), 'a missing trace', 'SMP004');
  refused(await cli(['replay', traceFile, '--scenario', join(dir, 'nope.litmus')]), 'a missing --scenario', 'SMP004');
  refused(await cli(['suite', join(dir, 'nothing-here')]), 'a missing suite directory', 'SMP004');
  // A symbolic link to an ancestor directory is walked once, not until the path is too long.
  const loop = join(dir, 'loop');
  mkdirSync(loop);
  symlinkSync('.', join(loop, 'again'));
  writeFileSync(join(loop, 'SB.litmus'), read(SB));
  const suite = await cli(['suite', loop, '--no-time']);
  assert.equal(suite.code, 0, suite.err);
  assert.match(suite.out, /suite: 4 checks in 1 files/); // SB states sc, x86, arm64 and lkmm
});

test('a variant module whose replacement throws, or is not a generator, is the user\'s error', async () => {
  const r = await cli([lit('membarrier/membarrier-A.litmus'), '--variant', throwing, '--no-time']);
  refused(r, 'throws', 'SMP204');
  assert.match(r.err, /variant module '.*throws\.ts': its membarrier_private_expedited\(\) threw: TypeError: oops at 0/);
  const p = await cli([lit('membarrier/membarrier-A.litmus'), '--variant', notGenerator, '--no-time']);
  refused(p, 'not a generator', 'SMP204');
  assert.match(p.err, /is not a generator function/);
  const j = await cli([lit('membarrier/membarrier-A.litmus'), '--variant', yieldsJunk, '--no-time']);
  refused(j, 'yields junk', 'SMP204');
  assert.match(j.err, /its membarrier_private_expedited\(\) yielded 42, which is not an op/);
  const far = await cli([lit('membarrier/membarrier-A.litmus'), '--variant', yieldsFar, '--no-time']);
  refused(far, 'an op the machine fails on', 'SMP204');
  assert.match(far.err, /the model failed while running its replacements: TypeError/);
});

test('a host script over 16 MiB is an input error, before anything runs', async () => {
  const big = join(dir, 'big.script');
  writeFileSync(big, '');
  truncateSync(big, SCRIPT_BYTES_MAX + 1);
  refused(await cli(['host', 'run', big, '--model-only']), 'an oversized script', 'SMP111');
  // A script text over the limit that reached the parser is refused there too.
  assert.throws(() => parseScript(`# ${'x'.repeat(SCRIPT_BYTES_MAX)}\n`, 2), (e: unknown) => e instanceof ScriptError && e.code === 'HOST005');
  mkdirSync(join(dir, 'script-dir'), { recursive: true });
  refused(await cli(['host', 'run', join(dir, 'script-dir'), '--model-only']), 'a directory as a script', 'SMP004');
});

test('every option given a bad value exits 1, never 70', async () => {
  const m = lit('membarrier/membarrier-A.litmus');
  const cases: string[][] = [];
  for (const opt of ['--steps-max', '--executions-max']) {
    for (const v of ['0', '-1', 'lots', '1e3', '1.5', '99999999999', '']) cases.push([SB, opt, v]);
  }
  for (const v of ['0', '1KiB', 'big', '1TB', '-1MiB']) cases.push([SB, '--memory-max', v]);
  cases.push([SB, '--model', 'power'], [SB, '--model'], [SB, '--engine', 'fast'], [SB, '--model', 'arm64', '--show-trace'], [SB, '--engine', 'graph', '--no-reduction'], [m, '--variant', 'no-such-variant'], [m, '--variant', join(dir, 'missing.ts')],
    [m, '--variant', dir + '/'], [SB, '--bogus'], ['suite', lit('litmus'), '--model', 'all'], ['suite'], ['replay'],
    ['replay', traceFile, '--variant', throwing], ['replay', traceFile, '--scenario', dir], ['check'], ['variants', 'extra'],
    ['host', 'run'], ['host', 'run', file('s.script', 'frobnicate\n'), '--model-only'],
    ['host', 'run', file('s2.script', 'membarrier 0 0 0\n'), '--model-only', '--cpus', '0'],
    ['host', 'run', file('s3.script', 'membarrier 0 0 0\n'), '--model-only', '--variant', 'nope'],
    ['host', 'conform', '--runs', '0'], ['host', 'conform', '--seed', '-1'], ['host', 'bench', '--calls', 'x'], ['host', 'nope'],
    [SB, '--trace', join(dir, 't.json'), lit('litmus/MP.litmus')],
    [SB, '--workers', '0'], [SB, '--workers', 'many'], [SB, '--workers', '65'], [SB, '--shard', '1/2'], [SB, '--out', join(dir, 'o.json')],
    [SB, '--shard', '3/2', '--out', join(dir, 'o.json')], [SB, '--shard', '0/2', '--out', join(dir, 'o.json')], [SB, '--shard', 'a/b', '--out', join(dir, 'o.json')],
    [SB, '--shard', '1/2', '--out', join(dir, 'o.json'), '--model', 'arm64'], [SB, '--shard', '1/2', '--out', join(dir, 'o.json'), '--no-reduction'],
    [SB, '--shard', '1/2', '--out', join(dir, 'o.json'), '--show-trace'], [SB, lit('litmus/MP.litmus'), '--shard', '1/2', '--out', join(dir, 'o.json')],
    ['merge'], ['merge', join(dir, 'missing.json')], ['merge', traceFile]);
  for (const args of cases) refused(await cli(args), args.join(' '));
});
