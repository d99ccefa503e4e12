// The `smpcheck { ... }` block: scenario settings beyond plain litmus.
// Grammar (docs/scenario-format.md):  block := 'smpcheck' '{' (NAME ARG* ';')* '}'
// Accepted now:  model sc|x86;  bound steps N;  bound executions N;
//   cpu N runs T1 T2 ...;   (CPU N runs the threads Ti, and 'kthread' for a kernel
//                            thread, one after the other, switching with __schedule();
//                            a thread listed on several CPUs may migrate between them)
//   kthread P2 ...;         (these threads are kernel threads: no mm of their own; they
//                            may adopt the process's mm with kthread_use_mm())
//   preempt N;              (each CPU that runs several tasks takes up to N timer
//                            ticks; a tick asks for a reschedule, which the CPU
//                            does where the kernel configuration lets it)
//   config preempt=none|voluntary|full syscall_exit=sysret|iret paravirt=none|xen-pv;
//                           (kernel configuration: the preemption model, how
//                            system calls return to user mode, and the paravirt
//                            mm hooks of a Xen PV guest)
//   mmap a b ...;           (the locations a, b are user pages of the process, each
//                            mapped to a page frame of its own at the start: threads
//                            reach them through page tables and TLBs)
//   unmapped b ...;         (of those pages, b is not mapped at the start: no VMA and
//                            no PTE, its frame free; mremap() can move a page there)
//   clean a ...;            (of those pages, a starts clean and old: its PTE writable
//                            with the accessed and dirty bits clear, its folio in the
//                            swap cache with the same data in its swap slot, as after
//                            a read fault swapped it in and reclaim's ageing cleared
//                            the accessed bit)
// Reserved for the kernel model (recognised, refused with SMP108 until implemented):
//   kernel, variant, process, task, sched, mm.

import type { Bounds } from '../explore/types.js';
import { MODELS, type ModelName } from '../machine/machine.js';
import { PREEMPT_MODELS, TIMER_VECTORS, type PreemptModel } from '../kernel/kernel.js';
import type { Scenario } from './ast.js';
import { SmpError } from './errors.js';

export const RESERVED_DIRECTIVES = ['kernel', 'variant', 'process', 'task', 'sched', 'mm'] as const;
/** Timer ticks per CPU at most (`preempt N;`). */
export const PREEMPT_TICKS_MAX = TIMER_VECTORS.length;
export const BOUND_MAX = 100_000_000;

export interface Settings {
  model?: ModelName;
  bounds: Partial<Bounds>;
  /** What each CPU runs, in order: thread ids, or -1 for a kernel thread. Null: Pn runs alone on CPU n. */
  placement: number[][] | null;
  /** Threads that are kernel threads (`kthread P2;`). */
  kthreads: Set<number>;
  /** Timer ticks each CPU with several tasks may take, each a chance to preempt (`preempt N;`). */
  preempt: number;
  /** `config preempt=...;` (default none). */
  preemptModel: PreemptModel;
  /** `config syscall_exit=...;` (default sysret). */
  syscallExit: 'sysret' | 'iret';
  /** `config paravirt=...;` (default none: native x86). */
  paravirt: 'none' | 'xen-pv';
  /** Threads placed on several CPUs: they may migrate between them when preempted in user mode. */
  migratable: Set<number>;
  /** Locations that are user pages of the process (`mmap a b;`), in page order. */
  pages: number[];
  /** Of the user pages, those not mapped at the start (`unmapped b;`): no VMA, no PTE, no frame. */
  unmapped: number[];
  /** Of the user pages, those that start clean and old (`clean a;`): no accessed or dirty bit, the folio in the swap cache. */
  clean: number[];
}

/** User pages a scenario may map (`mmap`): each adds a page walker per CPU, and processes are tracked in 32-bit masks. */
export const PAGES_MAX = 4;

export const KTHREAD = -1;

export function directiveSettings(sc: Scenario): Settings {
  const out: Settings = { bounds: {}, placement: null, kthreads: new Set(), preempt: 0, preemptModel: 'none', syscallExit: 'sysret', paravirt: 'none', migratable: new Set(), pages: [], unmapped: [], clean: [] };
  for (const d of sc.directives) {
    const err = (msg: string): SmpError => new SmpError('SMP108', msg, d.span, sc.file);
    switch (d.name) {
      case 'model': {
        const m = d.args[0];
        if (d.args.length !== 1 || !MODELS.includes(m as ModelName)) throw err(`'model' takes one of: ${MODELS.join(', ')}`);
        out.model = m as ModelName;
        break;
      }
      case 'bound': {
        const [what, n] = d.args;
        const v = Number(n);
        if (d.args.length !== 2 || !Number.isSafeInteger(v) || v < 1 || v > BOUND_MAX) {
          throw err(`'bound' takes a name and a positive integer up to ${BOUND_MAX}: 'bound steps 500;'`);
        }
        if (what === 'steps') out.bounds.stepsMax = v;
        else if (what === 'executions') out.bounds.executionsMax = v;
        else throw err(`unknown bound '${what}': known bounds are 'steps' and 'executions'`);
        break;
      }
      case 'preempt': {
        const v = Number(d.args[0]);
        if (d.args.length !== 1 || !/^\d+$/.test(d.args[0] ?? '') || v > PREEMPT_TICKS_MAX) {
          throw err(`'preempt' takes the number of timer ticks per CPU, 0 to ${PREEMPT_TICKS_MAX}: 'preempt 1;'`);
        }
        out.preempt = v;
        break;
      }
      case 'config': {
        const usage = "'config' takes settings 'preempt=none|voluntary|full', 'syscall_exit=sysret|iret' and 'paravirt=none|xen-pv': 'config preempt=full;'";
        // A value may contain '-' (xen-pv), which the tokenizer splits off.
        const args: string[] = [];
        for (let i = 0; i < d.args.length; i++) {
          if (d.args[i] === '-' && args.length > 0 && i + 1 < d.args.length && args[args.length - 1] !== '=') args[args.length - 1] += `-${d.args[++i]}`;
          else args.push(d.args[i]!);
        }
        if (args.length === 0 || args.length % 3 !== 0) throw err(usage);
        for (let i = 0; i < args.length; i += 3) {
          const [name, eq, value] = args.slice(i, i + 3);
          if (eq !== '=') throw err(usage);
          if (name === 'preempt') {
            if (!(PREEMPT_MODELS as readonly string[]).includes(value!)) throw err(`'config preempt=' takes one of: ${PREEMPT_MODELS.join(', ')}`);
            out.preemptModel = value as PreemptModel;
          } else if (name === 'syscall_exit') {
            if (value !== 'sysret' && value !== 'iret') throw err("'config syscall_exit=' takes sysret or iret");
            out.syscallExit = value;
          } else if (name === 'paravirt') {
            if (value !== 'none' && value !== 'xen-pv') throw err("'config paravirt=' takes none or xen-pv");
            out.paravirt = value;
          } else {
            throw err(`unknown setting '${name}': ${usage}`);
          }
        }
        break;
      }
      case 'kthread': {
        if (d.args.length === 0) throw err("'kthread' names threads: 'kthread P2;'");
        for (const w of d.args) {
          const m = /^P(\d+)$/.exec(w);
          if (!m || Number(m[1]) >= sc.threads.length) throw err(`'${w}' is not a thread of this scenario`);
          out.kthreads.add(Number(m[1]));
        }
        break;
      }
      case 'cpu': {
        const [n, runs, ...who] = d.args;
        const cpu = Number(n);
        if (!/^\d+$/.test(n ?? '') || cpu >= sc.threads.length + 8 || runs !== 'runs' || who.length === 0) {
          throw err("'cpu' reads 'cpu N runs P0 kthread P2;'");
        }
        out.placement ??= [];
        if (out.placement[cpu]) throw err(`CPU ${cpu} is placed twice`);
        out.placement[cpu] = who.map((w) => {
          if (w === 'kthread') return KTHREAD;
          const m = /^P(\d+)$/.exec(w);
          if (!m || Number(m[1]) >= sc.threads.length) throw err(`'${w}' is not a thread of this scenario (nor 'kthread')`);
          return Number(m[1]);
        });
        break;
      }
      case 'mmap': {
        if (d.args.length === 0) throw err("'mmap' names shared locations that are user pages: 'mmap a;'");
        for (const w of d.args) {
          const loc = sc.locations.findIndex((l) => l.name === w);
          if (loc < 0) throw err(`'${w}' is not a shared location of this scenario`);
          if (out.pages.includes(loc)) throw err(`'${w}' is mapped twice`);
          if (sc.codeLocs.includes(loc)) throw err(`'${w}' holds code (write_code/exec_code): code pages are not modelled`);
          out.pages.push(loc);
        }
        if (out.pages.length > PAGES_MAX) throw err(`more than ${PAGES_MAX} user pages`);
        break;
      }
      case 'unmapped': {
        if (d.args.length === 0) throw err("'unmapped' names user pages that are not mapped at the start: 'unmapped b;'");
        for (const w of d.args) {
          const loc = sc.locations.findIndex((l) => l.name === w);
          if (loc < 0) throw err(`'${w}' is not a shared location of this scenario`);
          if (sc.locations[loc]!.init !== 0) throw err(`'${w}' is not mapped at the start, so it has no data: its initial value must be 0`);
          if (out.unmapped.includes(loc)) throw err(`'${w}' is named twice`);
          out.unmapped.push(loc);
        }
        break;
      }
      case 'clean': {
        if (d.args.length === 0) throw err("'clean' names user pages that start clean and old: 'clean a;'");
        for (const w of d.args) {
          const loc = sc.locations.findIndex((l) => l.name === w);
          if (loc < 0) throw err(`'${w}' is not a shared location of this scenario`);
          if (out.clean.includes(loc)) throw err(`'${w}' is named twice`);
          out.clean.push(loc);
        }
        break;
      }
      default:
        if ((RESERVED_DIRECTIVES as readonly string[]).includes(d.name)) {
          throw err(`directive '${d.name}' is reserved for the kernel model and not supported in this version`);
        }
        throw err(`unknown directive '${d.name}'`);
    }
  }
  if (out.placement) {
    const first = sc.directives.find((d) => d.name === 'cpu')!;
    const err = (msg: string): SmpError => new SmpError('SMP108', msg, first.span, sc.file);
    for (let c = 0; c < out.placement.length; c++) if (!out.placement[c]) throw err(`CPU ${c} is not placed: 'cpu' directives must name CPUs 0, 1, ... without gaps`);
    // A thread listed on several CPUs may migrate between them; it starts on the first CPU whose list it heads.
    const cpusOf = new Map<number, number[]>();
    out.placement.forEach((list, c) => {
      const here = new Set<number>();
      for (const t of list) {
        if (t === KTHREAD) continue;
        if (here.has(t)) throw err(`thread P${t} is placed twice on CPU ${c}`);
        here.add(t);
        cpusOf.set(t, [...(cpusOf.get(t) ?? []), c]);
      }
    });
    for (let t = 0; t < sc.threads.length; t++) if (!cpusOf.has(t)) throw err(`thread P${t} is not placed on any CPU`);
    for (const [t, cpus] of cpusOf) {
      if (cpus.length < 2) continue;
      out.migratable.add(t);
      if (out.kthreads.has(t)) throw err(`the kernel thread P${t} is placed on several CPUs: only user threads migrate here`);
    }
    if (out.placement.length > 8) throw err('more than 8 CPUs');
  }
  for (const loc of out.unmapped) {
    if (!out.pages.includes(loc)) {
      const d = sc.directives.find((x) => x.name === 'unmapped')!;
      throw new SmpError('SMP108', `'${sc.locations[loc]!.name}' is unmapped but not a user page: name it in the 'mmap' directive too`, d.span, sc.file);
    }
  }
  for (const loc of out.clean) {
    const d = sc.directives.find((x) => x.name === 'clean')!;
    if (!out.pages.includes(loc)) throw new SmpError('SMP108', `'${sc.locations[loc]!.name}' is clean but not a user page: name it in the 'mmap' directive too`, d.span, sc.file);
    if (out.unmapped.includes(loc)) throw new SmpError('SMP108', `'${sc.locations[loc]!.name}' is both unmapped and clean: a clean page is mapped`, d.span, sc.file);
  }
  if (out.preempt > 0 && !(out.placement ?? []).some((list) => list.length > 1)) {
    const d = sc.directives.find((x) => x.name === 'preempt')!;
    throw new SmpError('SMP108', "'preempt' needs a CPU that runs several tasks ('cpu 1 runs P1 P2;'): a tick preempts a task for the next one", d.span, sc.file);
  }
  return out;
}

/** Validate directives at parse time so that bad ones fail before any search. */
export function validateDirectives(sc: Scenario): void {
  directiveSettings(sc);
}
