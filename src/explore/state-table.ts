// The unreduced search's table of states (src/explore/explicit.ts): each state's exact key
// (the bytes KeyPacker packed, src/machine/packed-key.ts) and what the search knows of it.
// A key is looked up straight from the packer's buffer: no string is made for it, and a
// key seen before costs a hash of its bytes and one comparison (both four bytes at a time). Keys live in one growing
// byte arena, found through an open-addressing table of entry numbers; entries are never
// removed (the search keeps every state it has seen).
//
// Exact: two keys are the same entry only if their bytes are equal (the hash only finds
// the candidates). Replaces a Map from key strings, whose strings, hashing and entries were
// a fifth of a probe-heavy search's time and most of its memory.

import type { KeyPacker } from '../machine/packed-key.js';

export class StateTable {
  /** Every key's bytes, one after another, each from a multiple of 4 bytes (compared four at a time). */
  private arena: Uint8Array = new Uint8Array(1 << 16);
  private arenaWords: Int32Array = new Int32Array(this.arena.buffer);
  private arenaUsed = 0;
  /** Per entry e: where its key starts in the arena (at 2e) and its length (at 2e + 1), side by side: one cache line. */
  private meta: Int32Array = new Int32Array(2 << 12);
  private count = 0;
  /**
   * Open addressing, a slot per pair: the key's hash (at 2s), and its entry number + 1
   * (at 2s + 1; 0 for an empty slot), side by side, so that a probe of a slot whose hash
   * differs reads one cache line. A power of two of slots, at most half full.
   */
  private slots: Int32Array = new Int32Array(2 << 13);
  /** The packer's buffer last seen, and a view of it as 32-bit words. */
  private keyBuf: Uint8Array | null = null;
  private keyWords: Int32Array = new Int32Array(0);

  /** The length of entry e's key, in bytes (characters of the key string it stands for). */
  keyLength(e: number): number {
    return this.meta[2 * e + 1]!;
  }

  /**
   * The entry of the key in the packer's buffer (which it takes, as KeyPacker.take()
   * does), added if the key is new.
   */
  intern(k: KeyPacker): number {
    const { buf, length } = k.bytes();
    if (buf !== this.keyBuf) {
      // The packer's buffer starts at a multiple of 4 (KeyPacker allocates it on its own).
      if (buf.byteOffset % 4 !== 0) throw new Error('internal: a key buffer not aligned to 4 bytes');
      this.keyBuf = buf;
      this.keyWords = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2);
    }
    const words = this.keyWords;
    const nWords = length >> 2;
    // FNV-1a over the key's whole 32-bit words, then its last bytes one by one.
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < nWords; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
    for (let i = nWords << 2; i < length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h ^= h >>> 15;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let s = h & mask;
    for (;;) {
      const v = slots[2 * s + 1]!;
      if (v === 0) break;
      if (slots[2 * s] === h) {
        const e = v - 1;
        if (this.meta[2 * e + 1] === length && this.sameKey(e, buf, words, length)) {
          k.reset();
          return e;
        }
      }
      s = (s + 1) & mask;
    }
    const e = this.add(buf, length);
    k.reset();
    slots[2 * s] = h;
    slots[2 * s + 1] = e + 1;
    if (2 * this.count > mask + 1) this.rehash();
    return e;
  }

  /** Whether entry e's key is these bytes: four at a time, then the last ones. */
  private sameKey(e: number, buf: Uint8Array, words: Int32Array, length: number): boolean {
    const o = this.meta[2 * e]!;
    const aw = this.arenaWords;
    const ow = o >> 2;
    const nWords = length >> 2;
    for (let i = 0; i < nWords; i++) if (aw[ow + i] !== words[i]) return false;
    const a = this.arena;
    for (let i = nWords << 2; i < length; i++) if (a[o + i] !== buf[i]) return false;
    return true;
  }

  private add(buf: Uint8Array, length: number): number {
    if (this.arenaUsed + length > this.arena.length) {
      let n = this.arena.length * 2;
      while (this.arenaUsed + length > n) n *= 2;
      const a = new Uint8Array(n);
      a.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = a;
      this.arenaWords = new Int32Array(a.buffer);
    }
    this.arena.set(buf.subarray(0, length), this.arenaUsed);
    if (2 * this.count === this.meta.length) {
      const m = new Int32Array(this.meta.length * 2);
      m.set(this.meta);
      this.meta = m;
    }
    const e = this.count++;
    this.meta[2 * e] = this.arenaUsed;
    this.meta[2 * e + 1] = length;
    // The next key starts at a multiple of 4.
    this.arenaUsed += (length + 3) & ~3;
    return e;
  }

  /** Twice the slots: each entry goes where its hash now leads. */
  private rehash(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let t = 0; t < old.length; t += 2) {
      if (old[t + 1] === 0) continue;
      const h = old[t]!;
      let s = h & mask;
      while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
      slots[2 * s] = h;
      slots[2 * s + 1] = old[t + 1]!;
    }
    this.slots = slots;
  }
}
