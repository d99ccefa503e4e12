// The unreduced search's table of states (src/explore/state-table.ts): one entry per
// distinct key, whatever its length, however many keys it holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyPacker } from '../src/machine/packed-key.js';
import { StateTable } from '../src/explore/state-table.js';

const packer = new KeyPacker();
const intern = (t: StateTable, xs: readonly number[]): number => {
  packer.reset();
  for (const x of xs) packer.push(x);
  return t.intern(packer);
};

test('state table: equal keys and only equal keys share an entry, numbered in order of arrival', () => {
  // Lists of up to 40 numbers: keys of 0 to over 100 bytes, of every length modulo 4,
  // many differing only in their last bytes (the bytes after the last whole word).
  const list = fc.array(fc.oneof(fc.constant(0), fc.nat({ max: 70 }), fc.nat()), { maxLength: 40 });
  fc.assert(fc.property(fc.array(list, { minLength: 1, maxLength: 300 }), (lists) => {
    const t = new StateTable();
    const seen = new Map<string, number>();
    for (const xs of [...lists, ...lists.map((xs) => [...xs, 1]), ...lists]) {
      const e = intern(t, xs);
      const known = seen.get(xs.join());
      if (known === undefined) {
        assert.equal(e, seen.size, 'a new key gets the next entry');
        seen.set(xs.join(), e);
      } else {
        assert.equal(e, known, 'a known key gets its entry back');
      }
    }
  }), { seed: 4245, numRuns: 200 });
});

test('state table: keys that differ in one byte, through the table and its arena growing', () => {
  const t = new StateTable();
  const n = 70_000; // past the first table, arena and entry list sizes
  for (let r = 0; r < 2; r++) {
    for (let i = 0; i < n; i++) {
      // Lengths 1 to 7 bytes: the last word whole or not, the numbers' last digit varying.
      assert.equal(intern(t, [i % 3 === 0 ? 0 : 5, i]), i, `key ${i}, pass ${r}`);
    }
  }
});
