// The Node side of the native helper (src/host/helper.c, docs/host.md): where it is,
// whether it could be built, and how to run an operation script, ask for the
// machine's facts, or time one membarrier() command on the running kernel.
//
// The helper runs as its own process group (it is spawned detached and makes
// itself the group leader); its own watchdog bounds a script, and a second,
// longer timeout here kills it should the watchdog itself not answer. Its script
// processes die with it (PR_SET_PDEATHSIG), and the group is swept after a kill.

import { spawnSync, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { lazySchema } from '../zod.js';

/** The repository root (this file runs from dist/src/host/). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where scripts/build-host.mjs puts the helper, and the note it leaves when it cannot. */
export const HOST_HELPER_PATH = join(ROOT, 'build', 'host', 'smpcheck-host');
const UNAVAILABLE_NOTE = join(ROOT, 'build', 'host', 'UNAVAILABLE');

/** The helper's exit statuses (src/host/helper.c). */
export const HOST_EXIT = {
  ok: 0,
  usage: 1,
  script: 2,
  timeout: 3,
  op_failed: 4,
  internal: 70,
} as const;

/** The helper's own bound on one script or one bench cell. */
export const HOST_TIMEOUT_MS_MAX = 20_000;
/** How much longer than the helper's watchdog the Node side waits before it kills. */
const BACKSTOP_MS = 5_000;

export type HostAvailability = { ok: true; path: string } | { ok: false; reason: string };

/** The helper cannot run on this machine; `reason` says why, in one line. */
export class HostUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Whether the helper can run here, or why not (one line). */
export function hostAvailability(): HostAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (this platform is ${process.platform})` };
  try {
    accessSync(HOST_HELPER_PATH, constants.X_OK);
    return { ok: true, path: HOST_HELPER_PATH };
  } catch {
    // fall through: say why it is missing
  }
  let why = 'run npm run build (scripts/build-host.mjs) to build it';
  if (existsSync(UNAVAILABLE_NOTE)) {
    const note = readFileSync(UNAVAILABLE_NOTE, 'utf8').trim().split('\n')[0];
    if (note) why = note;
  }
  return { ok: false, reason: `the host helper is not built: ${why}` };
}

function helperPath(): string {
  const a = hostAvailability();
  if (!a.ok) throw new HostUnavailableError(a.reason);
  return a.path;
}

/** One line of a script's output (docs/host.md). */
export const hostLineSchema = lazySchema((z) => z.object({
  line: z.number().int(),
  op: z.string(),
  ret: z.number().int(),
  errno: z.number().int(),
  /** With runHostScript(..., { tlbIpis: true }): the TLB shootdowns counted on each CPU during the operation, or null. */
  tlb: z.array(z.number().int()).nullable().optional(),
}).strict());
export type HostLine = z.infer<ReturnType<typeof hostLineSchema>>;

export const hostInfoSchema = lazySchema((z) => z.object({
  uname: z.string(),
  nprocs: z.number().int().min(1),
  query: z.number().int(),
  errno: z.number().int(),
}).strict());
export type HostInfo = z.infer<ReturnType<typeof hostInfoSchema>>;

/** One cell of `smpcheck-host bench`: times in nanoseconds, or null when the command failed. */
export const hostBenchSchema = lazySchema((z) => z.object({
  cmd: z.number().int(),
  flags: z.number().int(),
  cpu_id: z.number().int(),
  siblings: z.number().int().min(0),
  calls: z.number().int().min(1),
  cpus: z.array(z.number().int()),
  min_ns: z.number().int().nullable(),
  median_ns: z.number().int().nullable(),
  p99_ns: z.number().int().nullable(),
  ipis: z.number().int().nullable(),
  /** Timed calls during which every sibling was seen spinning; the times are theirs when it is not 0. */
  running: z.number().int().min(0).nullable(),
  stage: z.enum(['register', 'call']).nullable(),
  errno: z.number().int(),
}).strict());
export type HostBench = z.infer<ReturnType<typeof hostBenchSchema>>;

/** Process groups of the helpers this process started (their pids), most recent last. */
const groups: number[] = [];
const GROUPS_KEPT = 10_000;

/** The process groups of the helpers started by this process: every process the
 * helper creates stays in its group, so this is how one checks that none is left. */
export function hostHelperGroups(): readonly number[] {
  return groups;
}

interface Spawned {
  stdout: string;
  stderr: string;
  status: number;
}

/**
 * Run the helper and wait for it, bounded by timeoutMs. A killed helper's group is
 * swept, and a signal becomes status 128+N (a kill on the timeout: status 3).
 */
function spawnHelper(args: string[], timeoutMs: number): Spawned {
  const opts = {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    // Not in the typings of spawnSync, but honoured: the helper starts as the leader
    // of its own process group (it would make itself one anyway).
    detached: true,
  };
  const r: SpawnSyncReturns<string> = spawnSync(helperPath(), args, opts as SpawnSyncOptionsWithStringEncoding);
  if (r.pid > 0) {
    groups.push(r.pid);
    if (groups.length > GROUPS_KEPT) groups.shift();
  }
  const stdout = r.stdout ?? '';
  let stderr = r.stderr ?? '';
  const err = r.error as NodeJS.ErrnoException | undefined;
  if (err && err.code !== 'ETIMEDOUT') throw new Error(`cannot run the host helper ${HOST_HELPER_PATH}: ${err.message}`);
  if (r.signal !== null || err) {
    // Whatever the helper left in its group dies too (normally nothing: its children
    // die with it).
    if (r.pid > 0) {
      try {
        process.kill(-r.pid, 'SIGKILL');
      } catch {
        // the group is already empty
      }
    }
  }
  if (err) {
    stderr += `smpcheck: the host helper did not finish within ${timeoutMs} ms and was killed\n`;
    return { stdout, stderr, status: HOST_EXIT.timeout };
  }
  if (r.signal !== null) {
    const n = osConstants.signals[r.signal] ?? 0;
    stderr += `smpcheck: the host helper was killed by ${r.signal}\n`;
    return { stdout, stderr, status: 128 + n };
  }
  return { stdout, stderr, status: r.status ?? HOST_EXIT.internal };
}

function parseJsonLines<T>(stdout: string, schema: z.ZodType<T>, what: string): T[] {
  const out: T[] = [];
  for (const text of stdout.split('\n')) {
    if (text === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error(`the host helper printed a line that is not JSON (${what}): ${text}`);
    }
    const p = schema.safeParse(raw);
    if (!p.success) throw new Error(`the host helper printed an unexpected ${what} line: ${text}`);
    out.push(p.data);
  }
  return out;
}

export interface HostScriptRun {
  lines: HostLine[];
  stderr: string;
  status: number;
}

/**
 * Run an operation script on the real kernel (docs/host.md). `status` is the
 * helper's: 0 the script ran to its end, 2 the script is invalid (stderr has the
 * HOSTnnn line and nothing ran), 3 the watchdog stopped it (timeoutMs, at most 20 s),
 * 4 an operation other than membarrier() failed. Throws HostUnavailableError when the
 * helper cannot run here.
 */
export function runHostScript(scriptText: string, opts: { timeoutMs?: number; tlbIpis?: boolean } = {}): HostScriptRun {
  const timeoutMs = Math.max(1, Math.min(HOST_TIMEOUT_MS_MAX, Math.floor(opts.timeoutMs ?? HOST_TIMEOUT_MS_MAX)));
  helperPath();
  const dir = mkdtempSync(join(tmpdir(), `smpcheck-host-${process.pid}-`));
  try {
    const file = join(dir, 'script');
    writeFileSync(file, scriptText);
    const r = spawnHelper(['run', '--timeout-ms', String(timeoutMs), ...(opts.tlbIpis ? ['--tlb-ipis'] : []), file], timeoutMs + BACKSTOP_MS);
    return { lines: parseJsonLines(r.stdout, hostLineSchema(), 'script'), stderr: r.stderr, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The kernel release, the online CPUs and membarrier(MEMBARRIER_CMD_QUERY). */
export function hostInfo(): HostInfo {
  const r = spawnHelper(['info'], 10_000);
  const lines = parseJsonLines(r.stdout, hostInfoSchema(), 'info');
  if (r.status !== 0 || lines.length !== 1) {
    throw new Error(`the host helper's info failed (status ${r.status}): ${r.stderr.trim()}`);
  }
  return lines[0]!;
}

export interface HostBenchCell {
  cmd: number;
  flags: number;
  /** The cpu_id argument, or 'sibling': the CPU of the first sibling (thread 0's CPU when there is none). */
  cpuId: number | 'sibling';
  siblings: number;
  calls: number;
  /** Register before the siblings start rather than once they spin (docs/host.md). */
  registerFirst?: boolean;
}

export type HostBenchRun = { ok: true; result: HostBench } | { ok: false; status: number; stderr: string };

/** Time one cell on the real kernel (at most 20 s: the helper stops after that). */
export function runHostBench(cell: HostBenchCell): HostBenchRun {
  const args = ['bench', String(cell.cmd), String(cell.flags), String(cell.cpuId), String(cell.siblings), String(cell.calls)];
  if (cell.registerFirst) args.push('--register-first');
  const r = spawnHelper(args, HOST_TIMEOUT_MS_MAX + BACKSTOP_MS);
  if (r.status !== 0) return { ok: false, status: r.status, stderr: r.stderr };
  const lines = parseJsonLines(r.stdout, hostBenchSchema(), 'bench');
  if (lines.length !== 1) return { ok: false, status: HOST_EXIT.internal, stderr: `${r.stderr}expected one bench line, got ${lines.length}\n` };
  return { ok: true, result: lines[0]! };
}

/** One row of `smpcheck-host tlbbench` (the madvise microbenchmark, docs/host.md). */
export const hostTlbBenchSchema = lazySchema((z) => z.object({
  threads: z.number().int().min(1),
  iterations: z.number().int().min(1),
  repeats: z.number().int().min(1),
  /** The CPU of the thread that discards and touches the page, then the busy-waiting threads'. */
  cpus: z.array(z.number().int()),
  page_size: z.number().int().min(1),
  /** Wall time of each repeat's timed loop. */
  ns: z.array(z.number().int().min(0)),
  /** TLB shootdowns (the TLB row of /proc/interrupts, all CPUs) during each repeat, null when unreadable. */
  tlb_ipis: z.array(z.number().int().min(0).nullable()),
  /** Repeats during which every busy-waiting thread was seen spinning. */
  running: z.number().int().min(0),
  /** An error of sched_setaffinity() (0: every thread is on its CPU). */
  errno: z.number().int(),
}).strict());
export type HostTlbBench = z.infer<ReturnType<typeof hostTlbBenchSchema>>;

/** One run of a benchmark of the helper: its one JSON line, or how it failed. */
export type HostRun<T> = { ok: true; result: T } | { ok: false; status: number; stderr: string };
export type HostTlbBenchRun = HostRun<HostTlbBench>;

/** Runs a benchmark mode of the helper (at most 20 s) and reads the one line it prints. */
function runOneLine<T>(args: string[], schema: z.ZodType<T>): HostRun<T> {
  const mode = args[0]!;
  const r = spawnHelper(args, HOST_TIMEOUT_MS_MAX + BACKSTOP_MS);
  if (r.status !== 0) return { ok: false, status: r.status, stderr: r.stderr };
  const lines = parseJsonLines(r.stdout, schema, mode);
  if (lines.length !== 1) return { ok: false, status: HOST_EXIT.internal, stderr: `${r.stderr}expected one ${mode} line, got ${lines.length}\n` };
  return { ok: true, result: lines[0]! };
}

/** The madvise microbenchmark with `threads` threads (1 discards, the others busy-wait); at most 20 s. */
export function runHostTlbBench(threads: number, iterations: number, repeats: number): HostTlbBenchRun {
  return runOneLine(['tlbbench', String(threads), String(iterations), String(repeats)], hostTlbBenchSchema());
}

/** One line of `smpcheck-host pipebench` (pipe ping-pong on one CPU, docs/host.md). */
export const hostPipeBenchSchema = lazySchema((z) => z.object({
  mode: z.enum(['threads', 'processes']),
  iterations: z.number().int().min(1),
  repeats: z.number().int().min(1),
  /** The CPU both tasks were pinned to. */
  cpu: z.number().int(),
  /** Wall time of each repeat's timed loop (one operation: a write to pipe a and the answer read from pipe b). */
  ns: z.array(z.number().int().min(0)),
  /** Context switches of the timing task during each repeat (getrusage(RUSAGE_THREAD)): one per operation when the two alternate. */
  switches: z.array(z.number().int().min(0)),
  /** An error of sched_setaffinity() (0: pinned). */
  errno: z.number().int(),
}).strict());
export type HostPipeBench = z.infer<ReturnType<typeof hostPipeBenchSchema>>;

/** One line of `smpcheck-host linebench` (cache-line ping-pong between two CPUs, docs/host.md). */
export const hostLineBenchSchema = lazySchema((z) => z.object({
  iterations: z.number().int().min(1),
  repeats: z.number().int().min(1),
  cpus: z.array(z.number().int()).length(2),
  /** Wall time of each repeat's timed loop (one iteration: a round trip of the line). */
  ns: z.array(z.number().int().min(0)),
  errno: z.number().int(),
}).strict());
export type HostLineBench = z.infer<ReturnType<typeof hostLineBenchSchema>>;

/** Pipe ping-pong between two threads or two processes pinned to one CPU; at most 20 s. */
export function runHostPipeBench(mode: 'threads' | 'processes', iterations: number, repeats: number): HostRun<HostPipeBench> {
  return runOneLine(['pipebench', mode, String(iterations), String(repeats)], hostPipeBenchSchema());
}

/** Cache-line ping-pong between the first two CPUs this process may use; at most 20 s. */
export function runHostLineBench(iterations: number, repeats: number): HostRun<HostLineBench> {
  return runOneLine(['linebench', String(iterations), String(repeats)], hostLineBenchSchema());
}

/**
 * Whether /proc/interrupts has a TLB shootdown row ("TLB:", x86) that this process
 * can read; otherwise why not, in one line.
 */
export function tlbRowAvailability(): { ok: true } | { ok: false; reason: string } {
  let text: string;
  try {
    text = readFileSync('/proc/interrupts', 'utf8');
  } catch (e) {
    return { ok: false, reason: `/proc/interrupts cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  }
  if (!/^\s*TLB:(\s+\d+)+/m.test(text)) return { ok: false, reason: '/proc/interrupts has no TLB shootdown row (TLB:) on this machine' };
  return { ok: true };
}
