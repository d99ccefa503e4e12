// The unreduced search's table of states (src/explore/explicit.ts): each state's exact key
// (the bytes KeyPacker packed, src/machine/packed-key.ts) and what the search knows of it.
// A key is looked up straight from the packer's buffer: no string is made for it, and a
// key seen before costs a hash of its bytes and one comparison. Keys live in one growing
// byte arena, found through an open-addressing table of entry numbers; entries are never
// removed (the search keeps every state it has seen).
//
// Exact: two keys are the same entry only if their bytes are equal (the hash only finds
// the candidates). Replaces a Map from key strings, whose strings, hashing and entries were
// a fifth of a probe-heavy search's time and most of its memory.

import type { KeyPacker } from '../machine/packed-key.js';

export class StateTable {
  /** Every key's bytes, one after another. */
  private arena: Uint8Array = new Uint8Array(1 << 16);
  private arenaUsed = 0;
  /** Per entry: where its key starts in the arena, its length, its hash. */
  private off: Int32Array = new Int32Array(1 << 12);
  private len: Int32Array = new Int32Array(1 << 12);
  private hashOf: Int32Array = new Int32Array(1 << 12);
  private count = 0;
  /** Open addressing: entry number + 1, or 0 for an empty slot; a power of two, at most half full. */
  private slots: Int32Array = new Int32Array(1 << 13);

  /** The length of entry e's key, in bytes (characters of the key string it stands for). */
  keyLength(e: number): number {
    return this.len[e]!;
  }

  /**
   * The entry of the key in the packer's buffer (which it takes, as KeyPacker.take()
   * does), added if the key is new.
   */
  intern(k: KeyPacker): number {
    const { buf, length } = k.bytes();
    // FNV-1a over the key's bytes.
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const mask = this.slots.length - 1;
    let s = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const v = this.slots[s]!;
      if (v === 0) break;
      const e = v - 1;
      if (this.hashOf[e] === h && this.len[e] === length && this.sameBytes(e, buf, length)) {
        k.reset();
        return e;
      }
      s = (s + 1) & mask;
    }
    const e = this.add(buf, length, h);
    k.reset();
    if (2 * this.count > this.slots.length) this.rehash();
    else this.slots[s] = e + 1;
    return e;
  }

  private sameBytes(e: number, buf: Uint8Array, length: number): boolean {
    const a = this.arena;
    const o = this.off[e]!;
    for (let i = 0; i < length; i++) if (a[o + i] !== buf[i]) return false;
    return true;
  }

  private add(buf: Uint8Array, length: number, h: number): number {
    if (this.arenaUsed + length > this.arena.length) {
      let n = this.arena.length * 2;
      while (this.arenaUsed + length > n) n *= 2;
      const a = new Uint8Array(n);
      a.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = a;
    }
    this.arena.set(buf.subarray(0, length), this.arenaUsed);
    if (this.count === this.off.length) {
      const grow = (x: Int32Array): Int32Array => {
        const y = new Int32Array(x.length * 2);
        y.set(x);
        return y;
      };
      this.off = grow(this.off);
      this.len = grow(this.len);
      this.hashOf = grow(this.hashOf);
    }
    const e = this.count++;
    this.off[e] = this.arenaUsed;
    this.len[e] = length;
    this.hashOf[e] = h;
    this.arenaUsed += length;
    return e;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      const h = this.hashOf[e]!;
      let s = (h ^ (h >>> 15)) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.slots = slots;
  }
}
