// A user's variant module (`--variant ./patch.ts`): loaded, checked, and run.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkScenario } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { cli, read, ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-variant-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const A = join(ROOT, 'scenarios/membarrier/membarrier-A.litmus');
const example = join(ROOT, 'examples/variants/propagate-carefully.ts');

test('the example patch loads, runs, and keeps scenarios A and B on x86', () => {
  for (const f of ['A', 'B']) {
    const sc = parseScenario(read(join(ROOT, `scenarios/membarrier/membarrier-${f}.litmus`)), f);
    const r = checkScenario(sc, { model: 'x86', variant: example });
    assert.equal(r.variant.name, 'propagate-carefully');
    assert.equal(r.observation, 'Never', f);
  }
});

test('an override replaces the kernel function it names', () => {
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
  const r = cli([A, '--variant', mod, '--no-time', '--show-trace']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Kernel ipi-mb-noop: ipi_mb\(\) replaced by a step without a barrier \(based on v6\.18, from /);
  assert.match(r.out, /ipi_mb \(replaced\)/);
});

test('bad variant modules are coded errors', () => {
  const cases: [string, string, RegExp][] = [
    ['no-name.ts', 'export default { description: "x" };', /must export default/],
    ['bad-override.ts', 'export default { name: "x", description: "y", overrides: { schedule: function* () {} } };', /not a replaceable kernel function/],
    ['syntax.ts', 'export default { name: "x", description: };', /'.*syntax\.ts'/],
    ['bad-import.ts', 'import * as fs from "node:fs"; export default { name: "x", description: "y", z: fs };', /may import only 'smpcheck'/],
  ];
  for (const [name, text, msg] of cases) {
    const f = join(dir, name);
    writeFileSync(f, text);
    const r = cli([A, '--variant', f, '--no-time']);
    assert.equal(r.code, 1, `${name}: ${r.err}`);
    assert.match(r.err, /error\[SMP200\]/, name);
    assert.match(r.err, msg, name);
  }
  const missing = cli([A, '--variant', join(dir, 'missing.ts'), '--no-time']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read the variant module/);
});

test('a kernel assertion that fails is a violation with its name, a trace, and a replay', () => {
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
  const r = cli([src, '--variant', mod, '--no-time', '--trace', tf, '--show-trace']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.out, /Assertion failed in 1 run: WARN_ON_ONCE\(membarrier_state != 0\) in membarrier_get_registrations\(\)/);
  assert.match(r.out, /Verdict violation/);
  assert.match(r.out, /Trace \(assertion/);
  // A trace never loads the code it names: the module must be given, and be the same one.
  const refused = cli(['replay', tf]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /error\[SMP203\] the trace was made with the variant module/);
  const replay = cli(['replay', tf, '--variant', mod]);
  assert.equal(replay.code, 0, replay.err);
  assert.match(replay.out, /Kernel assertion failed: WARN_ON_ONCE/);
  // The same without the patch: no assertion, the expectation holds.
  assert.equal(cli([src, '--no-time']).code, 0);
});
