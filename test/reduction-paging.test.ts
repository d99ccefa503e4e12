// The reduced search against the unreduced one on two small scenarios where a CR3
// write (a switch of mm, text_poke()'s temporary mm) races with another CPU's clear
// of a PTE that the switching CPU's page walkers read (test/data/paging/). A CR3 write
// retargets the walkers, so its footprint reads what they read now; without that the
// reduced search treated it as independent of the clear and missed the runs where a
// walker saw the clear before the switch (780 of 792 graphs, 1,086 of 1,092).
//
// The unreduced searches take about 10 s each here (they took minutes before they
// probed instead of replaying, src/explore/explicit.ts), so both searches run and are
// compared in `npm test`; the graph counts below are the unreduced search's, written
// down as well, so that a change to both searches at once still shows.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkScenario } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { read } from './helpers.js';

/** Graphs the unreduced search finds on sc (`smpcheck check FILE --model sc --no-reduction`). */
const cases = [
  { rel: 'test/data/paging/cr3-text-poke.litmus', fullGraphs: 792 },
  { rel: 'test/data/paging/cr3-fork-switch.litmus', fullGraphs: 1092 },
];

for (const { rel, fullGraphs } of cases) {
  test(`${rel}: the reduced search finds every graph of the unreduced one on sc`, () => {
    const sc = parseScenario(read(rel), rel);
    const repro = `smpcheck check ${rel} --model sc`;
    const dpor = checkScenario(sc, { model: 'sc', reduction: true });
    assert.equal(dpor.result.complete, true, repro);
    assert.equal(dpor.verdict, 'ok', repro);
    assert.equal(dpor.result.graphs, fullGraphs, `graphs of the reduced search (${repro}) against the unreduced one's (${repro} --no-reduction)`);
    const full = checkScenario(sc, { model: 'sc', reduction: false });
    assert.equal(full.result.complete, true, `${repro} --no-reduction`);
    assert.equal(full.result.graphs, fullGraphs, `${repro} --no-reduction`);
    assert.deepEqual(dpor.result.outcomes, full.result.outcomes);
    assert.equal(dpor.result.positive, full.result.positive);
    assert.equal(dpor.result.negative, full.result.negative);
  });
}
