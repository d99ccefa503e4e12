// The JSON shapes of the `host` commands (docs/host.md), as zod schemas for docs/schema/.
// The commands build their objects from TypeScript interfaces; the assignments at the end
// make the compiler check that each interface fits its schema.

import type { z as Zod } from 'zod';
import { zod } from '../zod.js';
import { hostLineSchema } from '../host/native.js';
import type { ScriptLine } from '../host/model.js';
import type { BenchRow } from './host-bench.js';
import { TLB_PUBLISHED, type TlbBenchRow, type TlbIpisResult } from './host-tlb.js';
import type { CalibrateJson } from './host-calibrate.js';

// Only the tests and scripts/gen-schemas.mjs load this module (the commands import its
// types alone), so its schemas are built when it is loaded; src/zod.ts says why zod comes from there.
const z = zod();

const int = z.number().int();
const ScriptLineSchema = z.object({ line: int, op: z.string(), ret: int, errno: int }).strict();

/** `smpcheck host run SCRIPT --json`. */
export const HostRunJsonSchema = z.object({
  file: z.string(),
  kernel: z.string(),
  variant: z.string(),
  agree: z.boolean(),
  difference: z.string().nullable(),
  host: z.array(hostLineSchema()),
  model: z.array(ScriptLineSchema),
}).strict();

/** `smpcheck host conform --json`. */
export const HostConformJsonSchema = z.object({
  kernel: z.string(),
  cpus: int,
  variant: z.string(),
  runs: int,
  seed: int,
  scriptsRun: int,
  operations: int,
  mismatch: z.object({
    script: z.string(),
    host: z.array(hostLineSchema()),
    hostStatus: int,
    hostStderr: z.string(),
    model: z.array(ScriptLineSchema),
    difference: z.string(),
  }).strict().nullable(),
  reproduce: z.string(),
}).strict();

/** `smpcheck host bench --json`: one line per cell. */
export const HostBenchRowJsonSchema = z.object({
  command: z.string(),
  cmd: int,
  flags: int,
  cpu_id: int.nullable(),
  siblings: int,
  calls: int,
  cpus: z.array(int),
  min_ns: int.nullable(),
  median_ns: int.nullable(),
  p99_ns: int.nullable(),
  ipis: int.nullable(),
  ipis_per_call: z.number().nullable(),
  running: int.nullable(),
  errno: int,
  error: z.string().nullable(),
}).strict();

const TlbBenchRowSchema = z.object({
  threads: int,
  cpus: z.array(int),
  iterations: int,
  repeats: int,
  page_size: int.nullable(),
  ns_per_iteration: z.object({ median: z.number(), min: z.number(), max: z.number() }).strict().nullable(),
  tlb_ipis_per_iteration: z.number().nullable(),
  ns_by_repeat: z.array(z.number()),
  tlb_ipis_by_repeat: z.array(z.number().nullable()),
  running: int.nullable(),
  errno: int,
  error: z.string().nullable(),
}).strict();

/** `smpcheck host bench --tlb --json`. */
export const HostTlbBenchJsonSchema = z.object({
  kernel: z.string(),
  online_cpus: int,
  iterations: int,
  repeats: int,
  rows: z.array(TlbBenchRowSchema),
  published: z.object({
    source: z.string(),
    unit: z.string(),
    rows: z.array(z.object({
      threads: int, before: int, concurrent: int, concurrent_change: z.string().nullable(), async: int, async_change: z.string().nullable(),
    }).strict()),
  }).strict(),
}).strict();

/** `smpcheck host tlb-ipis SCRIPT --json`. */
export const HostTlbIpisJsonSchema = z.object({
  file: z.string(),
  kernel: z.string(),
  cpus: int,
  runs: int,
  ops: z.array(z.object({
    line: int,
    op: z.string(),
    text: z.string(),
    ret: int.nullable(),
    errno: int.nullable(),
    results: z.array(z.object({ ret: int, errno: int }).strict()),
    tlb: z.object({ min: z.number(), median: z.number(), max: z.number(), per_cpu_median: z.array(z.number()), by_run: z.array(z.array(z.number())) }).strict().nullable(),
  }).strict()),
}).strict();

const num = z.number();
/** `smpcheck host calibrate --json`. */
export const HostCalibrateJsonSchema = z.object({
  kernel: z.string(),
  cpus: int,
  /** The profile written. */
  profile: z.string(),
  /** Medians, in ns (per call, round trip, operation or iteration); null where not measured (one CPU, no TLB row). */
  measured: z.object({
    syscall_round_trip_ns: num,
    membarrier_private_expedited_ns: num,
    membarrier_private_expedited_sibling_ns: num.nullable(),
    ipis_per_call: num.nullable(),
    madvise_1_thread_ns: num,
    pipe_threads_ns: num,
    pipe_processes_ns: num,
    line_round_trip_ns: num.nullable(),
    shootdowns_per_iteration: num.nullable(),
    madvise_2_sibling_running_repeats: int.nullable(),
  }).strict(),
  /** The parameters fitted, in order, each to one benchmark's measurement (ns). */
  fitted: z.array(z.object({ param: z.string(), benchmark: z.string(), measured: num, value: num }).strict()),
  /** Parameters left at the base profile's value because their benchmark did not measure what the model counts, and why. */
  not_fitted: z.array(z.object({ param: z.string(), benchmark: z.string(), why: z.string() }).strict()),
  predictions: z.array(z.object({
    benchmark: z.string(),
    scenario: z.string(),
    measured_ns: num,
    predicted_ns: num,
    error_pct: num,
    comparable: z.boolean(),
    why: z.string().nullable(),
  }).strict()),
}).strict();

// The interfaces the commands print fit their schemas (a compile error otherwise).
export const shapeChecks = [
  (x: ScriptLine): Zod.infer<typeof ScriptLineSchema> => x,
  (x: BenchRow): Zod.infer<typeof HostBenchRowJsonSchema> => x,
  (x: TlbBenchRow): Zod.infer<typeof TlbBenchRowSchema> => x,
  (x: typeof TLB_PUBLISHED): Zod.infer<typeof HostTlbBenchJsonSchema>['published'] => ({ ...x, rows: [...x.rows] }),
  (x: TlbIpisResult): Zod.infer<typeof HostTlbIpisJsonSchema> => x,
  (x: CalibrateJson): Zod.infer<typeof HostCalibrateJsonSchema> => x,
];
