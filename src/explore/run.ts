// One execution of a program on a fresh machine, driven by a list of choices.
// Shared by both search strategies, replay and trace rendering.

import { AssertionFailed, BoundExceeded, Interner, Machine, type MachineSnapshot, type ModelName, type StepInfo } from '../machine/machine.js';
import { withKernelCalls } from '../machine/calls.js';
import type { Instance, Program } from '../litmus/program.js';

export interface Run {
  machine: Machine;
  instance: Instance;
}

export function freshRun(program: Program, interner: Interner, model: ModelName = program.model, procsMax?: number): Run {
  const instance = program.instantiate();
  const machine = new Machine(model, program.nCpus, program.init, instance, interner, program.hasHandlers, program.codeLocs ?? [], program.paging ?? null, procsMax);
  return { machine, instance };
}

export interface Replay {
  run: Run;
  steps: StepInfo[];
  /** The first failed kernel assertion: a BUG_ON that ended the run, or a WARN_ON. */
  assertion?: string;
  /** The BUG_ON that ended the run at its last choice, if one did. */
  bug?: string;
  /** The step (index into the choices) at which each WARN_ON fired. */
  warnings: { step: number; name: string }[];
  /** When recording: the machine before the first step, and after each recorded step. */
  snapshots?: { initial: MachineSnapshot; after: MachineSnapshot[] };
}

/**
 * Replays `choices`; returns the step descriptions, with the kernel functions each
 * op came from and the machine's state after each step, when `record` is set.
 * Throws on an illegal choice.
 */
export function replayChoices(program: Program, choices: readonly number[], record: boolean): Replay {
  return record ? withKernelCalls(() => replayRun(program, choices, true)) : replayRun(program, choices, false);
}

function replayRun(program: Program, choices: readonly number[], record: boolean): Replay {
  const run = freshRun(program, new Interner());
  run.machine.recording = record;
  const snapshots = record ? { initial: run.machine.snapshot(), after: [] as MachineSnapshot[] } : undefined;
  const steps: StepInfo[] = [];
  const warnings: { step: number; name: string }[] = [];
  const noteWarnings = (i: number): void => {
    const all = run.instance.warnings();
    for (let w = warnings.length; w < all.length; w++) warnings.push({ step: i, name: all[w]! });
  };
  for (let i = 0; i < choices.length; i++) {
    const p = choices[i]!;
    if (p < 0 || p >= run.machine.procCount || !run.machine.enabled(p)) {
      throw new ReplayError(i, p);
    }
    try {
      run.machine.step(p);
    } catch (e) {
      // A run that ends in a failed kernel assertion ends at its last choice.
      // The failing step (its op ran; the check after it threw) is the trace's last line.
      if (e instanceof AssertionFailed && i === choices.length - 1) {
        if (record && run.machine.lastStep) {
          steps.push(run.machine.lastStep);
          snapshots!.after.push(run.machine.snapshot());
        }
        return { run, steps, assertion: e.assertion, bug: e.assertion, warnings, ...(snapshots ? { snapshots } : {}) };
      }
      if (e instanceof BoundExceeded || e instanceof AssertionFailed) throw new ReplayError(i, p);
      throw e;
    }
    if (record && run.machine.lastStep) {
      steps.push(run.machine.lastStep);
      snapshots!.after.push(run.machine.snapshot());
    }
    noteWarnings(i);
  }
  const first = warnings[0];
  return { run, steps, warnings, ...(first ? { assertion: first.name } : {}), ...(snapshots ? { snapshots } : {}) };
}

export class ReplayError extends Error {
  constructor(readonly index: number, readonly proc: number) {
    super(`choice ${index} (process ${proc}) is not enabled at that point`);
  }
}
