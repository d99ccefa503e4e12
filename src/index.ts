// Library API of smpcheck.
// Every part of the engine, loaded at once (the command line loads what each check needs: src/parts.ts).
import './parts/all.js';
export { checkScenario, checkSource, expectationFor, type CheckOptions, type CheckResult, type Verdict } from './check.js';
export { parseScenario } from './scenario/parser.js';
export { SmpError, formatError, ERROR_CODES } from './scenario/errors.js';
export type { Scenario, Observation } from './scenario/ast.js';
export { explore } from './explore/index.js';
export type { ExploreOptions, ExploreResult, Bounds } from './explore/types.js';
export { Machine, MODELS, type ModelName } from './machine/machine.js';
export type { Op, CpuCode } from './machine/ops.js';
export { LitmusProgram, type Program } from './litmus/program.js';
export { buildTrace, renderTraceText, traceSchema, type Trace } from './explore/trace.js';
// The herd-style text and the JSON object the command prints for a check, and the suite's table.
export { formatText, toJson, formatTable, type FormatOptions, type SuiteRow } from './cli/format.js';
export { VERSION } from './version.js';
export * as kernel from './kernel/index.js';
export type { VariantModule } from './kernel/index.js';
