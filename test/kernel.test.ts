// The kernel model: the membarrier() system call's validation and errno rules
// against the rules of include/uapi/linux/membarrier.h and kernel/sched/membarrier.c
// (v6.18) as the reference states them, barrier labels and their partners, and
// the variants.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkSource } from '../src/check.js';
import { variants, DEFAULT_KERNEL } from '../src/kernel/variants.js';
import * as U from '../src/kernel/uapi.js';
import { ROOT } from './helpers.js';

const PRIVATE = new Set([U.MEMBARRIER_CMD_PRIVATE_EXPEDITED, U.MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, U.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ]);
const KNOWN = new Set([
  U.MEMBARRIER_CMD_QUERY, U.MEMBARRIER_CMD_GLOBAL, U.MEMBARRIER_CMD_GLOBAL_EXPEDITED, U.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
  U.MEMBARRIER_CMD_PRIVATE_EXPEDITED, U.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, U.MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
  U.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, U.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
  U.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, U.MEMBARRIER_CMD_GET_REGISTRATIONS,
]);

/**
 * The answer of a fresh, single-threaded, unregistered process on x86 with
 * CONFIG_RSEQ, written from the reference's rules (validation order of §1.2,
 * errors of §1.3), independently of src/kernel/.
 */
function expectedFirstCall(cmd: number, flags: number): number {
  const uflags = flags >>> 0;
  if (cmd === U.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) {
    if (uflags !== 0 && uflags !== U.MEMBARRIER_CMD_FLAG_CPU) return -U.EINVAL;
  } else if (uflags !== 0) return -U.EINVAL;
  if (!KNOWN.has(cmd)) return -U.EINVAL;
  if (cmd === U.MEMBARRIER_CMD_QUERY) return 1023;
  if (PRIVATE.has(cmd)) return -U.EPERM;
  return 0; // GLOBAL, GLOBAL_EXPEDITED, every REGISTER, GET_REGISTRATIONS (0 while unregistered)
}

function firstCall(cmd: number, flags: number, cpu: number): number {
  const src = `C first\n{}\nP0(int *x) {\n\tint r0;\n\tr0 = membarrier(${cmd}, ${flags}, ${cpu});\n}\nlocations [0:r0;]\nexists (0:r0=0)\n`;
  const r = checkSource(src, 'first.litmus', { model: 'x86' });
  assert.equal(r.result.complete, true);
  assert.equal(r.result.outcomes.length, 1);
  return r.result.outcomes[0]!.values[0]!;
}

test('membarrier(): the first call of a process follows the validation order and errno rules', () => {
  const cmd = fc.oneof(
    fc.constantFrom(...KNOWN),
    fc.constantFrom(-1, 3, 6, 1 << 10, 1 << 30, -2147483648),
    fc.integer({ min: -5, max: 1 << 11 }),
  );
  const flags = fc.oneof(fc.constantFrom(0, 1, 2, 3, -1), fc.integer({ min: -4, max: 8 }));
  const cpu = fc.oneof(fc.constantFrom(0, 1, -1, 99999, -2147483648), fc.integer({ min: -3, max: 3 }));
  fc.assert(
    fc.property(cmd, flags, cpu, (c, f, p) => {
      assert.equal(firstCall(c, f, p), expectedFirstCall(c, f), `membarrier(${c}, ${f}, ${p})`);
    }),
    { seed: 2026, numRuns: 300 },
  );
});

test('every smp_mb() of the kernel model names its partner, and partners exist', () => {
  const files: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else if (p.endsWith('.ts')) files.push(p);
  };
  walk(join(ROOT, 'src/kernel'));
  const labels = new Set<string>();
  const partners: [string, string, string][] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/smp_mb\('([^']+)'(?:, '([^']+)')?/g)) {
      labels.add(m[1]!);
      if (m[2]) for (const p of m[2].split('/')) partners.push([f, m[1]!, p]);
    }
    // The mm reference drops are barriers named by their callers.
    for (const m of text.matchAll(/mmdrop_lazy_tlb\(k, [^,]+, '([^']+)'/g)) labels.add(m[1]!);
    // Barriers that are locked instructions or notes carry `label:` and `pairs:` in their site.
    for (const m of text.matchAll(/label: '([^']+)'(?:, pairs: '([^']+)')?/g)) {
      labels.add(m[1]!);
      if (m[2]) for (const p of m[2].split('/')) partners.push([f, m[1]!, p]);
    }
  }
  assert.ok(labels.has('membarrier.a') && labels.has('membarrier.c') && labels.has('ipi_mb'));
  // The registration barriers pair with the scheduler reading the runqueue copy of
  // the state in context_switch() under RCU, which is not modelled as a barrier.
  const notYetModelled = new Set(['registration']);
  for (const [f, label, partner] of partners) {
    assert.ok(labels.has(partner) || notYetModelled.has(partner), `${f}: '${label}' pairs with '${partner}', which no smp_mb() carries`);
  }
});

/** A scenario of two threads with these bodies (and directives). */
function two(b0: string, b1: string, dirs = ''): string {
  return `C t\n{}\n${dirs ? `smpcheck { ${dirs} }\n` : ''}P0(int *x) { ${b0} }\nP1(int *x) { ${b1} }\nexists (x=1)\n`;
}

/** The SMPnnn code a scenario source is refused with, or undefined if it checks. */
function code(src: string): string | undefined {
  try {
    checkSource(src, 't.litmus');
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

test('each mutant differs from the modelled kernel by one removal, each pre-COMMIT variant by one commit, each design by one change', () => {
  const base = variants().find((v) => v.name === DEFAULT_KERNEL)!;
  assert.equal(base.removed.size, 0);
  const names = new Set<string>();
  for (const v of variants()) {
    assert.ok(!names.has(v.name), `duplicate variant ${v.name}`);
    names.add(v.name);
    if (v === base) continue;
    assert.equal(v.base, DEFAULT_KERNEL);
    // A mutant removes one barrier or step; a pre-COMMIT variant undoes one commit (all its parts).
    // A combined mutant (no-...-mbs) removes barriers that mask one another, each removed alone by another variant.
    if (v.name.startsWith('no-') && v.name.endsWith('-mbs')) {
      assert.ok(v.removed.size >= 2, v.name);
      for (const l of v.removed) assert.ok(variants().some((w) => w !== v && w.removed.size === 1 && w.removed.has(l)), `${v.name}: ${l} is removed alone by another variant`);
    } else if (v.name.startsWith('no-')) assert.equal(v.removed.size, 1, v.name);
    else assert.ok(v.removed.size >= 1, v.name);
    // History (pre-COMMIT, and vX.Y-what: a feature as a release introduced it, each later
    // commit undone), mutants (no-...), and designs argued on the lists (their description says so).
    // A commit after the modelled version: post-COMMIT, described as 'after COMMIT'.
    assert.match(v.name, /^(pre-[0-9a-f]{12}|post-[0-9a-f]{12}|no-[a-z-]+|v\d+\.\d+-[a-z-]+|[a-z]+(-[a-z]+)+)$/, v.name);
    if (/^v\d/.test(v.name)) assert.match(v.description, /^history: /, v.name);
    else if (v.name.startsWith('post-')) assert.match(v.description, new RegExp(`^after ${v.name.slice(5)} `), v.name);
    else if (!/^(pre|no|post)-/.test(v.name)) assert.match(v.description, /^design question: /, v.name);
  }
});

test('an unknown variant is a coded error', () => {
  assert.throws(
    () => checkSource('C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n', 't.litmus', { variant: 'v9.99' }),
    (e: Error & { code?: string }) => e.code === 'SMP200',
  );
});

test("'cpu N runs ...' placement: errors are coded, a kernel thread has no mm", () => {
  const base = (dirs: string): string =>
    `C t\n{}\nsmpcheck { ${dirs} }\nP0(int *x) { WRITE_ONCE(*x, 1); }\nP1(int *x) { int r0; r0 = READ_ONCE(*x); }\nexists (1:r0=0)\n`;
  assert.equal(code(base('cpu 0 runs P0; cpu 0 runs P1;')), 'SMP108');
  assert.equal(code(base('cpu 0 runs P0;')), 'SMP108'); // P1 not placed
  assert.equal(code(base('cpu 0 runs P0; cpu 2 runs P1;')), 'SMP108'); // gap
  assert.equal(code(base('cpu 0 runs P0 P0; cpu 1 runs P1;')), 'SMP108');
  assert.equal(code(base('cpu 0 runs P0 P7; cpu 1 runs P1;')), 'SMP108');
  assert.equal(code(base('cpu 0 P0;')), 'SMP108');
  // raise_irq() to a CPU that the placement does not have.
  const irq = 'C t\n{}\nsmpcheck { cpu 0 runs P0 P1; }\nirq h(int *x) { WRITE_ONCE(*x, 1); }\nP0(int *x) { raise_irq(1, h); }\nP1(int *x) { WRITE_ONCE(*x, 2); }\nexists (x=1)\n';
  assert.equal(code(irq), 'SMP104');
  // One CPU running both threads in order: P1 always sees P0's store.
  const one = checkSource(base('cpu 0 runs P0 kthread P1;'), 't.litmus', { model: 'x86' });
  assert.equal(one.observation, 'Never');
  assert.equal(one.program.nCpus, 1);
});

test('fork(Pn), clone(Pn), execve(): processes are checked, coded errors, and the child runs only once started', () => {
  const code = (body0: string, body1 = 'int r1; r1 = READ_ONCE(*x);', extra = ''): string | undefined => {
    try {
      checkSource(`C t\n{}\n${extra}P0(int *x) { ${body0} }\nP1(int *x) { ${body1} }\nexists (1:r1=0)\n`, 't.litmus');
      return undefined;
    } catch (e) {
      return (e as { code?: string }).code;
    }
  };
  assert.equal(code('fork(P5);'), 'SMP104');
  assert.equal(code('fork(P1); clone(P1);'), 'SMP105');
  assert.equal(code('fork(P1);', 'int r1; r1 = READ_ONCE(*x); fork(P0);'), 'SMP109'); // each starts the other
  assert.equal(code('fork(x);'), 'SMP109');
  assert.equal(code('execve();'), 'SMP103'); // P0 and P1 are one process: de_thread() is not modelled
  assert.equal(code('fork(P1);', 'int r1; r1 = READ_ONCE(*x);', 'smpcheck { kthread P1; }\n'), 'SMP109');
  assert.equal(code('WRITE_ONCE(*x, 1);', 'int r1; r1 = READ_ONCE(*x);', 'irq h(int *x) { fork(P1); }\n'), 'SMP103');
  // The child starts after the parent's store (wake_up_new_task is a full barrier on x86): it always sees it.
  const r = checkSource('C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); clone(P1); }\nP1(int *x) { int r1; r1 = READ_ONCE(*x); }\nexists (1:r1=0)\n', 't.litmus', { model: 'x86' });
  assert.equal(r.observation, 'Never');
  // A fork child that execs alone may: its registration is gone.
  const e = checkSource('C t\n{}\nP0(int *x) { int r0; r0 = membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0); fork(P1); }\nP1(int *x) { int r1; execve(); r1 = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0); }\nexists (1:r1=0)\n', 't.litmus', { model: 'x86' });
  assert.equal(e.observation, 'Always');
});

test('a thread is preemptible in user mode again after its clone(), fork() and membarrier() calls', () => {
  // CPU1 runs P1 then P2; a tick may preempt P1 between its two stores, so P2 can
  // read the first. The calls before the stores return to user mode first.
  for (const call of ['clone(P3);', 'fork(P3);', 'membarrier(MEMBARRIER_CMD_QUERY, 0, 0);']) {
    const child = call.includes('P3');
    const src = [
      'C preempt-after-call', '{}', 'smpcheck {', `\tcpu 0 runs P0${child ? ' P3' : ''};`, '\tcpu 1 runs P1 P2;', '\tpreempt 1;', '}',
      'P0(int *x) { }',
      `P1(int *x) {\n\t${call}\n\tWRITE_ONCE(*x, 1);\n\tWRITE_ONCE(*x, 2);\n}`,
      'P2(int *x) {\n\tint r0;\n\tr0 = READ_ONCE(*x);\n}',
      ...(child ? ['P3(int *x) { }'] : []),
      'exists (2:r0=1)', '',
    ].join('\n');
    const r = checkSource(src, 'preempt-after-call.litmus', { model: 'sc' });
    assert.equal(r.result.complete, true);
    assert.equal(r.observation, 'Sometimes', `${call}: P1 preempted between its stores`);
  }
});

test('preemption model: under preempt=none a tick in the kernel is acted on at the system call exit, under full at the interrupt exit', () => {
  // P1 can run between P0's two stores with no interrupt-exit reschedule only if the
  // system call's exit calls schedule() (the tick landed in the kernel and only set
  // TIF_NEED_RESCHED): preempt=none and voluntary, not full.
  const src = (model: string): string => [
    'C preempt-model', '{}', 'smpcheck {', `\tconfig preempt=${model};`, '\tcpu 0 runs P0 P1;', '\tpreempt 1;', '}',
    'P0(int *x, int *y) {\n\tint r0;\n\tWRITE_ONCE(*x, 1);\n\tr0 = membarrier(MEMBARRIER_CMD_QUERY, 0, 0);\n\tWRITE_ONCE(*y, 1);\n}',
    'P1(int *x, int *y) {\n\tint r1;\n\tint r2;\n\tr1 = READ_ONCE(*x);\n\tr2 = READ_ONCE(*y);\n}',
    'exists (cpu0:irq_resched=0 /\\ 1:r1=1 /\\ 1:r2=0)', '',
  ].join('\n');
  for (const [model, obs] of [['none', 'Sometimes'], ['voluntary', 'Sometimes'], ['full', 'Never']] as const) {
    const r = checkSource(src(model), 'preempt-model.litmus', { model: 'sc' });
    assert.equal(r.result.complete, true, model);
    assert.equal(r.observation, obs, `preempt=${model}`);
  }
  // And under full the tick does preempt the kernel: an interrupt-exit reschedule with P0 inside the call.
  const full = src('full').replace('exists (cpu0:irq_resched=0 /\\ 1:r1=1 /\\ 1:r2=0)', 'exists (cpu0:irq_resched=1 /\\ 1:r1=1 /\\ 1:r2=0)');
  assert.equal(checkSource(full, 'preempt-model.litmus', { model: 'sc' }).observation, 'Sometimes');
});

test('preempt=full: tasks preempted in membarrier() on one CPU never deadlock on its mutex', () => {
  const src = [
    'C preempt-full-mutex', '{}', 'smpcheck {', '\tconfig preempt=full;', '\tcpu 0 runs P0 P1;', '\tcpu 1 runs P2;', '\tpreempt 2;', '}',
    'P0(int *x) {\n\tint r0;\n\tr0 = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);\n\tmembarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);\n}',
    'P1(int *x) {\n\tmembarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);\n}',
    'P2(int *x) {\n\tWRITE_ONCE(*x, 1);\n}',
    'exists (0:r0=0)', '',
  ].join('\n');
  const r = checkSource(src, 'preempt-full-mutex.litmus', { model: 'x86' });
  assert.equal(r.result.complete, true);
  assert.equal(r.result.deadlocks, 0);
  assert.equal(r.observation, 'Always');
});

test('wake_up(Pn) and config: errors are coded', () => {
  assert.equal(code(two('wake_up(P5);', '')), 'SMP104');
  assert.equal(code(two('wake_up(P0);', '')), 'SMP109');
  assert.equal(code(two('wake_up(P1);', 'wake_up(P1);')), 'SMP109');
  assert.equal(code(two('wake_up(P1); wake_up(P1);', '')), 'SMP105');
  assert.equal(code(two('clone(P1); wake_up(P1);', '')), 'SMP109');
  assert.equal(code(two('wake_up(x);', '')), 'SMP109');
  assert.equal(code(two('rseq { wake_up(P1); rseq_commit(x, 1); } abort { }', '')), 'SMP103');
  assert.equal(code(two('wake_up(P1);', 'WRITE_ONCE(*x, 1);')), undefined);
  assert.equal(code(two('', '', 'config preempt=maybe;')), 'SMP108');
  assert.equal(code(two('', '', 'config speed=fast;')), 'SMP108');
  assert.equal(code(two('', '', 'config preempt full;')), 'SMP108');
  assert.equal(code(two('', '', 'config syscall_exit=iret preempt=voluntary;')), undefined);
  // A woken thread runs only after the wakeup, and sees what its waker wrote before it.
  const r = checkSource(two('WRITE_ONCE(*x, 1); wake_up(P1);', 'int r0; r0 = READ_ONCE(*x);').replace('exists (x=1)', 'exists (1:r0=0)'), 't.litmus', { model: 'x86' });
  assert.equal(r.observation, 'Never');
});

test('a thread placed on several CPUs may migrate: errors are coded, and it moves only when preempted in user mode', () => {
  const three = (dirs: string, b2 = ''): string =>
    `C t\n{}\nsmpcheck { ${dirs} }\nP0(int *x) { WRITE_ONCE(*x, 1); }\nP1(int *x) { int r0; r0 = READ_ONCE(*x); }\nP2(int *x) { ${b2} }\nexists (1:r0=0)\n`;
  assert.equal(code(three('cpu 0 runs P0 P2; cpu 1 runs P1 P2;')), undefined);
  assert.equal(code(three('cpu 0 runs P2 P0; cpu 1 runs P2 P1;')), undefined); // starts on CPU0; CPU1 starts idle
  assert.equal(code(three('cpu 0 runs P0 P2 P2; cpu 1 runs P1;')), 'SMP108'); // twice on one CPU
  assert.equal(code(three('kthread P2; cpu 0 runs P0 P2; cpu 1 runs P1 P2;')), 'SMP108');
  assert.equal(code(three('cpu 0 runs P0 P1; cpu 1 runs P2 P1;', 'clone(P1);')), 'SMP109');
  assert.equal(code(three('cpu 0 runs P0 P1; cpu 1 runs P2 P1;', 'wake_up(P1);')), 'SMP109');
  // P1 runs on CPU0 or CPU1 (whichever takes it first) and never on both: it reads x once.
  const r = checkSource(three('cpu 0 runs P0 P1; cpu 1 runs P2 P1;').replace('exists (1:r0=0)', 'exists (cpu0:migrations=1 \\/ cpu1:migrations=1)'), 't.litmus', { model: 'x86' });
  assert.equal(r.result.complete, true);
  assert.equal(r.result.deadlocks, 0);
  assert.equal(r.observation, 'Never'); // no preemption, so no move once it started
  // With a tick, P1 preempted on CPU1 in user mode can finish on CPU0.
  const src = `C t\n{}\nsmpcheck { cpu 0 runs P0 P1; cpu 1 runs P1 P2; preempt 1; }\nP0(int *x) { WRITE_ONCE(*x, 1); }\nP1(int *x) { int r0; int r1; r0 = READ_ONCE(*x); r1 = READ_ONCE(*x); }\nP2(int *x) { }\nexists (cpu0:migrations=1 /\\ 1:r0=0 /\\ 1:r1=1)\n`;
  const m = checkSource(src, 't.litmus', { model: 'x86' });
  assert.equal(m.result.complete, true);
  assert.equal(m.result.deadlocks, 0);
  assert.equal(m.observation, 'Sometimes');
});

test('tgkill(Pn): errors are coded; a signal restarts an rseq critical section, and is otherwise harmless', () => {
  assert.equal(code(two('tgkill(P7);', '')), 'SMP104');
  assert.equal(code(two('tgkill(x);', '')), 'SMP109');
  assert.equal(code(two('tgkill(P1);', '', 'kthread P1;')), 'SMP109');
  assert.equal(code(two('clone(P1); tgkill(P1);', '')), 'SMP109');
  assert.equal(code(two('rseq { tgkill(P1); rseq_commit(x, 1); } abort { }', '')), 'SMP103');
  assert.equal(code(two('tgkill(P0);', '')), undefined); // a thread may signal itself
  // Outside a critical section the signal changes nothing the thread does.
  const r = checkSource(two('tgkill(P1);', 'int r0; WRITE_ONCE(*x, 2); r0 = READ_ONCE(*x);').replace('exists (x=1)', 'exists (1:r0!=2)'), 't.litmus', { model: 'x86' });
  assert.equal(r.result.complete, true);
  assert.equal(r.observation, 'Never');
});
