// Where the native helper cannot be built, the host commands say why in one line and
// exit 1, and the model-only command still works. Simulated on a copy of the built
// tool whose helper source is missing, so the real helper is never touched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

test('without a helper: one line with the reason, exit 1; --model-only still runs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-nohelper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['bin', 'dist', 'scripts', 'examples']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'src', 'host'), { recursive: true }); // helper.c is left out on purpose

  const build = spawnSync(process.execPath, [join(dir, 'scripts', 'build-host.mjs')], { encoding: 'utf8' });
  assert.equal(build.status, 0, 'the build never fails the install');
  assert.match(build.stderr, /the host helper is not built: .*helper\.c is missing/);
  const note = readFileSync(join(dir, 'build', 'host', 'UNAVAILABLE'), 'utf8');
  assert.match(note, /helper\.c is missing\n$/);

  const run = (args: string[]) => spawnSync(process.execPath, [join(dir, 'bin', 'smpcheck.js'), 'host', ...args], { encoding: 'utf8', cwd: dir });
  for (const args of [['bench', '--calls', '5'], ['bench', '--tlb'], ['conform', '--runs', '1'], ['run', 'examples/host/inheritance.script'], ['tlb-ipis', 'examples/host/tlb-shootdowns.script']]) {
    const r = run(args);
    assert.equal(r.status, 1, `host ${args[0]}: exit 1 (${r.stderr})`);
    assert.equal(r.stdout, '', `host ${args[0]}: nothing on standard output`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `host ${args[0]}: one line: ${r.stderr}`);
    assert.match(lines[0]!, /^smpcheck host( bench| tlb-ipis)?: the host helper is not built: .*helper\.c is missing$/);
  }
  const model = run(['run', '--model-only', '--cpus', '2', 'examples/host/inheritance.script']);
  assert.equal(model.status, 0, model.stderr);
  assert.match(model.stdout, /"op":"membarrier"/);
});
