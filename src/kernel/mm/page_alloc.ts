// Models: mm/page_alloc.c as the TLB scenarios need it (v6.18): a page frame is
// taken from the free frames and given back, and a new anonymous page is cleared
// (clear_user_highpage()). The free frames are one bitmap word, the lowest free
// frame is taken first, so a frame freed after a flush is the next one reused: a
// CPU that still translates to it then reads or writes another mapping's data.
// Leaves out: zones, orders, per-CPU lists and their LIFO order, watermarks and
// reclaim (running out of frames ends the run: a bound of the model).

import type { CpuCode, Op } from '../../machine/ops.js';
import { BoundExceeded } from '../../machine/machine.js';
import type { Kernel } from '../kernel.js';
import { kfunc } from '../dispatch.js';

/** Models: alloc_page(GFP_HIGHUSER_MOVABLE) (v6.18): a free frame, or the run ends (frames are a bound). */
export const alloc_page = kfunc(function* alloc_page(k: Kernel): Generator<Op, number, number> {
  const loc = k.layout.tlb!.freeFrames;
  const old = yield { k: 'rmw', loc, f: (v) => (v === 0 ? undefined : v & (v - 1)), site: { fn: 'alloc_page' } };
  if (old === 0) throw new BoundExceeded(`the scenario's page frames ran out (frames_max = ${k.layout.tlb!.frame.length})`);
  return 31 - Math.clz32(old & -old);
});

/** Models: free_page() (v6.18): the frame goes back to the free frames. */
export const free_page = kfunc(function* free_page(k: Kernel, pfn: number): CpuCode {
  yield { k: 'rmw', loc: k.layout.tlb!.freeFrames, f: (v) => v | (1 << pfn), frameFree: pfn, site: { fn: `free_page(frame ${pfn})` } };
});

/** Models: clear_user_highpage() (v6.18): the new page's data is zeroed (a store, through the store buffer). */
export const clear_user_highpage = kfunc(function* clear_user_highpage(k: Kernel, pfn: number): CpuCode {
  yield* k.WRITE_ONCE(k.layout.tlb!.frame[pfn]!, 0, 'clear_user_highpage');
});
