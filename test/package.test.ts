// The package as a user gets it: `npm pack`, installed into an empty project from the
// tarball, then `npx smpcheck` and a TypeScript import of the library. The dependencies
// come from npm's cache, which `npm ci` of this repository filled (the registry is asked
// only for what the cache lacks: the package lists npm resolves versions with).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { read, ROOT } from './helpers.js';

const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as Record<string, any>;
const work = mkdtempSync(join(tmpdir(), 'smpcheck-package-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  if (r.error) throw r.error;
  return r;
}

test('package.json: a licence, an exports map with types, a files list, a build on install from a clone', () => {
  assert.equal(pkg.license, 'MIT');
  assert.ok(existsSync(join(ROOT, 'LICENSE')));
  assert.match(read(join(ROOT, 'LICENSE')), /^MIT License/);
  assert.deepEqual(pkg.exports['.'], { types: './dist/src/index.d.ts', import: './dist/src/index.js', default: './dist/src/index.js' });
  assert.ok(Array.isArray(pkg.files) && pkg.files.includes('dist/src/') && pkg.files.includes('bin/'));
  // `npm ci` in a clone builds dist/ (prepare); a tarball ships it; postinstall builds the host helper.
  assert.match(pkg.scripts.prepare, /build/);
  assert.match(pkg.scripts.postinstall, /build-host/);
  assert.equal(pkg.private, undefined);
});

let tarball = '';

test('npm pack: the tarball holds the command, the compiled library and its types, and no tests, benchmarks or CI', () => {
  // --ignore-scripts: dist/ is built already (these tests run from it); prepare would rebuild it under them.
  const r = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info[0]!.filename);
  const files = info[0]!.files.map((f) => f.path);
  for (const f of ['bin/smpcheck.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'scripts/build-host.mjs', 'src/host/helper.c', 'LICENSE', 'README.md', 'package.json']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  const stray = files.filter((f) => /^(test|bench|dist\/test|dist\/bench|\.ci|node_modules)\//.test(f) || f.endsWith('.map') || /^src\/.*\.ts$/.test(f));
  assert.deepEqual(stray, []);
});

test('installed from the tarball into an empty project: npx smpcheck runs, and the library imports and type-checks', { timeout: 600_000 }, () => {
  assert.ok(tarball, 'npm pack ran');
  const proj = join(work, 'user');
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'user', version: '1.0.0', private: true, type: 'module' }));
  const inst = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], proj);
  assert.equal(inst.status, 0, `npm install: ${inst.stderr}`);
  assert.ok(readdirSync(join(proj, 'node_modules', 'smpcheck', 'dist', 'src')).includes('index.js'));

  const version = run('npx', ['--offline', 'smpcheck', '--version'], proj);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), pkg.version);

  const sb = join(proj, 'node_modules', 'smpcheck', 'scenarios', 'litmus', 'SB.litmus');
  const check = run('npx', ['--offline', 'smpcheck', sb, '--no-time'], proj);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /^Test SB Allowed$/m);
  assert.match(check.stdout, /^Verdict ok$/m);

  const bare = run('npx', ['--offline', 'smpcheck'], proj);
  assert.equal(bare.status, 1);
  assert.match(bare.stderr, /^Usage: smpcheck/m);

  // A TypeScript user: the types come through the exports map; the herd-style and JSON formatters are exported.
  writeFileSync(join(proj, 'use.ts'), [
    "import { checkSource, formatText, toJson, VERSION, type CheckResult } from 'smpcheck';",
    "const src = 'C MP\\n{}\\nP0(int *x, int *y) { WRITE_ONCE(*x, 1); smp_store_release(y, 1); }\\nP1(int *x, int *y) { int r0; int r1; r0 = smp_load_acquire(y); r1 = READ_ONCE(*x); }\\nexists (1:r0=1 /\\\\ 1:r1=0)\\n';",
    "const r: CheckResult = checkSource(src, 'MP.litmus', { model: 'x86' });",
    "const text: string = formatText(r, { time: false });",
    "const json = toJson(r, { time: false });",
    "console.log(JSON.stringify({ version: VERSION, observation: r.observation, verdict: r.verdict, first: text.split('\\n')[0], test: json.test }));",
    '',
  ].join('\n'));
  writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out',
      types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
    },
    files: ['use.ts'],
  }));
  const tsc = run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], proj);
  assert.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
  const used = run(process.execPath, [join(proj, 'out', 'use.js')], proj);
  assert.equal(used.status, 0, used.stderr);
  assert.deepEqual(JSON.parse(used.stdout), { version: pkg.version, observation: 'Never', verdict: 'ok', first: 'Test MP Allowed', test: 'MP' });

  // A type error in the user's code is caught against the library's types.
  writeFileSync(join(proj, 'use.ts'), "import { checkSource } from 'smpcheck';\nconst n: number = checkSource('', 'x').verdict;\nconsole.log(n);\n");
  const bad = run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], proj);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout, /TS2322/);
});

test('a clone that was never built: bin/smpcheck.js says what to run, in one line, without a stack trace', () => {
  const fake = join(work, 'unbuilt');
  mkdirSync(join(fake, 'bin'), { recursive: true });
  writeFileSync(join(fake, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(fake, 'bin', 'smpcheck.js'), read(join(ROOT, 'bin', 'smpcheck.js')));
  const r = run(process.execPath, [join(fake, 'bin', 'smpcheck.js'), '--version'], fake);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^smpcheck: not built \(.*dist\/src\/cli\/main\.js is missing\): run 'npm ci' or 'npm run build' in /);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a fresh clone: npm ci alone leaves a working npx smpcheck', { timeout: 600_000 }, (t) => {
  const inside = spawnSync('git', ['-C', ROOT, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8' });
  if (inside.error || inside.status !== 0 || inside.stdout.trim() !== 'true') {
    t.skip('not a git checkout: nothing to clone');
    return;
  }
  // The committed tree (HEAD), as a new user gets it.
  const clone = join(work, 'clone');
  const c = run('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], work);
  assert.equal(c.status, 0, c.stderr);
  assert.ok(!existsSync(join(clone, 'dist')));
  const unbuilt = run(process.execPath, [join(clone, 'bin', 'smpcheck.js'), '--version'], clone);
  assert.equal(unbuilt.status, 1);
  assert.match(unbuilt.stderr, /^smpcheck: not built .*run 'npm ci'/);
  const ci = run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], clone);
  assert.equal(ci.status, 0, `npm ci: ${ci.stderr}`);
  const v = run('npx', ['--offline', 'smpcheck', '--version'], clone);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), pkg.version);
});
