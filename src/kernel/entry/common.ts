// Models: kernel/entry/common.c (v6.18): the work done on the way out of the
// kernel. syscall_exit_to_user_mode() and irqentry_exit() call schedule() when
// need_resched() is set (exit_to_user_mode_loop(); under preempt=full also
// preempt_schedule_irq() on an interrupt's return to preemptible kernel code),
// deliver a pending signal, and handle the rseq event of a task in a critical
// section (rseq_handle_notify_resume()). The idtentry() wrapper is the
// DEFINE_IDTENTRY_SYSVEC pattern of arch/x86/include/asm/idtentry.h around every
// interrupt handler: irqentry_enter(), the handler, irqentry_exit(), then IRET.
// Leaves out: context tracking, RCU's irq entry hooks, lockdep and tracing, and the
// other TIF work (uprobes, livepatch, audit).

import type { CpuCode, HandlerCode, Op } from '../../machine/ops.js';
import { PREEMPTED, RSEQ_ABORTED } from '../../machine/machine.js';
import { KTHREAD } from '../../scenario/directives.js';
import type { Kernel } from '../kernel.js';
import type { CpuSched } from '../sched/runqueue.js';
import { pick_next_task, schedule } from '../sched/core.js';
import { arch_do_signal_or_restart } from '../signal.js';
import { iret } from '../arch/x86/entry/entry_64.js';
import { kfunc } from '../dispatch.js';

/** Kernel code on `cpu`: while it runs, the task is in kernel mode (not preempted by a tick unless preempt=full). */
export function* kernelMode<T>(k: Kernel, cpu: number, g: Generator<Op, T, number>): Generator<Op, T, number> {
  k.kernelDepth[cpu]!++;
  const r = yield* g;
  k.kernelDepth[cpu]!--;
  return r;
}

/**
 * syscall_exit_to_user_mode(): exit_to_user_mode_loop() calls schedule() when
 * need_resched() is set (a marker op the CPU's task loop takes: it switches tasks
 * there, see cpu_startup_entry()), then delivers a pending signal.
 */
export const syscall_exit_to_user_mode = kfunc(function* syscall_exit_to_user_mode(k: Kernel, cpu: number): CpuCode {
  if (k.preemptible(cpu) && (yield* k.need_resched(cpu, 'syscall_exit_to_user_mode(): need_resched()'))) {
    yield { k: 'nop', resched: true, site: { fn: 'syscall_exit_to_user_mode(): schedule()' } };
  }
  yield* arch_do_signal_or_restart(k, k.current(cpu));
});

/**
 * irqentry_exit() after a handler on `cpu`. Going back to user mode, or under
 * preempt=full to preemptible kernel code (preempt_schedule_irq()), with
 * need_resched() set, the CPU switches to the next runnable task: it returns
 * PREEMPTED and the interrupted task goes back later, through this interrupt's
 * IRET, while the task switched to returns its own way (SYSRET from its system
 * call, say). Otherwise a task in an rseq critical section with an rseq event or a
 * signal pending goes to its abort handler (RSEQ_ABORTED). Returns undefined when
 * the interrupted task simply resumes.
 */
export const irqentry_exit = kfunc(function* irqentry_exit(k: Kernel, cpu: number, S: CpuSched): Generator<Op, number | undefined, number> {
  const e = S.entries[S.cur];
  if (!e || !S.running) return undefined;
  const toUser = k.kernelDepth[cpu] === 0 && e.t !== KTHREAD && k.layout.taskMms[e.id - 1] !== 0 && k.mmOf(e.id) !== 0;
  if ((toUser || k.preemptModel === 'full') && k.preemptible(cpu) && (yield* k.need_resched(cpu))) {
    const j = yield* pick_next_task(k, cpu, S, 'take');
    if (j >= 0) {
      yield* k.note(toUser ? 'irqentry_exit_to_user_mode(): need_resched: schedule()' : 'irqentry_exit(): preempt_schedule_irq()');
      k.counters.irq_resched[cpu]!++;
      e.state = 'preempted';
      e.resume = 'iret';
      S.switchedTo = j;
      yield* schedule(k, cpu, S, j);
      return PREEMPTED;
    }
  }
  const signal = toUser ? yield* arch_do_signal_or_restart(k, e.id) : false;
  if (toUser && k.rseqCs.has(e.id) && (k.rseqEvent.has(e.id) || signal)) {
    yield* k.note(`${signal ? 'rseq_signal_deliver()' : 'rseq_handle_notify_resume()'}: in a critical section, restart at its abort handler`);
    yield* iret(k);
    return RSEQ_ABORTED;
  }
  return undefined;
});

/**
 * An interrupt on `cpu` (the DEFINE_IDTENTRY_SYSVEC wrapper): in_irq() while the
 * handler runs, then irqentry_exit(), then IRET unless the exit switched tasks or
 * already returned to an rseq abort handler.
 */
export const idtentry = kfunc(function* idtentry(k: Kernel, cpu: number, S: CpuSched, handler: HandlerCode): HandlerCode {
  k.inIrq[cpu]!++;
  const r = yield* handler;
  k.inIrq[cpu]!--;
  const exit = yield* irqentry_exit(k, cpu, S);
  if (exit !== undefined) return exit;
  yield* iret(k);
  return r;
});
