// Models: kernel/sched/membarrier.c (v6.18, with 944d5fe50f3f's membarrier_ipi_mutex).
// Every function keeps its kernel name; barriers carry the labels of the ordering
// scenarios at the top of membarrier.c: 'membarrier.a' (the first smp_mb) and
// 'membarrier.c' (the last), 'ipi_mb' (the IPI-side barrier).
// Leaves out (this release): the scheduler side (no context switch, so
// rq->curr never changes and no scheduler barrier is exercised), kernel threads,
// exit, exec and fork; zalloc_cpumask_var() never fails (no -ENOMEM);
// cpus_read_lock() and rcu_read_lock() are no-ops (no CPU hotplug, nothing freed);
// synchronize_rcu() is modelled by its grace-period guarantee (see below);
// sync_core_before_usermode() and rseq_preempt() are visible steps without effect
// (core serialisation and rseq come with their own model).

import type { CpuCode, Op } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { mm_deref } from './mm.js';
import { sync_core_before_usermode } from '../arch/x86/sync_core.js';
import {
  on_each_cpu_mask, smp_call_function_many, smp_call_function_single, type IpiHandlers,
} from '../smp.js';
import {
  EINVAL, EPERM, MEMBARRIER_CMD_FLAG_CPU, MEMBARRIER_CMD_GET_REGISTRATIONS, MEMBARRIER_CMD_GLOBAL,
  MEMBARRIER_CMD_GLOBAL_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
  MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, MEMBARRIER_FLAG_RSEQ, MEMBARRIER_FLAG_SYNC_CORE,
  MEMBARRIER_STATE_GLOBAL_EXPEDITED, MEMBARRIER_STATE_GLOBAL_EXPEDITED_READY, MEMBARRIER_STATE_PRIVATE_EXPEDITED,
  MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY, MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ,
  MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ_READY, MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE,
  MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY,
} from '../uapi.js';
import { kfunc } from '../dispatch.js';

type Ret = Generator<Op, number, number>;

const CMD_NAMES: Record<number, string> = {
  [MEMBARRIER_CMD_QUERY]: 'MEMBARRIER_CMD_QUERY',
  [MEMBARRIER_CMD_GLOBAL]: 'MEMBARRIER_CMD_GLOBAL',
  [MEMBARRIER_CMD_GLOBAL_EXPEDITED]: 'MEMBARRIER_CMD_GLOBAL_EXPEDITED',
  [MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED]: 'MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED',
  [MEMBARRIER_CMD_PRIVATE_EXPEDITED]: 'MEMBARRIER_CMD_PRIVATE_EXPEDITED',
  [MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED]: 'MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED',
  [MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE]: 'MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE',
  [MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE]: 'MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE',
  [MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ]: 'MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ',
  [MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ]: 'MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ',
  [MEMBARRIER_CMD_GET_REGISTRATIONS]: 'MEMBARRIER_CMD_GET_REGISTRATIONS',
};

const cmdName = (cmd: number): string => CMD_NAMES[cmd] ?? String(cmd);

/**
 * Models: MEMBARRIER_CMD_BITMASK (v6.18): every command but QUERY, per configuration.
 * pre-809232619f5b: the RSEQ sub-mask was misnamed and never OR-ed in (5.10 to 5.16);
 * pre-544a4f2ecd45: no GET_REGISTRATIONS; pre-a961e40917fb: no REGISTER_PRIVATE_EXPEDITED.
 */
export function membarrierCmdBitmask(k: Kernel): number {
  let mask = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED;
  if (!k.variant.removed.has('private_expedited.registration')) mask |= MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
  if (!k.variant.removed.has('cmd.get_registrations')) mask |= MEMBARRIER_CMD_GET_REGISTRATIONS;
  if (k.config.archHasMembarrierSyncCore) {
    mask |= MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
  }
  if (k.config.configRseq && !k.variant.removed.has('query.rseq_bits')) {
    mask |= MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ;
  }
  return mask;
}

/** Models: ipi_mb() (v6.18). */
export const ipi_mb = kfunc(function* ipi_mb(k: Kernel): CpuCode {
  yield* k.smp_mb('ipi_mb', 'membarrier.a/membarrier.c'); // IPIs should be serializing but paranoid.
});

/**
 * Models: ipi_sync_core() (v6.18, 758c9373d841): an explicit barrier, then the core
 * sync, which on x86 is done here (the return from the IPI may not come before the
 * CPU runs user code again: IRQ exit can switch to another task, which then
 * returns by SYSRET).
 */
export const ipi_sync_core = kfunc(function* ipi_sync_core(k: Kernel, cpu = -1): CpuCode {
  yield* k.smp_mb('ipi_sync_core', 'membarrier.a/membarrier.c');
  // CONFIG_ARCH_HAS_SYNC_CORE_BEFORE_USERMODE is x86's: on arm64 include/linux/sync_core.h
  // makes sync_core_before_usermode() empty, and the context synchronisation is the ERET
  // back to user mode (Documentation/features/sched/membarrier-sync-core/arch-support.txt).
  if (k.config.arch === 'arm64') return;
  yield* sync_core_before_usermode(k, cpu);
});

/**
 * Models: ipi_rseq() (v6.18): a barrier, then rseq_preempt(current), which flags an
 * rseq event so that the return to user mode restarts a critical section in progress.
 */
export const ipi_rseq = kfunc(function* ipi_rseq(k: Kernel, cpu = -1): CpuCode {
  yield* k.smp_mb('ipi_rseq', 'membarrier.a/membarrier.c');
  yield* k.note('rseq_preempt(current)');
  if (cpu >= 0 && k.current(cpu) !== 0) k.rseqEvent.add(k.current(cpu));
});

/** Models: ipi_sync_rq_state() (v6.18): copy the mm's state to this CPU's runqueue if it runs the mm. */
export const ipi_sync_rq_state = kfunc(function* ipi_sync_rq_state(k: Kernel, cpu: number, mm: number): CpuCode {
  const L = k.layout;
  if (k.current(cpu) === 0) return;
  const curMm = yield* k.READ_ONCE(L.taskMm[k.current(cpu)]!, 'current->mm');
  if (curMm !== mm) return;
  const state = yield* k.READ_ONCE(L.mmMembarrierState[mm]!, 'atomic_read');
  yield* k.WRITE_ONCE(L.rqMembarrierState[cpu]!, state, 'this_cpu_write');
  yield* k.smp_mb('ipi_sync_rq_state', 'registration');
});

export const MEMBARRIER_IPI_HANDLERS: IpiHandlers = {
  ipi_mb: (k) => ipi_mb(k),
  ipi_sync_core: (k, cpu) => ipi_sync_core(k, cpu),
  ipi_rseq: (k, cpu) => ipi_rseq(k, cpu),
  ipi_sync_rq_state: (k, cpu, info) => ipi_sync_rq_state(k, cpu, info),
  rcu_quiescent_state: (k) => k.smp_mb('synchronize_rcu.qs', 'synchronize_rcu.entry/synchronize_rcu.exit', 'rcu_qs'),
};

/** CPUs whose rq->curr runs a task of mm (read without locks, like the kernel). */
function* cpusRunningMm(k: Kernel, mm: number): Generator<Op, number[], number> {
  const L = k.layout;
  const mask: number[] = [];
  for (let c = 0; c < k.config.nrCpus; c++) {
    const p = yield* k.READ_ONCE(L.rqCurr[c]!, 'rcu_dereference(rq->curr)');
    if (p === 0) continue;
    const pm = yield* k.READ_ONCE(L.taskMm[p]!, 'p->mm');
    if (pm === mm) mask.push(c);
  }
  return mask;
}

/**
 * Models: synchronize_rcu() by its grace-period guarantee: when it returns, every
 * other CPU has passed through a quiescent state, which orders everything it did
 * before with everything the caller does after. Modelled as a barrier on each
 * other CPU, requested and waited for like smp_call_function_many(), with the
 * caller's own barriers around it. The request runs `rcu_quiescent_state`, the
 * model's stand-in for the CPU's quiescent state, not a membarrier handler: the
 * `no-ipi-mb` mutant leaves it alone and `cpuN:ipi_mb` does not count it.
 */
export const synchronize_rcu = kfunc(function* synchronize_rcu(k: Kernel, cpu: number): CpuCode {
  yield* k.smp_mb('synchronize_rcu.entry');
  const others: number[] = [];
  for (let c = 0; c < k.config.nrCpus; c++) if (c !== cpu) others.push(c);
  k.preempt_disable(cpu);
  yield* smp_call_function_many(k, MEMBARRIER_IPI_HANDLERS, cpu, others, 'rcu_quiescent_state', 0);
  yield* k.preempt_enable_resched(cpu);
  yield* k.smp_mb('synchronize_rcu.exit');
});

/**
 * Models: SERIALIZE_IPI() (v6.18, 944d5fe50f3f): guard(mutex)(&membarrier_ipi_mutex)
 * around every IPI round, so that callers cannot hammer the machine with
 * concurrent rounds. pre-944d5fe50f3f: no mutex; there the model checks what the
 * mutex would promise, with a counter of rounds in flight (plain accesses: a
 * check, not a barrier) that must be 0 on entry, so overlapping rounds are a
 * named kernel assertion. With the mutex the check is left out: the mutex is a
 * cmpxchg lock the engine explores like any other, and the check's accesses would
 * only add steps to every trace.
 */
export const serialize_ipi_enter = kfunc(function* serialize_ipi_enter(k: Kernel, cpu: number): CpuCode {
  const L = k.layout;
  if (!k.variant.removed.has('membarrier_ipi_mutex')) {
    yield* k.mutex_lock(L.membarrierIpiMutex, cpu);
    return;
  }
  const inFlight = yield* k.READ_ONCE(L.membarrierIpiRounds, 'check: IPI rounds in flight');
  k.WARN_ON(inFlight !== 0, 'two membarrier IPI rounds at once (SERIALIZE_IPI() broken)');
  yield* k.WRITE_ONCE(L.membarrierIpiRounds, inFlight + 1, 'check: IPI rounds in flight');
});

export const serialize_ipi_exit = kfunc(function* serialize_ipi_exit(k: Kernel, cpu: number): CpuCode {
  const L = k.layout;
  if (!k.variant.removed.has('membarrier_ipi_mutex')) {
    yield* k.mutex_unlock(L.membarrierIpiMutex, cpu);
    return;
  }
  const inFlight = yield* k.READ_ONCE(L.membarrierIpiRounds, 'check: IPI rounds in flight');
  yield* k.WRITE_ONCE(L.membarrierIpiRounds, inFlight - 1, 'check: IPI rounds in flight');
});

/** Models: membarrier_update_current_mm(next_mm) (v6.18): keep this runqueue's copy of the state in step. */
export const membarrier_update_current_mm = kfunc(function* membarrier_update_current_mm(k: Kernel, cpu: number, nextMm: number): CpuCode {
  if (k.variant.removed.has('rq.membarrier_state')) return; // pre-227a4aadc75b: no runqueue copy
  const L = k.layout;
  const state = nextMm ? yield* k.READ_ONCE(L.mmMembarrierState[nextMm]!, 'atomic_read(&next_mm->membarrier_state)') : 0;
  const rqState = yield* k.READ_ONCE(L.rqMembarrierState[cpu]!, 'READ_ONCE(rq->membarrier_state)');
  if (rqState === state) return;
  yield* k.WRITE_ONCE(L.rqMembarrierState[cpu]!, state, 'WRITE_ONCE(rq->membarrier_state)');
});

/** Models: membarrier_global_expedited() (v6.18). */
export const membarrier_global_expedited = kfunc(function* membarrier_global_expedited(k: Kernel, cpu: number): Ret {
  const L = k.layout;
  if (k.config.nrCpus === 1) return 0;
  yield* k.smp_mb('membarrier.a', 'switch_mm.cr3/mmdrop'); // system call entry is not a mb.
  yield* serialize_ipi_enter(k, cpu); // SERIALIZE_IPI()
  const mask: number[] = [];
  for (let c = 0; c < k.config.nrCpus; c++) {
    if (c === cpu) continue;
    if (k.variant.removed.has('rq.membarrier_state')) {
      // pre-227a4aadc75b: `p = task_rcu_dereference(&cpu_rq(cpu)->curr); if (p && p->mm &&
      // (atomic_read(&p->mm->membarrier_state) & MEMBARRIER_STATE_GLOBAL_EXPEDITED))`:
      // RCU keeps the task, not its mm, which its last thread's exit may free meanwhile.
      const p = yield* k.READ_ONCE(L.rqCurr[c]!, 'task_rcu_dereference(&rq->curr)');
      const pm = p === 0 ? 0 : yield* k.READ_ONCE(L.taskMm[p]!, 'p->mm');
      if (pm === 0) continue;
      yield* mm_deref(k, pm, `membarrier_global_expedited(): p->mm->membarrier_state of CPU ${c}'s task`);
      const st = yield* k.READ_ONCE(L.mmMembarrierState[pm]!, 'atomic_read(&p->mm->membarrier_state)');
      if (st & MEMBARRIER_STATE_GLOBAL_EXPEDITED) mask.push(c);
      continue;
    }
    const state = yield* k.READ_ONCE(L.rqMembarrierState[c]!, 'READ_ONCE(rq->membarrier_state)');
    if ((state & MEMBARRIER_STATE_GLOBAL_EXPEDITED) === 0) continue;
    const p = yield* k.READ_ONCE(L.rqCurr[c]!, 'rcu_dereference(rq->curr)');
    // pre-618758ed3a4f: `if (p->flags & PF_KTHREAD) continue;` (task flags never change here).
    if (k.variant.removed.has('global_expedited.kthread_mm') && p !== 0 && L.taskMms[p - 1] === 0) continue;
    const pm = p === 0 ? 0 : yield* k.READ_ONCE(L.taskMm[p]!, 'p->mm');
    if (pm === 0) continue;
    mask.push(c);
  }
  if (!k.variant.removed.has('membarrier.ipi')) {
    k.preempt_disable(cpu);
    yield* smp_call_function_many(k, MEMBARRIER_IPI_HANDLERS, cpu, mask, 'ipi_mb', 0);
    yield* k.preempt_enable_resched(cpu);
  }
  yield* k.smp_mb('membarrier.c', 'sched.before_rq_curr'); // exit from system call is not a mb
  yield* serialize_ipi_exit(k, cpu);
  return 0;
});

/** Models: membarrier_private_expedited(flags, cpu_id) (v6.18). */
export const membarrier_private_expedited = kfunc(function* membarrier_private_expedited(k: Kernel, cpu: number, flags: number, cpuId: number): Ret {
  const L = k.layout;
  const mm = k.currentMm(cpu);
  let ipiFunc: 'ipi_mb' | 'ipi_sync_core' | 'ipi_rseq' = 'ipi_mb';
  const state = yield* k.READ_ONCE(L.mmMembarrierState[mm]!, 'atomic_read(&mm->membarrier_state)');
  if (flags === MEMBARRIER_FLAG_SYNC_CORE) {
    if (!k.config.archHasMembarrierSyncCore) return -EINVAL;
    // Design sync-core-unregistered: the command works without a registration.
    if ((state & MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY) === 0 && !k.variant.removed.has('sync_core.registration')) return -EPERM;
    // pre-758c9373d841: SYNC_CORE sent ipi_mb and relied on the IPI's return (IRET) to serialise.
    ipiFunc = k.variant.removed.has('sync_core.ipi_sync_core') ? 'ipi_mb' : 'ipi_sync_core';
  } else if (flags === MEMBARRIER_FLAG_RSEQ) {
    if (!k.config.configRseq) return -EINVAL;
    if ((state & MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ_READY) === 0) return -EPERM;
    ipiFunc = 'ipi_rseq';
  } else if ((state & MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY) === 0 && !k.variant.removed.has('private_expedited.registration')) {
    return -EPERM; // pre-a961e40917fb: no registration needed (nor possible)
  }
  // pre-e45cdc71d1fa: SYNC_CORE took the single-user shortcut too.
  if (flags !== MEMBARRIER_FLAG_SYNC_CORE || k.variant.removed.has('sync_core.caller')) {
    // pre-c6d68c1c4a4d: only the one-CPU shortcut, not the single-user one.
    const users = k.variant.removed.has('private_expedited.single_user') ? 0
      : yield* k.READ_ONCE_ctrl(L.mmUsers[mm]!, 'atomic_read(&mm->mm_users)');
    if (users === 1 || k.config.nrCpus === 1) return 0;
  }
  yield* k.smp_mb('membarrier.a', 'switch_mm.cr3/mmdrop'); // system call entry is not a mb.
  // post-89976cd73739: a targeted command serialises on its target's mutex
  // (SERIALIZE_IPI_CPU(cpu_id)), after returning at once for an impossible CPU.
  const perCpu = cpuId >= 0 && k.variant.removed.has('serialize_ipi.global_for_targeted');
  if (perCpu) {
    if (cpuId >= k.config.nrCpus) return 0;
    yield* k.mutex_lock(L.membarrierCpuMutex[cpuId]!, cpu);
  } else {
    yield* serialize_ipi_enter(k, cpu); // SERIALIZE_IPI()
  }
  if (k.variant.removed.has('membarrier.ipi')) {
    // Mutant: no CPU is interrupted.
  } else if (cpuId >= 0) {
    if (cpuId < k.config.nrCpus) {
      const p = yield* k.READ_ONCE(L.rqCurr[cpuId]!, 'rcu_dereference(rq->curr)');
      const pm = p === 0 ? 0 : yield* k.READ_ONCE(L.taskMm[p]!, 'p->mm');
      if (p !== 0 && pm === mm) yield* smp_call_function_single(k, MEMBARRIER_IPI_HANDLERS, cpu, cpuId, ipiFunc, 0);
    }
  } else {
    const mask = yield* cpusRunningMm(k, mm);
    // pre-e45cdc71d1fa: SYNC_CORE, like the others, left out the calling CPU.
    if (flags !== MEMBARRIER_FLAG_SYNC_CORE || k.variant.removed.has('sync_core.caller')) {
      // pre-541676078b52: called with preemption enabled (4.14, 4.15-rc).
      const pre541 = k.variant.removed.has('private_expedited.preempt_disable');
      if (!pre541) k.preempt_disable(cpu);
      yield* smp_call_function_many(k, MEMBARRIER_IPI_HANDLERS, cpu, mask, ipiFunc, 0);
      if (!pre541) yield* k.preempt_enable_resched(cpu);
    } else {
      yield* on_each_cpu_mask(k, MEMBARRIER_IPI_HANDLERS, cpu, mask, ipiFunc, 0);
    }
  }
  yield* k.smp_mb('membarrier.c', 'sched.before_rq_curr'); // exit from system call is not a mb
  if (perCpu) yield* k.mutex_unlock(L.membarrierCpuMutex[cpuId]!, cpu);
  else yield* serialize_ipi_exit(k, cpu);
  return 0;
});

/** Models: sync_runqueues_membarrier_state(mm) (v6.18). */
export const sync_runqueues_membarrier_state = kfunc(function* sync_runqueues_membarrier_state(k: Kernel, cpu: number, mm: number): Ret {
  const L = k.layout;
  if (k.variant.removed.has('rq.membarrier_state')) {
    // pre-227a4aadc75b: no runqueue copy to update; a registration of a process with
    // other users waits for every CPU to pass through the scheduler (synchronize_sched()).
    const users = yield* k.READ_ONCE_ctrl(L.mmUsers[mm]!, 'atomic_read(&mm->mm_users)');
    if (users !== 1 && k.config.nrCpus !== 1) yield* synchronize_rcu(k, cpu);
    return 0;
  }
  const state = yield* k.READ_ONCE(L.mmMembarrierState[mm]!, 'atomic_read(&mm->membarrier_state)');
  const users = yield* k.READ_ONCE_ctrl(L.mmUsers[mm]!, 'atomic_read(&mm->mm_users)');
  if (users === 1 || k.config.nrCpus === 1) {
    yield* k.WRITE_ONCE(L.rqMembarrierState[cpu]!, state, 'this_cpu_write');
    yield* k.smp_mb('sync_runqueues_membarrier_state', 'registration');
    return 0;
  }
  yield* synchronize_rcu(k, cpu);
  yield* serialize_ipi_enter(k, cpu); // SERIALIZE_IPI()
  const mask = yield* cpusRunningMm(k, mm);
  yield* on_each_cpu_mask(k, MEMBARRIER_IPI_HANDLERS, cpu, mask, 'ipi_sync_rq_state', mm);
  yield* serialize_ipi_exit(k, cpu);
  return 0;
});

/** Models: membarrier_register_global_expedited() (v6.18). */
export const membarrier_register_global_expedited = kfunc(function* membarrier_register_global_expedited(k: Kernel, cpu: number): Ret {
  const L = k.layout;
  const mm = k.currentMm(cpu);
  const state = yield* k.READ_ONCE(L.mmMembarrierState[mm]!, 'atomic_read(&mm->membarrier_state)');
  if (state & MEMBARRIER_STATE_GLOBAL_EXPEDITED_READY) return 0;
  yield* k.atomic_or(L.mmMembarrierState[mm]!, MEMBARRIER_STATE_GLOBAL_EXPEDITED);
  const ret = yield* sync_runqueues_membarrier_state(k, cpu, mm);
  if (ret) return ret;
  yield* k.atomic_or(L.mmMembarrierState[mm]!, MEMBARRIER_STATE_GLOBAL_EXPEDITED_READY);
  return 0;
});

/** Models: membarrier_register_private_expedited(flags) (v6.18). */
export const membarrier_register_private_expedited = kfunc(function* membarrier_register_private_expedited(k: Kernel, cpu: number, flags: number): Ret {
  const L = k.layout;
  const mm = k.currentMm(cpu);
  let readyState = MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY;
  let setState = MEMBARRIER_STATE_PRIVATE_EXPEDITED;
  if (flags === MEMBARRIER_FLAG_SYNC_CORE) {
    if (!k.config.archHasMembarrierSyncCore) return -EINVAL;
    readyState = MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY;
  } else if (flags === MEMBARRIER_FLAG_RSEQ) {
    if (!k.config.configRseq) return -EINVAL;
    readyState = MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ_READY;
  }
  const state = yield* k.READ_ONCE(L.mmMembarrierState[mm]!, 'atomic_read(&mm->membarrier_state)');
  if ((state & readyState) === readyState) return 0;
  if (flags & MEMBARRIER_FLAG_SYNC_CORE) setState |= MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE;
  if (flags & MEMBARRIER_FLAG_RSEQ) setState |= MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ;
  yield* k.atomic_or(L.mmMembarrierState[mm]!, setState);
  const ret = yield* sync_runqueues_membarrier_state(k, cpu, mm);
  if (ret) return ret;
  yield* k.atomic_or(L.mmMembarrierState[mm]!, readyState);
  return 0;
});

/** Models: membarrier_get_registrations() (v6.18). */
export const membarrier_get_registrations = kfunc(function* membarrier_get_registrations(k: Kernel, cpu: number): Ret {
  let state = yield* k.READ_ONCE(k.layout.mmMembarrierState[k.currentMm(cpu)]!, 'atomic_read(&mm->membarrier_state)');
  const pairs: [number, number][] = [
    [MEMBARRIER_STATE_GLOBAL_EXPEDITED | MEMBARRIER_STATE_GLOBAL_EXPEDITED_READY, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED],
    [MEMBARRIER_STATE_PRIVATE_EXPEDITED | MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED],
    [MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE | MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE],
    [MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ | MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ_READY, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ],
  ];
  let mask = 0;
  for (const [bits, cmd] of pairs) {
    if (state & bits) {
      mask |= cmd;
      state &= ~bits;
    }
  }
  k.WARN_ON(state !== 0, 'WARN_ON_ONCE(membarrier_state != 0) in membarrier_get_registrations()');
  return mask;
});

/** Models: SYSCALL_DEFINE3(membarrier, int cmd, unsigned int flags, int cpu_id) (v6.18). */
export const sys_membarrier = kfunc(function* sys_membarrier(k: Kernel, cpu: number, cmd: number, flags: number, cpuId: number): Ret {
  yield* k.note(`membarrier(${cmdName(cmd)}, ${flags}, ${cpuId})`);
  if (cmd === MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) {
    if (flags && flags !== MEMBARRIER_CMD_FLAG_CPU) return -EINVAL;
  } else if (flags) {
    return -EINVAL;
  }
  if (!(flags & MEMBARRIER_CMD_FLAG_CPU)) cpuId = -1;
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY: {
      let mask = membarrierCmdBitmask(k);
      if (k.config.nohzFull) mask &= ~MEMBARRIER_CMD_GLOBAL;
      return mask;
    }
    case MEMBARRIER_CMD_GLOBAL:
      if (k.config.nohzFull) return -EINVAL;
      if (k.config.nrCpus > 1) yield* synchronize_rcu(k, cpu);
      return 0;
    case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
      return yield* membarrier_global_expedited(k, cpu);
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
      return yield* membarrier_register_global_expedited(k, cpu);
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
      return yield* membarrier_private_expedited(k, cpu, 0, cpuId);
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
      if (k.variant.removed.has('private_expedited.registration')) return -EINVAL; // an unknown command before 4.14
      return yield* membarrier_register_private_expedited(k, cpu, 0);
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
      return yield* membarrier_private_expedited(k, cpu, MEMBARRIER_FLAG_SYNC_CORE, cpuId);
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
      return yield* membarrier_register_private_expedited(k, cpu, MEMBARRIER_FLAG_SYNC_CORE);
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
      return yield* membarrier_private_expedited(k, cpu, MEMBARRIER_FLAG_RSEQ, cpuId);
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
      return yield* membarrier_register_private_expedited(k, cpu, MEMBARRIER_FLAG_RSEQ);
    case MEMBARRIER_CMD_GET_REGISTRATIONS:
      if (k.variant.removed.has('cmd.get_registrations')) return -EINVAL; // an unknown command before 6.3
      return yield* membarrier_get_registrations(k, cpu);
    default:
      return -EINVAL;
  }
});
