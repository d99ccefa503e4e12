// Shared helpers for the test suite (compiled to dist/test/).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, type Io } from '../src/cli/main.js';
import { collectLitmusFiles } from '../src/scenario/files.js';

/** The repository root (tests run from dist/test/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function litmusFiles(dir: string): string[] {
  return collectLitmusFiles([join(ROOT, dir)]);
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
export async function cli(args: string[]): Promise<CliRun> {
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
  const code = await main(args, io);
  return { code, out, err };
}
