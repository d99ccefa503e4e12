// Differential testing (docs/host.md): random operation scripts run on the real
// kernel (through the native helper) and on the kernel model, compared line by line.
//
// Scripts are generated as a list of abstract actions that are interpreted into a
// valid script (an action that does not apply — exiting a thread when there is
// none — is dropped), so that fast-check's shrinking of the list always yields a
// valid, smaller script. The seed is explicit and the default fixed: a run is
// reproducible on the same kernel.

import { createRequire } from 'node:module';
import type * as FastCheck from 'fast-check';
import {
  MEMBARRIER_CMD_GET_REGISTRATIONS, MEMBARRIER_CMD_GLOBAL, MEMBARRIER_CMD_GLOBAL_EXPEDITED,
  MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
  MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
} from '../kernel/uapi.js';
import { findVariant, DEFAULT_KERNEL, type Variant } from '../kernel/variants.js';
import { runModelScript, type ModelHost, type ScriptLine } from './model.js';
import {
  formatScript, parseScript, SCRIPT_EXECS_MAX, SCRIPT_FORKS_MAX, SCRIPT_THREAD_MAX, type ScriptOp,
} from './script.js';

/** What running a script on the real kernel gave. */
export interface HostRun {
  lines: ScriptLine[];
  stderr: string;
  status: number;
}

export type HostRunner = (script: string) => HostRun;

const VALID_CMDS = [
  MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_GLOBAL, MEMBARRIER_CMD_GLOBAL_EXPEDITED, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
  MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_GET_REGISTRATIONS,
];

type Action =
  | { a: 'membarrier'; who: number; cmd: number; flags: number; cpuId: number }
  | { a: 'spawn'; spin: boolean; cpu: number }
  | { a: 'exit'; who: number }
  | { a: 'join'; who: number }
  | { a: 'affinity'; who: number; cpu: number }
  | { a: 'fork' }
  | { a: 'exec' };


/**
 * fast-check, loaded when a conformance run starts (the command's other subcommands,
 * and every other command, do not need it: startup loads only what a command uses).
 */
let fcLoaded: typeof FastCheck | null = null;
function fastCheck(): typeof FastCheck {
  fcLoaded ??= createRequire(import.meta.url)('fast-check') as typeof FastCheck;
  return fcLoaded;
}

/** The action generator, built on first use. */
let actionArbBuilt: FastCheck.Arbitrary<Action> | null = null;
function actionArbitrary(): FastCheck.Arbitrary<Action> {
  if (actionArbBuilt) return actionArbBuilt;
  const fc = fastCheck();
  /** Command values: every valid one, and invalid ones (unknown bits, two bits, negative, huge). */
  const cmdArb = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...VALID_CMDS) },
    { weight: 1, arbitrary: fc.constantFrom(3, 6, 24, 1 << 10, 1 << 30, -1, -(2 ** 31), 2 ** 31 - 1) },
    { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
  );
  /** Flags: mostly 0, MEMBARRIER_CMD_FLAG_CPU often, invalid bits sometimes. */
  const flagsArb = fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.constantFrom(2, 3, 0x80000000, 0xffffffff) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 32 - 1 }) },
  );
  /** cpu_id: each CPU, -1, negative, one past the last, far out of range. */
  const cpuIdArb = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }) },
    { weight: 2, arbitrary: fc.constantFrom(-1, -2, -(2 ** 31), 4096, 2 ** 31 - 1) },
    { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
  );
  const actionArb: FastCheck.Arbitrary<Action> = fc.oneof(
    { weight: 10, arbitrary: fc.record({ a: fc.constant('membarrier' as const), who: fc.nat(15), cmd: cmdArb, flags: flagsArb, cpuId: cpuIdArb }) },
    { weight: 3, arbitrary: fc.record({ a: fc.constant('spawn' as const), spin: fc.boolean(), cpu: fc.nat(15) }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant('exit' as const), who: fc.nat(15) }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant('join' as const), who: fc.nat(15) }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant('affinity' as const), who: fc.nat(15), cpu: fc.nat(15) }) },
    { weight: 1, arbitrary: fc.constant({ a: 'fork' as const }) },
    { weight: 1, arbitrary: fc.constant({ a: 'exec' as const }) },
  );
  actionArbBuilt = actionArb;
  return actionArb;
}

/** At most this many spinning threads at once (one per CPU), so that the host stays responsive. */
function spinnersMax(nrCpus: number): number {
  return nrCpus;
}

/** Interpret abstract actions into a valid script for a machine with nrCpus CPUs. */
export function scriptOf(actions: readonly Action[], nrCpus: number): string {
  const ops: ScriptOp[] = [];
  let alive: number[] = [0]; // thread numbers
  let exited: number[] = [];
  let spinning = new Set<number>();
  let forks = 0;
  let execs = 0;
  const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
  for (const x of actions) {
    const line = ops.length + 1;
    switch (x.a) {
      case 'membarrier':
        ops.push({ op: 'membarrier', line, thread: pick(alive, x.who)!, cmd: x.cmd, flags: x.flags >>> 0, cpuId: x.cpuId });
        break;
      case 'spawn': {
        let n = 1;
        while (n <= SCRIPT_THREAD_MAX && (alive.includes(n) || exited.includes(n))) n++;
        if (n > SCRIPT_THREAD_MAX) break;
        const spin = x.spin && spinning.size < spinnersMax(nrCpus);
        ops.push({ op: 'spawn', line, thread: n, spin, cpu: spin ? x.cpu % nrCpus : -1 });
        alive.push(n);
        if (spin) spinning.add(n);
        break;
      }
      case 'exit': {
        const n = pick(alive.filter((t) => t !== 0), x.who);
        if (n === undefined) break;
        ops.push({ op: 'exit', line, thread: n });
        alive = alive.filter((t) => t !== n);
        exited.push(n);
        spinning.delete(n);
        break;
      }
      case 'join': {
        const n = pick(exited, x.who);
        if (n === undefined) break;
        ops.push({ op: 'join', line, thread: n });
        exited = exited.filter((t) => t !== n);
        break;
      }
      case 'affinity':
        ops.push({ op: 'affinity', line, thread: pick(alive, x.who)!, cpu: x.cpu % nrCpus });
        break;
      case 'fork':
      case 'exec':
        if (x.a === 'fork' ? forks >= SCRIPT_FORKS_MAX : execs >= SCRIPT_EXECS_MAX) break;
        if (x.a === 'fork') forks++;
        else execs++;
        ops.push({ op: x.a, line });
        alive = [0];
        exited = [];
        spinning = new Set();
        break;
    }
  }
  return formatScript(ops);
}

export const scriptArb = (nrCpus: number, lengthMax = 24): FastCheck.Arbitrary<string> =>
  fastCheck().array(actionArbitrary(), { minLength: 1, maxLength: lengthMax }).map((a) => scriptOf(a, nrCpus));

/** Models: which modelled kernel is closest to a running kernel release ('6.18.44-...'). */
export function variantForRelease(release: string): { variant: Variant; note?: string } {
  const m = /^(\d+)\.(\d+)/.exec(release);
  const v = m ? Number(m[1]) * 1000 + Number(m[2]) : 0;
  if (v >= 6003) return { variant: findVariant(DEFAULT_KERNEL)! };
  if (v >= 5017) return { variant: findVariant('pre-544a4f2ecd45')! };
  return {
    variant: findVariant(DEFAULT_KERNEL)!,
    note: `kernel ${release} is older than every modelled version (5.17 and later); comparing with ${DEFAULT_KERNEL}`,
  };
}

export interface Comparison {
  script: string;
  host: HostRun;
  model: ScriptLine[];
  /** Why the two differ ('' when they agree). */
  difference: string;
}

const lineText = (l: ScriptLine): string => JSON.stringify({ line: l.line, op: l.op, ret: l.ret, errno: l.errno });

/** Run one script on both sides. */
export function compareScript(script: string, host: ModelHost, runHost: HostRunner): Comparison {
  let model: ScriptLine[] = [];
  let modelError = '';
  try {
    model = runModelScript(parseScript(script, host.nrCpus), host);
  } catch (e) {
    modelError = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
  }
  const h = runHost(script);
  let difference = '';
  if (modelError) {
    difference = `the model failed: ${modelError}`;
  } else if (h.status !== 0) {
    difference = `the host helper failed (status ${h.status}): ${h.stderr.trim().split('\n')[0] ?? ''}`;
  } else {
    const n = Math.max(model.length, h.lines.length);
    for (let i = 0; i < n && !difference; i++) {
      const a = h.lines[i];
      const b = model[i];
      if (!a || !b || lineText(a) !== lineText(b)) {
        difference = `first difference at script line ${(a ?? b)!.line}: kernel ${a ? lineText(a) : '(nothing)'}, model ${b ? lineText(b) : '(nothing)'}`;
      }
    }
  }
  return { script, host: h, model, difference };
}

/**
 * After fast-check's shrinking, drop single lines while the scripts still differ
 * (a line whose removal makes the script invalid stays), until no line can go.
 */
function minimise(c: Comparison, o: ConformOptions): Comparison {
  let best = c;
  for (let changed = true; changed;) {
    changed = false;
    const lines = best.script.trimEnd().split('\n');
    for (let i = 0; i < lines.length && lines.length > 1; i++) {
      const candidate = [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n') + '\n';
      try {
        parseScript(candidate, o.host.nrCpus);
      } catch {
        continue;
      }
      const r = compareScript(candidate, o.host, o.runHost);
      if (r.difference) {
        best = r;
        changed = true;
        break;
      }
    }
  }
  return best;
}

export interface ConformOptions {
  runs: number;
  seed: number;
  host: ModelHost;
  runHost: HostRunner;
  onProgress?: (done: number, runs: number) => void;
}

export interface ConformResult {
  runs: number;
  seed: number;
  /** The shrunk failing comparison, if any. */
  failure: Comparison | null;
  /** Scripts run (including shrinking). */
  scriptsRun: number;
  /** Operations run on each side, in all. */
  operations: number;
}

export function conform(o: ConformOptions): ConformResult {
  let scriptsRun = 0;
  let operations = 0;
  let done = 0;
  let last: Comparison | null = null;
  const fc = fastCheck();
  const prop = fc.property(scriptArb(o.host.nrCpus), (script) => {
    const c = compareScript(script, o.host, o.runHost);
    scriptsRun++;
    operations += c.model.length;
    if (c.difference) {
      last = c;
      return false;
    }
    if (!last) o.onProgress?.(++done, o.runs);
    return true;
  });
  const details = fc.check(prop, { numRuns: o.runs, seed: o.seed, endOnFailure: false });
  let failure: Comparison | null = null;
  if (details.failed && details.counterexample) {
    failure = compareScript(details.counterexample[0], o.host, o.runHost);
    if (!failure.difference) failure = last; // flaky on the host: report what was seen
    else failure = minimise(failure, o);
  }
  return { runs: o.runs, seed: o.seed, failure, scriptsRun, operations };
}

export { lineText };
