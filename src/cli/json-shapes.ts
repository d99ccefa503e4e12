// Every JSON shape the command prints or reads, as zod schemas: the source of the JSON
// Schemas published in docs/schema/ (scripts/gen-schemas.mjs, `npm run schemas`) and of the
// types the printing code is checked against (docs/json.md describes the fields).

import type { z as Zod } from 'zod';
import { zod } from '../zod.js';
import { traceSchema } from '../explore/trace.js';
import { ERROR_CODES } from '../scenario/errors.js';
import { HostBenchRowJsonSchema, HostCalibrateJsonSchema, HostConformJsonSchema, HostRunJsonSchema, HostTlbBenchJsonSchema, HostTlbIpisJsonSchema } from './host-json-shapes.js';

// Only the tests and scripts/gen-schemas.mjs load this module (the commands import its
// types alone), so its schemas are built when it is loaded; src/zod.ts says why zod comes from there.
const z = zod();

const int = z.number().int();
const machine = z.enum(['sc', 'x86', 'arm64', 'lkmm']);
const engine = z.enum(['machine', 'graph']);
const expected = z.enum(['Never', 'Sometimes', 'Always', 'Assertion', 'Deadlock', 'DEADLOCK', 'Maybe']);
const observation = z.enum(['Never', 'Sometimes', 'Always']);

/** `smpcheck check --json`: one object per scenario and machine. */
export const CheckJsonSchema = z.object({
  test: z.string(),
  file: z.string(),
  model: machine,
  engine,
  kernel: z.string().nullable(),
  reduction: z.boolean(),
  /** A random search's runs and seed (check --random, or a header line's random=RUNS); null for a search. */
  random: z.object({ runs: int, seed: int }).strict().nullable(),
  condition: z.string(),
  result: observation.nullable(),
  validated: z.boolean().nullable(),
  expected: expected.nullable(),
  verdict: z.enum(['ok', 'violation', 'liveness', 'incomplete']),
  states: z.array(z.record(z.string(), z.union([int, z.string()]))),
  positive: int,
  negative: int,
  /** The model's flags raised by a consistent execution, sorted (herd's `Flag NAME`: LKMM's data-race). */
  flags: z.array(z.string()),
  complete: z.boolean(),
  incomplete_reason: z.string().nullable(),
  bounds: z.object({ steps_max: int, executions_max: int, memory_max: int }).strict(),
  stats: z.object({
    executions: int,
    graphs: int,
    sleep_blocked: int,
    deadlocks: int,
    assertions: z.array(z.object({ name: z.string(), runs: int }).strict()),
    steps: int,
    states: int.nullable(),
    /** A decimal string: it can exceed 2^53. */
    interleavings: z.string().regex(/^\d+$/).nullable(),
    memory_bytes: int,
    ms: z.number().min(0),
    rss_peak_bytes: int.optional(),
  }).strict(),
  /** With --show-trace: the witness's trace, or null when there is none. */
  trace: traceSchema().nullable().optional(),
  /** With --show-trace on the graph engine: the witness execution graph as text, or null when there is none. */
  graph_trace: z.string().nullable().optional(),
}).strict();
export type CheckJson = Zod.infer<typeof CheckJsonSchema>;

/** An input error under --json (besides the message on standard error). */
export const ErrorJsonSchema = z.object({
  error: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
  message: z.string(),
  file: z.string().nullable(),
  line: int.nullable(),
  col: int.nullable(),
}).strict();

/** `smpcheck suite --json`: one line per check, as it finishes. */
export const SuiteCheckJsonSchema = z.object({
  file: z.string(),
  test: z.string(),
  model: z.string(),
  expected: z.string(),
  observed: z.string(),
  executions: int.nullable(),
  graphs: int.nullable(),
  ms: z.number().nullable(),
  status: z.enum(['confirmed', 'consistent', 'contradicted', 'incomplete', 'liveness', 'input_error', 'no_expectation']),
  message: z.string().optional(),
  check: CheckJsonSchema.nullable(),
}).strict();

/** `smpcheck suite --json`: the last line. */
export const SuiteSummaryJsonSchema = z.object({
  suite: z.array(z.string()),
  reduction: z.boolean(),
  files: int,
  summary: z.object({
    checks: int, confirmed: int, consistent: int, contradicted: int, incomplete: int, liveness: int, errors: int,
  }).strict(),
}).strict();

/** `smpcheck replay --json`. */
export const ReplayJsonSchema = z.object({
  trace: z.string(),
  test: z.string(),
  machine,
  kind: z.enum(['positive', 'negative', 'deadlock', 'assertion']),
  steps: int,
  final: z.record(z.string(), z.string()).nullable(),
  recorded_final: z.record(z.string(), z.string()).nullable(),
  matches: z.boolean(),
  divergence: z.object({ step: int.nullable(), what: z.string(), recorded: z.unknown(), replayed: z.unknown() }).strict().nullable(),
}).strict();

/** `smpcheck variants --json`. */
export const VariantsJsonSchema = z.array(z.object({ name: z.string(), base: z.string(), description: z.string(), removed: z.array(z.string()) }).strict());

/** `smpcheck variants --functions --json`: kernel function names. */
export const VariantFunctionsJsonSchema = z.array(z.string());

const stats = z.object({ mean: z.number(), sd: z.number(), min: z.number(), median: z.number(), max: z.number() }).strict();

/** `smpcheck sim FILE --json`: one object. Times in simulated nanoseconds. */
export const SimJsonSchema = z.object({
  test: z.string(),
  file: z.string(),
  kernel: z.string(),
  model: z.enum(['sc', 'x86']),
  profile: z.string(),
  iterations: int.nullable(),
  seed: int,
  per_iteration_ns: stats.nullable(),
  runs: z.array(z.object({
    total_ns: z.number(),
    steps: int,
    per_iteration_ns: z.number().nullable(),
    threads: z.array(z.object({ thread: int, iterations: int, per_iteration_ns: z.number().nullable() }).strict()),
    cpus: z.array(z.object({
      busy_ns: z.number(), spin_ns: z.number(), irq_ns: z.number(), idle_ns: z.number(),
      ipis_sent: int, ipis_taken: int, interrupts: int, steps: int,
    }).strict()),
    counts: z.record(z.string(), int),
  }).strict()),
}).strict();
export type SimJson = Zod.infer<typeof SimJsonSchema>;

/** `smpcheck sim --table seeds --json`: one object per published cell. */
export const SimCellJsonSchema = z.object({
  table: z.string(),
  row: z.string(),
  column: z.string(),
  unit: z.enum(['us', 'ns']),
  published: z.number(),
  published_sd: z.number().nullable(),
  simulated: z.number().nullable(),
  error: z.number().nullable(),
  fitted: z.boolean(),
  scenario: z.string(),
  variant: z.string(),
  profile: z.string(),
}).strict();

/** The published shapes: file name (docs/schema/NAME.schema.json), schema, and what prints or reads it. */
export const JSON_SHAPES = {
  check: { schema: CheckJsonSchema, title: 'smpcheck check --json: one object per scenario and machine' },
  error: { schema: ErrorJsonSchema, title: 'smpcheck --json: an input error (SMPnnn)' },
  'suite-check': { schema: SuiteCheckJsonSchema, title: 'smpcheck suite --json: one line per check' },
  'suite-summary': { schema: SuiteSummaryJsonSchema, title: 'smpcheck suite --json: the last line' },
  trace: { schema: traceSchema(), title: 'smpcheck trace (written by --trace, read by replay)' },
  replay: { schema: ReplayJsonSchema, title: 'smpcheck replay --json' },
  variants: { schema: VariantsJsonSchema, title: 'smpcheck variants --json' },
  sim: { schema: SimJsonSchema, title: 'smpcheck sim FILE --json' },
  'sim-cell': { schema: SimCellJsonSchema, title: 'smpcheck sim --table seeds --json: one line per published cell' },
  'variant-functions': { schema: VariantFunctionsJsonSchema, title: 'smpcheck variants --functions --json' },
  'host-run': { schema: HostRunJsonSchema, title: 'smpcheck host run SCRIPT --json' },
  'host-conform': { schema: HostConformJsonSchema, title: 'smpcheck host conform --json' },
  'host-bench': { schema: HostBenchRowJsonSchema, title: 'smpcheck host bench --json: one line per cell' },
  'host-bench-tlb': { schema: HostTlbBenchJsonSchema, title: 'smpcheck host bench --tlb --json' },
  'host-tlb-ipis': { schema: HostTlbIpisJsonSchema, title: 'smpcheck host tlb-ipis SCRIPT --json' },
  'host-calibrate': { schema: HostCalibrateJsonSchema, title: 'smpcheck host calibrate --json' },
} as const;

/** The JSON Schema of a shape, as docs/schema/NAME.schema.json holds it (draft 2020-12). */
export function jsonSchemaOf(name: keyof typeof JSON_SHAPES): Record<string, unknown> {
  const { schema, title } = JSON_SHAPES[name];
  const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, title, ...rest };
}
