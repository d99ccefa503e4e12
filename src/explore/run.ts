// One execution of a program on a fresh machine, driven by a list of choices.
// Shared by both search strategies, replay and trace rendering.

import { AssertionFailed, BoundExceeded, Interner, Machine, type Fuse, type MachineSnapshot, type ModelName, type StepInfo } from '../machine/machine.js';
import { withKernelCalls } from '../machine/calls.js';
import type { Instance, Program } from '../litmus/program.js';

export interface Run {
  machine: Machine;
  instance: Instance;
}

/**
 * `fuse`: no-op steps run with the op after them and private accesses with the step
 * before them (Machine.fuse, Machine.fusePrivate; 'noops': traces of format version 4;
 * false: older ones; Program.fuse). `record`: the machine describes its steps (traces).
 */
export function freshRun(program: Program, interner: Interner, model: ModelName = program.model, procsMax?: number, fuse: Fuse = program.fuse ?? true, record = false): Run {
  const instance = program.instantiate();
  const machine = new Machine(model, program.nCpus, program.init, instance, interner, program.hasHandlers, program.codeLocs ?? [], program.paging ?? null, procsMax, fuse, record);
  return { machine, instance };
}

export interface Replay {
  run: Run;
  steps: StepInfo[];
  /** The first failed kernel assertion: a BUG_ON that ended the run, or a WARN_ON. */
  assertion?: string;
  /** The BUG_ON that ended the run at its last choice, if one did. */
  bug?: string;
  /** The step at which each WARN_ON fired (recording: an index into `steps`; else into the choices). */
  warnings: { step: number; name: string }[];
  /** When recording: the machine before the first step, and after each recorded step. */
  snapshots?: { initial: MachineSnapshot; after: MachineSnapshot[] };
}

/**
 * Replays `choices`; returns the step descriptions, with the kernel functions each
 * op came from and the machine's state after each step, when `record` is set.
 * Throws on an illegal choice. A choice that ran no-op steps with its op
 * (Machine.fuse) gives a step for each: the steps can outnumber the choices.
 * `fuse`: false to replay the choices of a trace made before no-ops were merged
 * (format version 3 and older).
 */
export function replayChoices(program: Program, choices: readonly number[], record: boolean, fuse: Fuse = program.fuse ?? true): Replay {
  return record ? withKernelCalls(() => replayRun(program, choices, true, fuse)) : replayRun(program, choices, false, fuse);
}

function replayRun(program: Program, choices: readonly number[], record: boolean, fuse: Fuse): Replay {
  const run = freshRun(program, new Interner(), program.model, undefined, fuse, record);
  const m = run.machine;
  // The state before the first step: before the private stores the code made in the
  // machine's constructor (Machine.startSteps), which the trace shows as steps.
  let initial: MachineSnapshot | undefined;
  if (record) {
    initial = m.snapshot();
    for (let i = m.startUndo.length - 1; i >= 0; i--) initial.mem[m.startUndo[i]![0]] = m.startUndo[i]![1];
  }
  const snapshots = record ? { initial: initial!, after: [] as MachineSnapshot[] } : undefined;
  const steps: StepInfo[] = [];
  const warnings: { step: number; name: string }[] = [];
  const noteWarnings = (i: number): void => {
    const all = run.instance.warnings();
    for (let w = warnings.length; w < all.length; w++) warnings.push({ step: i, name: all[w]! });
  };
  /** Recording: the steps of the last choice (its no-ops, its op, the no-ops after), and the state after each. */
  const push = (before: readonly StepInfo[], main: StepInfo | null, after: readonly StepInfo[]): void => {
    if (!record) return;
    const was = snapshots!.after.length > 0 ? snapshots!.after[snapshots!.after.length - 1]! : snapshots!.initial;
    // A no-op changes nothing: the state after it is the state before the choice.
    for (const s of before) {
      steps.push(s);
      snapshots!.after.push(was);
    }
    if (main === null && after.length === 0) return;
    const now = m.snapshot();
    for (const s of main ? [main, ...after] : after) {
      steps.push(s);
      snapshots!.after.push(now);
    }
  };
  if (record) {
    // The private accesses the code made before the first step (and the no-ops before them).
    let mem = snapshots!.initial.mem;
    for (const s of m.startSteps) {
      if (s.op === 'st') mem = mem.map((v, l) => (l === s.loc ? s.value! : v));
      steps.push(s);
      snapshots!.after.push({ ...snapshots!.initial, mem });
    }
    // Code that is no-ops only ran them before the first step.
    push(m.pendingNotes(true), null, []);
  }
  for (let i = 0; i < choices.length; i++) {
    const p = choices[i]!;
    if (p < 0 || p >= m.procCount || !m.enabled(p)) {
      throw new ReplayError(i, p);
    }
    try {
      m.step(p);
    } catch (e) {
      // A run that ends in a failed kernel assertion ends at its last choice.
      // The failing step (its op ran; the check after it threw) is the trace's last line.
      if (e instanceof AssertionFailed && i === choices.length - 1) {
        if (m.lastStep) push(m.notesBefore, m.lastStep, []);
        return { run, steps, assertion: e.assertion, bug: e.assertion, warnings, ...(snapshots ? { snapshots } : {}) };
      }
      if (e instanceof BoundExceeded || e instanceof AssertionFailed) throw new ReplayError(i, p);
      throw e;
    }
    if (m.lastStep) push(m.notesBefore, m.lastStep, m.notesAfter);
    // A WARN_ON fired in the choice's op: the trace marks the op's step.
    noteWarnings(record ? steps.length - 1 - m.notesAfter.length : i);
  }
  // A run that ends blocked (a deadlock): the no-ops before the ops that wait.
  if (record && !m.quiescent()) push(m.pendingNotes(false), null, []);
  const first = warnings[0];
  return { run, steps, warnings, ...(first ? { assertion: first.name } : {}), ...(snapshots ? { snapshots } : {}) };
}

export class ReplayError extends Error {
  constructor(readonly index: number, readonly proc: number) {
    super(`choice ${index} (process ${proc}) is not enabled at that point`);
  }
}
