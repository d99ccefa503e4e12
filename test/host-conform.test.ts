// The model's system-call layer against operation scripts (docs/host.md): the
// selftests' API cases with the results the reference gives, script errors, and
// differential runs against the real kernel (skipped, with the reason, where the
// native helper is unavailable).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { cli, read, ROOT } from './helpers.js';
import { isMemoryOp, parseScript, ScriptError, formatScript } from '../src/host/script.js';
import { runModelScript, type ModelHost } from '../src/host/model.js';
import { compareScript, conform, scriptArb, variantForRelease } from '../src/host/conform.js';
import { hostAvailability, hostInfo, runHostScript } from '../src/host/native.js';
import { findVariant } from '../src/kernel/variants.js';

const V618: ModelHost = { nrCpus: 2, nohzFull: false, variant: findVariant('v6.18')! };
const example = (name: string): string => read(join(ROOT, 'examples/host', name));

/** Results in script order: a number for a successful membarrier(), 'EPERM'/'EINVAL', else the op name. */
function summary(script: string, host: ModelHost = V618): (number | string)[] {
  return runModelScript(parseScript(script, host.nrCpus), host).map((l) => {
    if (l.op !== 'membarrier') return l.op;
    if (l.ret === -1) return l.errno === 1 ? 'EPERM' : l.errno === 22 ? 'EINVAL' : `errno ${l.errno}`;
    return l.ret;
  });
}

// The selftests' expected results, as the reference (tools/testing/selftests/membarrier) lists them.
const SELFTEST_SUCCESS = [0, 0, 16, 0, 1023, 0, 80, 0, 0, 0, 84, 0];
const SELFTEST_FAIL = ['EINVAL', 'EINVAL', 'EPERM', 1023, 'EPERM'];

test('the selftests\' single-thread API cases give the results the selftests expect', async () => {
  assert.deepEqual(summary(example('selftest-single-thread.script')), [0, 1023, ...SELFTEST_FAIL, ...SELFTEST_SUCCESS, 84]);
});

test('the selftests\' multi-thread API cases (mm_users == 2: IPIs and synchronize_rcu run)', async () => {
  assert.deepEqual(summary(example('selftest-multi-thread.script')), ['spawn', 1023, ...SELFTEST_FAIL, ...SELFTEST_SUCCESS, 'exit', 'join']);
});

test('registration is shared by threads, inherited by fork, cleared by exec; the design variant clears it on fork', async () => {
  const s = example('inheritance.script');
  assert.deepEqual(summary(s), [0, 'spawn', 0, 16, 'exit', 'join', 'fork', 0, 16, 'exec', 0, 'EPERM']);
  const clears = { ...V618, variant: findVariant('fork-clears-registration')! };
  assert.deepEqual(summary(s, clears), [0, 'spawn', 0, 16, 'exit', 'join', 'fork', 'EPERM', 0, 'exec', 0, 'EPERM']);
});

test('degenerate machines: one CPU, and pre-6.3 kernels without GET_REGISTRATIONS', async () => {
  const one = { ...V618, nrCpus: 1 };
  // One CPU: GLOBAL needs no grace period, expedited commands return at once, FLAG_CPU 5 is no CPU.
  assert.deepEqual(summary('membarrier 1 0 0\nmembarrier 16 0 0\nmembarrier 8 0 0\nmembarrier 256 0 0\nmembarrier 128 1 5\n', one), [0, 0, 0, 0, 0]);
  const old = { ...V618, variant: findVariant('pre-544a4f2ecd45')! };
  assert.deepEqual(summary('membarrier 0 0 0\nmembarrier 512 0 0\n', old), [511, 'EINVAL']);
  const nohz = { ...V618, nohzFull: true };
  assert.deepEqual(summary('membarrier 0 0 0\nmembarrier 1 0 0\n', nohz), [1022, 'EINVAL']);
});

test('bad scripts get coded errors with the line, and nothing runs', async () => {
  const cases: [string, string, number][] = [
    ['membarrier 1 2\n', 'HOST001', 1],
    ['\n# c\nfrobnicate\n', 'HOST001', 3],
    ['membarrier 0x10 0 0\n', 'HOST001', 1],
    ['membarrier 4294967296 0 0\n', 'HOST002', 1],
    ['t1 membarrier 0 0 0\n', 'HOST003', 1],
    ['spawn 1 block\nspawn 1 block\n', 'HOST003', 2],
    ['spawn 1 block\nfork\nexit 1\n', 'HOST003', 3],
    ['spawn 1 spin 2\n', 'HOST004', 1],
    ['affinity 0 -1\n', 'HOST004', 1],
    ['spawn 9 block\n', 'HOST005', 1],
    ['fork\nfork\nfork\nfork\nfork\n', 'HOST005', 5],
    ['membarrier 0 0 0\n'.repeat(257), 'HOST005', 257],
    ['spawn 1 block\njoin 1\n', 'HOST006', 2],
    ['mmap 1\nt1 touch 0 1\n', 'HOST003', 2],
    ['mmap 0\n', 'HOST002', 1],
    ['mmap 513\n', 'HOST005', 1],
    ['mmap 2\nmprotect 0 2 rwx\n', 'HOST001', 2],
    ['mmap 2\nspawn 1 block\nexit 1\nt1 madvise 0 1\n', 'HOST003', 4],
    ['touch 0 1\n', 'HOST007', 1],
    ['mmap 2\ntouch 1 2\n', 'HOST007', 2],
    ['mmap 2\nmmap 2\n', 'HOST007', 2],
    ['mmap 2\nmprotect 1 1 r\ntouch 0 2\n', 'HOST007', 3],
    ['mmap 2\nmunmap 0 1\nmadvise 0 2\n', 'HOST007', 3],
    ['mmap 2\nexec\nmunmap 0 1\n', 'HOST007', 3],
  ];
  for (const [script, code, line] of cases) {
    assert.throws(() => parseScript(script, 2), (e: unknown) => e instanceof ScriptError && e.code === code && e.line === line, `${JSON.stringify(script)} -> ${code}`);
  }
});

test('generated scripts are valid and survive a round trip through the text form', async () => {
  fc.assert(fc.property(scriptArb(2), (script) => {
    const ops = parseScript(script, 2);
    assert.equal(formatScript(ops), script);
    runModelScript(ops, V618); // never stuck, never an assertion
  }), { numRuns: 300, seed: 7 });
});

test('memory operations: read as written, with the region followed across fork, munmap and exec', async () => {
  const script = 'mmap 4\ntouch 0 4\nspawn 1 spin 1\nt1 touch 1 2\nt1 madvise 0 1\nmprotect 0 2 r\nmprotect 0 2 none\nmprotect 1 1 rw\n'
    + 't1 munmap 3 1\nfork\ntouch 1 1\nmunmap 0 3\nt0 mmap 2\nexec\nmmap 1\n';
  const ops = parseScript(script, 2);
  assert.equal(formatScript(ops), script.replace('t0 mmap', 'mmap'));
  assert.deepEqual(ops[5], { op: 'mprotect', line: 6, thread: 0, first: 0, count: 2, prot: 'r' });
  assert.deepEqual(ops[12], { op: 'mmap', line: 13, thread: 0, pages: 2 });
  assert.ok(ops.filter(isMemoryOp).length === 12);
});

test('host run refuses memory operations, which the model does not run yet: HOST008, exit 1', async () => {
  const file = join(ROOT, 'examples/host/tlb-shootdowns.script');
  const r = await cli(['host', 'run', '--model-only', '--cpus', '2', file]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /^.*tlb-shootdowns\.script:8: error\[HOST008\] 'mmap' is not modelled yet; smpcheck host tlb-ipis .* runs the script on the running kernel\n$/);
});

test('the running kernel chooses the closest modelled version', async () => {
  assert.equal(variantForRelease('6.18.44-fc').variant.name, 'v6.18');
  assert.equal(variantForRelease('6.1.0').variant.name, 'pre-544a4f2ecd45');
  assert.ok(variantForRelease('4.19.0').note);
});

test('host run --model-only prints the model\'s lines; a bad script is exit 1 with its location', async () => {
  const file = join(ROOT, 'examples/host/inheritance.script');
  const r = await cli(['host', 'run', '--model-only', '--cpus', '2', file]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim().split('\n').length, 12);
  assert.match(r.out, /^\{"line":2,"op":"membarrier","ret":0,"errno":0\}$/m);
});

const avail = hostAvailability();
const skip = avail.ok ? false : avail.reason;

test('the real kernel agrees with the model on the selftests\' API cases and the inheritance rules', { skip }, async () => {
  const info = hostInfo();
  const host: ModelHost = { nrCpus: info.nprocs, nohzFull: false, variant: variantForRelease(info.uname).variant };
  for (const f of ['selftest-single-thread.script', 'selftest-multi-thread.script', 'inheritance.script']) {
    const c = compareScript(example(f), host, (s) => runHostScript(s));
    assert.equal(c.difference, '', `${f}: ${c.difference}`);
    assert.equal(c.host.lines.length, c.model.length);
  }
});

test('differential: 300 random scripts agree line by line with the real kernel (seed 1)', { skip }, async () => {
  const info = hostInfo();
  const host: ModelHost = { nrCpus: info.nprocs, nohzFull: false, variant: variantForRelease(info.uname).variant };
  const r = conform({ runs: 300, seed: 1, host, runHost: (s) => runHostScript(s) });
  assert.equal(r.failure, null, r.failure ? `${r.failure.difference}\n${r.failure.script}` : '');
  assert.ok(r.operations > 1000, `only ${r.operations} operations`);
});

test('differential testing has teeth: the fork-clears-registration design is caught and shrunk', { skip }, async () => {
  const info = hostInfo();
  const host: ModelHost = { nrCpus: info.nprocs, nohzFull: false, variant: findVariant('fork-clears-registration')! };
  const r = conform({ runs: 300, seed: 1, host, runHost: (s) => runHostScript(s) });
  assert.ok(r.failure, 'no mismatch found');
  assert.match(r.failure.script, /fork/);
  assert.ok(r.failure.script.trim().split('\n').length <= 4, `not shrunk:\n${r.failure.script}`);
  const run = await cli(['host', 'conform', '--runs', '300', '--seed', '1', '--variant', 'fork-clears-registration']);
  assert.equal(run.code, 2);
  assert.match(run.out, /MISMATCH/);
  assert.match(run.out, /reproduce: smpcheck host conform --runs 300 --seed 1 --variant fork-clears-registration/);
});
