// Instruction fetch on arm64 (src/graph/models/arm64-ifetch.ts): the user-level
// tests of scenarios/sync-core (ifetch-*.litmus) against herd7's states with
// `-variant ifetch` (test/data/herd/arm64-ifetch.json, made by
// scripts/herd-ifetch.mjs: herd7 is not needed here); the arm64 lines of the JIT
// code-reclaim scenarios on the kernel model; and the refusal of the arm64
// instructions on the other machines (SMP112).

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { checkScenario, checkSource, type CheckResult } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { SmpError } from '../src/scenario/errors.js';
import { simulateScenario } from '../src/sim/run.js';
import { litmusFiles, read, ROOT } from './helpers.js';

function states(r: CheckResult): string[] {
  return r.result.outcomes.map((o) => r.program.observedNames.map((n, i) => `${n}=${r.program.formatValue(o.values[i]!)};`).join(' ')).sort();
}

interface IfetchData {
  herd7: string;
  command: string;
  tests: Record<string, { states: string[]; observation: string; aarch64: string }>;
}

const data = JSON.parse(read(join(ROOT, 'test', 'data', 'herd', 'arm64-ifetch.json'))) as IfetchData;
const ifetchFiles = litmusFiles('scenarios/sync-core').filter((f) => basename(f).startsWith('ifetch-'));

test(`arm64 ifetch: every ifetch-*.litmus test has herd7's states (${data.herd7.split(',')[0]}, ${data.command.split(' TEST')[0]})`, () => {
  assert.deepEqual(Object.keys(data.tests).sort(), ifetchFiles.map((f) => basename(f)).sort());
  assert.ok(ifetchFiles.length >= 8);
});

for (const file of ifetchFiles) {
  const name = basename(file);
  test(`scenarios/sync-core/${name}: arm64 states are herd7's with -variant ifetch`, () => {
    const expected = data.tests[name]!;
    const r = checkScenario(parseScenario(read(file), file), { model: 'arm64' });
    assert.ok(r.result.complete);
    assert.deepEqual(states(r), expected.states, name);
    assert.equal(r.observation, expected.observation, `${name}: observation`);
    assert.equal(r.verdict, 'ok', `${name}: its Result[arm64] line`);
  });
}

// The kernel model on arm64: membarrier(), the IPI's exception entry and ERET, the
// context switch's DSB ISH, with the scenario's cache maintenance. Each line of the
// header is checked (the observation it names, a complete search).
const kernelLines: [string, string | undefined, string][] = [
  ['jit-reclaim-ipi.litmus', undefined, 'Sometimes'],
  ['jit-reclaim-ipi-cachesync.litmus', undefined, 'Never'],
  ['jit-reclaim-ipi-cachesync-plain.litmus', undefined, 'Never'],
  ['jit-reclaim-ipi-cachesync-dmb.litmus', undefined, 'Sometimes'],
  ['jit-reclaim-ipi-cachesync-query.litmus', undefined, 'Sometimes'],
  ['jit-reclaim-kthread-cachesync.litmus', undefined, 'Never'],
];
for (const [name, variant, expected] of kernelLines) {
  test(`scenarios/sync-core/${name}: arm64${variant ? `,${variant}` : ''} is ${expected}`, () => {
    const file = join(ROOT, 'scenarios', 'sync-core', name);
    const r = checkScenario(parseScenario(read(file), file), { model: 'arm64', variant });
    assert.ok(r.result.complete, r.result.incompleteReason ?? '');
    assert.equal(r.observation, expected);
    assert.equal(r.expected, expected, 'the header says so');
    assert.equal(r.verdict, 'ok');
    if (expected === 'Sometimes') {
      // The witness: a CPU ran version 1 of the code after reading the publication.
      assert.ok(r.result.graphTraces?.positive?.includes('[ifetch]'), 'the witness graph has an instruction fetch');
    }
  });
}

const SRC = `C ifetch-refused

{ code=1; }

P0(int *code)
{
	int r0;

	write_code(code, 2);
	dc_cvau(code);
	dsb_ish();
	ic_ivau(code);
	dsb_ish();
	isb();
	r0 = exec_code(code);
}

exists (0:r0=1)
`;

test('the arm64 instructions mean nothing off arm64: SMP112 with their position', () => {
  for (const opts of [{ model: 'x86' as const }, { model: 'sc' as const }, { model: 'x86' as const, engine: 'graph' as const }, { model: 'lkmm' as const }]) {
    assert.throws(() => checkSource(SRC, 'refused.litmus', opts), (e: unknown) => {
      assert.ok(e instanceof SmpError);
      assert.equal(e.code, 'SMP112');
      assert.match(e.message, opts.model === 'lkmm' || opts.engine === 'graph' ? /write_code|dc_cvau|DC CVAU/ : /DC CVAU/);
      assert.ok(e.span !== undefined, 'a position');
      return true;
    }, JSON.stringify(opts));
  }
  assert.throws(() => simulateScenario(parseScenario(SRC, 'refused.litmus'), {} as never) /* refused before the profile is read */, (e: unknown) => e instanceof SmpError && e.code === 'SMP112');
  // On arm64 the same program runs: the thread's own maintenance and ISB make it run version 2.
  const r = checkSource(SRC, 'refused.litmus', { model: 'arm64' });
  assert.equal(r.observation, 'Never');
});

test('dc_cvau() and ic_ivau() take a location, dsb_ish() and isb() nothing', () => {
  const bad = (stmt: string) => SRC.replace('\tdc_cvau(code);\n', `\t${stmt}\n`);
  for (const [s, code] of [['dc_cvau();', 'SMP100'], ['dsb_ish(code);', 'SMP109'], ['isb(1);', 'SMP109'], ['ic_ivau(*code);', 'SMP109']] as const) {
    assert.throws(() => parseScenario(bad(s), 'bad.litmus'), (e: unknown) => e instanceof SmpError && e.code === code, s);
  }
});
