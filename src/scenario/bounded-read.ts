// Reading an input file without trusting its size: a file over its limit is refused
// after a stat (or, for a pipe, after reading one byte more than the limit), never
// read whole. Every failure is a coded error naming the file.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SmpError } from './errors.js';

/** Why a file cannot be read, in words a person can act on. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory (ENOENT)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EISDIR':
      return 'it is a directory (EISDIR)';
    case 'ENOTDIR':
      return 'a part of the path is not a directory (ENOTDIR)';
    case 'ENOSPC':
      return 'no space left on the device (ENOSPC)';
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    default:
      return code ?? String((e as Error)?.message ?? e);
  }
}

/**
 * The file's text (UTF-8), at most `bytesMax` bytes; SMP004 if it cannot be read,
 * SMP111 if it is larger. `what` names the file's role in the messages.
 */
export function readBounded(file: string, bytesMax: number, what = 'file'): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new SmpError('SMP004', `cannot read ${what} '${file}': ${fsReason(e)}`, undefined, file);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new SmpError('SMP004', `cannot read ${what} '${file}': it is a directory`, undefined, file);
    const tooBig = (): SmpError => new SmpError('SMP111', `${what} '${file}' is larger than ${bytesMax} bytes`, undefined, file);
    if (st.isFile() && st.size > bytesMax) throw tooBig();
    const chunks: Buffer[] = [];
    let total = 0;
    // A regular file is read in one chunk of its size (and one byte more, to see it end);
    // a pipe in chunks of 64 KiB. A chunk is never larger than what the limit leaves.
    const chunkBytes = st.isFile() ? st.size + 1 : 1 << 16;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(chunkBytes, bytesMax + 1 - total));
      const k = readSync(fd, buf, 0, buf.length, null);
      if (k === 0) break;
      chunks.push(buf.subarray(0, k));
      total += k;
      if (total > bytesMax) throw tooBig();
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (e) {
    if (e instanceof SmpError) throw e;
    throw new SmpError('SMP004', `cannot read ${what} '${file}': ${fsReason(e)}`, undefined, file);
  } finally {
    closeSync(fd);
  }
}
