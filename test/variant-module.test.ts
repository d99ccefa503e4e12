// A user's variant module (`--variant ./patch.ts`): loaded, checked, and run.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkScenario } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { cli, read, ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-variant-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const A = join(ROOT, 'scenarios/membarrier/membarrier-A.litmus');
const example = join(ROOT, 'examples/variants/propagate-carefully.ts');

test('the example patch loads, runs, and keeps scenarios A and B on x86', async () => {
  for (const f of ['A', 'B']) {
    const file = join(ROOT, `scenarios/membarrier/membarrier-${f}.litmus`);
    const sc = parseScenario(read(file), file);
    const r = checkScenario(sc, { model: 'x86', variant: example });
    assert.equal(r.variant.name, 'propagate-carefully');
    assert.equal(r.observation, 'Never', f);
  }
});

test('an override replaces the kernel function it names', async () => {
  // Replace ipi_mb() by a step without a barrier and check, in the trace, that
  // the replacement is what ran on the interrupted CPU.
  const mod = join(dir, 'count-ipis.ts');
  writeFileSync(mod, `
import * as K from 'smpcheck';
export default {
  name: 'ipi-mb-noop',
  description: 'ipi_mb() replaced by a step without a barrier',
  overrides: {
    *ipi_mb(k: K.Kernel) { yield* k.note('ipi_mb (replaced)'); },
  },
};
`);
  const r = await cli([A, '--variant', mod, '--no-time', '--show-trace']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Kernel ipi-mb-noop: ipi_mb\(\) replaced by a step without a barrier \(based on v6\.18, from /);
  assert.match(r.out, /ipi_mb \(replaced\)/);
});

test('bad variant modules are coded errors', async () => {
  const cases: [string, string, RegExp][] = [
    ['no-name.ts', 'export default { description: "x" };', /must export default/],
    ['bad-override.ts', 'export default { name: "x", description: "y", overrides: { no_such_function: function* () {} } };', /not a modelled kernel function/],
    ['syntax.ts', 'export default { name: "x", description: };', /'.*syntax\.ts'/],
    ['bad-import.ts', 'import * as fs from "node:fs"; export default { name: "x", description: "y", z: fs };', /may import only 'smpcheck'/],
  ];
  for (const [name, text, msg] of cases) {
    const f = join(dir, name);
    writeFileSync(f, text);
    const r = await cli([A, '--variant', f, '--no-time']);
    assert.equal(r.code, 1, `${name}: ${r.err}`);
    assert.match(r.err, /error\[SMP200\]/, name);
    assert.match(r.err, msg, name);
  }
  const missing = await cli([A, '--variant', join(dir, 'missing.ts'), '--no-time']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read the variant module/);
});

test('a kernel assertion that fails is a violation with its name, a trace, and a replay', async () => {
  // A patch that sets an unknown bit in mm->membarrier_state when registering:
  // membarrier_get_registrations() then hits its WARN_ON_ONCE.
  const mod = join(dir, 'stray-bit.ts');
  writeFileSync(mod, `
import * as K from 'smpcheck';
export default {
  name: 'stray-bit',
  description: 'registration also sets an unknown state bit',
  overrides: {
    *sync_runqueues_membarrier_state(k: K.Kernel, cpu: number, mm: number) {
      yield* k.atomic_or(k.layout.mmMembarrierState[mm], 1 << 12);
      return 0;
    },
  },
};
`);
  const src = join(dir, 'getreg.litmus');
  writeFileSync(src, 'C getreg\n{}\nP0(int *x) {\n\tint r0;\n\tint r1;\n\tr0 = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);\n\tr1 = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0);\n}\nexists (0:r1=16)\n');
  const tf = join(dir, 'assert.json');
  const r = await cli([src, '--variant', mod, '--no-time', '--trace', tf, '--show-trace']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.out, /Assertion failed in 1 run: WARN_ON_ONCE\(membarrier_state != 0\) in membarrier_get_registrations\(\)/);
  assert.match(r.out, /Verdict violation/);
  assert.match(r.out, /Trace \(assertion/);
  // A trace never loads the code it names: the module must be given, and be the same one.
  const refused = await cli(['replay', tf]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /error\[SMP203\] the trace was made with the variant module/);
  const replay = await cli(['replay', tf, '--variant', mod]);
  assert.equal(replay.code, 0, replay.err);
  assert.match(replay.out, /Kernel assertion failed: WARN_ON_ONCE/);
  // The same without the patch: no assertion, the expectation holds.
  assert.equal((await cli([src, '--no-time'])).code, 0);
});

test('every modelled kernel function is replaceable by name, the registration path included', async () => {
  // A patch to the registration path: REGISTER_PRIVATE_EXPEDITED succeeds without
  // setting any state, so PRIVATE_EXPEDITED then fails with EPERM.
  const mod = join(dir, 'no-register.ts');
  writeFileSync(mod, `
export default {
  name: 'no-register',
  description: 'registration returns 0 and records nothing',
  overrides: { *membarrier_register_private_expedited() { return 0; } },
};
`);
  const src = join(dir, 'register.litmus');
  writeFileSync(src, 'C register\n{}\nP0(int *x) {\n\tint r0;\n\tint r1;\n\tr0 = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);\n\tr1 = membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);\n}\nexists (0:r0=0 /\\ 0:r1=-1)\n');
  const sc = parseScenario(read(src), src);
  assert.equal(checkScenario(sc, { model: 'x86' }).observation, 'Never');
  assert.equal(checkScenario(sc, { model: 'x86', variant: mod }).observation, 'Always');
  // The list the loader checks names against is the list `smpcheck variants --functions` prints.
  const names = (await cli(['variants', '--functions'])).out.trim().split('\n');
  for (const n of ['membarrier_register_private_expedited', 'pick_next_task', 'irqentry_exit', 'do_syscall_64', 'switch_mm_irqs_off', 'sys_membarrier']) {
    assert.ok(names.includes(n), n);
  }
});

test('a replacement that calls the function it replaces runs the original once', async () => {
  // The witness of a SYNC_CORE IPI that lands in user mode, with ipi_sync_core()
  // wrapped: the trace shows the replacement's note, then the original's sync_core().
  const mod = join(dir, 'wrap-ipi-sync-core.ts');
  writeFileSync(mod, `
import * as K from 'smpcheck';
export default {
  name: 'wrap-ipi-sync-core',
  description: 'ipi_sync_core() notes its call, then runs the modelled ipi_sync_core()',
  overrides: {
    *ipi_sync_core(k: K.Kernel, cpu: number) { yield* k.note('wrapped ipi_sync_core'); yield* K.ipi_sync_core(k, cpu); },
  },
};
`);
  const W = join(ROOT, 'scenarios/sync-core/witness-ipi-user-iret.litmus');
  const sc = parseScenario(read(W), W);
  const plain = checkScenario(sc, { model: 'x86' });
  const r = checkScenario(sc, { model: 'x86', variant: mod });
  assert.equal(r.observation, plain.observation);
  assert.deepEqual(r.result.outcomes, plain.result.outcomes);
  const shown = await cli([W, '--variant', mod, '--no-time', '--show-trace', '--model', 'x86']);
  assert.equal(shown.code, 0, shown.err);
  const lines = shown.out.split('\n');
  // The replacement runs on each CPU that runs the function (the target and, since
  // e45cdc71d1fa, the caller), each time followed at once by the original's barrier.
  const wrapped = lines.flatMap((l, i) => (l.includes('wrapped ipi_sync_core') ? [i] : []));
  assert.equal(wrapped.length, 2, shown.out);
  for (const i of wrapped) assert.match(lines[i + 1]!, /smp_mb\(\) 'ipi_sync_core'/, shown.out);
});

test('a header states expectations for a variant module, by a path relative to the scenario', async () => {
  const sub = join(dir, 'hdr');
  mkdirSync(join(sub, 'patches'), { recursive: true });
  writeFileSync(join(sub, 'patches', 'no-op.ts'), `
export default {
  name: 'private-expedited-noop',
  description: 'PRIVATE_EXPEDITED returns 0 at once',
  overrides: { *membarrier_private_expedited() { return 0; } },
};
`);
  const text = read(A).replace(/Result\[x86,no-ipi\]: Sometimes/, 'Result[x86,no-ipi]: Sometimes\n * Result[x86,./patches/no-op.ts]: Sometimes');
  assert.notEqual(text, read(A), 'scenario A states Result[x86,no-ipi]');
  const f = join(sub, 'A.litmus');
  writeFileSync(f, text);
  const r = await cli(['suite', f, '--json', '--no-time']);
  assert.equal(r.code, 0, r.err);
  // JSON Lines: one object per check, then the summary.
  const rows = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { model: string; status: string; summary?: unknown }).filter((x) => x.summary === undefined);
  assert.ok(rows.some((x) => x.model === 'x86,./patches/no-op.ts' && x.status === 'confirmed'), r.out);
  const c = await cli(['check', f, '--model', 'x86', '--variant', join(sub, 'patches', 'no-op.ts'), '--no-time']);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /Expected Sometimes \(Result\[x86,\.\/patches\/no-op\.ts\]\): confirmed/);
  // A module the header names that does not exist is SMP107 at the line that names it.
  writeFileSync(f, text.replace('./patches/no-op.ts', './patches/missing.ts'));
  const bad = await cli(['check', f, '--no-time']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /error\[SMP107\].*missing\.ts/);
});
