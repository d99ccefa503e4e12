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

export type ScriptOp =
  | { op: 'membarrier'; line: number; thread: number; cmd: number; flags: number; cpuId: number }
  | { op: 'spawn'; line: number; thread: number; spin: boolean; cpu: number }
  | { op: 'exit'; line: number; thread: number }
  | { op: 'join'; line: number; thread: number }
  | { op: 'affinity'; line: number; thread: number; cpu: number }
  | { op: 'fork'; line: number }
  | { op: 'exec'; line: number };

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

/** Parse one line (without its comment) into an operation, or null for a blank line. */
function parseLine(text: string, line: number, nrCpus: number): ScriptOp | null {
  const toks = text.trim().split(/\s+/).filter((t) => t !== '');
  if (toks.length === 0) return null;
  let thread = 0;
  if (/^t\d+$/.test(toks[0]!)) {
    thread = threadNo(toks.shift()!.slice(1), line);
    if (toks[0] !== 'membarrier') throw new ScriptError('HOST001', line, "only 'membarrier' takes a thread prefix (tN)");
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
    default:
      throw new ScriptError('HOST001', line, `unknown operation '${op}' (membarrier, spawn, exit, join, affinity, fork, exec)`);
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
    switch (op.op) {
      case 'membarrier':
      case 'affinity':
        alive(op.thread);
        break;
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
        break;
    }
    ops.push(op);
  }
  return ops;
}

/** The text of a script (the inverse of parseScript, one operation per line). */
export function formatScript(ops: readonly ScriptOp[]): string {
  return ops.map((o) => {
    switch (o.op) {
      case 'membarrier': return `${o.thread ? `t${o.thread} ` : ''}membarrier ${o.cmd} ${o.flags} ${o.cpuId}`;
      case 'spawn': return o.spin ? `spawn ${o.thread} spin ${o.cpu}` : `spawn ${o.thread} block`;
      case 'exit': case 'join': return `${o.op} ${o.thread}`;
      case 'affinity': return `affinity ${o.thread} ${o.cpu}`;
      default: return o.op;
    }
  }).join('\n') + '\n';
}
