// Random kernel scenarios, searched reduced and unreduced: the reduced search must find
// exactly what the unreduced one finds (final states with their graph counts, graphs,
// deadlocks, failed kernel assertions) on both machines. test/random-programs.test.ts
// does this for plain accesses, interrupts and code; this generator goes through the
// kernel model: membarrier() in its commands and registrations, CPUs shared by several
// tasks (the scheduler's switches, kernel threads and lazy TLB, bounded preemption),
// exit(), and user pages with their TLBs, page walkers and shootdowns (madvise(),
// mprotect(), munmap()). A hole in the reduction shows as a final state, a graph or an
// assertion the reduced search misses.
//
// Used by test/kernel-fuzz.test.ts (a few programs, in `npm test`) and by
// scripts/fuzz-kernel.mjs (`npm run fuzz:kernel`, a campaign of as many as asked).

import fc from 'fast-check';
import { checkSource } from '../src/check.js';
import type { ModelName } from '../src/machine/machine.js';

type Loc = 'x' | 'y';
/** A statement of a user thread (or, for loads, stores and barriers, of a kernel thread). */
export type KStmt =
  | { k: 'st'; loc: Loc | 'a' | 'done' | 'f'; val: number }
  | { k: 'ld'; loc: Loc | 'a' | 'done' }
  | { k: 'mb' }
  | { k: 'membarrier'; cmd: string }
  | { k: 'exit' }
  | { k: 'mm'; call: 'madvise' | 'mprotect-ro' | 'mprotect-rw' | 'munmap' | 'reclaim' | 'shrink' }
  | { k: 'futex_wait' }
  | { k: 'futex_wake' }
  | { k: 'rseq' }
  | { k: 'wcode' }
  | { k: 'exec' }
  | { k: 'raise' };

/** A random kernel scenario: its threads and how they are placed. */
export interface KProgram {
  family: 'membarrier' | 'tlb' | 'futex' | 'rseq' | 'sync-core';
  threads: KStmt[][];
  /**
   * 'alone': Pn on CPU n; 'shared': CPU 1 runs P1 then P2; 'kthread': P2 a kernel thread
   * after P1 on CPU 1; 'migrate': CPU 0 runs P0 then P1, CPU 1 runs P0 (P0 may migrate
   * when preempted).
   */
  placement: 'alone' | 'shared' | 'kthread' | 'migrate';
  preempt: 0 | 1;
}

const MEMBARRIER_CMDS = [
  'MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED',
  'MEMBARRIER_CMD_PRIVATE_EXPEDITED',
  'MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED',
  'MEMBARRIER_CMD_GLOBAL_EXPEDITED',
  'MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE',
  'MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE',
];

const loc = fc.constantFrom<Loc>('x', 'y');
const plainStmt: fc.Arbitrary<KStmt> = fc.oneof(
  fc.record({ k: fc.constant('st' as const), loc, val: fc.constantFrom(1, 2) }),
  fc.record({ k: fc.constant('ld' as const), loc }),
  fc.record({ k: fc.constant('ld' as const), loc }),
  fc.constant({ k: 'mb' as const }),
);
const userStmt: fc.Arbitrary<KStmt> = fc.oneof(
  { arbitrary: plainStmt, weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('membarrier' as const), cmd: fc.constantFrom(...MEMBARRIER_CMDS) }), weight: 2 },
  // An interrupt of the scenario's own (a handler that stores to y) raised on the other CPU.
  { arbitrary: fc.constant({ k: 'raise' as const }), weight: 1 },
);
/** A user thread: 1 to 3 statements, exit() at the end now and then. */
const userThread = fc.tuple(fc.array(userStmt, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 5 })).map(([s, e]) => (e === 0 ? [...s, { k: 'exit' as const }] : s));

const membarrierArb: fc.Arbitrary<KProgram> = fc
  .record({
    placement: fc.constantFrom('alone' as const, 'shared' as const, 'kthread' as const, 'migrate' as const),
    preempt: fc.constantFrom(0 as const, 1 as const),
    t0: userThread,
    t1: userThread,
    t2: userThread,
    k2: fc.array(plainStmt, { minLength: 1, maxLength: 2 }),
  })
  .map(({ placement, preempt, t0, t1, t2, k2 }) => {
    const noExit = (t: KStmt[]): KStmt[] => t.filter((x) => x.k !== 'exit');
    const threads =
      placement === 'alone' ? [t0, t1]
      // A thread that may migrate is preempted to move: one tick, and no exit().
      : placement === 'migrate' ? [noExit(t0), noExit(t1)]
      : [t0, noExit(t1), placement === 'kthread' ? k2 : t2];
    // preempt needs a CPU with several tasks.
    return { family: 'membarrier' as const, placement, preempt: placement === 'alone' ? (0 as const) : placement === 'migrate' ? (1 as const) : preempt, threads };
  });

/** Page a (a user page) and the plain location done: accesses, and one call that changes the mapping. */
const tlbAccess: fc.Arbitrary<KStmt> = fc.oneof(
  fc.record({ k: fc.constant('ld' as const), loc: fc.constantFrom('a' as const, 'done' as const) }),
  fc.record({ k: fc.constant('st' as const), loc: fc.constantFrom('a' as const, 'done' as const), val: fc.constant(2) }),
  fc.constant({ k: 'mb' as const }),
);
const tlbArb: fc.Arbitrary<KProgram> = fc
  .record({
    call: fc.constantFrom('madvise' as const, 'mprotect-ro' as const, 'mprotect-rw' as const, 'munmap' as const),
    before: fc.array(tlbAccess, { maxLength: 1 }),
    after: fc.array(tlbAccess, { maxLength: 2 }),
    other: fc.array(tlbAccess, { minLength: 1, maxLength: 3 }),
    // A kernel thread after P1 on CPU 1 (lazy TLB: it keeps P1's mm loaded), which may reclaim the page.
    kthread: fc.constantFrom(false, true),
    kcall: fc.constantFrom('none' as const, 'reclaim' as const, 'shrink' as const),
  })
  .map(({ call, before, after, other, kthread, kcall }): KProgram => {
    const threads: KStmt[][] = [[...before, { k: 'mm' as const, call }, ...after], other];
    if (kthread) threads.push(kcall === 'none' ? [{ k: 'ld', loc: 'done' }] : [{ k: 'mm', call: kcall }]);
    return { family: 'tlb', placement: kthread ? 'kthread' : 'alone', preempt: 0, threads };
  });

/** futex_wait() against a store and futex_wake(), with plain accesses around them. */
const futexArb: fc.Arbitrary<KProgram> = fc
  .record({
    w0: fc.array(plainStmt, { maxLength: 1 }),
    w1: fc.array(plainStmt, { maxLength: 1 }),
    k0: fc.array(plainStmt, { maxLength: 1 }),
    k1: fc.array(plainStmt, { maxLength: 1 }),
    store: fc.constantFrom(true, false),
  })
  .map(({ w0, w1, k0, k1, store }): KProgram => ({
    family: 'futex',
    placement: 'alone',
    preempt: 0,
    threads: [
      [...w0, { k: 'futex_wait' }, ...w1],
      [...k0, ...(store ? [{ k: 'st' as const, loc: 'f' as const, val: 1 }] : []), { k: 'futex_wake' }, ...k1],
    ],
  }));

/** An rseq critical section (load x, commit it to y; the abort handler sets a register) against PRIVATE_EXPEDITED_RSEQ or a preemption. */
const rseqArb: fc.Arbitrary<KProgram> = fc
  .record({
    shared: fc.constantFrom(false, true),
    before: fc.array(plainStmt, { maxLength: 1 }),
    register: fc.constantFrom(true, true, false),
    fence: fc.array(plainStmt, { maxLength: 1 }),
    after: fc.array(plainStmt, { maxLength: 1 }),
  })
  .map(({ shared, before, register, fence, after }): KProgram => {
    const sender: KStmt[] = [
      ...(register ? [{ k: 'membarrier' as const, cmd: 'MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ' }] : []),
      ...fence,
      { k: 'membarrier', cmd: 'MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ' },
      ...after,
    ];
    const threads: KStmt[][] = [sender, [...before, { k: 'rseq' }]];
    // Sharing CPU 1 with a third task, a tick may preempt the section (it aborts when it runs again).
    if (shared) threads.push([{ k: 'st', loc: 'y', val: 2 }]);
    return { family: 'rseq', placement: shared ? 'shared' : 'alone', preempt: shared ? 1 : 0, threads };
  });

/** A new version of the code and SYNC_CORE against a CPU that runs the code. */
const syncCoreArb: fc.Arbitrary<KProgram> = fc
  .record({
    placement: fc.constantFrom('alone' as const, 'migrate' as const, 'shared' as const),
    register: fc.constantFrom(true, true, false),
    core: fc.constantFrom(true, true, false),
    publish: fc.constantFrom(true, false),
    pre: fc.array(plainStmt, { maxLength: 1 }),
  })
  .map(({ placement, register, core, publish, pre }): KProgram => {
    const writer: KStmt[] = [
      ...(register ? [{ k: 'membarrier' as const, cmd: 'MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE' }] : []),
      { k: 'wcode' },
      ...(core ? [{ k: 'membarrier' as const, cmd: 'MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE' }] : []),
      ...(publish ? [{ k: 'st' as const, loc: 'x' as const, val: 1 }] : []),
    ];
    const runner: KStmt[] = [...pre, ...(publish ? [{ k: 'ld' as const, loc: 'x' as const }] : []), { k: 'exec' }];
    const threads = placement === 'shared' ? [writer, runner, [{ k: 'exec' as const }]] : [writer, runner];
    return { family: 'sync-core', placement, preempt: placement === 'alone' ? 0 : 1, threads };
  });

export const kernelProgramArb: fc.Arbitrary<KProgram> = fc.oneof(
  { arbitrary: membarrierArb, weight: 3 },
  { arbitrary: tlbArb, weight: 2 },
  { arbitrary: futexArb, weight: 1 },
  { arbitrary: rseqArb, weight: 1 },
  { arbitrary: syncCoreArb, weight: 1 },
);

/** The scenario's text. */
export function renderKernel(p: KProgram): string {
  const tlb = p.family === 'tlb';
  const params = tlb ? 'int *a, int *done' : p.family === 'futex' ? 'int *f, int *x, int *y' : p.family === 'sync-core' ? 'int *code, int *x, int *y' : 'int *x, int *y';
  const lines = [`C random-kernel-${p.family}`, '', tlb ? '{ a = 1; }' : p.family === 'sync-core' ? '{ code = 1; }' : '{}', ''];
  const block: string[] = [];
  if (tlb) block.push('mmap a;');
  if (p.placement === 'migrate') block.push('cpu 0 runs P0 P1;', 'cpu 1 runs P0;');
  else if (p.placement !== 'alone') {
    block.push('cpu 0 runs P0;', `cpu 1 runs P1 ${p.placement === 'kthread' ? 'kthread ' : ''}P2;`);
    if (p.placement === 'kthread') block.push('kthread P2;');
  }
  if (p.preempt > 0) block.push(`preempt ${p.preempt};`);
  if (block.length > 0) lines.push(`smpcheck { ${block.join(' ')} }`, '');
  if (p.threads.some((t) => t.some((x) => x.k === 'raise'))) lines.push(`irq h(${params})`, '{', '\tWRITE_ONCE(*y, 3);', '}', '');
  const observed: string[] = [];
  p.threads.forEach((t, ti) => {
    const body: string[] = [];
    let r = 0;
    for (const s of t) {
      switch (s.k) {
        case 'st':
          body.push(`\tWRITE_ONCE(*${s.loc}, ${s.val});`);
          break;
        case 'ld':
          body.push(`\tr${r++} = READ_ONCE(*${s.loc});`);
          break;
        case 'mb':
          body.push('\tsmp_mb();');
          break;
        case 'membarrier':
          body.push(`\tr${r++} = membarrier(${s.cmd}, 0, 0);`);
          break;
        case 'exit':
          body.push('\texit(0);');
          break;
        case 'mm':
          body.push(`\tr${r++} = ${s.call === 'madvise' ? 'madvise(a, MADV_DONTNEED)' : s.call === 'munmap' || s.call === 'reclaim' || s.call === 'shrink' ? `${s.call}(a)` : `mprotect(a, ${s.call === 'mprotect-ro' ? 'PROT_READ' : 'PROT_READ | PROT_WRITE'})`};`);
          break;
        case 'rseq': {
          const v = r++;
          body.push('\trseq {', `\t\tr${v} = READ_ONCE(*x);`, `\t\trseq_commit(y, r${v});`, '\t} abort {', `\t\tr${v} = 9;`, '\t}');
          break;
        }
        case 'raise':
          // P0 runs on CPU 0 (or, migrating, on either), the others on CPU 1.
          body.push(`\traise_irq(${ti === 0 ? 1 : 0}, h);`);
          break;
        case 'wcode':
          body.push('\twrite_code(code, 2);');
          break;
        case 'exec':
          body.push(`\tr${r++} = exec_code(code);`);
          break;
        case 'futex_wait':
          body.push(`\tr${r++} = futex_wait(f, 0);`);
          break;
        case 'futex_wake':
          body.push(`\tr${r++} = futex_wake(f, 1);`);
          break;
      }
    }
    lines.push(`P${ti}(${params})`, '{');
    for (let k = 0; k < r; k++) lines.push(`\tint r${k};`);
    lines.push(...body, '}', '');
    for (let k = 0; k < r; k++) observed.push(`${ti}:r${k}=0`);
  });
  lines.push(`exists (${observed.length > 0 ? observed.join(' \\/ ') : tlb ? 'a=1' : 'x=0'})`, '');
  return lines.join('\n');
}

/** What one search found, in the terms the two searches must agree on. */
function summary(src: string, file: string, model: ModelName, reduction: boolean, statesMax: number) {
  const r = checkSource(src, file, { model, reduction, workers: 1, ...(reduction ? {} : { bounds: { executionsMax: statesMax } }) });
  return {
    complete: r.result.complete,
    outcomes: r.result.outcomes,
    graphs: r.result.graphs,
    positive: r.result.positive,
    negative: r.result.negative,
    deadlock: r.result.deadlocks > 0,
    assertions: r.result.assertions.map((a) => a.name).sort(),
    states: r.result.states ?? 0,
  };
}

export interface FuzzVerdict {
  /** 'skipped': the unreduced search needed more than `statesMax` states. */
  status: 'agree' | 'skipped' | 'disagree';
  /** For 'disagree': what differs, and on which machine. */
  detail?: string;
  model?: ModelName;
  /** The unreduced search's states, summed over both machines. */
  states: number;
}

/**
 * Searches `src` reduced and unreduced on sc and on x86 and compares what they found.
 * The unreduced search is bounded to `statesMax` states: a program that needs more is
 * skipped (neither agreeing nor disagreeing).
 */
export function compareSearches(src: string, file: string, statesMax: number): FuzzVerdict {
  let states = 0;
  for (const model of ['sc', 'x86'] as const) {
    const full = summary(src, file, model, false, statesMax);
    states += full.states;
    if (!full.complete) return { status: 'skipped', states };
    const red = summary(src, file, model, true, statesMax);
    if (!red.complete) return { status: 'disagree', model, detail: 'the reduced search did not complete', states };
    for (const k of ['outcomes', 'graphs', 'positive', 'negative', 'deadlock', 'assertions'] as const) {
      const a = JSON.stringify(red[k]);
      const b = JSON.stringify(full[k]);
      if (a !== b) return { status: 'disagree', model, detail: `${k}: reduced ${a}, unreduced ${b}`, states };
    }
  }
  return { status: 'agree', states };
}
