// Models: kernel/sched/core.c __schedule(), context_switch(), finish_task_switch()
// and kernel/sched/sched.h membarrier_switch_mm() (v6.18), on x86 with
// CONFIG_MMU_LAZY_TLB_REFCOUNT. Only what membarrier depends on is modelled: the
// runqueue lock, the store to rq->curr and the barriers around it, the lazy-TLB
// hand-over of active_mm to and from kernel threads, the runqueue copy of the
// membarrier state, and the mm reference drop that supplies the barrier after
// rq->curr on a kernel-thread -> user switch.
// Also try_to_wake_up() for a task asleep in a system call, and the
// TIF_NEED_RESCHED flag it and the tick set.
// Also pick_next_task() over the model's runqueue (runqueue.ts: the scenario's
// `cpu N runs ...` order decides the next task), schedule() and scheduler_tick().
// Leaves out: scheduling classes and load balancing (a task placed on several CPUs
// moves by the idle pull of do_idle()), the task state machine beyond
// asleep/runnable, accounting, RCU and rseq hooks, core scheduling.

import type { CpuCode, HandlerCode, Op } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { ON_CPU_DONE, ON_CPU_PINNED } from '../kernel.js';
import type { CpuSched, SchedEntry } from './runqueue.js';
import { enter_lazy_tlb, switch_mm_irqs_off } from '../arch/x86/mm/tlb.js';
import { mmdrop_lazy_tlb, mmgrab } from './mm.js';
import { membarrier_mm_sync_core_before_usermode } from '../arch/x86/sync_core.js';
import { RESCHEDULE_VECTOR } from '../kernel.js';
import { kfunc } from '../dispatch.js';
import { switch_mm } from '../arch/arm64/mm/context.js';
import { __switch_to } from '../arch/arm64/kernel/process.js';

/** Models: kernel/sched/sched.h membarrier_switch_mm() (v6.18). */
export const membarrier_switch_mm = kfunc(function* membarrier_switch_mm(k: Kernel, cpu: number, prevMm: number, nextMm: number): CpuCode {
  // A switch within one mm keeps the runqueue's copy as it is, even when it is stale
  // (registered while another CPU lazily held the mm); the design variant
  // switch-mm-syncs-same-mm drops this return.
  if (prevMm === nextMm && !k.variant.removed.has('membarrier_switch_mm.same_mm_return')) return;
  if (k.variant.removed.has('rq.membarrier_state')) return; // pre-227a4aadc75b: no runqueue copy
  const L = k.layout;
  const state = yield* k.READ_ONCE(L.mmMembarrierState[nextMm]!, 'atomic_read(&next_mm->membarrier_state)');
  const rqState = yield* k.READ_ONCE(L.rqMembarrierState[cpu]!, 'READ_ONCE(rq->membarrier_state)');
  if (rqState === state) return;
  yield* k.WRITE_ONCE(L.rqMembarrierState[cpu]!, state, 'WRITE_ONCE(rq->membarrier_state)');
});

/** Models: finish_task_switch(prev) (v6.18). */
export const finish_task_switch = kfunc(function* finish_task_switch(k: Kernel, cpu: number): CpuCode {
  const mm = k.prevMm[cpu]!;
  k.prevMm[cpu] = 0;
  // finish_lock_switch(): raw_spin_rq_unlock_irq(): a release store, then IRQs on.
  yield { k: 'st', loc: k.layout.rqLock[cpu]!, val: 0, site: { fn: 'raw_spin_rq_unlock' }, order: 'release' };
  yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
  if (mm) {
    // Design sync-core-in-switch-mm: the core sync moved to switch_mm_irqs_off().
    // (CONFIG_ARCH_HAS_SYNC_CORE_BEFORE_USERMODE is x86's: arm64 returns to user mode by ERET.)
    if (!k.variant.removed.has('finish_task_switch.sync_core') && k.layout.config.arch !== 'arm64') yield* membarrier_mm_sync_core_before_usermode(k, cpu, mm);
    yield* mmdrop_lazy_tlb(k, mm, 'mmdrop', 'mmdrop_lazy_tlb_sched');
  }
});

/** Models: context_switch(rq, prev, next) (v6.18), then switch_to() and finish_task_switch(). */
export const context_switch = kfunc(function* context_switch(k: Kernel, cpu: number, prev: number, next: number): CpuCode {
  const prevMm = k.mmOf(prev);
  const nextMm = k.mmOf(next);
  const prevActive = k.activeMm[cpu]!;
  const arm64 = k.layout.config.arch === 'arm64';
  if (nextMm === 0) {
    // To a kernel thread: borrow prev's mm lazily (arm64's enter_lazy_tlb() only
    // points the saved TTBR0 at the zero page: no step).
    if (!arm64) yield* enter_lazy_tlb(k, cpu);
    k.activeMm[cpu] = prevActive;
    if (prevMm) yield* mmgrab(k, prevActive, 'mmgrab_lazy_tlb');
  } else {
    // To user.
    yield* membarrier_switch_mm(k, cpu, prevActive, nextMm);
    if (arm64) yield* switch_mm(k, cpu, prevActive, nextMm);
    else yield* switch_mm_irqs_off(k, cpu, prevActive, nextMm, !prevMm);
    k.activeMm[cpu] = nextMm;
    if (!prevMm) k.prevMm[cpu] = prevActive; // will mmdrop_lazy_tlb() in finish_task_switch()
  }
  if (arm64) yield* __switch_to(k, cpu);
  else yield* k.note('switch_to');
  k.counters.switches[cpu]!++;
  k.curr[cpu] = next;
  yield* finish_task_switch(k, cpu);
});

/**
 * Models: __schedule() (v6.18) when the current task gives up the CPU and
 * `next` is picked: IRQs off, rq_lock() (a locked op on x86, so a full
 * barrier) and smp_mb__after_spinlock() (barrier() on x86): the full barrier
 * after user-space accesses and before storing rq->curr (scenario C, barrier d).
 */
export const __schedule = kfunc(function* __schedule(k: Kernel, cpu: number, next: number, clearResched = true): CpuCode {
  const L = k.layout;
  const prev = k.curr[cpu]!;
  yield { k: 'irq', enable: false, site: { fn: 'local_irq_disable' } };
  yield { k: 'rmw', loc: L.rqLock[cpu]!, f: () => 1, site: { fn: 'rq_lock' }, order: 'acquire' };
  if (!k.variant.removed.has('sched.before_rq_curr')) {
    // barrier() on x86 (the lock's locked instruction is the barrier); smp_mb() on arm64.
    yield { k: 'nop', site: { fn: 'smp_mb__after_spinlock', label: 'sched.before_rq_curr', pairs: 'membarrier.c' }, arm64: ['dmb.full'] };
  }
  // clear_tsk_need_resched(prev); clear_preempt_need_resched(). Not when the CPU goes
  // idle: the idle loop polls the flag, and a wakeup may already have set it.
  if (clearResched) {
    k.needReschedLocal[cpu] = false;
    const loc = L.needResched[cpu];
    if (loc !== undefined) yield { k: 'st', loc, val: 0, site: { fn: 'clear_tsk_need_resched(prev)' } };
  }
  if (prev === next) {
    yield { k: 'st', loc: L.rqLock[cpu]!, val: 0, site: { fn: 'raw_spin_rq_unlock' }, order: 'release' };
    yield { k: 'irq', enable: true, site: { fn: 'local_irq_enable' } };
    return;
  }
  // RCU_INIT_POINTER(rq->curr, next): the membarrier scan reads it without the lock.
  yield { k: 'st', loc: L.rqCurr[cpu]!, val: next, site: { fn: 'RCU_INIT_POINTER(rq->curr, next)' } };
  yield* context_switch(k, cpu, prev, next);
});

/**
 * Models: try_to_wake_up(p) (v6.18) for task p asleep in a system call, woken by a
 * task on `cpu` (futex_wake(), say): p->pi_lock (a locked op, and with
 * smp_mb__after_spinlock() a full barrier), ttwu_do_activate() makes p runnable on
 * its CPU `target`, and wakeup_preempt() asks that CPU to reschedule: resched_curr()
 * sets TIF_NEED_RESCHED and, for another CPU, sends the reschedule IPI. The model
 * always asks (the woken task preempts at the CPU's next chance: an interrupt's or a
 * system call's exit); the wakelist path (TTWU_QUEUE) is left out.
 */
export const try_to_wake_up = kfunc(function* try_to_wake_up(k: Kernel, cpu: number, p: number, name: string, target: number): CpuCode {
  const L = k.layout;
  yield* k.note(`try_to_wake_up(${name})`);
  yield { k: 'rmw', loc: L.taskPiLock[p]!, f: () => 1, site: { fn: 'raw_spin_lock_irqsave(&p->pi_lock)' } };
  yield { k: 'st', loc: L.taskWoken[p]!, val: 1, site: { fn: 'ttwu_do_activate(): p->__state = TASK_RUNNING' } };
  yield { k: 'st', loc: L.needResched[target]!, val: 1, site: { fn: `resched_curr(): set_tsk_need_resched(cpu${target}'s current)` } };
  if (target !== cpu) yield { k: 'raise', cpu: target, vector: RESCHEDULE_VECTOR, site: { fn: 'smp_send_reschedule' } };
  yield { k: 'st', loc: L.taskPiLock[p]!, val: 0, site: { fn: 'raw_spin_unlock_irqrestore(&p->pi_lock)' } };
});

// ---- choosing and switching tasks --------------------------------------------------------

/**
 * Can entry x run now on `cpu`? A `sleep` task once this CPU reads its wakeup from
 * memory (`take`); a child of fork()/clone() only in the list's order (do_idle());
 * a shared task (placed on several CPUs) when its p->on_cpu says it is free for this
 * CPU: `peek` reads it, `take` takes the task with a cmpxchg (and the caller switches to it).
 */
export function* taskRunnable(k: Kernel, cpu: number, S: CpuSched, x: SchedEntry, mode: 'peek' | 'take'): Generator<Op, boolean, number> {
  if (x.shared) {
    if (S.doneShared.has(x)) return false;
    const loc = k.layout.taskOnCpu[x.id]!;
    const free = (v: number): boolean => v === 0 || v === ON_CPU_PINNED + cpu;
    // A load first: only a task seen free is taken (a locked cmpxchg, which can still fail).
    let v = yield { k: 'ld', loc, site: { fn: 'p->on_cpu' } };
    if (mode === 'take' && free(v)) {
      v = yield { k: 'rmw', loc, f: (old) => (free(old) ? cpu + 1 : undefined), site: { fn: 'pick_next_task(): take the task (p->on_cpu)' } };
    }
    if (v === ON_CPU_DONE) S.doneShared.add(x);
    return free(v);
  }
  if (x.state === 'preempted') return true;
  if (x.state !== 'new') return false;
  if (x.start === 'run') return true;
  if (x.start === 'sleep' && !x.woken && mode === 'take') {
    x.woken = (yield { k: 'ld', loc: k.layout.taskWoken[x.id]!, site: { fn: 'pick_next_task(): p->__state' } }) === 1;
  }
  return x.start === 'sleep' && x.woken;
}

/**
 * Models: pick_next_task() (v6.18) when the current task is preempted: the next
 * runnable entry after it, in the list's cyclic order; -1 if none. A task that may
 * migrate is a candidate when it is free for this CPU (its p->on_cpu says so).
 * Leaves out: scheduling classes and weights (the scenario's order decides).
 */
export const pick_next_task = kfunc(function* pick_next_task(k: Kernel, cpu: number, S: CpuSched, mode: 'peek' | 'take'): Generator<Op, number, number> {
  const n = S.entries.length;
  for (let d = 1; d < n; d++) {
    const j = (S.cur + d) % n;
    if (yield* taskRunnable(k, cpu, S, S.entries[j]!, mode)) return j;
  }
  return -1;
});

/**
 * Models: schedule() (v6.18) on `cpu` to entry j (-1: the idle task): keep the
 * CPU-local kernel state of a task that is switched out, __schedule() with
 * preemption off, then restore the next task's state. A task that may migrate is
 * released (p->on_cpu) unless it was preempted in the kernel, where it stays.
 */
export const schedule = kfunc(function* schedule(k: Kernel, cpu: number, S: CpuSched, j: number, clearResched = true): CpuCode {
  const prev = S.running ? S.entries[S.cur] : undefined;
  S.running = false;
  if (prev?.state === 'preempted') {
    prev.kernelDepth = k.kernelDepth[cpu]!;
    prev.preemptCount = k.preemptCount[cpu]!;
    prev.sleepLocks = k.sleepLocks[cpu]!;
  }
  k.kernelDepth[cpu] = 1;
  k.preemptCount[cpu] = 1;
  k.sleepLocks[cpu] = 0;
  yield* __schedule(k, cpu, j < 0 ? 0 : S.entries[j]!.id, clearResched);
  if (prev?.shared && prev.state === 'preempted') {
    // finish_task_switch(): prev->on_cpu = 0; preempted in the kernel, it stays on this CPU.
    const val = prev.kernelDepth > 0 ? ON_CPU_PINNED + cpu : 0;
    yield { k: 'st', loc: k.layout.taskOnCpu[prev.id]!, val, site: { fn: 'finish_task_switch(): smp_store_release(&prev->on_cpu, 0)' } };
  }
  if (j < 0) return;
  const e = S.entries[j]!;
  const back = e.state === 'preempted';
  k.kernelDepth[cpu] = back ? e.kernelDepth : 0;
  k.preemptCount[cpu] = back ? e.preemptCount : 0;
  k.sleepLocks[cpu] = back ? e.sleepLocks : 0;
  S.cur = j;
  S.running = true;
});

/**
 * Models: scheduler_tick() (v6.18), from the timer interrupt: another task is
 * runnable on this CPU, so ask for a reschedule (resched_curr(): this CPU's own
 * TIF_NEED_RESCHED); irqentry_exit() acts on it. A child of fork()/clone() not yet
 * started and a task still asleep are not candidates.
 */
export const scheduler_tick = kfunc(function* scheduler_tick(k: Kernel, cpu: number, S: CpuSched): HandlerCode {
  yield { k: 'nop', site: { fn: 'timer interrupt: scheduler_tick()' } };
  if (!S.running) return;
  if ((yield* pick_next_task(k, cpu, S, 'peek')) < 0) return;
  k.needReschedLocal[cpu] = true;
});

/** Models: scheduler_ipi() (v6.18), the reschedule IPI: nothing to do here; its irqentry_exit() reschedules. */
export const scheduler_ipi = kfunc(function* scheduler_ipi(k: Kernel): HandlerCode {
  yield* k.note('scheduler_ipi()');
});
