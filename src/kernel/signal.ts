// Models: kernel/signal.c, the part that matters for restartable sequences (v6.18):
// sending a signal to a thread (tgkill() -> do_send_sig_info() -> send_signal_locked()
// -> complete_signal() -> signal_wake_up()) and its delivery on the way back to user
// mode (exit_to_user_mode_loop() -> arch_do_signal_or_restart() -> handle_signal()
// -> rseq_signal_deliver()). The signal's handler is one that does nothing: what the
// model keeps is that delivery restarts an rseq critical section in progress.
// Leaves out: signal numbers, masks and queues (one pending flag per thread), waking
// a sleeping thread, group-wide signals, the handler's code and sigreturn.

import type { CpuCode, Op } from '../machine/ops.js';
import type { Kernel } from './kernel.js';
import { RESCHEDULE_VECTOR } from './kernel.js';
import { kfunc } from './dispatch.js';

/**
 * tgkill(tgid, tid, sig) for task `t` (running on CPU `target`), called on `cpu`:
 * under sighand->siglock (a locked op), signal_wake_up() sets TIF_SIGPENDING and
 * kick_process() sends the target's CPU the reschedule IPI, so that it goes through
 * its exit-to-user work soon.
 */
export const do_send_sig_info = kfunc(function* do_send_sig_info(k: Kernel, cpu: number, t: number, name: string, target: number): CpuCode {
  const L = k.layout;
  yield* k.note(`tgkill(${name}): send_signal_locked()`);
  yield { k: 'rmw', loc: L.taskSiglock[t]!, f: () => 1, site: { fn: 'spin_lock_irqsave(&sighand->siglock)' }, order: 'acquire' };
  yield { k: 'st', loc: L.taskSigpending[t]!, val: 1, site: { fn: 'signal_wake_up(): set_tsk_thread_flag(t, TIF_SIGPENDING)' } };
  if (target !== cpu) yield { k: 'raise', cpu: target, vector: RESCHEDULE_VECTOR, site: { fn: 'kick_process(): smp_send_reschedule' } };
  yield { k: 'st', loc: L.taskSiglock[t]!, val: 0, site: { fn: 'spin_unlock_irqrestore(&sighand->siglock)' }, order: 'release' };
});

/**
 * exit_to_user_mode_loop()'s TIF_SIGPENDING work for `task`: the signal is dequeued
 * and delivered (handle_signal(), which calls rseq_signal_deliver()). Returns whether
 * one was delivered: the caller restarts an rseq critical section in progress.
 */
export const arch_do_signal_or_restart = kfunc(function* arch_do_signal_or_restart(k: Kernel, task: number): Generator<Op, boolean, number> {
  const loc = k.layout.taskSigpending[task];
  if (loc === undefined) return false;
  if ((yield { k: 'ld', loc, site: { fn: 'exit_to_user_mode_loop(): TIF_SIGPENDING' } }) === 0) return false;
  yield { k: 'st', loc, val: 0, site: { fn: 'arch_do_signal_or_restart(): get_signal() dequeues it' } };
  yield* k.note('handle_signal(): rseq_signal_deliver(), then the (empty) handler');
  return true;
});
