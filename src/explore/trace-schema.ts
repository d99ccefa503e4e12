// The trace artifact's shape (docs/json.md), apart from the code that makes traces,
// so that every reader (replay, the browser viewer) validates a trace with the same
// schema and pulls in nothing of the engine.

import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import { stateSchema } from './state.js';

export const TRACE_FORMAT = 'smpcheck-trace';
/**
 * 2: the scenario's sha256, the variant by name and a variant module by its sha256.
 * 3: the kernel functions of each step (`calls`), the state at each step (`state`)
 * and further witnesses of the same check (`witnesses`); all three optional, so a
 * version-2 trace reads as one of version 3 without them.
 * 4: no-op steps (barrier(), the kernel model's notes) are not scheduling points: each
 * runs in the choice of the op after it (Machine.fuse), so a choice can give several
 * steps. Choices of versions 2 and 3 are replayed with no-ops as steps of their own.
 * 5: an access to a location only its own thread reaches runs in the choice of the
 * step before it (Machine.fusePrivate), and such a store goes to memory at once; the
 * trace may begin with steps made before the first choice. Choices of version 4 are
 * replayed with no-ops merged and private accesses as steps of their own.
 */
export const TRACE_VERSION = 5;
export const TRACE_VERSIONS_READ: readonly number[] = [2, 3, 4, 5];

/** How the machine replays the choices of a trace of format version v (Machine's `fuse`). */
export function fuseOfVersion(v: number): boolean | 'noops' {
  return v >= 5 ? true : v === 4 ? 'noops' : false;
}

export type TraceKind = 'positive' | 'negative' | 'deadlock' | 'assertion';

/** A trace of more steps is refused (a trace of the default 2000 steps is far below). */
export const TRACE_STEPS_MAX = 1_000_000;
/** A trace with more witnesses is refused (--witnesses is bounded by the same number). */
export const TRACE_WITNESSES_MAX = 100;

export const traceStepSchema = lazySchema((z) => z.object({
  i: z.number().int(),
  proc: z.number().int(),
  cpu: z.number().int(),
  kind: z.enum(['cpu', 'flush', 'irq', 'fetch', 'walk']),
  ctx: z.number().int(),
  op: z.string(),
  fn: z.string(),
  text: z.string(),
  loc: z.string().optional(),
  value: z.string().optional(),
  from: z.enum(['buffer', 'memory']).optional(),
  label: z.string().optional(),
  pairs: z.string().optional(),
  line: z.number().int().optional(),
  col: z.number().int().optional(),
  /** A WARN_ON() that fired during this step. */
  warn: z.string().optional(),
  /** An interrupt raised (`op` raise, an IPI): the CPU it is raised on. */
  target: z.number().int().optional(),
  /** The modelled kernel functions the step's op came from, outermost first (absent: the scenario's own code, or hardware). */
  calls: z.array(z.string()).optional(),
}));

/** One run: what a trace asserts about it. */
export const traceRunSchema = lazySchema((z) => z.object({
  kind: z.enum(['positive', 'negative', 'deadlock', 'assertion']),
  choices: z.array(z.number().int().nonnegative()).max(TRACE_STEPS_MAX),
  steps: z.array(traceStepSchema()).max(TRACE_STEPS_MAX),
  final: z.record(z.string(), z.string()).nullable(),
  blocked: z.array(z.number().int()).optional(),
  /** For a deadlock: what each blocked CPU waits on, one phrase per CPU. */
  waits: z.array(z.string()).optional(),
  assertion: z.string().optional(),
  /** The state before the first step and after each step (src/explore/state.ts). */
  state: stateSchema().optional(),
}));

export const traceSchema = lazySchema((z) => traceRunSchema().extend({
  format: z.literal(TRACE_FORMAT),
  version: z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(5)]),
  tool: z.string(),
  scenario: z.object({ name: z.string(), file: z.string(), source: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  machine: z.enum(['sc', 'x86']),
  kernel: z.string().nullable(),
  /** The variant's name (a built-in one, or the name a variant module declares). */
  variant: z.string().nullable(),
  /** The variant module the run used, by its file and the sha256 of its source; replay needs it on the command line. */
  variant_module: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
  bounds: z.object({ stepsMax: z.number().int(), executionsMax: z.number().int(), memoryMax: z.number().int().optional() }),
  cpus: z.array(z.string()),
  /** Further witnesses of the same check (--witnesses N): distinct execution graphs, in the order the search found them. */
  witnesses: z.array(traceRunSchema()).max(TRACE_WITNESSES_MAX).optional(),
}));

export type Trace = z.infer<ReturnType<typeof traceSchema>>;
export type TraceStep = z.infer<ReturnType<typeof traceStepSchema>>;
export type TraceWitness = z.infer<ReturnType<typeof traceRunSchema>>;
