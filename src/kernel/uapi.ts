// Models: include/uapi/linux/membarrier.h and include/linux/sched/mm.h (v6.18):
// the membarrier commands, the command flag, the mm registration-state bits and
// the errno values the system call returns.

export const MEMBARRIER_CMD_QUERY = 0;
export const MEMBARRIER_CMD_GLOBAL = 1 << 0;
export const MEMBARRIER_CMD_GLOBAL_EXPEDITED = 1 << 1;
export const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 1 << 2;
export const MEMBARRIER_CMD_PRIVATE_EXPEDITED = 1 << 3;
export const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;
export const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 1 << 5;
export const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 1 << 6;
export const MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 1 << 7;
export const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 1 << 8;
export const MEMBARRIER_CMD_GET_REGISTRATIONS = 1 << 9;
/** The pre-4.16 name of MEMBARRIER_CMD_GLOBAL, kept by the header. */
export const MEMBARRIER_CMD_SHARED = MEMBARRIER_CMD_GLOBAL;

export const MEMBARRIER_CMD_FLAG_CPU = 1 << 0;

export const MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY = 1 << 0;
export const MEMBARRIER_STATE_PRIVATE_EXPEDITED = 1 << 1;
export const MEMBARRIER_STATE_GLOBAL_EXPEDITED_READY = 1 << 2;
export const MEMBARRIER_STATE_GLOBAL_EXPEDITED = 1 << 3;
export const MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY = 1 << 4;
export const MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE = 1 << 5;
export const MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ_READY = 1 << 6;
export const MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ = 1 << 7;

/** kernel/sched/membarrier.c internal flags between the dispatch and the workers. */
export const MEMBARRIER_FLAG_SYNC_CORE = 1 << 0;
export const MEMBARRIER_FLAG_RSEQ = 1 << 1;

export const EPERM = 1;
export const ENOMEM = 12;
export const EINVAL = 22;
export const EFAULT = 14;
/** include/uapi/asm-generic/mman-common.h */
export const MADV_DONTNEED = 4;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const ENOSYS = 38;
/** EAGAIN, also EWOULDBLOCK: futex_wait() when the word does not hold the expected value. */
export const EAGAIN = 11;
export const EWOULDBLOCK = EAGAIN;

/** Names a scenario may use as integer constants (membarrier(MEMBARRIER_CMD_QUERY, 0, 0), -EINVAL). */
export const UAPI_CONSTANTS: Readonly<Record<string, number>> = {
  MEMBARRIER_CMD_QUERY,
  MEMBARRIER_CMD_GLOBAL,
  MEMBARRIER_CMD_SHARED,
  MEMBARRIER_CMD_GLOBAL_EXPEDITED,
  MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
  MEMBARRIER_CMD_PRIVATE_EXPEDITED,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
  MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
  MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
  MEMBARRIER_CMD_GET_REGISTRATIONS,
  MEMBARRIER_CMD_FLAG_CPU,
  EPERM,
  ENOMEM,
  EINVAL,
  ENOSYS,
  EFAULT,
  EAGAIN,
  EWOULDBLOCK,
  MADV_DONTNEED,
  PROT_READ,
  PROT_WRITE,
};
