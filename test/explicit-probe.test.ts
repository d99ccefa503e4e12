// The unreduced search probes every step out of a state before it takes any
// (Machine.probe(), src/explore/explicit.ts): the probe applies the step to the
// machine's data, takes the key of the state it leads to, and undoes it. Checked here:
// a probe leaves the machine exactly as it was, and the search that relies on probes
// finds the final states and counts the interleavings of a plain enumeration of every
// interleaving (no state merged, every path replayed from the start).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkSource } from '../src/check.js';
import { LitmusProgram } from '../src/litmus/program.js';
import { parseScenario } from '../src/scenario/parser.js';
import { AssertionFailed, CodeLog, Interner, MODELS, type Checkpoint, type ModelName } from '../src/machine/machine.js';
import { freshRun, type Run } from '../src/explore/run.js';
import { read } from './helpers.js';
import { irqProgramArb, renderIrq } from './reference.js';

/** Everything of the machine a probe could change that a test can see. */
function picture(run: Run): string {
  const m = run.machine;
  const cpus = [];
  for (let c = 0; c < m.nCpus; c++) cpus.push(m.cpuState(c));
  return JSON.stringify({
    key: m.stateKey(),
    graph: m.graphKey(),
    snapshot: m.snapshot(),
    mem: m.mem,
    enabled: m.enabledMask(),
    cpus: cpus.map((s) => ({ ...s, op: s.op?.k ?? null })),
    warnings: run.instance.warnings(),
    observed: run.instance.observe(m.mem),
  });
}

const enabledProcs = (run: Run): number[] => {
  const out: number[] = [];
  for (let en = run.machine.enabledMask(); en !== 0; en &= en - 1) out.push(31 - Math.clz32(en & -en));
  return out;
};

// Scenarios whose steps touch every kind of machine data: page walkers, TLBs and the
// dirty bit (scenarios/tlb), code and instruction fetch, store buffers, interrupt
// handlers that preempt the task or abort its rseq critical section.
const cases = [
  'scenarios/tlb/munmap-lazy.litmus',
  'scenarios/tlb/reclaim-dirty-bit.litmus',
  'scenarios/tlb/witness-speculative-fill.litmus',
  'scenarios/tlb/text-poke-lazy.litmus',
  'scenarios/sync-core/cross-modify.litmus',
  'scenarios/membarrier/membarrier-A-preempt.litmus',
  'scenarios/rseq/rseq-migrate-abort.litmus',
  'scenarios/litmus/SB.litmus',
  // Private accesses merged into a step, one a load of a value the thread stored.
  'test/data/private-reads.litmus',
];

/** A scenario of `cases`, a machine, and choices for a walk (each taken modulo the processes enabled). */
const caseArb = fc.integer({ min: 0, max: cases.length - 1 });
const modelArb = fc.constantFrom<ModelName>(...MODELS);
const choicesArb = (max: number): fc.Arbitrary<number[]> => fc.array(fc.nat(), { minLength: 1, maxLength: max });

test('a probe leaves the machine as it was, and probing twice gives the same key', () => {
  fc.assert(
    fc.property(
      caseArb,
      modelArb,
      choicesArb(400),
      (ci, model, choices) => {
        const rel = cases[ci]!;
        const program = new LitmusProgram(parseScenario(read(rel), rel), model);
        const run = freshRun(program, new Interner());
        const where = `${rel} on ${model}`;
        for (const choice of choices) {
          const procs = enabledProcs(run);
          if (procs.length === 0) return;
          const before = picture(run);
          for (const p of procs) {
            const key = run.machine.probe(p);
            assert.equal(picture(run), before, `${where}: the probe of process ${p} changed the machine`);
            assert.equal(run.machine.probe(p), key, `${where}: two probes of process ${p} differ`);
          }
          // The step itself leads to the state its probe named, unless a handler returned
          // as the code resumed (the unreduced search then takes the key anew: Machine.pops).
          const p = procs[choice % procs.length]!;
          const probed = run.machine.probe(p);
          const pops = run.machine.pops;
          try {
            run.machine.step(p);
          } catch (e) {
            if (e instanceof AssertionFailed) return;
            throw e;
          }
          if (run.machine.pops === pops) assert.equal(run.machine.stateKey(), probed, `${where}: process ${p}'s step left a state other than its probe's, and no handler returned`);
        }
      },
    ),
    { seed: 41, numRuns: 120, endOnFailure: true },
  );
});

// The searches hand a dropped machine's data buffer and views to the next machine they
// build (Machine.recycle()). A machine built on recycled storage, after any steps and
// probes of the one before, starts and runs as a new one does; the dropped one refuses
// to step.
test("a machine on a recycled machine's storage runs as a new one, and the recycled machine steps no more", () => {
  fc.assert(
    fc.property(
      caseArb,
      modelArb,
      choicesArb(200),
      choicesArb(200),
      (ci, model, first, second) => {
        const rel = cases[ci]!;
        const program = new LitmusProgram(parseScenario(read(rel), rel), model);
        const where = `${rel} on ${model}`;
        /** Takes the choices (each modulo the enabled processes), probing every step first; the pictures on the way. */
        const walk = (run: Run, choices: readonly number[]): string[] => {
          const seen = [picture(run)];
          for (const choice of choices) {
            const procs = enabledProcs(run);
            if (procs.length === 0) break;
            for (const p of procs) run.machine.probe(p);
            try {
              run.machine.step(procs[choice % procs.length]!);
            } catch (e) {
              if (e instanceof AssertionFailed) break;
              throw e;
            }
            seen.push(picture(run));
          }
          return seen;
        };
        const old = freshRun(program, new Interner());
        walk(old, first);
        old.machine.recycle();
        assert.throws(() => old.machine.step(0), /recycled/, `${where}: a recycled machine stepped`);
        // The first machine built after recycle() takes the storage; the next has new storage.
        const reused = walk(freshRun(program, new Interner()), second);
        assert.deepEqual(walk(freshRun(program, new Interner()), second), reused, `${where}: a machine on recycled storage ran otherwise`);
      },
    ),
    { seed: 43, numRuns: 60, endOnFailure: true },
  );
});

// The unreduced search goes back to a state by running a fresh machine's code alone
// through the path, with the results its log holds, and loading the machine's state
// saved there (Machine.replayCode()). That machine is the one a full replay of the path
// builds, and it goes on as that one does: the same picture after every later step.
test('a code-only replay builds the machine a full replay builds, and it runs on the same', () => {
  fc.assert(
    fc.property(
      caseArb,
      modelArb,
      choicesArb(300),
      fc.nat(),
      choicesArb(100),
      (ci, model, choices, cutAt, after) => {
        const rel = cases[ci]!;
        const program = new LitmusProgram(parseScenario(read(rel), rel), model);
        const where = `${rel} on ${model}`;
        const interner = new Interner();
        const run = freshRun(program, interner);
        const log = new CodeLog();
        run.machine.codeLog = log;
        const path: number[] = [];
        const logAt = [0];
        const checkpoints: Checkpoint[] = [run.machine.checkpoint()];
        for (const choice of choices) {
          const procs = enabledProcs(run);
          if (procs.length === 0) break;
          // Probes first, as the search makes them.
          for (const p of procs) run.machine.probe(p);
          const p = procs[choice % procs.length]!;
          try {
            run.machine.step(p);
          } catch (e) {
            if (e instanceof AssertionFailed) break;
            throw e;
          }
          path.push(p);
          logAt.push(log.nums.length);
          checkpoints.push(run.machine.checkpoint());
        }
        const d = cutAt % (path.length + 1);
        const prefix = path.slice(0, d);
        const codeOnly = freshRun(program, interner);
        codeOnly.machine.replayCode(prefix, d, log, logAt[d]!, checkpoints[d]!);
        const full = freshRun(program, interner);
        for (const p of prefix) full.machine.step(p);
        assert.equal(picture(codeOnly), picture(full), `${where}: a code-only replay of ${d} steps built another machine`);
        for (const choice of after) {
          const procs = enabledProcs(full);
          assert.deepEqual(enabledProcs(codeOnly), procs, `${where}: the enabled processes differ`);
          if (procs.length === 0) break;
          const p = procs[choice % procs.length]!;
          let failed: unknown = null;
          try {
            full.machine.step(p);
          } catch (e) {
            failed = e;
          }
          if (failed !== null) {
            assert.throws(() => codeOnly.machine.step(p), (e: unknown) => String(e) === String(failed), `${where}: the step failed on one machine only`);
            break;
          }
          codeOnly.machine.step(p);
          assert.equal(picture(codeOnly), picture(full), `${where}: after a code-only replay of ${d} steps, process ${p}'s step led elsewhere`);
        }
      },
    ),
    { seed: 47, numRuns: 200, endOnFailure: true },
  );
});

/** Every interleaving, each replayed from the start: the final states' observations and the number of interleavings. */
function enumerate(src: string, model: ModelName, limit: number): { finals: Set<string>; interleavings: bigint } | null {
  const program = new LitmusProgram(parseScenario(src, 'random-irq.litmus'), model);
  const finals = new Set<string>();
  let interleavings = 0n;
  let runs = 0;
  const walk = (path: number[]): boolean => {
    if (++runs > limit) return false;
    const run = freshRun(program, new Interner());
    try {
      for (const p of path) run.machine.step(p);
    } catch (e) {
      if (e instanceof AssertionFailed) return true;
      throw e;
    }
    const procs = enabledProcs(run);
    if (procs.length === 0) {
      finals.add(`${run.machine.quiescent() ? 'final' : 'deadlock'} ${run.instance.observe(run.machine.mem).join(',')}`);
      interleavings++;
      return true;
    }
    for (const p of procs) if (!walk([...path, p])) return false;
    return true;
  };
  return walk([]) ? { finals, interleavings } : null;
}

// Random programs with interrupt handlers, masking and waits (test/reference.ts), small
// enough to enumerate: the final states and the count of interleavings match.
test('random programs with interrupts: the unreduced search finds what an enumeration of every interleaving finds', () => {
  let compared = 0;
  fc.assert(
    fc.property(irqProgramArb, ({ threads, handler, target }) => {
      const src = renderIrq(threads, handler, target);
      for (const model of MODELS) {
        const r = checkSource(src, 'random-irq.litmus', { model, reduction: false });
        assert.equal(r.result.complete, true);
        const all = enumerate(src, model, 20_000);
        if (all === null) continue; // too many interleavings to enumerate
        compared++;
        assert.equal(r.result.interleavings, all.interleavings, `interleavings on ${model}:\n${src}`);
        const found = new Set(r.result.outcomes.map((o) => `final ${o.values.join(',')}`));
        const finals = new Set([...all.finals].filter((f) => f.startsWith('final')));
        assert.deepEqual([...found].sort(), [...finals].sort(), `final states on ${model}:\n${src}`);
        assert.equal(r.result.deadlocks > 0, [...all.finals].some((f) => f.startsWith('deadlock')), `deadlocks on ${model}:\n${src}`);
      }
    }),
    { seed: 43, numRuns: 80, endOnFailure: true },
  );
  // The enumeration's limit must leave most programs to compare.
  assert.ok(compared >= 80, `${compared} searches compared`);
});
