// Shared helpers for the test suite (compiled to dist/test/).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, type Io } from '../src/cli/main.js';

/** The repository root (tests run from dist/test/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function litmusFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else if (p.endsWith('.litmus')) out.push(p);
  };
  walk(join(ROOT, dir));
  return out;
}

export function read(file: string): string {
  return readFileSync(file, 'utf8');
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in-process with captured output and a fixed clock. */
export function cli(args: string[]): CliRun {
  let out = '';
  let err = '';
  const io: Io = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    isTTY: false,
    now: () => 0,
  };
  const code = main(args, io);
  return { code, out, err };
}
