// Finding scenario files: every .litmus file under the given paths, sorted.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SmpError } from './errors.js';

export function collectLitmusFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new SmpError('SMP004', `cannot read '${p}': no such file or directory`);
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else if (p.endsWith('.litmus')) out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}
