#!/usr/bin/env node
// Produces test/data/herd/arm64-ifetch.json: herd7's final states, with
// `-variant ifetch`, for the user-level instruction-fetch tests of
// scenarios/sync-core (ifetch-*.litmus), each given here in AArch64 by hand:
// the code location is the instruction at label Lc of the thread that runs it,
// initially `B Lx` (version 1: it skips `MOV W9,#2`, leaving W9 = 1) and
// rewritten with `NOP` (version 2: W9 = 2), so the register holding
// exec_code()'s result is X9; write_code(code, 2) is `STR W0,[X1]` with
// X0 = NOP and X1 the label; dc_cvau(code) is `DC CVAU,X1`, ic_ivau(code)
// `IC IVAU,X1`, dsb_ish() `DSB ISH`, isb() `ISB`, smp_mb() `DMB ISH`; an
// `if (r0 == 1)` is `CMP` and `B.NE`. test/graph-engine-ifetch.test.ts
// compares smpcheck's states to these; the test suite never runs herd7.
//
// Usage (after npm run build): node scripts/herd-ifetch.mjs --herd /path/to/herd7

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const i = args.indexOf('--herd');
if (i < 0 || !args[i + 1]) throw new Error('usage: node scripts/herd-ifetch.mjs --herd HERD7');
const herd = args[i + 1];
const HERD_ARGS = ['-model', 'aarch64.cat', '-variant', 'ifetch'];

/** A message-passing test: P0 rewrites P1's code, then sets f; P1 reads f, maybe ISB, runs the code. */
function mp(name, writer, reader, readerAfter = []) {
  const p0 = ['STR W0,[X1]', ...writer, 'MOV W2,#1', 'STR W2,[X3]'];
  const p1 = ['LDR W5,[X0]', 'CMP W5,#1', 'B.NE Lno', ...reader, 'Lno:', ...readerAfter, 'MOV W9,#1', 'Lc:', 'B Lx', 'MOV W9,#2', 'Lx:'];
  const rows = Math.max(p0.length, p1.length);
  const col = (s) => (s.endsWith(':') ? s : ` ${s}`).padEnd(14);
  const body = Array.from({ length: rows }, (_, k) => `${col(p0[k] ?? '')}|${col(p1[k] ?? '')};`);
  return {
    text: [`AArch64 ${name}`, '{', '0:X0=NOP; 0:X1=P1:Lc; 0:X3=f;', `1:X0=f;${readerAfter.length > 0 ? ' 1:X1=P1:Lc;' : ''}`, '}', `${' P0'.padEnd(14)}|${' P1'.padEnd(14)};`, ...body, 'exists (1:X5=1 /\\ 1:X9=1)', ''].join('\n'),
    rename: { '1:X5': '1:r0', '1:X9': '1:r1' },
  };
}

/** A self-modifying test: P0 rewrites its own code, cleans and invalidates, then `last`, then runs it. */
function sm(name, last) {
  const p0 = ['STR W0,[X1]', 'DC CVAU,X1', 'DSB ISH', 'IC IVAU,X1', 'DSB ISH', last, 'MOV W9,#1', 'Lc:', 'B Lx', 'MOV W9,#2', 'Lx:'];
  return {
    text: [`AArch64 ${name}`, '{', '0:X0=NOP; 0:X1=P0:Lc;', '}', ' P0 ;', ...p0.map((s) => `${s.endsWith(':') ? s : ` ${s}`} ;`), 'exists (0:X9=1)', ''].join('\n'),
    rename: { '0:X9': '0:r0' },
  };
}

const cachesync = (between = 'DSB ISH') => ['DC CVAU,X1', between, 'IC IVAU,X1', 'DSB ISH'];
const TESTS = {
  'ifetch-MP+cachesync+ctrl-isb.litmus': mp('ifetch-MP+cachesync+ctrl-isb', cachesync(), ['ISB']),
  'ifetch-MP+cachesync+ctrl-dsb.litmus': mp('ifetch-MP+cachesync+ctrl-dsb', cachesync(), ['DSB ISH']),
  'ifetch-MP+cachesync-dmb+ctrl-isb.litmus': mp('ifetch-MP+cachesync-dmb+ctrl-isb', cachesync('DMB ISH'), ['ISB']),
  'ifetch-MP+dsb+ctrl-isb.litmus': mp('ifetch-MP+dsb+ctrl-isb', ['DSB ISH'], ['ISB']),
  'ifetch-MP+cachesync-isb+ctrl-isb.litmus': mp('ifetch-MP+cachesync-isb+ctrl-isb', ['DC CVAU,X1', 'DSB ISH', 'IC IVAU,X1', 'ISB'], ['ISB']),
  // The invalidation by the reader, after its ISB (X1: its own code's label).
  'ifetch-MP+dc+ctrl-isb-ic.litmus': mp('ifetch-MP+dc+ctrl-isb-ic', ['DC CVAU,X1', 'DSB ISH'], ['ISB'], ['IC IVAU,X1', 'DSB ISH', 'ISB']),
  'ifetch-SM+cachesync-isb.litmus': sm('ifetch-SM+cachesync-isb', 'ISB'),
  'ifetch-SM+cachesync-dsb.litmus': sm('ifetch-SM+cachesync-dsb', 'DSB ISH'),
};

const version = execFileSync(herd, ['-version'], { encoding: 'utf8' }).trim();
const tests = {};
for (const [file, t] of Object.entries(TESTS)) {
  readFileSync(join(ROOT, 'scenarios', 'sync-core', file)); // the C test must exist
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-ifetch-'));
  try {
    const f = join(dir, 'test.litmus');
    writeFileSync(f, t.text);
    const out = execFileSync(herd, [...HERD_ARGS, f], { encoding: 'utf8', timeout: 120_000 });
    const lines = out.split('\n');
    const s = lines.findIndex((l) => l.startsWith('States '));
    if (s < 0) throw new Error(`${file}: herd7 printed no states:\n${out}`);
    const n = Number(lines[s].split(' ')[1]);
    const states = lines.slice(s + 1, s + 1 + n).map((line) => {
      const parts = line.split(';').map((x) => x.trim()).filter((x) => x !== '').map((p) => {
        const [name, v] = p.split('=');
        return [t.rename[name.trim()] ?? name.trim(), v.trim()];
      });
      return parts.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([a, v]) => `${a}=${v};`).join(' ');
    }).sort();
    tests[file] = {
      observation: /^Observation \S+ (\w+)/m.exec(out)?.[1] ?? null,
      states,
      flags: [...out.matchAll(/^Flag (\S+)/gm)].map((m) => m[1]).sort(),
      aarch64: t.text,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const data = {
  what: "herd7's final states for the instruction-fetch tests of scenarios/sync-core (ifetch-*.litmus) on arm64",
  herd7: version,
  command: `herd7 ${HERD_ARGS.join(' ')} TEST.litmus (TEST: the AArch64 text stored with each test)`,
  produced_by: 'node scripts/herd-ifetch.mjs --herd HERD7',
  tests,
};
writeFileSync(join(ROOT, 'test', 'data', 'herd', 'arm64-ifetch.json'), `${JSON.stringify(data, null, 2)}\n`);
console.log(`wrote test/data/herd/arm64-ifetch.json: ${Object.keys(tests).length} tests`);
for (const [f, t] of Object.entries(tests)) console.log(`${f}: ${t.observation} ${t.states.length} states`);
