// A CPU's runqueue as the model keeps it: the tasks a scenario places on the CPU
// (`cpu N runs P1 kthread P2;`), in the order the CPU runs them, with what each
// task was doing when it was switched out. The model's stand-in for struct rq's
// CFS tree and the task state machine (kernel/sched/sched.h, v6.18): which task
// runs next is the list's cyclic order, not a weight.
//
// This state is CPU-local (only the CPU's own code reads it, no step of the
// machine); what other CPUs see of the runqueue (rq->curr, rq->__lock,
// rq->membarrier_state, TIF_NEED_RESCHED, p->on_cpu) lives in memory (KernelLayout).

import type { CpuCode, Op } from '../../machine/ops.js';
import { KTHREAD } from '../../scenario/directives.js';

/** How a task goes back to what it was doing when its CPU switches to it. */
export type Resume = 'iret' | 'none';

/** One task of a CPU's list: a thread of the scenario, or a body-less kernel thread. */
export interface SchedEntry {
  t: number; // thread id, or KTHREAD
  id: number; // task id
  /**
   * How the task first runs: from the list (`run`: asleep in a system call it returns
   * from by SYSRET), started by fork(Pn)/clone(Pn) (`fork`: returns by ret_from_fork's
   * IRET), or asleep until another thread's wake_up(Pn) (`sleep`: SYSRET).
   */
  start: 'run' | 'fork' | 'sleep';
  /**
   * Placed on several CPUs: the same entry is in each of their lists, and a CPU reads
   * its state only after taking the task through KernelLayout.taskOnCpu (a cmpxchg),
   * which the CPU that ran it last released.
   */
  shared: boolean;
  /** The CPU the task last ran on (-1: not yet). */
  lastCpu: number;
  /** blocked: it called schedule() in a sleep state and left the runqueue (p->on_rq = 0) until a wakeup. */
  state: 'new' | 'running' | 'preempted' | 'blocked' | 'done';
  /** A `sleep` task this CPU has seen woken (it read task->__state). */
  woken: boolean;
  gen?: CpuCode;
  /** The op an interrupt withdrew from the task when it switched tasks: done again on resumption. */
  pending?: Op;
  /** Preempted: by an interrupt (back through its IRET) or in the kernel's own schedule() call. */
  resume: Resume;
  /** The CPU-local kernel state of the task while it is switched out. */
  kernelDepth: number;
  preemptCount: number;
  sleepLocks: number;
}

/** A CPU's runqueue (CPU-local: read only by this CPU's code). */
export interface CpuSched {
  entries: SchedEntry[];
  /** The entry the CPU runs, or last ran. */
  cur: number;
  /** Does the CPU's task context run entry `cur` now (not the idle task, not the scheduler)? */
  running: boolean;
  /** Shared entries this CPU has seen finished. */
  doneShared: Set<SchedEntry>;
  /** The entry an interrupt's exit switched to (see irqentry_exit()). */
  switchedTo: number;
}

/** Where each task of the scenario comes from, for init_runqueues(). */
export interface TaskPlan {
  /** What each CPU runs, in order (thread ids, KTHREAD for a kernel thread). */
  placement: readonly (readonly number[])[];
  /** The task id of each placement entry. */
  taskIds: readonly (readonly number[])[];
  /** Threads started by fork(Pn)/clone(Pn). */
  spawned: ReadonlySet<number>;
  /** Threads that start asleep until another thread's wake_up(Pn). */
  sleepers: ReadonlySet<number>;
  /** Threads placed on several CPUs (they may migrate). */
  migratable: ReadonlySet<number>;
}

/** One execution's runqueues: a task placed on several CPUs is one entry in each of their lists. */
export function init_runqueues(plan: TaskPlan): CpuSched[] {
  const sharedEntries = new Map<number, SchedEntry>();
  return plan.placement.map((list, c) => ({
    entries: list.map((t, i): SchedEntry => {
      const e: SchedEntry = sharedEntries.get(t) ?? {
        t, id: plan.taskIds[c]![i]!, start: t === KTHREAD ? 'run' : plan.spawned.has(t) ? 'fork' : plan.sleepers.has(t) ? 'sleep' : 'run',
        shared: plan.migratable.has(t), lastCpu: -1, state: 'new', woken: false, resume: 'none', kernelDepth: 0, preemptCount: 0, sleepLocks: 0,
      };
      if (e.shared) sharedEntries.set(t, e);
      return e;
    }),
    cur: 0,
    running: false,
    switchedTo: -1,
    doneShared: new Set(),
  }));
}
