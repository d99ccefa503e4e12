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
