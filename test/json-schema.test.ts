// A JSON Schema for every JSON shape the command prints or reads (docs/schema/), generated
// from the zod schemas of src/cli/json-shapes.ts: the committed files are up to date, and
// what the command really prints validates against them (with a JSON Schema validator, not zod).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { JSON_SHAPES, jsonSchemaOf } from '../src/cli/json-shapes.js';
import { hostAvailability } from '../src/host/native.js';
import { cli, read, ROOT } from './helpers.js';

const SCHEMA_DIR = join(ROOT, 'docs', 'schema');
const tmp = mkdtempSync(join(tmpdir(), 'smpcheck-schema-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const names = Object.keys(JSON_SHAPES) as (keyof typeof JSON_SHAPES)[];

test('docs/schema/ holds one file per shape, each as generated (npm run schemas)', async () => {
  assert.deepEqual(readdirSync(SCHEMA_DIR).sort(), names.map((n) => `${n}.schema.json`).sort());
  for (const n of names) {
    assert.equal(read(join(SCHEMA_DIR, `${n}.schema.json`)), `${JSON.stringify(jsonSchemaOf(n), null, 2)}\n`, `docs/schema/${n}.schema.json is out of date: run npm run schemas`);
  }
});

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = Object.fromEntries(names.map((n) => [n, ajv.compile(JSON.parse(read(join(SCHEMA_DIR, `${n}.schema.json`))))]));

function valid(name: keyof typeof JSON_SHAPES, value: unknown, what: string): void {
  const v = validators[name]!;
  assert.ok(v(value), `${what} against ${name}.schema.json: ${ajv.errorsText(v.errors)}`);
}

const jsonLines = (out: string): unknown[] => out.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
const lit = (f: string): string => join(ROOT, 'scenarios', f);

test('check --json, with and without a trace, with times, on the kernel model, cut short, deadlocked: each line validates', async () => {
  const runs: [string, string[]][] = [
    ['litmus', [lit('litmus/SB.litmus'), lit('litmus/MP.litmus'), '--model', 'all', '--json', '--no-time']],
    ['times', [lit('litmus/SB.litmus'), '--json']],
    ['trace', [lit('litmus/SB.litmus'), '--json', '--no-time', '--show-trace']],
    ['kernel', [lit('membarrier/membarrier-A.litmus'), '--variant', 'no-ipi', '--json', '--no-time', '--show-trace']],
    ['incomplete', [lit('litmus/SB.litmus'), '--steps-max', '3', '--json', '--no-time']],
    ['deadlock', [lit('membarrier/membarrier-targeted-stall.litmus'), '--json', '--no-time', '--show-trace']],
    ['unreduced', [lit('irq/irq-window.litmus'), '--json', '--no-time', '--no-reduction']],
  ];
  let lines = 0;
  for (const [what, args] of runs) {
    const r = await cli(args);
    for (const o of jsonLines(r.out)) {
      valid('check', o, what);
      lines++;
    }
  }
  assert.ok(lines >= 10);
  // A wrong field fails: the schema says something.
  const o = jsonLines((await cli([lit('litmus/SB.litmus'), '--json', '--no-time'])).out)[0] as Record<string, unknown>;
  assert.equal(validators.check!({ ...o, verdict: 'fine' }), false);
  assert.equal(validators.check!({ ...o, extra: 1 }), false);
});

test('an input error under --json validates', async () => {
  const f = join(tmp, 'bad.litmus');
  writeFileSync(f, 'C bad\n{}\nP0(int *x) { spin_lock(x); }\nexists (x=1)\n');
  const r = await cli([f, '--json']);
  assert.equal(r.code, 1);
  valid('error', JSON.parse(r.out), 'SMP103');
  const arg = await cli(['--json', lit('litmus/SB.litmus'), '--steps-max', 'x']);
  assert.equal(arg.code, 1);
});

test('suite --json: every check line and the summary validate', async () => {
  const r = await cli(['suite', lit('irq'), lit('litmus/SB.litmus'), '--json', '--no-time']);
  const lines = jsonLines(r.out);
  assert.equal(lines.length, 15); // ten irq checks, SB on sc, x86, arm64 and lkmm, the summary
  lines.slice(0, -1).forEach((o, i) => valid('suite-check', o, `line ${i + 1}`));
  valid('suite-summary', lines[lines.length - 1], 'summary');
  // An input error's line (check: null) validates too.
  const f = join(tmp, 'nores.litmus');
  writeFileSync(f, 'C nores\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n');
  const e = jsonLines((await cli(['suite', f, '--json', '--no-time'])).out);
  valid('suite-check', e[0], 'no expectation');
  assert.equal((e[0] as { check: unknown }).check, null);
  valid('suite-summary', e[1], 'summary');
});

test('a trace file, replay --json (matching and diverging) and variants --json validate', async () => {
  const tf = join(tmp, 'sb.json');
  assert.equal((await cli([lit('membarrier/membarrier-A.litmus'), '--variant', 'no-ipi', '--no-time', '--trace', tf])).code, 0);
  const trace = JSON.parse(readFileSync(tf, 'utf8')) as Record<string, unknown>;
  valid('trace', trace, 'the trace file');
  valid('replay', JSON.parse((await cli(['replay', tf, '--json'])).out), 'replay');
  const df = join(tmp, 'diverge.json');
  writeFileSync(df, JSON.stringify({ ...trace, final: { '0:r2': '5', '1:r1': '5' } }));
  const d = JSON.parse((await cli(['replay', df, '--json'])).out) as { matches: boolean };
  assert.equal(d.matches, false);
  valid('replay', d, 'a diverging replay');
  valid('variants', JSON.parse((await cli(['variants', '--json'])).out), 'variants');
  valid('variant-functions', JSON.parse((await cli(['variants', '--functions', '--json'])).out), 'variant functions');
  assert.equal(validators.trace!({ ...trace, version: 1 }), false);
});

test('the host commands\' JSON validates (on the running kernel, where the host helper is built)', async (t) => {
  const avail = hostAvailability();
  if (!avail.ok) {
    t.skip(avail.reason);
    return;
  }
  const script = join(ROOT, 'examples', 'host', 'inheritance.script');
  valid('host-run', JSON.parse((await cli(['host', 'run', script, '--json'])).out), 'host run');
  valid('host-conform', JSON.parse((await cli(['host', 'conform', '--runs', '3', '--json'])).out), 'host conform');
  const bench = jsonLines((await cli(['host', 'bench', '--calls', '5', '--siblings-max', '1', '--json'])).out);
  assert.ok(bench.length > 2);
  bench.forEach((o, i) => valid('host-bench', o, `host bench line ${i + 1}`));
  valid('host-bench-tlb', JSON.parse((await cli(['host', 'bench', '--tlb', '--iterations', '100', '--repeats', '2', '--threads-max', '2', '--json'])).out), 'host bench --tlb');
  valid('host-tlb-ipis', JSON.parse((await cli(['host', 'tlb-ipis', '--runs', '2', '--json', join(ROOT, 'examples', 'host', 'tlb-shootdowns.script')])).out), 'host tlb-ipis');
  {
    const dir = mkdtempSync(join(tmpdir(), 'smpcheck-schema-calibrate-'));
    try {
      valid('host-calibrate', JSON.parse((await cli(['host', 'calibrate', '--json', '--out', join(dir, 'p.json')])).out), 'host calibrate');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
