// `smpcheck host bench --tlb`: the madvise microbenchmark of the 2019 series "x86:
// Flush remote TLBs concurrently and async" on the running kernel, beside the table
// its author published (docs/host.md). The native helper runs and times the loop;
// this side chooses the thread counts, summarises the repeats and prints.

import { hostAvailability, hostInfo, runHostTlbBench, type HostTlbBench } from '../host/native.js';
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
 * messages for flushing", linux-kernel, in reply to Andy Lutomirski's message of
 * 31 May 2019. "before" is the kernel without the series, "concurrent" its v1
 * (concurrent local and remote flushes), "async" ("+async" in the message) v2 with
 * early acknowledgment. The changes are the message's own (rounded as it rounds
 * them). The message calls the results preliminary and does not name the machine.
 */
export const TLB_PUBLISHED = {
  source: 'Nadav Amit, "Re: [RFC PATCH v2 11/12] x86/mm/tlb: Use async and inline messages for flushing", linux-kernel, May 2019 (reply to Andy Lutomirski, 31 May 2019)',
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
      + 'every busy-waiting thread was seen spinning.\n\n');
    io.out(`Published in 2019, NOT this machine (${TLB_PUBLISHED.unit}; machine not stated; called preliminary):\n${TLB_PUBLISHED.source}\n`);
    io.out(`${formatPublishedTable()}\n`);
  }
  for (const r of rows) if (r.error !== null) io.err(`smpcheck host bench --tlb: ${r.threads} threads: ${r.error}\n`);
  for (const r of rows) if (r.errno !== 0) io.err(`smpcheck host bench --tlb: ${r.threads} threads: a thread could not be pinned to its CPU (errno ${r.errno})\n`);
  return worst(codes);
}
