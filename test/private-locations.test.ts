// Locations only one thread can reach (privateLocations() in src/litmus/program.ts):
// their accesses run with the step before them and their stores go to memory at once
// (Machine.fusePrivate, docs/scale.md "Private locations"). Which locations qualify,
// and that merging them changes counts, never outcomes: each search here is made with
// the machine merging and without (mergeNoOps: false merges nothing), on scenarios
// where a wrong merge would show (an rseq abort, a preemption, a migration).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkScenario } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { LitmusProgram } from '../src/litmus/program.js';
import { MODELS } from '../src/machine/machine.js';
import { finalValues, read, sameOutcomes } from './helpers.js';

function privateNames(src: string): string[] {
  const sc = parseScenario(src, 'private.litmus');
  const p = new LitmusProgram(sc, 'x86');
  return [...p.privateLocs].map((l) => sc.locations[l]!.name).sort();
}

test('a location is private when one thread names it, only as the address of its own accesses', () => {
  const two = (p0: string, p1: string, head = '{}', extra = ''): string =>
    `C t\n\n${head}\n\n${extra}P0(int *x, int *y, int *z)\n{\n\tint r0;\n${p0}\n}\n\nP1(int *x, int *y, int *z)\n{\n\tint r0;\n${p1}\n}\n\nexists (0:r0=0)\n`;
  // x is read by both; y and z each by one thread.
  assert.deepEqual(privateNames(two('\tWRITE_ONCE(*y, 1);\n\tr0 = READ_ONCE(*x);', '\tWRITE_ONCE(*z, 1);\n\tr0 = READ_ONCE(*x);')), ['y', 'z']);
  // An address stored as a value escapes (z): another thread could reach it through a
  // pointer. The location it is stored in (y) is still only P0's.
  assert.deepEqual(privateNames(two('\tWRITE_ONCE(*y, z);\n\tr0 = READ_ONCE(*x);', '\tWRITE_ONCE(*z, 1);')), ['x', 'y']);
  // ... so does one in an initial value.
  assert.deepEqual(privateNames(two('\tWRITE_ONCE(*y, 1);', '\tWRITE_ONCE(*z, 1);', '{ x = y; }')), ['z']);
  // An interrupt handler that names a location makes it shared.
  assert.deepEqual(privateNames(two('\tWRITE_ONCE(*y, 1);\n\traise_irq(1, h);', '\tWRITE_ONCE(*z, 1);', '{}', 'irq h(int *x, int *y, int *z)\n{\n\tWRITE_ONCE(*z, 2);\n}\n\n')), ['y']);
  // A read-modify-write and a wait are accesses too; the target of an rseq commit is never private.
  assert.deepEqual(privateNames(two('\tatomic_inc(y);\n\tr0 = smp_cond_load_acquire(z, VAL == 0);', '\tWRITE_ONCE(*x, 1);')), ['x', 'y', 'z']);
  const rseq = `C t\n\n{}\n\nP0(int *x, int *slot)\n{\n\tint r1;\n\trseq {\n\t\tr1 = READ_ONCE(*x);\n\t\trseq_commit(slot, 5);\n\t} abort {\n\t\tr1 = 2;\n\t}\n}\n\nexists (0:r1=0)\n`;
  assert.deepEqual(privateNames(rseq), ['x']);
  // A system call's argument (a futex word) is not private.
  const futex = `C t\n\n{}\n\nP0(int *f, int *y)\n{\n\tint r0;\n\tWRITE_ONCE(*f, 1);\n\tWRITE_ONCE(*y, 1);\n\tr0 = futex_wake(f, 1);\n}\n\nexists (0:r0=0)\n`;
  assert.deepEqual(privateNames(futex), ['y']);
});

// P1's critical section stores to p, a location only P1 reaches, between two loads of x.
// An abort (P0's signal) can come before that store: merged with the load before it, the
// store would always be made once the load is (p = 2 with r1 = 1 and r2 = 7 is reachable,
// p = 1 with them too; only the second needs the store to stay a step of its own).
const RSEQ = `C rseq-private

{}

P0(int *x, int *slot)
{
	WRITE_ONCE(*x, 1);
	tgkill(P1);
}

P1(int *x, int *slot, int *p)
{
	int r1;
	int r2;

	WRITE_ONCE(*p, 1);
	rseq {
		r1 = READ_ONCE(*x);
		WRITE_ONCE(*p, 2);
		r2 = READ_ONCE(*x);
		rseq_commit(slot, 5);
	} abort {
		r2 = 7;
	}
}

exists (1:r1=1 /\\ 1:r2=7 /\\ p=1)
`;

// P1 may move from CPU 1 to CPU 2 when preempted; its private stores and loads of p
// travel with it (a store made on CPU 1 is read on CPU 2).
const MIGRATE = `C migrate-private

{}

smpcheck {
	cpu 0 runs P0;
	cpu 1 runs P1 kthread;
	cpu 2 runs P1;
	preempt 1;
}

P0(int *x, int *y)
{
	int r0;

	WRITE_ONCE(*x, 1);
	r0 = READ_ONCE(*y);
}

P1(int *x, int *y, int *p)
{
	int r1;
	int r2;

	WRITE_ONCE(*p, 1);
	WRITE_ONCE(*y, 1);
	WRITE_ONCE(*p, 2);
	r1 = READ_ONCE(*x);
	r2 = READ_ONCE(*p);
}

exists (0:r0=0 /\\ 1:r1=0)
`;

const inline: { name: string; src: string; fewer: boolean; reachable?: string }[] = [
  { name: 'rseq-private', src: RSEQ, fewer: false, reachable: '1,7,1' },
  { name: 'migrate-private', src: MIGRATE, fewer: true },
];

for (const { name, src, fewer, reachable } of inline) {
  test(`${name}: private accesses merged or not, the same outcomes`, () => {
    const sc = parseScenario(src, `${name}.litmus`);
    assert.ok(new LitmusProgram(sc, 'x86').privateLocs.size > 0);
    for (const model of MODELS) {
      const merged = checkScenario(sc, { model });
      const plain = checkScenario(sc, { model, mergeNoOps: false });
      sameOutcomes(merged, plain, `${name} on ${model}`);
      assert.ok(merged.result.executions <= plain.result.executions, `${name} on ${model}: ${merged.result.executions} against ${plain.result.executions}`);
      if (fewer) assert.ok(merged.result.executions < plain.result.executions, `fewer executions on ${model}: ${merged.result.executions} against ${plain.result.executions}`);
      if (reachable) assert.ok(finalValues(merged).some((v) => v.startsWith(reachable)), `${name} on ${model}: ${reachable} reachable: ${finalValues(merged).join(' | ')}`);
    }
  });
}

// Library scenarios with a private location: an rseq critical section, a signal, a
// preemption, a task that exits, and the scaling workload.
const library = [
  'scenarios/rseq/rseq-fence-free.litmus',
  'scenarios/rseq/rseq-signal-abort.litmus',
  'scenarios/membarrier/membarrier-preempt-ipi.litmus',
  'scenarios/membarrier/membarrier-global-uaf.litmus',
  'bench/scaling/membarrier-A-3cpus.litmus',
];

for (const rel of library) {
  test(`${rel}: private accesses merged or not, the same outcomes`, () => {
    const sc = parseScenario(read(rel), rel);
    assert.ok(new LitmusProgram(sc, 'x86').privateLocs.size > 0, 'the scenario has a private location');
    for (const model of MODELS) {
      const merged = checkScenario(sc, { model });
      const plain = checkScenario(sc, { model, mergeNoOps: false });
      sameOutcomes(merged, plain, `${rel} on ${model} (smpcheck check ${rel} --model ${model})`);
    }
  });
}

test('scenario A grows five times per added CPU: the added threads\' private stores are not scheduling points', () => {
  const counts = ['scenarios/membarrier/membarrier-A.litmus', 'bench/scaling/membarrier-A-3cpus.litmus', 'bench/scaling/membarrier-A-4cpus.litmus'].map((rel) => {
    const r = checkScenario(parseScenario(read(rel), rel), { model: 'x86' });
    assert.equal(r.result.executions, r.result.graphs, rel);
    return r.result.graphs;
  });
  assert.deepEqual(counts, [14, 70, 350]);
});
