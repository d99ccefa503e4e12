// A compact, exact identity for a list of non-negative integers: each number in
// base 64, most significant digit first, non-final digits as the characters
// 128..191 and the final digit as 64..127. The code is prefix-free, so two lists
// of the same length get the same key only if they are equal: no hashing, no
// collisions. The key is one flat Latin-1 string (one byte per character in V8),
// a small fraction of a decimal key built by concatenation, which V8 keeps as a
// tree of pieces.

export class KeyPacker {
  private codes: number[] = [];

  push(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`KeyPacker takes non-negative integers, not ${n}`);
    let top = 1;
    while (n >= top * 64) top *= 64;
    for (; top > 1; top /= 64) {
      const d = Math.floor(n / top);
      this.codes.push(128 + d);
      n -= d * top;
    }
    this.codes.push(64 + n);
    return this;
  }

  /** The key so far; the packer starts over. */
  take(): string {
    let s = '';
    const CHUNK = 4096;
    for (let i = 0; i < this.codes.length; i += CHUNK) s += String.fromCharCode(...this.codes.slice(i, i + CHUNK));
    this.codes = [];
    return s;
  }
}

/** The numbers of a key KeyPacker made, in order (its inverse). */
export function unpackKey(key: string): number[] {
  const out: number[] = [];
  let n = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 128) n = n * 64 + (c - 128);
    else {
      out.push(n * 64 + (c - 64));
      n = 0;
    }
  }
  return out;
}
