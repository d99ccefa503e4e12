// Finding scenario files: every .litmus file under the given paths, sorted.

import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SmpError } from './errors.js';
import { fsReason } from './bounded-read.js';

export function collectLitmusFiles(paths: string[]): string[] {
  const out: string[] = [];
  // A directory reached twice (a symbolic link to an ancestor) is walked once.
  const seen = new Set<string>();
  const walk = (p: string): void => {
    let st;
    let entries: string[] = [];
    try {
      st = statSync(p);
      if (st.isDirectory()) {
        const real = realpathSync(p);
        if (seen.has(real)) return;
        seen.add(real);
        entries = readdirSync(p).sort();
      }
    } catch (e) {
      throw new SmpError('SMP004', `cannot read '${p}': ${fsReason(e)}`);
    }
    if (st.isDirectory()) {
      for (const e of entries) walk(join(p, e));
    } else if (p.endsWith('.litmus')) out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}
