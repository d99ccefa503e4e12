// Runs herd7 on a scenario for arm64 (through the AArch64 translation) or for
// LKMM (the C file itself), and reads its final states back in smpcheck's
// names. Used by scripts/herd-oracle.mjs and scripts/herd-random.mjs.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toAArch64, Unsupported } from './aarch64.mjs';

/** The herd7 command line for a model (without the test file). */
export function herdArgs(model, lkmmDir) {
  return model === 'arm64' ? ['-model', 'aarch64.cat'] : ['-conf', join(lkmmDir, 'linux-kernel.cfg')];
}

/**
 * herd7's states for a parsed scenario (sc) read from `file`, as sorted lines in
 * smpcheck's order ('0:r0=1; x=2;'), or { refused: reason }.
 */
export function herdStates(herd, model, lkmmDir, sc, source, timeoutMs = 120_000) {
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-herd-'));
  try {
    let text = source;
    if (model === 'arm64') {
      try {
        text = toAArch64(sc).text;
      } catch (e) {
        if (e instanceof Unsupported) return { refused: `not translated to AArch64: ${e.message}` };
        throw e;
      }
    }
    const f = join(dir, `${sc.name.replace(/[^A-Za-z0-9+_.-]/g, '_')}.litmus`);
    writeFileSync(f, text);
    let out;
    try {
      out = execFileSync(herd, [...herdArgs(model, lkmmDir), f], { cwd: model === 'lkmm' ? lkmmDir : dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    } catch (e) {
      if (e.signal === 'SIGKILL') return { refused: `herd7 took more than ${timeoutMs / 1000} s` };
      return { refused: `herd7 failed: ${String(e.stderr || e.message).split('\n')[0]}` };
    }
    if (!/^States /m.test(out)) return { refused: `herd7 printed no states: ${out.split('\n').find((l) => l.trim() !== '') ?? 'nothing'}` };
    const flags = [...out.matchAll(/^Flag (\S+)/gm)].map((m) => m[1]).sort();
    return { states: parseStates(out, sc, model), observation: /^Observation \S+ (\w+)/m.exec(out)?.[1] ?? null, flags, text: model === 'arm64' ? text : undefined };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** herd's "States" block, each state rewritten in smpcheck's names and order. */
function parseStates(out, sc, model) {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => l.startsWith('States '));
  if (i < 0) throw new Error(`no States in herd7 output:\n${out}`);
  const n = Number(lines[i].split(' ')[1]);
  const rename = new Map();
  sc.threads.forEach((t, ti) => t.regs.forEach((r, k) => rename.set(model === 'arm64' ? `${ti}:X${k}` : `${ti}:${r.name}`, `${ti}:${r.name}`)));
  const states = [];
  for (const line of lines.slice(i + 1, i + 1 + n)) {
    const m = new Map();
    for (const part of line.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
      const eq = part.lastIndexOf('=');
      let name = part.slice(0, eq).trim();
      const v = part.slice(eq + 1).trim();
      name = name.replace(/^\[(.*)\]$/, '$1');
      m.set(rename.get(name) ?? name, v);
    }
    states.push(m);
  }
  return states;
}
