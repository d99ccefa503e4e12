#!/usr/bin/env node
// Builds the native helper of `smpcheck host` (src/host/helper.c) into
// build/host/smpcheck-host with the machine's C compiler (cc, else gcc).
// This never fails an install or a build: when the helper cannot be built (not
// Linux, no compiler, a compilation error) it writes build/host/UNAVAILABLE with a
// one-line reason, which `smpcheck host` reports, and exits 0.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'src', 'host', 'helper.c');
const OUT_DIR = join(ROOT, 'build', 'host');
const BINARY = join(OUT_DIR, 'smpcheck-host');
const UNAVAILABLE = join(OUT_DIR, 'UNAVAILABLE');
const FLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-pthread'];

function unavailable(reason) {
  rmSync(BINARY, { force: true });
  writeFileSync(UNAVAILABLE, `${reason}\n`);
  process.stderr.write(`smpcheck: the host helper is not built: ${reason} (smpcheck host is unavailable; everything else works)\n`);
}

/** The first line of a compiler's diagnostics that says what went wrong. */
function firstError(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => /error/i.test(l)) ?? lines[0] ?? 'no diagnostics';
}

function upToDate() {
  if (!existsSync(BINARY)) return false;
  const built = statSync(BINARY).mtimeMs;
  return [SOURCE, fileURLToPath(import.meta.url)].every((f) => statSync(f).mtimeMs <= built);
}

function build() {
  mkdirSync(OUT_DIR, { recursive: true });
  if (process.platform !== 'linux') return unavailable(`not Linux (this platform is ${process.platform})`);
  if (!existsSync(SOURCE)) return unavailable(`${SOURCE} is missing`);
  if (upToDate()) {
    rmSync(UNAVAILABLE, { force: true });
    return undefined;
  }
  let compiler = null;
  for (const cc of ['cc', 'gcc']) {
    const probe = spawnSync(cc, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (!probe.error && probe.status === 0) {
      compiler = cc;
      break;
    }
  }
  if (compiler === null) return unavailable('no C compiler: neither cc nor gcc was found');
  // Compile beside the target and rename, so that a reader never sees half a file.
  const tmp = `${BINARY}.${process.pid}.tmp`;
  const r = spawnSync(compiler, [...FLAGS, '-o', tmp, SOURCE], { encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error ? r.error.message : firstError(`${r.stderr}\n${r.stdout}`);
    if (r.stderr) process.stderr.write(r.stderr);
    return unavailable(`${compiler} failed to compile src/host/helper.c: ${why}`.replace(/\s+/g, ' '));
  }
  renameSync(tmp, BINARY);
  rmSync(UNAVAILABLE, { force: true });
  return undefined;
}

try {
  build();
} catch (e) {
  try {
    mkdirSync(OUT_DIR, { recursive: true });
    unavailable(`the build script failed: ${e instanceof Error ? e.message : String(e)}`.replace(/\s+/g, ' '));
  } catch {
    // Nothing more can be done; the install must not fail because of the helper.
  }
}
process.exitCode = 0;
