// Models: mm/madvise.c (v6.18) madvise(MADV_DONTNEED) on one page of the calling
// process: madvise_dontneed_single_vma() -> zap_page_range_single(). The page's
// next access faults and finds a fresh zero-filled page. Thread 004's benchmark
// runs this in a loop.
// Leaves out: the other advice values (EINVAL), ranges of several pages, the
// mmap_lock, and userfaultfd.

import type { Op } from '../../machine/ops.js';
import type { Kernel } from '../kernel.js';
import { EINVAL, MADV_DONTNEED } from '../uapi.js';
import { kfunc } from '../dispatch.js';
import { zap_page_range_single } from './memory.js';

/** Models: SYSCALL_DEFINE3(madvise) (v6.18) for page vpn: 0, or -EINVAL for advice other than MADV_DONTNEED. */
export const sys_madvise = kfunc(function* sys_madvise(k: Kernel, cpu: number, vpn: number, advice: number): Generator<Op, number, number> {
  yield* k.note(`madvise(page ${vpn}, ${advice === MADV_DONTNEED ? 'MADV_DONTNEED' : advice})`);
  if (advice !== MADV_DONTNEED) return -EINVAL;
  yield* zap_page_range_single(k, cpu, k.currentMm(cpu), vpn);
  return 0;
});
