// `smpcheck host bench`: latency of the running kernel's membarrier(), per command
// and per number of sibling threads of the calling process spinning on the other
// CPUs (docs/host.md). The timing is done by the native helper (clock_gettime
// around each call); this side chooses the cells and prints the table.

import type { Command } from 'commander';
import {
  MEMBARRIER_CMD_FLAG_CPU, MEMBARRIER_CMD_GLOBAL, MEMBARRIER_CMD_GLOBAL_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED,
  MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, MEMBARRIER_CMD_QUERY,
} from '../kernel/uapi.js';
import { hostAvailability, hostInfo, runHostBench, type HostBench } from '../host/native.js';
import { SmpError } from '../scenario/errors.js';
import { worst, type ExitName } from './exit.js';
import type { Io } from './main.js';
import {
  cmdHostTlbBench, TLB_ITERATIONS_DEFAULT, TLB_ITERATIONS_MAX, TLB_REPEATS_DEFAULT, TLB_REPEATS_MAX, TLB_THREADS_MAX,
} from './host-tlb.js';

export const BENCH_CALLS_DEFAULT = 10_000;
export const BENCH_GLOBAL_CALLS_DEFAULT = 50;
const BENCH_CALLS_MAX = 1_000_000;
const BENCH_GLOBAL_CALLS_MAX = 500;
const BENCH_SIBLINGS_MAX = 256;

/** The commands of the table, in order. */
export const BENCH_COMMANDS: readonly { name: string; cmd: number; flags: number }[] = [
  { name: 'QUERY', cmd: MEMBARRIER_CMD_QUERY, flags: 0 },
  { name: 'GLOBAL', cmd: MEMBARRIER_CMD_GLOBAL, flags: 0 },
  { name: 'GLOBAL_EXPEDITED', cmd: MEMBARRIER_CMD_GLOBAL_EXPEDITED, flags: 0 },
  { name: 'PRIVATE_EXPEDITED', cmd: MEMBARRIER_CMD_PRIVATE_EXPEDITED, flags: 0 },
  { name: 'PRIVATE_EXPEDITED_SYNC_CORE', cmd: MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, flags: 0 },
  { name: 'PRIVATE_EXPEDITED_RSEQ', cmd: MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, flags: 0 },
  { name: 'PRIVATE_EXPEDITED_RSEQ', cmd: MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, flags: MEMBARRIER_CMD_FLAG_CPU },
];

/** A row of the table: what was asked and what the helper measured (or why not). */
export interface BenchRow {
  command: string;
  cmd: number;
  flags: number;
  cpu_id: number | null;
  siblings: number;
  calls: number;
  cpus: number[];
  min_ns: number | null;
  median_ns: number | null;
  p99_ns: number | null;
  /** Function-call IPIs counted on all CPUs (/proc/interrupts) during the timed calls. */
  ipis: number | null;
  ipis_per_call: number | null;
  /**
   * Timed calls during which every sibling was seen spinning. The times are those of
   * these calls (of all calls when it is 0): a preempted sibling is not interrupted.
   */
  running: number | null;
  /** errno of the registration or of a call, when one failed (0 otherwise). */
  errno: number;
  /** Why the cell has no times: the registration or a call failed, or the helper did. */
  error: string | null;
}

export interface HostBenchOptions {
  tlb?: boolean;
  iterations?: number;
  repeats?: number;
  threadsMax?: number;
  calls?: number;
  globalCalls?: number;
  siblingsMax?: number;
  registerFirst?: boolean;
  json?: boolean;
}

function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new SmpError('SMP200', `${name} takes an integer from ${min} to ${max}, not '${v}'`);
    }
    return n;
  };
}

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 12: 'ENOMEM', 22: 'EINVAL', 38: 'ENOSYS', 95: 'EOPNOTSUPP' };

function errnoName(e: number): string {
  return ERRNO_NAMES[e] ?? `errno ${e}`;
}

function row(name: string, cmd: number, flags: number, siblings: number, calls: number, r: ReturnType<typeof runHostBench>): BenchRow {
  if (!r.ok) {
    const why = r.stderr.trim().split('\n').pop() || `the helper exited with status ${r.status}`;
    return {
      command: name, cmd, flags, cpu_id: null, siblings, calls, cpus: [], min_ns: null, median_ns: null, p99_ns: null,
      ipis: null, ipis_per_call: null, running: null, errno: 0, error: why,
    };
  }
  const b: HostBench = r.result;
  return {
    command: name, cmd, flags, cpu_id: b.cpu_id, siblings, calls: b.calls, cpus: b.cpus,
    min_ns: b.min_ns, median_ns: b.median_ns, p99_ns: b.p99_ns,
    ipis: b.ipis, ipis_per_call: b.ipis === null || b.min_ns === null ? null : b.ipis / b.calls, running: b.running,
    errno: b.errno, error: b.stage === null ? null : `${b.stage === 'register' ? 'registration' : 'the call'} failed: ${errnoName(b.errno)}`,
  };
}

const us = (ns: number | null): string => (ns === null ? '-' : (ns / 1000).toFixed(2));

/** The text table: one line per cell, columns aligned. */
export function formatBenchTable(rows: readonly BenchRow[]): string {
  const head = ['command', 'flags', 'siblings', 'calls', 'running', 'min µs', 'median µs', 'p99 µs', 'IPIs/call'];
  const body = rows.map((r) => [
    r.command,
    r.flags & MEMBARRIER_CMD_FLAG_CPU ? `CPU cpu_id=${r.cpu_id ?? '?'}` : String(r.flags),
    String(r.siblings),
    String(r.calls),
    r.siblings === 0 || r.running === null ? '-' : `${Math.floor((100 * r.running) / r.calls)}%`,
    ...(r.error !== null ? [r.error, '', '', ''] : [us(r.min_ns), us(r.median_ns), us(r.p99_ns), r.ipis_per_call === null ? '-' : r.ipis_per_call.toFixed(2)]),
  ]);
  const numeric = [false, false, true, true, true, true, true, true, true];
  const TIMES = 5; // the first time column
  // An error message spans the time columns, so it does not widen them.
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b, k) => (i >= TIMES && rows[k]!.error !== null ? 0 : b[i]!.length))));
  const fmt = (cells: string[], isError: boolean): string => cells
    .map((c, i) => (isError && i >= TIMES ? c : numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd();
  return [fmt(head, false), ...body.map((b, k) => fmt(b, rows[k]!.error !== null))].join('\n');
}

export function cmdHostBench(io: Io, o: HostBenchOptions): ExitName {
  const membarrierOnly = ['calls', 'globalCalls', 'siblingsMax', 'registerFirst'] as const;
  const tlbOnly = ['iterations', 'repeats', 'threadsMax'] as const;
  const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (o.tlb) {
    const bad = membarrierOnly.find((k) => o[k] !== undefined);
    if (bad) throw new SmpError('SMP200', `host bench: ${flag(bad)} is an option of the membarrier() table, not of --tlb`);
    return cmdHostTlbBench(io, o);
  }
  const bad = tlbOnly.find((k) => o[k] !== undefined);
  if (bad) throw new SmpError('SMP200', `host bench: ${flag(bad)} is an option of --tlb`);
  const avail = hostAvailability();
  if (!avail.ok) {
    io.err(`smpcheck host bench: ${avail.reason}\n`);
    return 'input_error';
  }
  const info = hostInfo();
  const calls = o.calls ?? BENCH_CALLS_DEFAULT;
  const globalCalls = Math.min(calls, o.globalCalls ?? BENCH_GLOBAL_CALLS_DEFAULT);
  const siblingsMax = o.siblingsMax ?? info.nprocs - 1;
  const cells: { name: string; cmd: number; flags: number; siblings: number; calls: number }[] = [];
  for (const c of BENCH_COMMANDS) {
    for (let s = 0; s <= siblingsMax; s++) cells.push({ ...c, siblings: s, calls: c.cmd === MEMBARRIER_CMD_GLOBAL ? globalCalls : calls });
  }
  const rows: BenchRow[] = [];
  const codes: ExitName[] = ['ok'];
  if (!o.json) {
    io.out(`Linux ${info.uname}, ${info.nprocs} online CPUs; ${calls} timed calls per cell, ${globalCalls} for GLOBAL (each is a synchronize_rcu())${o.registerFirst ? '; registered before the siblings start' : ''}\n`);
  }
  cells.forEach((c, i) => {
    if (io.isTTY) io.err(`\r\x1b[Khost bench: ${i + 1}/${cells.length} ${c.name}${c.flags ? ' CPU' : ''}, ${c.siblings} siblings`);
    const r = runHostBench({
      cmd: c.cmd, flags: c.flags, cpuId: c.flags & MEMBARRIER_CMD_FLAG_CPU ? 'sibling' : 0, siblings: c.siblings, calls: c.calls,
      registerFirst: o.registerFirst ?? false,
    });
    const b = row(c.name, c.cmd, c.flags, c.siblings, c.calls, r);
    if (!r.ok) codes.push('incomplete');
    rows.push(b);
    if (o.json) io.out(`${JSON.stringify(b)}\n`);
  });
  if (io.isTTY) io.err('\r\x1b[K');
  if (!o.json) {
    io.out(`${formatBenchTable(rows)}\n`);
    io.out('Times are per call (clock_gettime(CLOCK_MONOTONIC) around each), over the calls during which every sibling\n'
      + 'was seen running ("running", of all calls); IPIs/call counts function-call interrupts on all CPUs (/proc/interrupts).\n');
  }
  for (const b of rows) if (b.error !== null && b.errno === 0) io.err(`smpcheck host bench: ${b.command} with ${b.siblings} siblings: ${b.error}\n`);
  return worst(codes);
}

export function addHostBenchCommand(host: Command, io: Io, setExit: (n: ExitName) => void): void {
  host
    .command('bench')
    .description('latency of the running kernel\'s membarrier() per command, with 0..N sibling threads spinning on the other CPUs; with --tlb, the madvise TLB shootdown microbenchmark')
    .option('--calls <n>', `timed calls per cell (default ${BENCH_CALLS_DEFAULT})`, intArg('--calls', 1, BENCH_CALLS_MAX))
    .option('--global-calls <n>', `timed calls per GLOBAL cell, at most --calls (default ${BENCH_GLOBAL_CALLS_DEFAULT}; each call is a synchronize_rcu())`, intArg('--global-calls', 1, BENCH_GLOBAL_CALLS_MAX))
    .option('--siblings-max <n>', 'sibling threads up to N (default: online CPUs - 1)', intArg('--siblings-max', 0, BENCH_SIBLINGS_MAX))
    .option('--register-first', 'register before the siblings start, not once they spin (shows the stale runqueue state of docs/host.md)')
    .option('--tlb', 'the madvise(MADV_DONTNEED) microbenchmark of TLB shootdowns instead, beside the table published in 2019')
    .option('--iterations <n>', `with --tlb: iterations per repeat (default ${TLB_ITERATIONS_DEFAULT})`, intArg('--iterations', 1, TLB_ITERATIONS_MAX))
    .option('--repeats <n>', `with --tlb: timed repeats per row (default ${TLB_REPEATS_DEFAULT})`, intArg('--repeats', 1, TLB_REPEATS_MAX))
    .option('--threads-max <n>', 'with --tlb: rows for 1, 2, 4, ... and N threads (default: online CPUs)', intArg('--threads-max', 1, TLB_THREADS_MAX))
    .option('--json', 'print one JSON object per cell instead of the table (with --tlb: one object)')
    .action((opts: HostBenchOptions) => setExit(cmdHostBench(io, opts)));
}
