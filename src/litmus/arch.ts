// The kernel's mapping of its barrier primitives onto each machine.
// Models: arch/x86/include/asm/barrier.h (v6.18): smp_mb() is a full fence
// (a locked op on the stack or MFENCE); smp_rmb()/smp_wmb() are barrier() on
// x86-64 because TSO already orders load->load and store->store;
// smp_mb__before_atomic()/smp_mb__after_atomic() are barrier() because x86's
// atomics are locked and thus already full barriers. Acquire loads and release
// stores are plain MOVs (smp_load_acquire/smp_store_release). Every atomic
// read-modify-write, whatever its ordering suffix, is a LOCK-prefixed
// instruction and so a full barrier on x86.

import type { Fence } from '../scenario/ast.js';
import type { ModelName } from '../machine/machine.js';

/** Each barrier primitive on each machine: built once, read at every fence a thread runs. */
const FENCE_OPS = {
  x86: {
    mb: 'mb', rmb: 'nop', wmb: 'nop', barrier: 'nop', mb__before_atomic: 'nop', mb__after_atomic: 'nop',
    // RCU in a litmus thread is refused on the machines (checkScenario(): SMP103) before anything runs.
    rcu_read_lock: 'nop', rcu_read_unlock: 'nop', synchronize_rcu: 'nop',
    // So are the spinlock barriers (spinlocks are modelled on --model lkmm only).
    mb__after_spinlock: 'nop', mb__after_unlock_lock: 'nop', mb__after_srcu_read_unlock: 'nop',
  },
  // Under sequential consistency every barrier is a no-op; smp_mb is kept as a
  // fence step so traces read the same on both machines.
  sc: {
    mb: 'mb', rmb: 'nop', wmb: 'nop', barrier: 'nop', mb__before_atomic: 'nop', mb__after_atomic: 'nop',
    rcu_read_lock: 'nop', rcu_read_unlock: 'nop', synchronize_rcu: 'nop', mb__after_spinlock: 'nop', mb__after_unlock_lock: 'nop', mb__after_srcu_read_unlock: 'nop',
  },
} as const satisfies Record<ModelName, Record<Fence, 'mb' | 'nop'>>;

export function fenceOp(model: ModelName, f: Fence): 'mb' | 'nop' {
  return FENCE_OPS[model][f];
}
