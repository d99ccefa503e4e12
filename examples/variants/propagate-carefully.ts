// A variant module: the November 2020 proposal "membarrier: Propagate SYNC_CORE
// and RSEQ actions more carefully" as far as scenario B is concerned: run the
// IPI function on the calling CPU too (on_each_cpu_mask() for every flavour)
// and drop membarrier's final smp_mb() (c), relying on the caller's own run of
// ipi_mb() instead. Run it with:
//   smpcheck check scenarios/membarrier/membarrier-B.litmus --variant examples/variants/propagate-carefully.ts
// Only membarrier_private_expedited() changes; everything else is v6.18.

import type { VariantModule } from 'smpcheck';
import * as K from 'smpcheck';

const patch: VariantModule = {
  name: 'propagate-carefully',
  description: "Nov 2020 proposal: the caller's CPU runs the IPI function too, and the final smp_mb() (c) is dropped",
  overrides: {
    *membarrier_private_expedited(k: K.Kernel, cpu: number, flags: number, cpuId: number) {
      const L = k.layout;
      const mm = k.currentMm(cpu);
      const state: number = yield* k.READ_ONCE(L.mmMembarrierState[mm]!, 'atomic_read(&mm->membarrier_state)');
      if (flags === K.MEMBARRIER_FLAG_SYNC_CORE && !(state & K.MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY)) return -K.EPERM;
      if (flags === K.MEMBARRIER_FLAG_RSEQ && !(state & K.MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ_READY)) return -K.EPERM;
      if (flags === 0 && !(state & K.MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY)) return -K.EPERM;
      const func = flags === K.MEMBARRIER_FLAG_SYNC_CORE ? 'ipi_sync_core' : flags === K.MEMBARRIER_FLAG_RSEQ ? 'ipi_rseq' : 'ipi_mb';
      yield* k.smp_mb('membarrier.a', 'switch_mm.cr3/mmdrop');
      yield* k.mutex_lock(L.membarrierIpiMutex, cpu);
      const mask: number[] = [];
      for (let c = 0; c < k.config.nrCpus; c++) {
        const p: number = yield* k.READ_ONCE(L.rqCurr[c]!, 'rcu_dereference(rq->curr)');
        if (p === 0) continue;
        const pm: number = yield* k.READ_ONCE(L.taskMm[p]!, 'p->mm');
        if (pm === mm) mask.push(c);
      }
      // The change: the calling CPU runs the function too, for every flavour ...
      yield* K.on_each_cpu_mask(k, K.MEMBARRIER_IPI_HANDLERS, cpu, mask, func, 0);
      // ... and there is no smp_mb() (c) here.
      yield* k.mutex_unlock(L.membarrierIpiMutex);
      return 0;
    },
  },
};

export default patch;
