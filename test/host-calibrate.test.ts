// smpcheck host calibrate: measures this machine with the native helper and writes a
// cost profile that validates and that smpcheck sim runs with; each measured parameter
// says it was measured here. Skipped where the helper cannot run (docs/host.md).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostAvailability } from '../src/host/native.js';
import { kernelFunctionNames } from '../src/kernel/index.js';
import { validateProfile } from '../src/sim/profile.js';
import { cli, ROOT } from './helpers.js';

const avail = hostAvailability();

test('host calibrate writes a profile of this machine that validates and runs the madvise workload', async (t: TestContext) => {
  if (!avail.ok) return void t.skip(avail.reason);
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-calibrate-'));
  try {
    const out = join(dir, 'host.json');
    const r = await cli(['host', 'calibrate', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /system-call round trip/);
    const profile = validateProfile(JSON.parse(readFileSync(out, 'utf8')), out, kernelFunctionNames());
    // What user space can measure here is marked as measured, with a positive value.
    for (const name of ['syscall_entry_ns', 'sysret_ns', 'ipi_latency_ns'] as const) {
      const p = profile.params[name];
      assert.equal(p.source.kind, 'measured', name);
      assert.ok(p.value > 0, `${name} = ${p.value}`);
    }
    const sim = await cli(['sim', join(ROOT, 'scenarios/sim/madvise-1.sim'), '--profile', out]);
    assert.equal(sim.code, 0, sim.err);
    assert.match(sim.out, /Time per iteration: [0-9.]+ us/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
