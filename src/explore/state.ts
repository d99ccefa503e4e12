// The machine's state at each step of a trace, in the words a reader uses: every
// location by name with its value as the trace prints it (rq->curr as a task,
// ->mm as mm1), each CPU's store buffer, pending interrupts, running handlers,
// and the code version each CPU holds. A trace carries the state before the first
// step in full and, after each step, only the locations that changed in memory plus
// every CPU's (small) hardware state, so the viewer can show any step.

import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import type { MachineSnapshot } from '../machine/machine.js';
import type { Program } from '../litmus/program.js';

export const cpuStateSchema = lazySchema((z) => z.object({
  /** Store-buffer entries, oldest first. */
  buffer: z.array(z.object({ loc: z.string(), value: z.string() })),
  /** The handlers of the pending interrupt vectors. */
  pending: z.array(z.string()),
  irq: z.enum(['on', 'off']),
  /** The interrupt handlers running, outermost first (empty: the task's context). */
  handlers: z.array(z.string()),
  /** Per code location (write_code/exec_code): the version this CPU has fetched. */
  code: z.record(z.string(), z.string()),
  /** Scenarios with user pages: the address space and PCID CR3 holds, and the TLB's entries. */
  cr3: z.string().optional(),
  tlb: z.array(z.string()).optional(),
}));

export const stateSchema = lazySchema((z) => z.object({
  /** Every location, in memory order, with what it is: one the scenario names, the kernel's, or code. */
  locations: z.array(z.object({ name: z.string(), scope: z.enum(['scenario', 'kernel', 'code']) })),
  /** Before the first step: every location's value, and each CPU. */
  initial: z.object({ mem: z.record(z.string(), z.string()), cpus: z.array(cpuStateSchema()) }),
  /** After each step: the locations whose value in memory changed, and each CPU. */
  after: z.array(z.object({ mem: z.record(z.string(), z.string()), cpus: z.array(cpuStateSchema()) })),
}));

export type TraceState = z.infer<ReturnType<typeof stateSchema>>;
export type CpuState = z.infer<ReturnType<typeof cpuStateSchema>>;

export type LocScope = 'scenario' | 'kernel' | 'code';

const valueAt = (program: Program, loc: number, v: number): string => (program.formatLocValue ? program.formatLocValue(loc, v) : program.formatValue(v));

function cpuState(program: Program, c: MachineSnapshot['cpus'][number]): CpuState {
  const val = (loc: number, v: number): string => valueAt(program, loc, v);
  const out: CpuState = {
    buffer: c.buf.map(([loc, v]) => ({ loc: program.locName(loc), value: val(loc, v) })),
    pending: c.pending.map((v) => program.handlerName(v)),
    irq: c.irqOn ? 'on' : 'off',
    handlers: c.handlers.map((v) => program.handlerName(v)),
    code: Object.fromEntries(c.icache.map(([loc, v]) => [program.locName(loc), program.formatValue(v)])),
  };
  if (c.cr3) out.cr3 = `mm${c.cr3.mm} PCID ${c.cr3.asid}`;
  if (c.tlb) out.tlb = c.tlb.map(([asid, vpn, frame, writable]) => `PCID ${asid} page ${vpn}: frame ${frame}${writable ? '' : ' (read-only)'}`);
  return out;
}

/** The trace's state from a recorded replay's snapshots. */
export function traceState(program: Program, snaps: { initial: MachineSnapshot; after: MachineSnapshot[] }, scopeOf: (loc: number) => LocScope): TraceState {
  const names = snaps.initial.mem.map((_, loc) => program.locName(loc));
  const val = (loc: number, v: number): string => valueAt(program, loc, v);
  const memOf = (m: readonly number[]): string[] => m.map((v, loc) => val(loc, v));
  const initial = memOf(snaps.initial.mem);
  let prev = initial;
  const after = snaps.after.map((s) => {
    const now = memOf(s.mem);
    const mem: Record<string, string> = {};
    now.forEach((v, loc) => {
      if (v !== prev[loc]) mem[names[loc]!] = v;
    });
    prev = now;
    return { mem, cpus: s.cpus.map((c) => cpuState(program, c)) };
  });
  return {
    locations: names.map((name, loc) => ({ name, scope: scopeOf(loc) })),
    initial: { mem: Object.fromEntries(names.map((n, loc) => [n, initial[loc]!])), cpus: snaps.initial.cpus.map((c) => cpuState(program, c)) },
    after,
  };
}

/** The state after step `i` (-1: before the first step), every location by name. */
export function stateAt(s: TraceState, i: number): { mem: Record<string, string>; cpus: CpuState[] } {
  const mem = { ...s.initial.mem };
  for (let k = 0; k <= i && k < s.after.length; k++) Object.assign(mem, s.after[k]!.mem);
  const cpus = i < 0 ? s.initial.cpus : s.after[Math.min(i, s.after.length - 1)]?.cpus ?? s.initial.cpus;
  return { mem, cpus };
}
