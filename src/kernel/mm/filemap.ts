// Models: mm/filemap.c (v6.18) folio_lock() / folio_trylock() / folio_unlock() for
// the scenario's pages: PG_locked of the page's folio, a sleeping lock (the waiter
// sleeps on the folio's wait queue; here it waits as one step, and may not be
// preempted meanwhile, as with the model's other sleeping locks).

import type { CpuCode, Op } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { kfunc } from '../dispatch.js';

/** Models: folio_lock() (v6.18): might_sleep(), then take PG_locked, waiting while another task holds it. */
export const folio_lock = kfunc(function* folio_lock(k: Kernel, cpu: number, vpn: number): CpuCode {
  const loc = k.layout.tlb!.folioLock[vpn]!;
  yield* k.reschedPoint(cpu, ['voluntary'], 'folio_lock(): might_sleep(): cond_resched()');
  for (;;) {
    yield* k.smp_cond_load_acquire(loc, (v) => v === 0, 'folio_lock(): folio_wait_bit()');
    if ((yield* k.cmpxchg(loc, 0, cpu + 1, 'folio_lock(): test_and_set_bit_lock(PG_locked)')) === 0) break;
  }
  k.sleepLocks[cpu]!++;
});

/** Models: folio_trylock() (v6.18): PG_locked if free; true when taken. */
export const folio_trylock = kfunc(function* folio_trylock(k: Kernel, cpu: number, vpn: number): Generator<Op, boolean, number> {
  const ok = (yield* k.cmpxchg(k.layout.tlb!.folioLock[vpn]!, 0, cpu + 1, 'folio_trylock(): test_and_set_bit_lock(PG_locked)')) === 0;
  if (ok) k.sleepLocks[cpu]!++;
  return ok;
});

/** Models: folio_unlock() (v6.18): clear PG_locked (a release; a locked op on x86) and wake the waiters. */
export const folio_unlock = kfunc(function* folio_unlock(k: Kernel, cpu: number, vpn: number): CpuCode {
  yield* k.xchg(k.layout.tlb!.folioLock[vpn]!, 0, 'folio_unlock(): clear_bit_unlock_is_negative_byte(PG_locked)');
  k.sleepLocks[cpu]!--;
});
