// Models: kernel/sched/idle.c cpu_startup_entry() and do_idle() (v6.18) as the
// model's CPU loop: a CPU runs the tasks of its runqueue (runqueue.ts) in the
// list's order; between two, schedule() switches. A task gives the CPU up when its
// body ends, when an interrupt's exit finds need_resched() set (a timer tick's
// scheduler_tick(), a wakeup from another CPU), or when its own kernel code calls
// schedule() (system-call exit, cond_resched(), preempt_enable()), or blocks there
// (futex_wait(), a pipe: its state set to sleep). A preempted task
// resumes when the CPU comes back to it, in the same cyclic order, the way it left:
// through its interrupt's IRET, or in the kernel where it called schedule(); a
// blocked task once try_to_wake_up() has enqueued it again (p->on_rq). With
// nothing runnable the CPU runs the idle task and polls TIF_NEED_RESCHED (or a task
// it may pull from another CPU).
// Leaves out: cpuidle states, the tick being stopped, and the idle task's own
// kernel code (polling is one waiting step).

import type { CpuCode, Op } from '../../machine/ops.js';
import { PREEMPTED, RSEQ_ABORTED } from '../../machine/machine.js';
import { KTHREAD } from '../../scenario/directives.js';
import type { Kernel } from '../kernel.js';
import { ON_CPU_DONE, ON_CPU_PINNED } from '../kernel.js';
import type { CpuSched, SchedEntry } from './runqueue.js';
import { __schedule, pick_next_task, schedule, taskRunnable } from './core.js';
import { kernelMode } from '../entry/common.js';
import { waitForNewTask } from '../fork.js';
import { iret, ret_from_fork, syscall_return } from '../arch/x86/entry/entry_64.js';
import { RseqAbort } from '../rseq.js';
import { PageFault } from '../../machine/paging.js';
import { exc_page_fault } from '../arch/x86/mm/fault.js';
import { kfunc } from '../dispatch.js';

/** The user code of the scenario's threads, which the CPU loop starts and moves. */
export interface UserCode {
  /** Start thread t's code on `cpu`. */
  start(t: number, cpu: number): CpuCode;
  /** Thread t (already started) runs on `cpu` now: it migrated, or came back. */
  moved(t: number, cpu: number): void;
}

/**
 * The task after a user access faulted: exc_page_fault() in kernel mode, the
 * exception's IRET, the access again (it may fault again), then the task's code
 * `rest`, resumed with the access's value (exceptions thrown into the task, an
 * rseq abort, go on into `rest`).
 */
function* fault_and_retry(k: Kernel, cpu: number, fault: PageFault, op: Op, rest: CpuCode): CpuCode {
  let f: PageFault | null = fault;
  let v = 0;
  while (f) {
    // SIGSEGV: the thread's code ends at the access.
    if (!(yield* kernelMode(k, cpu, exc_page_fault(k, cpu, f.vpn, f.write)))) return;
    yield* iret(k, 'IRET (from the page fault: the access is retried)');
    f = null;
    try {
      v = yield op;
    } catch (err) {
      if (!(err instanceof PageFault)) return yield* resumeWith(rest, () => rest.throw(err));
      f = err;
    }
  }
  return yield* resumeWith(rest, () => rest.next(v));
}

/** Go on with generator g from the result `first` gives, forwarding values and exceptions. */
function* resumeWith(g: CpuCode, first: () => IteratorResult<Op, void>): CpuCode {
  let r = first();
  while (!r.done) {
    let v: number;
    try {
      v = yield r.value;
    } catch (err) {
      r = g.throw(err);
      continue;
    }
    r = g.next(v);
  }
}

function* kthreadBody(): CpuCode {
  yield { k: 'nop', site: { fn: 'kthread (runs in the kernel, mm NULL)' } };
}

/**
 * do_idle() when the CPU has nothing to go back to (its start, or its task ended):
 * switch to the next task in the list's cyclic order from `from` that can run: a
 * preempted one, one runnable from the start, a child of fork()/clone() (the CPU
 * idles until wake_up_new_task()), a woken sleeper, or a blocked task that
 * try_to_wake_up() enqueued again (p->on_rq). With only sleepers (or blocked tasks) left, the
 * CPU runs the idle task (rq->curr = idle, lazy mm) and polls TIF_NEED_RESCHED until
 * a wakeup. Returns the entry switched to, or -1 when every task is done.
 */
export const do_idle = kfunc(function* do_idle(k: Kernel, cpu: number, S: CpuSched, from: number): Generator<Op, number, number> {
  const n = S.entries.length;
  for (;;) {
    let sleeping = false;
    let elsewhere: SchedEntry | undefined; // a shared task that may come free
    for (let d = 0; d < n; d++) {
      const j = (from + d) % n;
      const x = S.entries[j]!;
      if (x.shared) {
        if (yield* taskRunnable(k, cpu, S, x, 'take')) {
          yield* schedule(k, cpu, S, j);
          return j;
        }
        if (!S.doneShared.has(x)) elsewhere ??= x;
        continue;
      }
      if (x.state === 'done' || x.state === 'running') continue;
      if (x.state === 'blocked' && !(yield* taskRunnable(k, cpu, S, x, 'take'))) {
        sleeping = true;
        continue;
      }
      if (x.state === 'new' && x.start === 'sleep' && !(yield* taskRunnable(k, cpu, S, x, 'take'))) {
        sleeping = true;
        continue;
      }
      if (x.state === 'new' && x.start === 'fork') yield* kernelMode(k, cpu, waitForNewTask(k, x.id));
      yield* schedule(k, cpu, S, j);
      return j;
    }
    if (!sleeping && !elsewhere) return -1;
    // The idle task (no clearing of TIF_NEED_RESCHED: a wakeup may have set it).
    if (k.curr[cpu] !== 0) yield* schedule(k, cpu, S, -1, false);
    if (elsewhere) {
      // Until a task this CPU may run is preempted elsewhere (and can be pulled here) or ends.
      const free = (v: number): boolean => v === 0 || v === ON_CPU_PINNED + cpu || v === ON_CPU_DONE;
      yield* k.smp_cond_load_acquire(k.layout.taskOnCpu[elsewhere.id]!, free, 'do_idle(): wait for a task to pull (p->on_cpu)');
    } else {
      yield* k.smp_cond_load_acquire(k.layout.needResched[cpu]!, (v) => v !== 0, 'do_idle(): while (!need_resched())');
    }
  }
});

/**
 * cpu_startup_entry(): the CPU's task context for the whole execution (see the file
 * header). `startsIdle`: the CPU's first task cannot run yet (a child of fork(), a
 * sleeper, or a task that starts on another CPU), so the CPU starts in do_idle().
 */
export const cpu_startup_entry = kfunc(function* cpu_startup_entry(k: Kernel, cpu: number, S: CpuSched, user: UserCode, startsIdle: boolean): CpuCode {
  const n = S.entries.length;
  let i = 0;
  let switchedIn = false;
  if (startsIdle) {
    i = yield* do_idle(k, cpu, S, 0);
    if (i < 0) return;
    switchedIn = true;
  }
  for (;;) {
    const e = S.entries[i]!;
    S.cur = i;
    S.running = true;
    if (e.gen && e.t !== KTHREAD) user.moved(e.t, cpu); // a migrated task runs on this CPU now
    if (e.lastCpu >= 0 && e.lastCpu !== cpu) k.counters.migrations[cpu]!++;
    e.lastCpu = cpu;
    let res: IteratorResult<Op, void>;
    if (e.state === 'preempted' || e.state === 'blocked') {
      e.state = 'running';
      if (e.resume === 'iret') yield* iret(k, 'IRET (the interrupt that preempted the task returns)');
      if (e.resume === 'iret' && e.kernelDepth === 0 && k.rseqCs.has(e.id)) {
        // Preempted inside an rseq critical section: __schedule()'s rseq_preempt()
        // flagged the event, so the return to user mode goes to the abort handler.
        e.pending = undefined;
        res = e.gen!.throw(new RseqAbort());
      } else if (e.pending) {
        res = { done: false, value: e.pending };
        e.pending = undefined;
      } else {
        res = e.gen!.next(0);
      }
    } else {
      e.state = 'running';
      e.gen = e.t === KTHREAD ? kthreadBody() : user.start(e.t, cpu);
      if (switchedIn && e.t !== KTHREAD && k.layout.taskMms[e.id - 1] !== 0) {
        // Back to user mode from where the task slept: ret_from_fork's IRET for a new
        // child, else the return of the system call it slept in.
        if (e.start === 'fork') yield* ret_from_fork(k);
        else yield* syscall_return(k);
      }
      res = e.gen.next(0);
    }
    let next = -1;
    let blocked = false;
    while (!res.done) {
      const op = res.value;
      if (op.k === 'nop' && op.block) {
        // The task's kernel code calls schedule() in a sleep state: __schedule() blocks
        // it, unless a wakeup set it running again first, and switches to the next
        // runnable task or to the idle task.
        yield* k.note(op.site.fn);
        const j = yield* schedule(k, cpu, S, 'block');
        if (j === i) {
          res = e.gen!.next(0);
          continue;
        }
        blocked = true;
        next = j;
        break;
      }
      if (op.k === 'nop' && op.resched) {
        // The task's kernel code calls schedule().
        const j = yield* pick_next_task(k, cpu, S, 'take');
        yield* k.note(op.site.fn);
        if (j >= 0) {
          e.state = 'preempted';
          e.resume = 'none';
          yield* schedule(k, cpu, S, j);
          next = j;
          break;
        }
        // Nothing else can run: __schedule() keeps this task (and clears the flag).
        yield* __schedule(k, cpu, e.id);
        res = e.gen!.next(0);
        continue;
      }
      let r: number;
      try {
        r = yield op;
      } catch (err) {
        // A user access faulted: the task goes on in the fault handler, which then
        // retries the access (its steps go through this loop like the task's own).
        if (!(err instanceof PageFault)) throw err;
        e.gen = fault_and_retry(k, cpu, err, op, e.gen!);
        res = e.gen.next(0);
        continue;
      }
      if (r === PREEMPTED) {
        e.state = 'preempted';
        e.pending = op;
        e.resume = 'iret';
        next = S.switchedTo;
        break;
      }
      res = r === RSEQ_ABORTED ? e.gen!.throw(new RseqAbort()) : e.gen!.next(r);
    }
    switchedIn = true;
    if (next >= 0) {
      i = next;
      continue;
    }
    if (blocked) {
      // The CPU runs the idle task until a wakeup.
      i = yield* do_idle(k, cpu, S, (i + 1) % n);
      if (i < 0) return;
      continue;
    }
    e.state = 'done';
    S.running = false;
    if (e.shared) yield { k: 'st', loc: k.layout.taskOnCpu[e.id]!, val: ON_CPU_DONE, site: { fn: 'the task has ended: no CPU takes it again (p->on_cpu)' } };
    i = yield* do_idle(k, cpu, S, (i + 1) % n);
    if (i < 0) return;
  }
});
