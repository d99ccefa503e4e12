// The graph engine (src/graph/): on sc and x86 it finds exactly the final states
// and the number of execution graphs of the machine engine, for every scenario of
// scenarios/litmus; on arm64 and LKMM exactly herd7's states (test/data/herd/,
// made by scripts/herd-oracle.mjs: herd7 is not needed here). Kernel scenarios
// are refused on arm64 and LKMM with SMP112.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { checkScenario, checkSource, type CheckResult } from '../src/check.js';
import { programArb, render } from './reference.js';
import { parseScenario } from '../src/scenario/parser.js';
import { SmpError } from '../src/scenario/errors.js';
import { Rel } from '../src/graph/relation.js';
import { litmusFiles, read, ROOT } from './helpers.js';

const files = litmusFiles('scenarios/litmus');

function states(r: CheckResult): string[] {
  return r.result.outcomes.map((o) => r.program.observedNames.map((n, i) => `${n}=${r.program.formatValue(o.values[i]!)};`).join(' ')).sort();
}

test('the relation library: sequence, inverse, closures, acyclicity', () => {
  const r = Rel.of(3, (a, b) => b === a + 1); // 0 -> 1 -> 2
  assert.ok(r.seq(r).has(0, 2) && !r.seq(r).has(0, 1));
  assert.ok(r.inverse().has(1, 0));
  assert.ok(r.plus().has(0, 2) && !r.plus().has(0, 0));
  assert.ok(r.star().has(1, 1));
  assert.ok(r.isAcyclic());
  const cyc = r.union(Rel.of(3, (a, b) => a === 2 && b === 0));
  assert.ok(!cyc.isAcyclic() && cyc.isIrreflexive());
  assert.ok(r.minus(r).isEmpty());
});

for (const file of files) {
  const rel = relative(ROOT, file);
  test(`${rel}: the graph engine agrees with the machine engine on sc and x86`, () => {
    const sc = parseScenario(read(file), rel);
    for (const model of ['sc', 'x86'] as const) {
      const a = checkScenario(sc, { model });
      const b = checkScenario(sc, { model, engine: 'graph' });
      assert.ok(b.result.complete, `${model}: graph search complete`);
      assert.deepEqual(states(b), states(a), `${model}: final states`);
      assert.equal(b.result.graphs, a.result.graphs, `${model}: execution graphs`);
      assert.equal(b.observation, a.observation, `${model}: observation`);
    }
  });
}

interface HerdData {
  herd7: string;
  command: string;
  tests: Record<string, { states?: string[]; observation?: string; refused?: string }>;
}

for (const model of ['arm64', 'lkmm'] as const) {
  const data = JSON.parse(read(join(ROOT, 'test', 'data', 'herd', `${model}.json`))) as HerdData;
  test(`${model}: every test of scenarios/litmus has herd7's states (${data.herd7.split(',')[0]})`, () => {
    const names = files.map((f) => relative(join(ROOT, 'scenarios', 'litmus'), f)).sort();
    assert.deepEqual(Object.keys(data.tests).sort(), names, 'the data covers the library');
    for (const name of names) assert.equal(data.tests[name]!.refused, undefined, `${name}: herd7 ran it`);
  });
  for (const file of files) {
    const name = relative(join(ROOT, 'scenarios', 'litmus'), file);
    test(`scenarios/litmus/${name}: ${model} states are herd7's`, () => {
      const expected = data.tests[name]!;
      const r = checkScenario(parseScenario(read(file), file), { model });
      assert.ok(r.result.complete);
      assert.deepEqual(states(r), expected.states, `${name} on ${model}`);
      assert.equal(r.observation, expected.observation, `${name} on ${model}: observation`);
    });
  }
}

{
  // scenarios/lkmm: tests only LKMM runs (spinlocks, plain accesses and data races), against herd7's states and flags.
  const data = JSON.parse(read(join(ROOT, 'test', 'data', 'herd', 'lkmm-scenarios.json'))) as HerdData & { tests: Record<string, { flags?: string[] }> };
  const lkmmFiles = litmusFiles('scenarios/lkmm');
  test(`lkmm: every test of scenarios/lkmm has herd7's states and flags (${data.herd7.split(',')[0]})`, () => {
    const names = lkmmFiles.map((f) => relative(join(ROOT, 'scenarios', 'lkmm'), f)).sort();
    assert.deepEqual(Object.keys(data.tests).sort(), names, 'the data covers the folder');
    for (const name of names) assert.ok(Array.isArray(data.tests[name]!.flags), `${name}: herd7 ran it`);
  });
  test('scenarios/lkmm: states, observation and flags are herd7\'s', () => {
    for (const file of lkmmFiles) {
      const name = relative(join(ROOT, 'scenarios', 'lkmm'), file);
      const expected = data.tests[name]!;
      const r = checkScenario(parseScenario(read(file), file), { model: 'lkmm' });
      assert.ok(r.result.complete);
      assert.deepEqual(states(r), expected.states, name);
      assert.equal(r.observation, expected.observation, `${name}: observation`);
      assert.deepEqual(r.result.flags, expected.flags, `${name}: flags`);
    }
  });
}

test('kernel scenarios are refused with SMP112 where the graph engine does not run them, never answered', () => {
  // arm64 and LKMM run the kernel model (test/kernel-graph.test.ts, test/kernel-graph-lkmm.test.ts)
  // but not TLBs (tlb/) yet; the graph engine runs instruction fetch on arm64 only.
  for (const f of [...litmusFiles('scenarios/tlb').slice(0, 2), ...litmusFiles('scenarios/sync-core').filter((x) => x.includes('jit-reclaim')).slice(0, 2)]) {
    const sc = parseScenario(read(f), f);
    assert.throws(() => checkScenario(sc, { model: 'lkmm' }), (e: unknown) => e instanceof SmpError && e.code === 'SMP112', `${relative(ROOT, f)} on lkmm`);
  }
  for (const f of litmusFiles('scenarios/tlb').slice(0, 2)) {
    const sc = parseScenario(read(f), f);
    assert.throws(() => checkScenario(sc, { model: 'arm64' }), (e: unknown) => e instanceof SmpError && e.code === 'SMP112', `${relative(ROOT, f)} on arm64`);
  }
  for (const f of litmusFiles('scenarios/sync-core').filter((x) => read(x).includes('exec_code')).slice(0, 2)) {
    const sc = parseScenario(read(f), f);
    for (const model of ['sc', 'x86'] as const) {
      assert.throws(() => checkScenario(sc, { model, engine: 'graph' }), (e: unknown) => e instanceof SmpError && e.code === 'SMP112', `${relative(ROOT, f)} on ${model}, graph engine`);
    }
  }
});

// Random programs (test/reference.ts's generator): the graph engine and the
// machine engine find the same final states and execution graphs on sc and x86,
// and every sc state is a state of arm64 and of LKMM (both are weaker than sc).
test('random programs: the graph engine = the machine engine on sc and x86; sc states are states of every model', () => {
  fc.assert(
    fc.property(programArb, (threads) => {
      const src = render(threads);
      const finals = (model: 'sc' | 'x86' | 'arm64' | 'lkmm', engine?: 'graph'): CheckResult => {
        const r = checkSource(src, 'random.litmus', { model, engine });
        assert.equal(r.result.complete, true);
        return r;
      };
      for (const model of ['sc', 'x86'] as const) {
        const a = finals(model);
        const b = finals(model, 'graph');
        assert.deepEqual(states(b), states(a), `graph vs machine engine on ${model}:\n${src}`);
        assert.equal(b.result.graphs, a.result.graphs, `graph counts on ${model}:\n${src}`);
      }
      const sc = new Set(states(finals('sc', 'graph')));
      for (const model of ['arm64', 'lkmm'] as const) {
        const weak = new Set(states(finals(model)));
        for (const s of sc) assert.ok(weak.has(s), `${model} lacks the sc state ${s}:\n${src}`);
      }
    }),
    { seed: 20261202, numRuns: 200, endOnFailure: true },
  );
});

// RCU on LKMM: a reader's critical section cannot span a grace period. The three
// programs differ by one token each; herd7 7.57 with the kernel's
// linux-kernel.cfg gives the same observations (Never, Sometimes, Sometimes).
const GP = (lock: boolean, sync: boolean): string => `C gp

{}

P0(int *x, int *y)
{
	int r0;
	int r1;

	${lock ? 'rcu_read_lock();' : ''}
	r0 = READ_ONCE(*x);
	r1 = rcu_dereference(*y);
	${lock ? 'rcu_read_unlock();' : ''}
}

P1(int *x, int *y)
{
	rcu_assign_pointer(*y, 1);
	${sync ? 'synchronize_rcu();' : ''}
	WRITE_ONCE(*x, 1);
}

exists (0:r0=1 /\\ 0:r1=0)
`;

test('RCU on lkmm: the grace-period guarantee, and what breaks without the grace period or the critical section', () => {
  assert.equal(checkSource(GP(true, true), 'gp.litmus', { model: 'lkmm' }).observation, 'Never');
  assert.equal(checkSource(GP(true, false), 'gp.litmus', { model: 'lkmm' }).observation, 'Sometimes');
  assert.equal(checkSource(GP(false, true), 'gp.litmus', { model: 'lkmm' }).observation, 'Sometimes');
});

test('RCU is refused where it is not modelled: SMP103 on the machine engine, SMP112 on the graph engine off lkmm', () => {
  const refusedWith = (code: string, opts: Parameters<typeof checkSource>[2]): void => {
    assert.throws(() => checkSource(GP(true, true), 'gp.litmus', opts), (e: unknown) => e instanceof SmpError && e.code === code, JSON.stringify(opts));
  };
  refusedWith('SMP103', { model: 'sc' });
  refusedWith('SMP103', { model: 'x86' });
  refusedWith('SMP112', { model: 'arm64' });
  refusedWith('SMP112', { model: 'x86', engine: 'graph' });
  // rcu_read_lock() inside an if, and an unbalanced one, are refused on lkmm.
  const inIf = GP(true, true).replace('\trcu_read_lock();', '\tif (1) { rcu_read_lock(); }');
  assert.throws(() => checkSource(inIf, 'gp.litmus', { model: 'lkmm' }), (e: unknown) => e instanceof SmpError && e.code === 'SMP112');
  const unbalanced = GP(true, true).replace('\trcu_read_unlock();', '');
  assert.throws(() => checkSource(unbalanced, 'gp.litmus', { model: 'lkmm' }), (e: unknown) => e instanceof SmpError && e.code === 'SMP112');
});
