// Start-up: a command loads what it needs. A check of a classic litmus test reads no
// JSON against a schema, so zod (as costly to load as the rest of the command) stays
// unloaded; replaying a trace validates it, so zod is loaded then. Nor does it load the
// kernel model, the graph engine or the modules of other commands (src/parts.ts,
// commandsReached() in src/cli/main.ts). Checked on the binary in a child process that
// lists every module it loaded (README, Performance).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { isVariantPath } from '../src/check.js';
import { isVariantPath as isVariantPathOfModules } from '../src/kernel/variant-module.js';
import { commandsReached } from '../src/cli/main.js';

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

/** The project's modules a command loaded, as paths under dist/src/ ('kernel/smp.js'). */
const own = (loaded: string[]): string[] => loaded.map((f) => /[\\/]dist[\\/]src[\\/](.*)$/.exec(f)?.[1]?.replace(/\\/g, '/')).filter((f): f is string => f !== undefined);
/** Of the kernel model, only these small modules of constants and layout come with the machine engine. */
const KERNEL_LIGHT = new Set(['kernel/kernel.js', 'kernel/uapi.js', 'kernel/variants.js']);
const heavy = (mods: string[]): { kernel: string[]; graph: string[]; commands: string[] } => ({
  kernel: mods.filter((m) => m.startsWith('kernel/') && !KERNEL_LIGHT.has(m)),
  // graph/support.js and graph/mapping.js say what the graph engine refuses and names its machines.
  graph: mods.filter((m) => m.startsWith('graph/') && m !== 'graph/support.js' && m !== 'graph/mapping.js'),
  // sim/rng.js is the one seeded generator, which the random search (--random) shares with the simulator.
  commands: mods.filter((m) => /^(cli\/(host|host-.*|sim|view|replay|artifacts|render-svg)\.js|host\/|sim\/(?!rng\.js))/.test(m) || m === 'explore/trace.js'),
});

test('a classic check loads neither the kernel model nor the graph engine nor another command; a kernel scenario and arm64 load what they need', () => {
  const sb = loads(['check', 'scenarios/litmus/SB.litmus', '--model', 'sc', '--no-time']);
  assert.equal(sb.code, 0);
  assert.ok(own(sb.loaded).includes('litmus/program.js'), 'the listing sees the interpreter');
  assert.deepEqual(heavy(own(sb.loaded)), { kernel: [], graph: [], commands: [] });

  const suite = loads(['suite', 'scenarios/litmus', '--model', 'sc', '--no-time']);
  assert.equal(suite.code, 0);
  assert.deepEqual(heavy(own(suite.loaded)), { kernel: [], graph: [], commands: [] });

  // A scenario that calls into the kernel loads the kernel model (and no more).
  const mb = loads(['check', 'scenarios/membarrier/membarrier-A.litmus', '--model', 'sc', '--no-time']);
  assert.equal(mb.code, 0);
  const mbHeavy = heavy(own(mb.loaded));
  assert.ok(mbHeavy.kernel.includes('kernel/sched/membarrier.js'));
  assert.deepEqual({ graph: mbHeavy.graph, commands: mbHeavy.commands }, { graph: [], commands: [] });

  // arm64 runs on the graph engine; a classic test there needs no kernel.
  const arm = loads(['check', 'scenarios/litmus/SB.litmus', '--model', 'arm64', '--no-time']);
  assert.equal(arm.code, 0);
  const armHeavy = heavy(own(arm.loaded));
  assert.ok(armHeavy.graph.includes('graph/explore.js'));
  assert.deepEqual(armHeavy.commands, []);
});

test('help lists every command (their modules loaded); a command outside main.ts is loaded only when it is the first argument', () => {
  assert.deepEqual(commandsReached([]), ['host', 'view', 'sim']);
  assert.deepEqual(commandsReached(['--help']), ['host', 'view', 'sim']);
  assert.deepEqual(commandsReached(['help', 'sim']), ['host', 'view', 'sim']);
  assert.deepEqual(commandsReached(['check', 'x.litmus', '-h']), ['host', 'view', 'sim']);
  assert.deepEqual(commandsReached(['sim', 'x.litmus']), ['sim']);
  assert.deepEqual(commandsReached(['--', 'host', 'run', 'f']), ['host']);
  assert.deepEqual(commandsReached(['check', 'view']), []);
  assert.deepEqual(commandsReached(['x.litmus', '--model', 'sc']), []);
  const help = loads(['--help']);
  assert.equal(help.code, 0);
  for (const c of ['host', 'view', 'sim', 'replay', 'suite', 'merge', 'variants']) assert.match(help.out, new RegExp(`^  ${c}\\b`, 'm'), c);
});

test('the check tells a variant module from a variant name as the module loader does', () => {
  for (const name of ['v6.18', 'no-ipi', 'x.ts', 'dir/x', './x', 'x.js', 'x.cjs', 'x.mjs', 'a.tsx', 'ts', 'v6.18-rc1', '../variants/propagate-carefully.ts']) {
    assert.equal(isVariantPath(name), isVariantPathOfModules(name), name);
  }
});
