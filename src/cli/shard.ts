// Shards: one check's search cut into parts that separate processes or machines run,
// and merged into the check's result.
//
//   smpcheck check FILE --shard K/N --out PART.json   searches part K of N
//   smpcheck merge PART.json...                        prints what `check FILE` prints
//
// The parts are cut from the search's tree of tasks (src/explore/dpor.ts): every part
// searches the root task (the first FREEZE_AFTER_STEPS steps of the search), and the
// children the root froze into are dealt out, child i to part (i mod N) + 1, each with
// every task it freezes into in turn. Part 1 keeps the root's own result. Each task is
// searched on its own (src/explore/merge.ts, searchTask()), and the merge adds them in
// the search's order (pre-order), as the search in one process does. A search that
// finishes without freezing is all in part 1. A part is plain JSON; it records the
// scenario's sha256, the machine, the variant, the bounds and the root's children, and
// the merge refuses parts that do not agree on them, a missing part, a part given
// twice and a part without the tasks it should hold (SMP205), never guessing a
// verdict. The merge reads the scenario (the path the parts recorded, or --scenario
// FILE) to print the result and, where a bound may stop the search inside a task, to
// search that task again.

import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import { checkScenario, checkSettings, type CheckOptions, type CheckResult, type MachineSearch } from '../check.js';
import { compareTaskIds, dporResult, FREEZE_AFTER_STEPS, newDporState, ROOT_TASK, type TaskSpec } from '../explore/dpor.js';
import { mergeTask, searchTask, type TaskResult } from '../explore/merge.js';
import { searchOnWorkers } from '../explore/parallel.js';
import { SmpError } from '../scenario/errors.js';
import type { Scenario } from '../scenario/ast.js';
import { readBounded } from '../scenario/bounded-read.js';
import { sha256 } from '../sha256.js';
import { VERSION } from '../version.js';
import type { ExploreResult } from '../explore/types.js';

export const PART_FORMAT = 'smpcheck-part';
export const PART_VERSION = 2;
/** A part file larger than this is refused unread. */
export const PART_BYTES_MAX = 1024 * 1024 * 1024;
/** Parts a search may be cut into. */
export const SHARDS_MAX = 4096;

/** `K/N` with 1 <= K <= N <= SHARDS_MAX. */
export function parseShard(v: string): { k: number; n: number } {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(v);
  const k = m ? Number(m[1]) : 0;
  const n = m ? Number(m[2]) : 0;
  if (!m || k < 1 || n < 1 || k > n || n > SHARDS_MAX) throw new SmpError('SMP200', `--shard takes K/N, part K of N with 1 <= K <= N <= ${SHARDS_MAX}, not '${v}'`);
  return { k, n };
}

/** The shape of a part file (what `check --shard` writes and `merge` reads). */
export const partSchema = lazySchema((z) => {
  const journal = z.object({ key: z.string(), values: z.array(z.number()), run: z.array(z.number().int()).optional() });
  const spec = z.object({ id: z.string().regex(/^(\d{1,9}(\.\d{1,9})*)?$/), prefix: z.array(z.number().int().nonnegative()), before: z.array(z.number().int().nonnegative()), weight: z.number().nonnegative() });
  const task = z.object({
    spec,
    children: z.array(spec),
    interned: z.array(z.string()),
    graphs: z.array(journal),
    deadlocks: z.number().int().nonnegative(),
    deadlockRun: z.array(z.number().int()).nullable(),
    assertions: z.array(z.tuple([z.string(), z.number().int().positive()])),
    assertionRun: z.array(z.number().int()).nullable(),
    executions: z.number().int().nonnegative(),
    sleepBlocked: z.number().int().nonnegative(),
    steps: z.number().int().nonnegative(),
    runs: z.number().int().nonnegative(),
    incompleteReason: z.string().nullable(),
    stopped: z.boolean(),
    memory: z.number().int().nonnegative(),
  });
  const bounds = z.object({ stepsMax: z.number().int().positive(), executionsMax: z.number().int().positive(), memoryMax: z.number().int().positive() });
  return z.object({
    format: z.literal(PART_FORMAT),
    version: z.literal(PART_VERSION),
    smpcheck: z.string(),
    scenario: z.object({ file: z.string(), name: z.string(), sha256: z.string() }),
    check: z.object({ model: z.enum(['sc', 'x86']), variant: z.string(), variantSha256: z.string().nullable(), bounds, witnesses: z.number().int().positive() }),
    plan: z.object({ freezeAfterSteps: z.number().int().positive(), children: z.number().int().nonnegative(), sha256: z.string() }),
    shard: z.object({ k: z.number().int().positive(), n: z.number().int().positive() }),
    tasks: z.array(task),
  });
});
export type Part = z.infer<ReturnType<typeof partSchema>>;

const childrenHash = (children: readonly TaskSpec[]): string => sha256(JSON.stringify(children));

/** Whether child i of the root belongs to part k of n. */
const ownsChild = (i: number, k: number, n: number): boolean => i % n === k - 1;

/**
 * Searches part `shard` of the check of `sc` with `opts` (machine engine, reduced
 * search) on up to `workers` threads, and returns the part.
 */
export function searchShard(sc: Scenario, opts: CheckOptions, shard: { k: number; n: number }, workers: number): Part {
  let part: Part | null = null;
  const search = (m: MachineSearch): ExploreResult => {
    const root = searchTask(m.program, m.prop, m.opts, ROOT_TASK);
    const mine = root.children.filter((_, i) => ownsChild(i, shard.k, shard.n));
    const results: TaskResult[] = shard.k === 1 ? [root] : [];
    if (workers > 1 && mine.length > 0) searchOnWorkers(m.spec, m.opts, mine, workers, (tr) => (results.push(tr), true));
    else {
      const stack = [...mine].reverse();
      for (let t = stack.pop(); t; t = stack.pop()) {
        const tr = searchTask(m.program, m.prop, m.opts, t);
        results.push(tr);
        for (let i = tr.children.length - 1; i >= 0; i--) stack.push(tr.children[i]!);
      }
    }
    results.sort((a, b) => compareTaskIds(a.spec.id, b.spec.id));
    const s = checkSettings(sc, opts);
    part = {
      format: PART_FORMAT,
      version: PART_VERSION,
      smpcheck: VERSION,
      scenario: { file: sc.file, name: sc.name, sha256: sha256(sc.source) },
      check: { model: m.spec.model, variant: m.spec.variant, variantSha256: s.variant.sha256 ?? null, bounds: m.opts.bounds, witnesses: m.opts.witnessesMax ?? 1 },
      plan: { freezeAfterSteps: m.opts.freezeAfterSteps ?? FREEZE_AFTER_STEPS, children: root.children.length, sha256: childrenHash(root.children) },
      shard,
      tasks: results,
    };
    // What the check prints is not used: the part is the result.
    return dporResult(newDporState(m.prop, m.opts));
  };
  refuseOtherSearches(sc, opts);
  checkScenario(sc, { ...opts, search });
  return part!;
}

function refuseOtherSearches(sc: Scenario, opts: CheckOptions): void {
  const s = checkSettings(sc, opts);
  if (s.engine !== 'machine' || opts.reduction === false) {
    throw new SmpError('SMP200', '--shard cuts the machine engine\'s reduced search (sc and x86, without --no-reduction) into parts');
  }
}

/** Reads and validates a part file (SMP205 for anything that is not a part). */
export function readPart(file: string): Part {
  const text = readBounded(file, PART_BYTES_MAX, 'part');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SmpError('SMP205', `'${file}' is not a part file: ${(e as Error).message}`, undefined, file);
  }
  const r = partSchema().safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new SmpError('SMP205', `'${file}' is not a part file of this smpcheck: ${issue.path.join('.') || '(top)'}: ${issue.message}`, undefined, file);
  }
  return r.data;
}

/**
 * Checks that the parts are the N parts of one check, each once; returns them by
 * shard number. Every disagreement is SMP205.
 */
export function validateParts(parts: { file: string; part: Part }[]): Part[] {
  const first = parts[0]!;
  const same = (what: string, f: (p: Part) => unknown): void => {
    const want = JSON.stringify(f(first.part));
    for (const { file, part } of parts) {
      if (JSON.stringify(f(part)) !== want) throw new SmpError('SMP205', `'${file}' is a part of another check than '${first.file}': its ${what} differs`, undefined, file);
    }
  };
  same('scenario (sha256)', (p) => p.scenario.sha256);
  same('machine, variant, bounds or witnesses', (p) => p.check);
  same('plan of tasks', (p) => p.plan);
  same('number of parts', (p) => p.shard.n);
  same('smpcheck version', (p) => p.smpcheck);
  const n = first.part.shard.n;
  const byK: (Part | undefined)[] = new Array(n + 1);
  for (const { file, part } of parts) {
    if (part.shard.k > n) throw new SmpError('SMP205', `'${file}' says it is part ${part.shard.k} of ${n}`, undefined, file);
    if (byK[part.shard.k]) throw new SmpError('SMP205', `part ${part.shard.k}/${n} is given twice ('${file}')`, undefined, file);
    // Its tasks: the root (part 1), the root's children it owns and every task each froze into.
    const ids = new Map(part.tasks.map((t) => [t.spec.id, t]));
    const bad = (why: string): SmpError => new SmpError('SMP205', `'${file}' does not hold the tasks of part ${part.shard.k}/${n}: ${why}`, undefined, file);
    if (ids.size !== part.tasks.length) throw bad('a task is given twice');
    const want: string[] = [];
    if (part.shard.k === 1) want.push('');
    for (let i = 0; i < first.part.plan.children; i++) if (ownsChild(i, part.shard.k, n)) want.push(String(i));
    let held = 0;
    for (let id = want.shift(); id !== undefined; id = want.shift()) {
      const t = ids.get(id);
      if (!t) throw bad(`task '${id}' is missing`);
      held++;
      if (id !== '') want.push(...t.children.map((c) => c.id));
    }
    if (held !== part.tasks.length) throw bad('it holds tasks of another part');
    byK[part.shard.k] = part;
  }
  const missing: number[] = [];
  for (let k = 1; k <= n; k++) if (!byK[k]) missing.push(k);
  if (missing.length > 0) throw new SmpError('SMP205', `part${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${n}`).join(', ')} missing: a merge needs all ${n}`);
  return byK.slice(1) as Part[];
}

/** The check the parts are of, merged: the CheckResult `check FILE` gives. */
export function mergeParts(sc: Scenario, parts: Part[], clock: () => number): { result: CheckResult; searchedAgain: number } {
  const p0 = parts[0]!;
  if (sha256(sc.source) !== p0.scenario.sha256) {
    throw new SmpError('SMP205', `the scenario '${sc.file}' is not the one the parts searched (its sha256 differs): give the same file with --scenario`, undefined, sc.file);
  }
  const byId = new Map<string, TaskResult>();
  for (const p of parts) for (const t of p.tasks) byId.set(t.spec.id, t as TaskResult);
  const stats = { searchedAgain: 0 };
  const search = (m: MachineSearch): ExploreResult => {
    const root = byId.get('')!;
    if (childrenHash(root.children) !== p0.plan.sha256) throw new SmpError('SMP205', "part 1's root task does not match the parts' plan");
    const st = newDporState(m.prop, m.opts);
    const ctx = { program: m.program, prop: m.prop, opts: { ...m.opts, freezeAfterSteps: p0.plan.freezeAfterSteps } };
    // The search's order: a task, then the tasks it froze into.
    const stack = [root];
    for (let tr = stack.pop(); tr; tr = stack.pop()) {
      if (!mergeTask(ctx, st, tr, stats)) break;
      for (let i = tr.children.length - 1; i >= 0; i--) stack.push(byId.get(tr.children[i]!.id)!);
    }
    return dporResult(st);
  };
  const c = p0.check;
  const result = checkScenario(sc, { model: c.model, variant: c.variant, bounds: c.bounds, witnessesMax: c.witnesses, search }, clock);
  if (c.variantSha256 !== null && result.variant.sha256 !== c.variantSha256) {
    throw new SmpError('SMP205', `the variant module '${c.variant}' is not the one the parts searched (its sha256 differs)`);
  }
  return { result, searchedAgain: stats.searchedAgain };
}

