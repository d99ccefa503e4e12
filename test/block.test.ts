// Blocking and waking in the kernel model: futex_wait()/futex_wake() (kernel/futex/)
// and pipe_read()/pipe_write() (fs/pipe.c) through __schedule()'s block and
// try_to_wake_up(), checked through the library API. The expected states are
// derived from the kernel's rules in each test's comment, not copied from a run.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkScenario, checkSource, observedLabel } from '../src/check.js';
import { parseScenario } from '../src/scenario/parser.js';
import { EAGAIN } from '../src/kernel/uapi.js';
import { PIPE_BUFFERS } from '../src/kernel/kernel.js';
import { read, ROOT } from './helpers.js';

const scenario = (name: string): ReturnType<typeof parseScenario> => {
  const rel = join('scenarios/sched', name);
  return parseScenario(read(join(ROOT, rel)), rel);
};

/** The final states as strings ('0:r0=-11; 1:r1=0'), sorted. */
function states(r: ReturnType<typeof checkScenario>, names: readonly string[]): string[] {
  return r.result.outcomes.map((o) => o.values.map((v, i) => `${names[i]}=${v}`).join('; ')).sort();
}

test('futex_wait()/futex_wake(): on v6.18 no wakeup is lost, on sc and x86', () => {
  const sc = scenario('futex-lost-wakeup.litmus');
  for (const model of ['sc', 'x86'] as const) {
    const r = checkScenario(sc, { model });
    assert.equal(r.result.complete, true);
    // Every execution ends: the waiter is never left asleep.
    assert.equal(r.result.deadlocks, 0, model);
    // Either the waiter read the new value under hb->lock (-EAGAIN) and the waker,
    // finding no queued futex_q, woke nobody; or it was queued and the waker woke it
    // (returns 0, one woken). A waiter woken by a waker that woke nobody is impossible,
    // and so is -EAGAIN with one woken (futex_unqueue() rechecks q->lock_ptr under the
    // lock, so a waker finishing its unqueue is not mistaken for a spurious wakeup).
    assert.deepEqual(states(r, ['0:r0', '1:r1']), [`0:r0=${-EAGAIN}; 1:r1=0`, '0:r0=0; 1:r1=1']);
    assert.equal(observedLabel(r), 'Never');
  }
});

test('futex mutants: without barrier (B) the waiter sleeps forever on x86 only; without the value check on sc too', () => {
  const sc = scenario('futex-lost-wakeup.litmus');
  const deadlocks = (variant: string, model: 'sc' | 'x86'): number => checkScenario(sc, { model, variant }).result.deadlocks;
  // (B) orders the waker's store to the futex word before its read of hb->waiters: on
  // sc every access is in order anyway; on x86 the store can wait in the store buffer.
  assert.equal(deadlocks('no-futex-mb-b', 'sc'), 0);
  assert.ok(deadlocks('no-futex-mb-b', 'x86') > 0);
  // Queueing without reading the word: the waker may change it and look at the chain
  // before the waiter is on it (counted in hb->waiters and spinning on hb->lock, or not
  // counted yet), on any machine.
  assert.ok(deadlocks('no-futex-value-check', 'sc') > 0);
  assert.ok(deadlocks('no-futex-value-check', 'x86') > 0);
});

test('futex: the waiter really blocks, CPU0 idles, and try_to_wake_up() brings it back', () => {
  const r = checkScenario(scenario('futex-witness-sleep.litmus'), { model: 'x86' });
  // blocks=1, wakeups=1, switches=2 (P0 -> idle -> P0), futex_wait() returns 0.
  assert.equal(observedLabel(r), 'Sometimes');
});

test('futex: waiter and waker on one CPU: the waiter blocks, the waker runs, wakes it, and it returns 0', () => {
  // P0 runs first and waits (the word is 0): it blocks and CPU0 switches to P1, which
  // stores 1 and wakes P0 (one woken); P0 runs again when P1's system call exits.
  const src = `C t\n{ f=0; }\nsmpcheck { cpu 0 runs P0 P1; }\nP0(int *f) { int r0; r0 = futex_wait(f, 0); }\nP1(int *f) { int r1; WRITE_ONCE(*f, 1); r1 = futex_wake(f, 1); }\nforall (0:r0=0 /\\ 1:r1=1 /\\ cpu0:blocks=1 /\\ cpu0:wakeups=1)\n`;
  for (const model of ['sc', 'x86'] as const) {
    const r = checkSource(src, 't.litmus', { model });
    assert.equal(r.result.deadlocks, 0);
    assert.equal(observedLabel(r), 'Always', model);
  }
});

test('a woken task preempts a thread spinning in user mode on its CPU through the reschedule IPI', () => {
  // P0 waits on CPU0 and, once woken, stores g; P2 (CPU0's other task) spins until g is 1.
  // When P0 blocks CPU0 runs P2, which spins in user mode: only the reschedule IPI of
  // P1's try_to_wake_up() can give P0 the CPU back (irqentry_exit_to_user_mode() ->
  // schedule()), which needs TIF_NEED_RESCHED in memory before the IPI is taken
  // (resched_curr()'s atomic op). No ticks: nothing else switches tasks.
  const src = `C t\n{ f=0; g=0; }\nsmpcheck { cpu 0 runs P0 P2; cpu 1 runs P1; config preempt=MODEL; }\n`
    + 'P0(int *f, int *g) { int r0; r0 = futex_wait(f, 0); WRITE_ONCE(*g, 1); }\n'
    + 'P1(int *f) { int r1; WRITE_ONCE(*f, 1); r1 = futex_wake(f, 1); }\n'
    + 'P2(int *g) { int r2; r2 = smp_cond_load_acquire(g, VAL == 1); }\n'
    + 'exists (cpu0:blocks=1 /\\ cpu0:irq_resched=1)\n';
  for (const preempt of ['none', 'full']) {
    const r = checkSource(src.replace('MODEL', preempt), 't.litmus', { model: 'x86' });
    assert.equal(r.result.complete, true);
    assert.equal(r.result.deadlocks, 0, preempt);
    assert.equal(observedLabel(r), 'Sometimes', preempt);
  }
});

test('pipe ping-pong on one CPU: one execution, the answers in order, five switches, two blocks', () => {
  const r = checkScenario(scenario('pipe-pingpong.litmus'), { model: 'x86' });
  // One CPU, no ticks: nothing to interleave but store-buffer drains, which commute.
  // P0 writes a, blocks reading b (switch 1 to P1); P1 reads 1, writes 11 to b, which
  // wakes P0, and switches to it at its system call's exit (2); P0 reads 11, writes 2,
  // blocks reading b (3); P1 reads 2, writes 12, switches to P0 at its exit (4); P0
  // reads 12 and ends, and CPU0 goes back to P1 (5), which ends.
  assert.equal(r.result.deadlocks, 0);
  assert.equal(r.result.outcomes.length, 1);
  assert.equal(observedLabel(r), 'Always');
});

test('pipe: a reader on another CPU is never left asleep, and sometimes sleeps and is woken', () => {
  const never = checkScenario(scenario('pipe-wakeup.litmus'), { model: 'x86' });
  assert.equal(never.result.deadlocks, 0);
  assert.equal(observedLabel(never), 'Always');
  const witness = checkScenario(scenario('pipe-witness-sleep.litmus'), { model: 'x86' });
  assert.equal(observedLabel(witness), 'Sometimes');
});

test('pipe: a writer of a full pipe blocks until the reader makes room, and the values come out in order', () => {
  // PIPE_BUFFERS writes fill the pipe; the next one waits on wr_wait. CPU0 runs P0 first,
  // so P0 blocks in its last write and P1 starts; its first read finds the pipe full,
  // so it wakes the writer after dropping the mutex.
  const n = PIPE_BUFFERS + 1;
  const writes = Array.from({ length: n }, (_, i) => `pipe_write(a, ${i + 1});`).join(' ');
  const regs = Array.from({ length: n }, (_, i) => `r${i}`);
  const reads = regs.map((r) => `${r} = pipe_read(a);`).join(' ');
  const cond = regs.map((r, i) => `1:${r}=${i + 1}`).join(' /\\ ');
  const src = `C t\n{}\nsmpcheck { cpu 0 runs P0 P1; }\nP0(int *a) { ${writes} }\nP1(int *a) { int ${regs.join(', ')}; ${reads} }\nforall (${cond} /\\ cpu0:blocks=1)\n`;
  const r = checkSource(src, 't.litmus', { model: 'x86' });
  assert.equal(r.result.deadlocks, 0);
  assert.equal(observedLabel(r), 'Always');
});

/** The SMPnnn code a scenario source is refused with, or undefined if it checks. */
function code(src: string): string | undefined {
  try {
    checkSource(src, 't.litmus');
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

test('futex and pipe calls: errors are coded', () => {
  const two = (b0: string, b1: string, dirs = ''): string => `C t\n{}\n${dirs ? `smpcheck { ${dirs} }\n` : ''}P0(int *x, int *y) { int r0; ${b0} }\nP1(int *x, int *y) { int r1; ${b1} }\nexists (x=1)\n`;
  // A thread that may block cannot migrate, start asleep, or be signalled.
  assert.equal(code(two('r0 = futex_wait(x, 0);', 'futex_wake(x, 1);', 'cpu 0 runs P0; cpu 1 runs P0 P1;')), 'SMP109');
  assert.equal(code(two('r0 = futex_wait(x, 0);', 'wake_up(P0);')), 'SMP109');
  assert.equal(code(two('r0 = pipe_read(x);', 'tgkill(P0);')), 'SMP109');
  // Kernel threads make no system calls; handlers make none of these.
  assert.equal(code(two('r0 = futex_wait(x, 0);', 'futex_wake(x, 1);', 'kthread P0;')), 'SMP109');
  assert.equal(code('C t\n{}\nirq h(int *x) { futex_wake(x, 1); }\nP0(int *x) { raise_irq(0, h); }\nexists (x=1)\n'), 'SMP103');
  // The futex word and the pipe are named locations, not pointers in registers; one location is not both.
  assert.equal(code('C t\n{ 0:r1=x; }\nP0(int *x) { int r0; int *r1; r0 = futex_wait(r1, 0); }\nexists (x=1)\n'), 'SMP103');
  assert.equal(code(two('r0 = futex_wait(x, 0);', 'pipe_write(x, 1);')), 'SMP109');
  // Not on a user page.
  assert.equal(code(two('r0 = futex_wait(x, 0);', 'futex_wake(x, 1);', 'mmap x;')), 'SMP103');
  // Arity.
  assert.equal(code(two('r0 = futex_wait(x, 0, 1);', '')), 'SMP109');
  // Well-formed: checks.
  assert.equal(code(two('r0 = futex_wait(x, 0);', 'WRITE_ONCE(*x, 1); r1 = futex_wake(x, 1);')), undefined);
});
