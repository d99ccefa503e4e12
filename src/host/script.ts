// Operation scripts (docs/host.md): the language in which the real kernel and the
// model are given the same sequence of system calls. This module reads a script,
// checks it as a whole against the bounds, and gives each operation the thread,
// task and process it acts on, so that the model can replay it.

export const SCRIPT_OPS_MAX = 256;
/** The helper's own limit (src/host/helper.c SCRIPT_BYTES_MAX); a larger script is refused before it runs. */
export const SCRIPT_BYTES_MAX = 16 * 1024 * 1024;
export const SCRIPT_THREAD_MAX = 8; // threads 1..8 besides thread 0
export const SCRIPT_FORKS_MAX = 4;
export const SCRIPT_EXECS_MAX = 4;
/** Pages of the region of `mmap`. */
export const SCRIPT_PAGES_MAX = 512;

/** Protections of `mprotect` (PROT_NONE, PROT_READ, PROT_READ|PROT_WRITE). */
export type Prot = 'none' | 'r' | 'rw';
export const PROTS: readonly Prot[] = ['none', 'r', 'rw'];

/** The operations on the process's memory region (docs/host.md); the model does not run them yet. */
export const MEMORY_OPS = ['mmap', 'touch', 'madvise', 'mprotect', 'munmap'] as const;
export type MemoryOpName = (typeof MEMORY_OPS)[number];

export type ScriptOp =
  | { op: 'membarrier'; line: number; thread: number; cmd: number; flags: number; cpuId: number }
  | { op: 'spawn'; line: number; thread: number; spin: boolean; cpu: number }
  | { op: 'exit'; line: number; thread: number }
  | { op: 'join'; line: number; thread: number }
  | { op: 'affinity'; line: number; thread: number; cpu: number }
  | { op: 'fork'; line: number }
  | { op: 'exec'; line: number }
  | { op: 'mmap'; line: number; thread: number; pages: number }
  | { op: 'touch' | 'madvise' | 'munmap'; line: number; thread: number; first: number; count: number }
  | { op: 'mprotect'; line: number; thread: number; first: number; count: number; prot: Prot };

export type MemoryOp = Extract<ScriptOp, { op: MemoryOpName }>;

export function isMemoryOp(o: ScriptOp): o is MemoryOp {
  return (MEMORY_OPS as readonly string[]).includes(o.op);
}

export class ScriptError extends Error {
  constructor(readonly code: string, readonly line: number, message: string) {
    super(message);
  }

  format(file = 'script'): string {
    return `${file}:${this.line}: error[${this.code}] ${this.message}`;
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

function num(tok: string | undefined, what: string, lo: number, hi: number, line: number): number {
  if (tok === undefined) throw new ScriptError('HOST001', line, `missing ${what}`);
  if (!/^-?\d+$/.test(tok)) throw new ScriptError('HOST001', line, `${what} must be a decimal integer, not '${tok}'`);
  const v = Number(tok);
  if (v < lo || v > hi) throw new ScriptError('HOST002', line, `${what} ${tok} is out of range ${lo}..${hi}`);
  return v;
}

function threadNo(tok: string | undefined, line: number, min = 0): number {
  const n = num(tok, 'thread number', 0, INT32_MAX, line);
  if (n > SCRIPT_THREAD_MAX) throw new ScriptError('HOST005', line, `thread ${n}: a process has threads 0..${SCRIPT_THREAD_MAX}`);
  if (n < min) throw new ScriptError('HOST003', line, `thread ${n} cannot do this (thread 0 is the process's main thread)`);
  return n;
}

function cpuNo(tok: string | undefined, line: number, nrCpus: number): number {
  const c = num(tok, 'CPU', INT32_MIN, INT32_MAX, line);
  if (c < 0 || c >= nrCpus) throw new ScriptError('HOST004', line, `CPU ${c} is not online: this machine has CPUs 0..${nrCpus - 1}`);
  return c;
}

function arity(toks: string[], n: number, usage: string, line: number): void {
  if (toks.length !== n) throw new ScriptError('HOST001', line, `usage: ${usage}`);
}

/** The operations that take a thread prefix (tN). */
const PREFIXED = ['membarrier', ...MEMORY_OPS];

/** Parse one line (without its comment) into an operation, or null for a blank line. */
function parseLine(text: string, line: number, nrCpus: number): ScriptOp | null {
  const toks = text.trim().split(/\s+/).filter((t) => t !== '');
  if (toks.length === 0) return null;
  let thread = 0;
  if (/^t\d+$/.test(toks[0]!)) {
    thread = threadNo(toks.shift()!.slice(1), line);
    if (!PREFIXED.includes(toks[0]!)) throw new ScriptError('HOST001', line, "only membarrier, mmap, touch, madvise, mprotect and munmap take a thread prefix (tN)");
  }
  const op = toks[0];
  switch (op) {
    case 'membarrier':
      arity(toks, 4, '[tN] membarrier CMD FLAGS CPU', line);
      return {
        op, line, thread,
        cmd: num(toks[1], 'CMD', INT32_MIN, INT32_MAX, line),
        flags: num(toks[2], 'FLAGS', INT32_MIN, UINT32_MAX, line) >>> 0,
        cpuId: num(toks[3], 'CPU', INT32_MIN, INT32_MAX, line),
      };
    case 'spawn': {
      if (toks[2] === 'block') {
        arity(toks, 3, 'spawn N block | spawn N spin C', line);
        return { op, line, thread: threadNo(toks[1], line, 1), spin: false, cpu: -1 };
      }
      if (toks[2] === 'spin') {
        arity(toks, 4, 'spawn N block | spawn N spin C', line);
        return { op, line, thread: threadNo(toks[1], line, 1), spin: true, cpu: cpuNo(toks[3], line, nrCpus) };
      }
      throw new ScriptError('HOST001', line, 'usage: spawn N block | spawn N spin C');
    }
    case 'exit':
    case 'join':
      arity(toks, 2, `${op} N`, line);
      return { op, line, thread: threadNo(toks[1], line, 1) };
    case 'affinity':
      arity(toks, 3, 'affinity N C', line);
      return { op, line, thread: threadNo(toks[1], line), cpu: cpuNo(toks[2], line, nrCpus) };
    case 'fork':
    case 'exec':
      arity(toks, 1, op, line);
      return { op, line };
    case 'mmap': {
      arity(toks, 2, '[tN] mmap PAGES', line);
      const pages = num(toks[1], 'PAGES', 1, INT32_MAX, line);
      if (pages > SCRIPT_PAGES_MAX) throw new ScriptError('HOST005', line, `mmap of ${pages} pages: a region has at most ${SCRIPT_PAGES_MAX}`);
      return { op, line, thread, pages };
    }
    case 'touch':
    case 'madvise':
    case 'munmap':
      arity(toks, 3, `[tN] ${op} FIRST COUNT`, line);
      return { op, line, thread, first: num(toks[1], 'FIRST', 0, INT32_MAX, line), count: num(toks[2], 'COUNT', 1, INT32_MAX, line) };
    case 'mprotect': {
      arity(toks, 4, '[tN] mprotect FIRST COUNT none|r|rw', line);
      const first = num(toks[1], 'FIRST', 0, INT32_MAX, line);
      const count = num(toks[2], 'COUNT', 1, INT32_MAX, line);
      const prot = toks[3]!;
      if (!(PROTS as readonly string[]).includes(prot)) throw new ScriptError('HOST001', line, `PROT must be none, r or rw, not '${prot}'`);
      return { op, line, thread, first, count, prot: prot as Prot };
    }
    default:
      throw new ScriptError('HOST001', line, `unknown operation '${op}' (membarrier, spawn, exit, join, affinity, fork, exec, mmap, touch, madvise, mprotect, munmap)`);
  }
}

/** A thread's state while a script is checked: alive, or exited and not yet joined. */
type ThreadState = 'alive' | 'exited';

/**
 * Read and check a whole script (docs/host.md). Throws ScriptError for the first
 * problem, in line order, so a script either runs entirely or not at all.
 */
export function parseScript(text: string, nrCpus: number): ScriptOp[] {
  if (Buffer.byteLength(text, 'utf8') > SCRIPT_BYTES_MAX) {
    throw new ScriptError('HOST005', 1, `the script is larger than ${SCRIPT_BYTES_MAX} bytes (script_bytes_max)`);
  }
  const ops: ScriptOp[] = [];
  const threads = new Map<number, ThreadState>([[0, 'alive']]);
  let forks = 0;
  let execs = 0;
  // The region of `mmap`: each page unmapped (null) or mapped with a protection; null before any mmap.
  let region: (Prot | null)[] | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const op = parseLine(lines[i]!.replace(/#.*/, ''), line, nrCpus);
    if (!op) continue;
    if (ops.length === SCRIPT_OPS_MAX) throw new ScriptError('HOST005', line, `more than ${SCRIPT_OPS_MAX} operations`);
    const alive = (n: number): void => {
      const s = threads.get(n);
      if (s !== 'alive') throw new ScriptError('HOST003', line, `thread ${n} ${s === 'exited' ? 'has exited' : 'does not exist'}`);
    };
    /** The pages first..first+count-1, which must lie in the region. */
    const range = (o: { op: string; first: number; count: number }): number[] => {
      if (region === null) throw new ScriptError('HOST007', line, `${o.op} before any mmap: there is no region`);
      if (o.first + o.count > region.length) {
        throw new ScriptError('HOST007', line, `pages ${o.first}..${o.first + o.count - 1} are outside the region (pages 0..${region.length - 1})`);
      }
      return Array.from({ length: o.count }, (_, k) => o.first + k);
    };
    switch (op.op) {
      case 'membarrier':
      case 'affinity':
        alive(op.thread);
        break;
      case 'mmap':
        alive(op.thread);
        if (region !== null && region.some((p) => p !== null)) throw new ScriptError('HOST007', line, 'a region is already mapped: munmap all of it first');
        region = Array.from({ length: op.pages }, () => 'rw');
        break;
      case 'touch':
      case 'madvise':
      case 'mprotect':
      case 'munmap': {
        alive(op.thread);
        const pages = range(op);
        const r = region!;
        if (op.op === 'touch') {
          const bad = pages.find((p) => r[p] !== 'rw');
          if (bad !== undefined) throw new ScriptError('HOST007', line, `page ${bad} is ${r[bad] === null ? 'not mapped' : 'not writable'}: touch would fault`);
        } else if (op.op !== 'munmap') {
          const bad = pages.find((p) => r[p] === null);
          if (bad !== undefined) throw new ScriptError('HOST007', line, `page ${bad} is not mapped`);
        }
        if (op.op === 'mprotect') for (const p of pages) r[p] = op.prot;
        if (op.op === 'munmap') for (const p of pages) r[p] = null;
        break;
      }
      case 'spawn':
        if (threads.has(op.thread)) throw new ScriptError('HOST003', line, `thread ${op.thread} already exists`);
        threads.set(op.thread, 'alive');
        break;
      case 'exit':
        alive(op.thread);
        threads.set(op.thread, 'exited');
        break;
      case 'join':
        if (!threads.has(op.thread)) throw new ScriptError('HOST003', line, `thread ${op.thread} does not exist`);
        if (threads.get(op.thread) !== 'exited') throw new ScriptError('HOST006', line, `join of thread ${op.thread}, which has not exited (it would wait forever)`);
        threads.delete(op.thread);
        break;
      case 'fork':
      case 'exec':
        if (op.op === 'fork' && ++forks > SCRIPT_FORKS_MAX) throw new ScriptError('HOST005', line, `more than ${SCRIPT_FORKS_MAX} fork operations`);
        if (op.op === 'exec' && ++execs > SCRIPT_EXECS_MAX) throw new ScriptError('HOST005', line, `more than ${SCRIPT_EXECS_MAX} exec operations`);
        for (const n of [...threads.keys()]) if (n !== 0) threads.delete(n);
        if (op.op === 'exec') region = null; // the new image has no region; a forked child keeps a copy
        break;
    }
    ops.push(op);
  }
  return ops;
}

/** The text of a script (the inverse of parseScript, one operation per line). */
export function formatScript(ops: readonly ScriptOp[]): string {
  return ops.map(formatOp).join('\n') + '\n';
}

/** The text of one operation, as parseScript reads it. */
export function formatOp(o: ScriptOp): string {
  switch (o.op) {
    case 'membarrier': return `${o.thread ? `t${o.thread} ` : ''}membarrier ${o.cmd} ${o.flags} ${o.cpuId}`;
    case 'spawn': return o.spin ? `spawn ${o.thread} spin ${o.cpu}` : `spawn ${o.thread} block`;
    case 'exit': case 'join': return `${o.op} ${o.thread}`;
    case 'affinity': return `affinity ${o.thread} ${o.cpu}`;
    case 'mmap': return `${o.thread ? `t${o.thread} ` : ''}mmap ${o.pages}`;
    case 'touch': case 'madvise': case 'munmap': return `${o.thread ? `t${o.thread} ` : ''}${o.op} ${o.first} ${o.count}`;
    case 'mprotect': return `${o.thread ? `t${o.thread} ` : ''}mprotect ${o.first} ${o.count} ${o.prot}`;
    default: return o.op;
  }
}
