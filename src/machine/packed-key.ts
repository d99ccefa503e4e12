// A compact, exact identity for a list of non-negative integers: each number in
// base 64, most significant digit first, non-final digits as the characters
// 128..191 and the final digit as 64..127; and a run of 2 to 65 zeros as one
// character 0..63 (the run's length less 2; longer runs take several, each as long
// as it can be, so a list has one key). Most of a machine's key is zeros (locations
// never written, empty TLB entries): a run of them costs one character instead of
// one each. The code is prefix-free, so two lists get the same key only if they are
// equal: no hashing, no collisions. The key is one flat Latin-1 string (one byte
// per character in V8), a small fraction of a decimal key built by concatenation,
// which V8 keeps as a tree of pieces.

/**
 * Writes n (an integer, 0 < n < 2^31) at buf[len] as push() does (base-64 digits, most
 * significant first, non-final ones as 128..191, the final one as 64..127); returns the
 * new length. At most 6 bytes.
 */
function packSmall(buf: Uint8Array, len: number, n: number): number {
  if (n >= 64) {
    if (n >= 1 << 12) {
      if (n >= 1 << 18) {
        if (n >= 1 << 24) {
          if (n >= 1 << 30) buf[len++] = 128 + (n >>> 30);
          buf[len++] = 128 + ((n >>> 24) & 63);
        }
        buf[len++] = 128 + ((n >>> 18) & 63);
      }
      buf[len++] = 128 + ((n >>> 12) & 63);
    }
    buf[len++] = 128 + ((n >>> 6) & 63);
  }
  buf[len++] = 64 + (n & 63);
  return len;
}

export class KeyPacker {
  // The characters so far, one byte each (all below 256), turned into a string at once by take().
  // A buffer of its own (not a slice of Node's pool): it starts at a multiple of 4 bytes, so
  // that a reader may take it four bytes at a time (StateTable).
  private buf = Buffer.allocUnsafeSlow(256);
  private len = 0;
  /** Zeros pushed and not yet written (a run). */
  private zeros = 0;

  push(n: number): this {
    if (n === 0) {
      this.zeros++;
      return this;
    }
    if (this.zeros > 0) this.flushZeros();
    if (this.len + 10 > this.buf.length) this.grow();
    if (n > 0 && (n | 0) === n) {
      // Below 2^31: the base-64 digits by shifts (the same characters as the general case).
      this.len = packSmall(this.buf, this.len, n);
      return this;
    }
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`KeyPacker takes non-negative integers, not ${n}`);
    let top = 1;
    while (n >= top * 64) top *= 64;
    for (; top > 1; top /= 64) {
      const d = Math.floor(n / top);
      this.buf[this.len++] = 128 + d;
      n -= d * top;
    }
    this.buf[this.len++] = 64 + n;
    return this;
  }

  /** push() of each number of `a`, plus `add`, in order, in one loop (a machine's key is mostly long lists). */
  pushAll(a: ArrayLike<number>, add = 0): this {
    // The packer's state in locals for the loop: a run of zeros costs a count, a number
    // below 2^31 its bytes; anything else goes through push().
    let zeros = this.zeros;
    let len = this.len;
    let buf = this.buf;
    const end = a.length;
    let i = 0;
    while (i < end) {
      // A run of zeros in a loop of its own (most of a key: V8 compiles it to a few instructions a number).
      const from = i;
      while (i < end && a[i]! + add === 0) i++;
      zeros += i - from;
      if (i === end) break;
      const n = a[i++]! + add;
      if (n > 0 && (n | 0) === n) {
        if (zeros > 0 || len + 6 > buf.length) {
          // The run of zeros before it, and room for the number (6 bytes at most).
          this.zeros = zeros;
          this.len = len;
          if (zeros > 0) this.flushZeros();
          if (this.len + 6 > this.buf.length) this.grow();
          zeros = 0;
          len = this.len;
          buf = this.buf;
        }
        len = packSmall(buf, len, n);
        continue;
      }
      this.zeros = zeros;
      this.len = len;
      this.push(n);
      zeros = this.zeros;
      len = this.len;
      buf = this.buf;
    }
    this.zeros = zeros;
    this.len = len;
    return this;
  }

  private flushZeros(): void {
    while (this.zeros > 0) {
      if (this.len + 1 > this.buf.length) this.grow();
      if (this.zeros === 1) {
        this.buf[this.len++] = 64;
        this.zeros = 0;
      } else {
        const run = Math.min(this.zeros, 65);
        this.buf[this.len++] = run - 2;
        this.zeros -= run;
      }
    }
  }

  private grow(): void {
    const b = Buffer.allocUnsafeSlow(this.buf.length * 2);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  /** The key so far as bytes (the buffer is the packer's: read it before packing again). */
  bytes(): { buf: Uint8Array; length: number } {
    if (this.zeros > 0) this.flushZeros();
    return { buf: this.buf, length: this.len };
  }

  /** Starts over without making the key. */
  reset(): void {
    this.len = 0;
    this.zeros = 0;
  }

  /** The key so far; the packer starts over (and can be used again). */
  take(): string {
    if (this.zeros > 0) this.flushZeros();
    const s = this.buf.toString('latin1', 0, this.len);
    this.len = 0;
    return s;
  }
}

/** The numbers of a key KeyPacker made, in order (its inverse). */
export function unpackKey(key: string): number[] {
  const out: number[] = [];
  let n = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 64) for (let z = 0; z < c + 2; z++) out.push(0);
    else if (c >= 128) n = n * 64 + (c - 128);
    else {
      out.push(n * 64 + (c - 64));
      n = 0;
    }
  }
  return out;
}
