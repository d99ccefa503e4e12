// TLB shootdowns on the running kernel (docs/host.md):
//   host bench --tlb   the madvise microbenchmark of the 2019 series "x86: Flush remote
//                      TLBs concurrently and async", beside the table its author published
//   host tlb-ipis      an operation script run several times, with the shootdowns each
//                      operation caused (the TLB row of /proc/interrupts around it)
// The native helper runs, times and counts; this side summarises and prints.

import { readFileSync } from 'node:fs';
import {
  hostAvailability, hostInfo, runHostScript, runHostTlbBench, tlbRowAvailability, type HostLine, type HostTlbBench,
} from '../host/native.js';
import { formatOp, parseScript, ScriptError, type ScriptOp } from '../host/script.js';
import { SmpError } from '../scenario/errors.js';
import { worst, type ExitName } from './exit.js';
import type { Io } from './main.js';

export const TLB_ITERATIONS_DEFAULT = 10_000;
export const TLB_ITERATIONS_MAX = 10_000_000;
export const TLB_REPEATS_DEFAULT = 5;
export const TLB_REPEATS_MAX = 100;
export const TLB_THREADS_MAX = 256;

/**
 * The table of the thread (ns per iteration on the initiating thread), exactly as
 * published: Nadav Amit, "Re: [RFC PATCH v2 11/12] x86/mm/tlb: Use async and inline
 * messages for flushing", 2019, in reply to Andy Lutomirski's message of
 * 31 May 2019. "before" is the kernel without the series, "concurrent" its v1
 * (concurrent local and remote flushes), "async" ("+async" in the message) v2 with
 * early acknowledgment. The changes are the message's own (rounded as it rounds
 * them). The message calls the results preliminary and does not name the machine.
 */
export const TLB_PUBLISHED = {
  source: 'Nadav Amit, "Re: [RFC PATCH v2 11/12] x86/mm/tlb: Use async and inline messages for flushing", 2019, in reply to Andy Lutomirski\'s message of 31 May 2019',
  unit: 'ns per iteration',
  rows: [
    { threads: 1, before: 661, concurrent: 663, concurrent_change: null, async: 663, async_change: null },
    { threads: 2, before: 1436, concurrent: 1225, concurrent_change: '-14%', async: 1115, async_change: '-22%' },
    { threads: 4, before: 1571, concurrent: 1421, concurrent_change: '-10%', async: 1289, async_change: '-18%' },
  ],
} as const;

/** The thread counts of the table: 1, the powers of two below the number of CPUs, and that number. */
export function tlbThreadCounts(max: number): number[] {
  const out = [1];
  for (let n = 2; n < max; n *= 2) out.push(n);
  if (max > 1) out.push(max);
  return out;
}

export interface TlbBenchRow {
  threads: number;
  /** The initiating thread's CPU, then the busy-waiting threads'. */
  cpus: number[];
  iterations: number;
  repeats: number;
  page_size: number | null;
  /** Median, minimum and maximum over the repeats of (loop time / iterations). */
  ns_per_iteration: { median: number; min: number; max: number } | null;
  /** TLB shootdowns per iteration (median over the repeats), null when /proc/interrupts has no readable TLB row. */
  tlb_ipis_per_iteration: number | null;
  ns_by_repeat: number[];
  tlb_ipis_by_repeat: (number | null)[];
  /** Repeats during which every busy-waiting thread was seen spinning. */
  running: number | null;
  /** sched_setaffinity()'s error when a thread could not be pinned (0 otherwise). */
  errno: number;
  /** Why the row has no numbers (the helper failed or its 20 s bound stopped it). */
  error: string | null;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function toRow(threads: number, iterations: number, repeats: number, r: ReturnType<typeof runHostTlbBench>): TlbBenchRow {
  if (!r.ok) {
    const why = r.stderr.trim().split('\n').pop() || `the helper exited with status ${r.status}`;
    return {
      threads, cpus: [], iterations, repeats, page_size: null, ns_per_iteration: null, tlb_ipis_per_iteration: null,
      ns_by_repeat: [], tlb_ipis_by_repeat: [], running: null, errno: 0, error: why,
    };
  }
  const b: HostTlbBench = r.result;
  const per = b.ns.map((ns) => ns / b.iterations);
  const ipis = b.tlb_ipis.every((x): x is number => x !== null) ? b.tlb_ipis.map((x) => x / b.iterations) : null;
  return {
    threads, cpus: b.cpus, iterations: b.iterations, repeats: b.repeats, page_size: b.page_size,
    ns_per_iteration: { median: median(per), min: Math.min(...per), max: Math.max(...per) },
    tlb_ipis_per_iteration: ipis === null ? null : median(ipis),
    ns_by_repeat: b.ns, tlb_ipis_by_repeat: b.tlb_ipis, running: b.running, errno: b.errno, error: null,
  };
}

function table(head: string[], body: string[][], numeric: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(head), ...body.map(fmt)].join('\n');
}

/** The table of this machine's rows. */
export function formatTlbTable(rows: readonly TlbBenchRow[]): string {
  const head = ['threads', 'cpus', 'ns/iteration', 'min', 'max', 'shootdowns/iteration', 'running'];
  const body = rows.map((r) => {
    const cells = [String(r.threads), r.cpus.join(',') || '-'];
    if (r.error !== null || r.ns_per_iteration === null) return [...cells, r.error ?? '-', '', '', '', ''];
    const n = r.ns_per_iteration;
    return [
      ...cells, n.median.toFixed(0), n.min.toFixed(0), n.max.toFixed(0),
      r.tlb_ipis_per_iteration === null ? 'unreadable' : r.tlb_ipis_per_iteration.toFixed(2),
      r.threads === 1 ? '-' : `${r.running}/${r.repeats}`,
    ];
  });
  return table(head, body, [true, false, true, true, true, true, true]);
}

/** The published table, with the changes against "before" as the message gives them. */
export function formatPublishedTable(): string {
  const cell = (x: number, change: string | null): string => (change === null ? String(x) : `${x} (${change})`);
  const body = TLB_PUBLISHED.rows.map((r) => [String(r.threads), String(r.before), cell(r.concurrent, r.concurrent_change), cell(r.async, r.async_change)]);
  return table(['threads', 'before', 'concurrent', '+async'], body, [true, true, false, false]);
}

export interface TlbBenchOptions {
  iterations?: number;
  repeats?: number;
  threadsMax?: number;
  json?: boolean;
}

export function cmdHostTlbBench(io: Io, o: TlbBenchOptions): ExitName {
  const avail = hostAvailability();
  if (!avail.ok) {
    io.err(`smpcheck host bench: ${avail.reason}\n`);
    return 'input_error';
  }
  const info = hostInfo();
  const iterations = o.iterations ?? TLB_ITERATIONS_DEFAULT;
  const repeats = o.repeats ?? TLB_REPEATS_DEFAULT;
  const counts = tlbThreadCounts(o.threadsMax ?? info.nprocs);
  const rows: TlbBenchRow[] = [];
  const codes: ExitName[] = ['ok'];
  counts.forEach((n, i) => {
    if (io.isTTY) io.err(`\r\x1b[Khost bench --tlb: ${i + 1}/${counts.length}, ${n} threads`);
    const r = runHostTlbBench(n, iterations, repeats);
    if (!r.ok) codes.push('incomplete');
    rows.push(toRow(n, iterations, repeats, r));
  });
  if (io.isTTY) io.err('\r\x1b[K');
  if (o.json) {
    io.out(`${JSON.stringify({ kernel: info.uname, online_cpus: info.nprocs, iterations, repeats, rows, published: TLB_PUBLISHED })}\n`);
  } else {
    const page = rows.find((r) => r.page_size !== null)?.page_size ?? 4096;
    io.out(`Linux ${info.uname}, ${info.nprocs} online CPUs; each iteration: madvise(MADV_DONTNEED) of one ${page}-byte page, then a write to it;\n`
      + `${iterations} iterations x ${repeats} repeats per row; the other threads busy-wait on their own CPUs\n`);
    io.out(`${formatTlbTable(rows)}\n`);
    io.out('ns/iteration: median over the repeats of (loop time / iterations), clock_gettime(CLOCK_MONOTONIC) around each loop; min, max: over the\n'
      + 'repeats; shootdowns/iteration: the TLB row of /proc/interrupts (all CPUs), median over the repeats; running: repeats during which\n'
      + 'every busy-waiting thread was seen spinning.\n');
    for (const r of rows) {
      const others = new Set(r.cpus.slice(1).filter((c) => c !== r.cpus[0])).size;
      if (r.tlb_ipis_per_iteration !== null && others > 0 && r.tlb_ipis_per_iteration < 0.9 * others) {
        io.out(`Note: ${r.threads} threads: ${r.tlb_ipis_per_iteration.toFixed(2)} shootdowns per iteration, fewer than the ${others} other CPU${others > 1 ? 's' : ''} `
          + 'that should run the process: its busy-waiting threads\n'
          + 'were off their CPUs for many iterations (a busy machine), or the hypervisor took flushes over (docs/host.md), so the row does not\n'
          + 'measure what the published one does. Measure again on a quieter machine.\n');
      }
    }
    io.out('\n');
    io.out(`Published in 2019, NOT this machine (${TLB_PUBLISHED.unit}; machine not stated; called preliminary):\n${TLB_PUBLISHED.source}\n`);
    io.out(`${formatPublishedTable()}\n`);
  }
  for (const r of rows) if (r.error !== null) io.err(`smpcheck host bench --tlb: ${r.threads} threads: ${r.error}\n`);
  for (const r of rows) if (r.errno !== 0) io.err(`smpcheck host bench --tlb: ${r.threads} threads: a thread could not be pinned to its CPU (errno ${r.errno})\n`);
  return worst(codes);
}

export const TLB_RUNS_DEFAULT = 11;
export const TLB_RUNS_MAX = 100;

/** One operation of `host tlb-ipis`: what it returned and the shootdowns counted around it in each run. */
export interface TlbIpisOp {
  line: number;
  op: string;
  /** The operation as the script states it (normalised). */
  text: string;
  /** The return value and errno, when every run gave the same; else null and `results` has them all. */
  ret: number | null;
  errno: number | null;
  results: { ret: number; errno: number }[];
  /** Over the runs: the sum over the CPUs of the increase during the operation; null for fork and exec (not measured). */
  tlb: { min: number; median: number; max: number; per_cpu_median: number[]; by_run: number[][] } | null;
}

export interface TlbIpisResult {
  file: string;
  kernel: string;
  cpus: number;
  runs: number;
  ops: TlbIpisOp[];
}

/**
 * Run a script `runs` times on the running kernel, each run a fresh helper process,
 * with the TLB row of /proc/interrupts read just before and just after each
 * operation; per operation, the minimum, median and maximum over the runs.
 * Returns the failed run's status and message when a run does not finish.
 */
export function tlbIpis(file: string, text: string, ops: readonly ScriptOp[], runs: number, kernel: string, cpus: number):
  { ok: true; result: TlbIpisResult } | { ok: false; status: number; message: string } {
  const all: HostLine[][] = [];
  for (let k = 0; k < runs; k++) {
    const r = runHostScript(text, { tlbIpis: true });
    if (r.status !== 0) {
      return { ok: false, status: r.status, message: `run ${k + 1}: ${r.stderr.trim().split('\n').pop() || `the helper exited with status ${r.status}`}` };
    }
    if (r.lines.length !== ops.length || r.lines.some((l, i) => l.line !== ops[i]!.line || l.op !== ops[i]!.op)) {
      return { ok: false, status: 70, message: `run ${k + 1}: the helper's lines do not match the script's operations` };
    }
    all.push(r.lines);
  }
  const out: TlbIpisOp[] = ops.map((o, i) => {
    const lines = all.map((ls) => ls[i]!);
    const results = lines.map((l) => ({ ret: l.ret, errno: l.errno }));
    const same = results.every((x) => x.ret === results[0]!.ret && x.errno === results[0]!.errno);
    const counts = lines.map((l) => l.tlb ?? null);
    let tlb: TlbIpisOp['tlb'] = null;
    if (counts.every((c): c is number[] => c !== null)) {
      const sums = counts.map((c) => c.reduce((a, b) => a + b, 0));
      const n = Math.min(...counts.map((c) => c.length));
      tlb = {
        min: Math.min(...sums), median: median(sums), max: Math.max(...sums),
        per_cpu_median: Array.from({ length: n }, (_, c) => median(counts.map((x) => x[c]!))),
        by_run: counts,
      };
    }
    return {
      line: o.line, op: o.op, text: formatOp(o), ret: same ? results[0]!.ret : null, errno: same ? results[0]!.errno : null, results, tlb,
    };
  });
  return { ok: true, result: { file, kernel, cpus, runs, ops: out } };
}

const num = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(1));

export function formatTlbIpis(r: TlbIpisResult): string {
  const ncpu = Math.max(0, ...r.ops.map((o) => o.tlb?.per_cpu_median.length ?? 0));
  const head = ['line', 'operation', 'result', 'min', 'median', 'max', ...Array.from({ length: ncpu }, (_, c) => `CPU${c}`)];
  const body = r.ops.map((o) => {
    const result = o.ret === null ? 'varies' : o.ret === -1 ? `-1 errno ${o.errno}` : String(o.ret);
    const t = o.tlb;
    return [
      String(o.line), o.text, result,
      ...(t === null ? ['-', '-', '-', ...Array.from({ length: ncpu }, () => '-')]
        : [num(t.min), num(t.median), num(t.max), ...Array.from({ length: ncpu }, (_, c) => num(t.per_cpu_median[c] ?? 0))]),
    ];
  });
  return table(head, body, head.map((_, i) => i !== 1 && i !== 2));
}

export function cmdHostTlbIpis(io: Io, file: string, o: { runs?: number; json?: boolean }): ExitName {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SmpError('SMP004', `cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const avail = hostAvailability();
  if (!avail.ok) {
    io.err(`smpcheck host tlb-ipis: ${avail.reason}\n`);
    return 'input_error';
  }
  const row = tlbRowAvailability();
  if (!row.ok) {
    io.err(`smpcheck host tlb-ipis: ${row.reason}\n`);
    return 'input_error';
  }
  const info = hostInfo();
  let ops: ScriptOp[];
  try {
    ops = parseScript(text, info.nprocs);
  } catch (e) {
    if (e instanceof ScriptError) {
      io.err(`${e.format(file)}\n`);
      return 'input_error';
    }
    throw e;
  }
  const runs = o.runs ?? TLB_RUNS_DEFAULT;
  const r = tlbIpis(file, text, ops, runs, info.uname, info.nprocs);
  if (!r.ok) {
    io.err(`smpcheck host tlb-ipis: ${file}: ${r.message}\n`);
    return r.status === 70 ? 'internal_error' : 'incomplete';
  }
  if (o.json) {
    io.out(`${JSON.stringify(r.result)}\n`);
    return 'ok';
  }
  io.out(`host tlb-ipis ${file}: Linux ${info.uname}, ${info.nprocs} online CPUs; ${runs} runs, each in a fresh process\n`);
  io.out(`${formatTlbIpis(r.result)}\n`);
  io.out('TLB shootdowns counted during each operation (the TLB row of /proc/interrupts just before and just after it; machine-wide,\n'
    + 'so other activity can add some): min, median and max over the runs of the sum over the CPUs, then the median on each CPU.\n'
    + 'fork and exec are not measured (-).\n');
  return 'ok';
}
