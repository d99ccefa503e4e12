// Models: arch/x86/entry/entry_64.S, the ways back to user mode (v6.18): IRET (the
// return from an interrupt, ret_from_fork's return, and the system call's slow
// path), which is core-serialising on x86 and drains the store buffer; and SYSRET
// (the system call's fast path), which is neither. Each is one step of the CPU.
// Leaves out: PTI's CR3 switch on the way out (the model runs without PTI), the
// register restore, and the checks that choose between the two system-call returns
// (a scenario chooses with `config syscall_exit=...;`).

import type { CpuCode } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { kfunc } from '../../../dispatch.js';

/** IRET: serialising (the CPU refetches its code and waits for its store buffer). `why` names the return. */
export const iret = kfunc(function* iret(k: Kernel, why = 'IRET'): CpuCode {
  // arm64 (the kernel model on the graph engine) returns from an exception by ERET, a
  // context synchronisation event: the same op, an ISB there (src/graph/mapping.ts).
  yield { k: 'serialize', site: { fn: k.config.arch === 'arm64' ? why.replace('IRET', 'ERET') : why } };
});

/**
 * The system call's return to user mode: SYSRET (not serialising; shown as a step
 * only in scenarios that run code, where it is what lets stale code run) or, with
 * `config syscall_exit=iret;`, IRET.
 */
export const syscall_return = kfunc(function* syscall_return(k: Kernel): CpuCode {
  // arm64 (the kernel model on the graph engine) returns by ERET: a context synchronisation event.
  if (k.config.arch === 'arm64') yield { k: 'nop', site: { fn: 'ERET' }, arm64: ['isb'] };
  else if (k.config.syscallExit === 'iret') yield* iret(k, 'IRET (system call return, slow path)');
  else if (k.config.showSysret) yield { k: 'nop', site: { fn: 'SYSRET' } };
});

/** ret_from_fork: a new child's first return to user mode, by IRET. */
export const ret_from_fork = kfunc(function* ret_from_fork(k: Kernel): CpuCode {
  yield* iret(k, 'ret_from_fork: IRET');
});
