// The model's side of an operation script (docs/host.md): the kernel model's
// system-call layer runs the script and prints the same JSON lines the native
// helper prints for the real kernel.
//
// A script is sequential (one operation at a time), so no exploration is needed:
// each kernel path runs to completion on a sequential driver, one op after the
// other, on a flat memory. An IPI runs its handler on the target CPU at once
// (the sender has queued the request and waits for it, and nothing else runs);
// a wait that cannot be satisfied is a model error, not a hang.
//
// Placement: CPU 0 first runs thread 0 of the first process; a spinning thread
// is rq->curr of its CPU; a thread that makes a call is switched in (by
// __schedule()) on its affinity CPU, else on the lowest CPU not held by a
// spinning thread, else CPU 0, and spinners take their CPUs back after each
// operation. Return values do not depend on this choice (every path is run,
// IPIs included), which the differential tests check against the real kernel.

import type { Op } from '../machine/ops.js';
import { Kernel, KernelLayout, type KernelConfig } from '../kernel/kernel.js';
import { generic_smp_call_function_single_interrupt } from '../kernel/smp.js';
import { MEMBARRIER_IPI_HANDLERS, sys_membarrier } from '../kernel/sched/membarrier.js';
import { __schedule } from '../kernel/sched/core.js';
import { do_exit } from '../kernel/exit.js';
import { copy_mm } from '../kernel/fork.js';
import { exec_mmap, mm_alloc } from '../kernel/exec.js';
import type { Variant } from '../kernel/variants.js';
import type { ScriptOp } from './script.js';

export interface ScriptLine {
  line: number;
  op: string;
  ret: number;
  errno: number;
}

export interface ModelHost {
  /** Online CPUs (num_online_cpus() == nr_cpu_ids). */
  nrCpus: number;
  /** tick_nohz_full_enabled() */
  nohzFull: boolean;
  variant: Variant;
}

/** A kernel path that does not finish on the sequential driver (a model bug, reported as such). */
export class ModelStuck extends Error {}

interface ThreadInfo {
  task: number;
  spin: boolean;
  /** The CPU the thread is bound to (spawn ... spin C, affinity), or -1. */
  cpu: number;
  exited: boolean;
}

/** Task and mm ids for every thread and process the script will create. */
function plan(ops: readonly ScriptOp[]): { taskMms: number[]; nrMms: number } {
  const taskMms = [1];
  let mm = 1;
  let nrMms = 1;
  for (const o of ops) {
    if (o.op === 'spawn') taskMms.push(mm);
    else if (o.op === 'fork') {
      mm = ++nrMms;
      taskMms.push(mm);
    } else if (o.op === 'exec') mm = ++nrMms;
  }
  return { taskMms, nrMms };
}

export function runModelScript(ops: readonly ScriptOp[], host: ModelHost): ScriptLine[] {
  const { taskMms, nrMms } = plan(ops);
  const config: KernelConfig = {
    version: host.variant.base, nrCpus: host.nrCpus, nohzFull: host.nohzFull, configRseq: true, archHasMembarrierSyncCore: true,
  };
  const firstTask = Array.from({ length: host.nrCpus }, (_, c) => (c === 0 ? 1 : 0));
  const layout = new KernelLayout(0, config, taskMms, firstTask, { nrMms, alive: taskMms.map((_, i) => i === 0) });
  const k = new Kernel(layout, host.variant, firstTask);
  const mem = [...layout.init];

  const run = <T>(cpu: number, gen: Generator<Op, T, number>): T => {
    let r = gen.next();
    while (!r.done) r = gen.next(step(cpu, r.value));
    return r.value;
  };
  const step = (cpu: number, op: Op): number => {
    switch (op.k) {
      case 'ld':
        return mem[op.loc]!;
      case 'st':
        mem[op.loc] = op.val;
        return 0;
      case 'rmw': {
        const old = mem[op.loc]!;
        const v = op.f(old);
        if (v !== undefined) mem[op.loc] = v;
        return old;
      }
      case 'await': {
        const v = mem[op.loc]!;
        if (!op.pred(v)) throw new ModelStuck(`CPU ${cpu} would wait forever in ${op.site.fn} on ${layout.nameOf(op.loc) ?? op.loc}`);
        return v;
      }
      case 'raise':
        run(op.cpu, generic_smp_call_function_single_interrupt(k, MEMBARRIER_IPI_HANDLERS, op.cpu));
        return 0;
      default:
        return 0; // mb, nop, irq: no effect on a sequential run
    }
  };

  let nextTask = 2;
  let nextMm = 2;
  let threads = new Map<number, ThreadInfo>([[0, { task: 1, spin: false, cpu: -1, exited: false }]]);
  const cpuOf = (task: number): number => k.curr.indexOf(task);
  const spinnerOn = (c: number): boolean => [...threads.values()].some((t) => t.spin && !t.exited && t.cpu === c);

  /** Make the thread current somewhere and return its CPU. */
  const ensureRunning = (t: ThreadInfo): number => {
    const c = cpuOf(t.task);
    if (c >= 0) return c;
    let target = t.cpu;
    if (target < 0) {
      target = 0;
      for (let i = 0; i < host.nrCpus; i++) {
        if (!spinnerOn(i)) {
          target = i;
          break;
        }
      }
    }
    run(target, __schedule(k, target, t.task));
    return target;
  };
  const spinnersBack = (): void => {
    for (const t of threads.values()) {
      if (t.spin && !t.exited && k.curr[t.cpu] !== t.task) run(t.cpu, __schedule(k, t.cpu, t.task));
    }
  };
  /** The thread exits (do_exit()) on its CPU, which then runs idle. */
  const exitThread = (t: ThreadInfo): void => {
    const c = ensureRunning(t);
    run(c, do_exit(k, c));
    t.exited = true;
    run(c, __schedule(k, c, 0));
  };
  const stopOthers = (): void => {
    for (const [n, t] of threads) if (n !== 0 && !t.exited) exitThread(t);
  };

  const out: ScriptLine[] = [];
  const ok = (o: ScriptOp): void => {
    out.push({ line: o.line, op: o.op, ret: 0, errno: 0 });
  };
  for (const o of ops) {
    switch (o.op) {
      case 'membarrier': {
        const c = ensureRunning(threads.get(o.thread)!);
        const ret = run(c, sys_membarrier(k, c, o.cmd, o.flags, o.cpuId));
        out.push({ line: o.line, op: o.op, ret: ret < 0 ? -1 : ret, errno: ret < 0 ? -ret : 0 });
        break;
      }
      case 'spawn': {
        const c = ensureRunning(threads.get(0)!);
        const child = nextTask++;
        run(c, copy_mm(k, c, child, true, 0));
        const t: ThreadInfo = { task: child, spin: o.spin, cpu: o.spin ? o.cpu : -1, exited: false };
        threads.set(o.thread, t);
        if (o.spin) run(o.cpu, __schedule(k, o.cpu, child));
        ok(o);
        break;
      }
      case 'exit':
        exitThread(threads.get(o.thread)!);
        ok(o);
        break;
      case 'join':
        threads.delete(o.thread);
        ok(o);
        break;
      case 'affinity': {
        const t = threads.get(o.thread)!;
        t.cpu = o.cpu;
        const c = cpuOf(t.task);
        if (c >= 0 && c !== o.cpu) run(c, __schedule(k, c, 0));
        if (t.spin) run(o.cpu, __schedule(k, o.cpu, t.task));
        ok(o);
        break;
      }
      case 'fork': {
        const parent = threads.get(0)!;
        stopOthers(); // the parent stops its threads and waits for the child
        const c = ensureRunning(parent);
        const child = nextTask++;
        run(c, copy_mm(k, c, child, false, nextMm++));
        run(c, __schedule(k, c, child)); // the parent blocks in wait4(); the child runs
        threads = new Map([[0, { task: child, spin: false, cpu: parent.cpu, exited: false }]]);
        ok(o);
        break;
      }
      case 'exec': {
        stopOthers(); // de_thread()
        const main = threads.get(0)!;
        const c = ensureRunning(main);
        const mm = nextMm++;
        run(c, mm_alloc(k, mm));
        run(c, exec_mmap(k, c, mm));
        threads = new Map([[0, { ...main, spin: false, cpu: main.cpu }]]);
        ok(o);
        break;
      }
      case 'mmap':
      case 'touch':
      case 'madvise':
      case 'mprotect':
      case 'munmap':
        // The TLB side of the kernel model is not there yet: callers refuse such
        // scripts first (HOST008, docs/host.md).
        throw new Error(`line ${o.line}: the model does not run '${o.op}' yet`);
      default: {
        const never: never = o;
        throw new Error(`unknown operation ${JSON.stringify(never)}`);
      }
    }
    spinnersBack();
  }
  return out;
}
