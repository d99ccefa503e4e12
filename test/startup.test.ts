// Start-up: a command loads what it needs. A check of a classic litmus test reads no
// JSON against a schema, so zod (as costly to load as the rest of the command) stays
// unloaded; replaying a trace validates it, so zod is loaded then. Checked on the binary
// in a child process that lists every module it loaded (README, Performance).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'smpcheck-startup-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Preloaded with --import: ES modules are reported by a load hook, CommonJS ones
// (zod comes through require(), src/zod.ts) from require's cache at exit.
const LIST_LOADS = `data:text/javascript,${encodeURIComponent(`
import { createRequire, register } from 'node:module';
import { writeSync } from 'node:fs';
register('data:text/javascript,' + encodeURIComponent('export async function load(url, context, next) { process.stderr.write("LOADED " + url + "\\\\n"); return next(url, context); }'));
process.on('exit', () => { for (const f of Object.keys(createRequire(process.cwd() + '/').cache)) writeSync(2, 'LOADED ' + f + '\\n'); });
`)}`;

/** The command's exit code, its standard output, and every module file it loaded. */
function loads(args: string[]): { code: number | null; out: string; loaded: string[] } {
  const r = spawnSync(process.execPath, ['--import', LIST_LOADS, join(ROOT, 'bin', 'smpcheck.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice('LOADED '.length));
  return { code: r.status, out: r.stdout, loaded };
}

const zod = (loaded: string[]): string[] => loaded.filter((f) => /[\\/]node_modules[\\/]zod[\\/]/.test(f));

test('a check of a classic litmus test loads no zod module; a replay of its trace does', () => {
  const trace = join(tmp, 'sb.json');
  const check = loads(['check', 'scenarios/litmus/SB.litmus', '--model', 'sc', '--no-time']);
  assert.equal(check.code, 0);
  assert.match(check.out, /^Observation SB Never 0 3$/m);
  assert.ok(check.loaded.some((f) => f.endsWith('/dist/src/check.js')), 'the listing sees the modules the check loads');
  assert.deepEqual(zod(check.loaded), []);

  // The listing does see zod when a command needs it (so the empty list above means something).
  assert.equal(loads(['check', 'scenarios/litmus/SB.litmus', '--model', 'x86', '--no-time', '--trace', trace]).code, 0);
  const replay = loads(['replay', trace]);
  assert.equal(replay.code, 0);
  assert.notDeepEqual(zod(replay.loaded), []);
});
