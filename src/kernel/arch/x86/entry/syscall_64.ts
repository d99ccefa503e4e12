// Models: arch/x86/entry/syscall_64.c do_syscall_64() (v6.18): a system call on
// `cpu` is kernel code between the entry and syscall_exit_to_user_mode(), then
// the return to user mode (entry_64.ts).
// Leaves out: the system-call table (the caller passes the kernel function to run),
// audit, tracing and seccomp.

import type { Op } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { syscall_exit_to_user_mode } from '../../../entry/common.js';
import { syscall_return } from './entry_64.js';
import { kfunc } from '../../../dispatch.js';

/** do_syscall_64(): run the call's kernel code `g`, then the exit work and the return. */
export const do_syscall_64 = kfunc(function* do_syscall_64<T>(k: Kernel, cpu: number, g: Generator<Op, T, number>): Generator<Op, T, number> {
  k.kernelDepth[cpu]!++;
  const r = yield* g;
  yield* syscall_exit_to_user_mode(k, cpu);
  yield* syscall_return(k);
  k.kernelDepth[cpu]!--;
  return r;
});
