// The execution graph of a trace (src/explore/graph.ts) and what `check` writes from
// it: --graph FILE.dot / FILE.svg, --itf FILE (Apalache/Quint's ITF), and several
// witnesses of one check (--witnesses N), deterministic and distinct.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceSchema, type Trace } from '../src/explore/trace.js';
import { executionGraph, toDot } from '../src/explore/graph.js';
import { stateAt } from '../src/explore/state.js';
import { cli, ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-graph-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const lit = (name: string): string => join(ROOT, 'scenarios', name);

async function check(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = await cli([...args, '--no-time']);
  assert.ok(r.code !== 1 && r.code !== 70, r.err);
  return r;
}

async function traceOf(args: string[], name: string): Promise<Trace> {
  const file = join(dir, name);
  await check([...args, '--trace', file]);
  return traceSchema().parse(JSON.parse(readFileSync(file, 'utf8')));
}

test('SB on x86: the graph of the stale-read witness has both writes, both reads from the initial state, co and fr', async () => {
  const t = await traceOf([lit('litmus/SB.litmus'), '--model', 'x86'], 'sb.json');
  const g = executionGraph(t, t);
  const label = (id: string): string => g.events.find((e) => e.id === id)!.label;
  const labels = g.events.map((e) => e.label).sort();
  assert.deepEqual(labels, ['R x=0', 'R y=0', 'W x=0', 'W x=1', 'W y=0', 'W y=1']);
  const rel = (kind: string): string[] => g.edges.filter((x) => x.kind === kind).map((x) => `${label(x.from)} -> ${label(x.to)}`).sort();
  // Each read reads the initial value: the other CPU's store was still in its store buffer.
  assert.deepEqual(rel('rf'), ['W x=0 -> R x=0', 'W y=0 -> R y=0']);
  assert.deepEqual(rel('co'), ['W x=0 -> W x=1', 'W y=0 -> W y=1']);
  assert.deepEqual(rel('fr'), ['R x=0 -> W x=1', 'R y=0 -> W y=1']);
  assert.deepEqual(rel('po'), ['W x=1 -> R y=0', 'W y=1 -> R x=0']);
  // Every event of a CPU lies in its cluster, and each edge names its relation.
  const dot = toDot(g, 'SB');
  assert.match(dot, /^digraph execution \{/);
  assert.match(dot, /subgraph cluster_cpu0 \{\n {4}label="CPU0 \(P0\)";/);
  assert.equal((dot.match(/\[label="rf", color=red/g) ?? []).length, 2);
  assert.equal((dot.match(/\[label="fr"/g) ?? []).length, 2);
});

test('a load that reads its own store buffer reads from that store (rf within a CPU)', async () => {
  const t = await traceOf([lit('litmus/SB+rfi-pos.litmus'), '--model', 'x86'], 'rfi.json');
  const g = executionGraph(t, t);
  const byId = new Map(g.events.map((e) => [e.id, e]));
  const internal = g.edges.filter((x) => x.kind === 'rf' && byId.get(x.from)!.cpu === byId.get(x.to)!.cpu && byId.get(x.from)!.cpu >= 0);
  assert.ok(internal.length >= 1, 'an rf edge inside one CPU');
  for (const x of internal) {
    const step = t.steps[byId.get(x.to)!.step]!;
    assert.equal(step.from, 'buffer');
  }
});

test('the graph of a kernel scenario keeps the scenario\'s events by default and every access with scope all; IPIs are edges', async () => {
  const t = await traceOf([lit('membarrier/membarrier-A.litmus'), '--model', 'x86', '--variant', 'no-ipi'], 'a-noipi.json');
  const small = executionGraph(t, t, 'scenario');
  assert.deepEqual(small.events.filter((e) => e.kind !== 'CALL').map((e) => e.label).sort(), ['R x=0', 'R y=0', 'W x=0', 'W x=1', 'W y=0', 'W y=1']);
  assert.ok(small.events.some((e) => e.kind === 'CALL' && e.label.startsWith('membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED')));
  const all = executionGraph(t, t, 'all');
  assert.ok(all.events.length > 40);
  assert.ok(all.events.some((e) => e.kind === 'F' && e.label.includes('membarrier.a')), 'the barrier membarrier.a is an F event');
  assert.ok(all.edges.some((x) => x.kind === 'ipi'), 'an IPI edge from the sender to the handler entry');
  for (const x of all.edges.filter((e) => e.kind === 'ipi')) {
    assert.match(all.events.find((e) => e.id === x.from)!.label, /^IPI -> CPU\d$/);
    assert.match(all.events.find((e) => e.id === x.to)!.label, /^IRQ /);
  }
  // The trace names the kernel functions of each kernel step, outermost first.
  const mbA = t.steps.find((s) => s.label === 'membarrier.a')!;
  assert.deepEqual(mbA.calls?.slice(-2), ['sys_membarrier', 'membarrier_private_expedited']);
});

test('check --graph FILE.dot writes the DOT of the witness; FILE.svg draws it with Graphviz in WebAssembly', async () => {
  const dotFile = join(dir, 'sb.dot');
  await check([lit('litmus/SB.litmus'), '--model', 'x86', '--graph', dotFile]);
  const dot = readFileSync(dotFile, 'utf8');
  assert.match(dot, /label="SB on x86: positive execution"/);
  assert.match(dot, /\[label="R y=0"/);
  const svgFile = join(dir, 'sb.svg');
  await check([lit('litmus/SB.litmus'), '--model', 'x86', '--graph', svgFile]);
  const svg = readFileSync(svgFile, 'utf8');
  assert.match(svg, /<svg /);
  assert.match(svg, />R y=0</);
  assert.match(svg, /<title>e\d+&#45;&gt;e\d+<\/title>|<title>i\d+&#45;&gt;e\d+<\/title>/);
  // Another extension is a coded usage error, before any search.
  const bad = await cli([lit('litmus/SB.litmus'), '--graph', join(dir, 'sb.png')]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /error\[SMP200\] --graph writes FILE\.dot .* or FILE\.svg/);
});

test('check --itf FILE writes the ITF document: one state before the steps and one after each, integers as #bigint, maps as #map', async () => {
  const file = join(dir, 'sb.itf.json');
  await check([lit('litmus/SB.litmus'), '--model', 'x86', '--itf', file]);
  const t = await traceOf([lit('litmus/SB.litmus'), '--model', 'x86'], 'sb2.json');
  const itf = JSON.parse(readFileSync(file, 'utf8')) as { '#meta': Record<string, unknown>; vars: string[]; states: Record<string, unknown>[] };
  assert.equal(itf['#meta'].format, 'ITF');
  assert.deepEqual(itf.vars, ['mem', 'cpus', 'action']);
  assert.equal(itf.states.length, t.steps.length + 1);
  itf.states.forEach((s, i) => {
    assert.deepEqual(s['#meta'], { index: { '#bigint': String(i) } });
    assert.deepEqual(Object.keys(s).sort(), ['#meta', 'action', 'cpus', 'mem']);
  });
  // After the last step every store has drained: x and y are 1 in memory.
  const last = itf.states[itf.states.length - 1]! as { mem: { '#map': [string, unknown][] }; cpus: { '#map': [unknown, { buffer: unknown[] }][] } };
  assert.deepEqual(last.mem['#map'], [['x', { '#bigint': '1' }], ['y', { '#bigint': '1' }]]);
  assert.deepEqual(last.cpus['#map'].map(([k]) => k), [{ '#bigint': '0' }, { '#bigint': '1' }]);
  // At the stale read, the other CPU's store sits in its buffer, as the trace's state says.
  const read = t.steps.findIndex((s) => s.text === 'READ_ONCE(x) = 0');
  const at = itf.states[read + 1] as { action: { text: string }; cpus: { '#map': [unknown, { buffer: { loc: string; value: unknown }[] }][] } };
  assert.equal(at.action.text, 'READ_ONCE(x) = 0');
  const writer = 1 - t.steps[read]!.cpu;
  assert.deepEqual(at.cpus['#map'][writer]![1].buffer, [{ loc: 'x', value: { '#bigint': '1' } }]);
  assert.deepEqual(stateAt(t.state!, read).cpus[writer]!.buffer, [{ loc: 'x', value: '1' }]);
});

/** SB asking only about CPU0's read: two final states satisfy it (CPU1's read is free). */
const SB_ONE = `C SB-one

{}

P0(int *x, int *y)
{
	int r0;

	WRITE_ONCE(*x, 1);
	r0 = READ_ONCE(*y);
}

P1(int *x, int *y)
{
	int r0;

	WRITE_ONCE(*y, 1);
	r0 = READ_ONCE(*x);
}

exists (0:r0=0)
`;

test('--witnesses N keeps up to N witnesses, each a distinct execution graph, the same on every run; replay checks each', async () => {
  const sc = join(dir, 'SB-one.litmus');
  writeFileSync(sc, SB_ONE);
  const a = await traceOf([sc, '--model', 'x86', '--witnesses', '5'], 'w1.json');
  const b = await traceOf([sc, '--model', 'x86', '--witnesses', '5'], 'w2.json');
  assert.ok(a.witnesses && a.witnesses.length >= 1, 'more than one witness');
  const runs = [a, ...a.witnesses];
  assert.ok(runs.length <= 5);
  // Distinct: no two witnesses have the same execution graph (reads-from and coherence).
  const shapes = runs.map((r) => {
    const g = executionGraph(a, r);
    const name = (id: string): string => {
      const e = g.events.find((x) => x.id === id)!;
      return `${e.cpu}:${e.label}`;
    };
    return JSON.stringify(g.edges.filter((e) => e.kind === 'rf' || e.kind === 'co').map((e) => `${e.kind} ${name(e.from)} > ${name(e.to)}`).sort());
  });
  assert.equal(new Set(shapes).size, runs.length, `distinct graphs:\n${shapes.join('\n')}`);
  for (const r of runs) assert.equal(r.kind, 'positive');
  // Deterministic: the same choices on every run.
  assert.deepEqual([b, ...(b.witnesses ?? [])].map((r) => r.choices), runs.map((r) => r.choices));
  // Without --witnesses, one.
  assert.equal((await traceOf([sc, '--model', 'x86'], 'w3.json')).witnesses, undefined);
  const r = await cli(['replay', join(dir, 'w1.json')]);
  assert.equal(r.code, 0, r.err);
  // A forged witness is caught by replay.
  const forged = JSON.parse(readFileSync(join(dir, 'w1.json'), 'utf8')) as Trace;
  forged.witnesses![0]!.final = { '0:r0': '7' };
  writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
  const f = await cli(['replay', join(dir, 'forged.json')]);
  assert.equal(f.code, 2);
  assert.match(f.out, /witness 2: final state/);
  const bad = await cli([sc, '--witnesses', '1000']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /error\[SMP200\] --witnesses takes a positive integer up to 100/);
});

test('DOT quotes every label: quotes, backslashes, newlines and markup in a trace come out of Graphviz as the same text', async () => {
  const { instance } = await import('@viz-js/viz');
  const t = await traceOf([lit('litmus/SB.litmus'), '--model', 'x86'], 'sb-quote.json');
  const odd = 'x"]; evil [label="<b>\\\\n\n</script>';
  for (const s of t.steps) if (s.loc === 'x') s.loc = odd;
  for (const l of t.state!.locations) if (l.name === 'x') l.name = odd;
  t.state!.initial.mem = { ...t.state!.initial.mem, [odd]: '0' };
  const g = executionGraph(t, t);
  const dot = toDot(g, 'quoted "title"');
  const viz = await instance();
  const r = viz.render(dot, { format: 'json' });
  assert.equal(r.status, 'success');
  const objects = (JSON.parse(r.output) as { objects: { name: string; label?: string }[] }).objects;
  const evil = objects.filter((o) => o.name === 'evil');
  assert.deepEqual(evil, [], 'no node made from a label');
  const labels = objects.filter((o) => /^[ei]\d+$/.test(o.name)).map((o) => o.label!.replace(/\\(.)/gs, (_, c: string) => (c === 'n' ? '\n' : c)));
  assert.ok(labels.includes(`W ${odd}=1`), `a label is the text itself: ${labels.join(' | ')}`);
});
