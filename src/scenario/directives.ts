// The `smpcheck { ... }` block: scenario settings beyond plain litmus.
// Grammar (docs/scenario-format.md):  block := 'smpcheck' '{' (NAME ARG* ';')* '}'
// Accepted now:  model sc|x86;  bound steps N;  bound executions N;
// Reserved for the kernel model (recognised, refused with SMP108 until implemented):
//   kernel, variant, process, task, kthread, cpu, preempt, sched, mm, config.

import type { Bounds } from '../explore/types.js';
import { MODELS, type ModelName } from '../machine/machine.js';
import type { Scenario } from './ast.js';
import { SmpError } from './errors.js';

export const RESERVED_DIRECTIVES = ['kernel', 'variant', 'process', 'task', 'kthread', 'cpu', 'preempt', 'sched', 'mm', 'config'] as const;
export const BOUND_MAX = 100_000_000;

export interface Settings {
  model?: ModelName;
  bounds: Partial<Bounds>;
}

export function directiveSettings(sc: Scenario): Settings {
  const out: Settings = { bounds: {} };
  for (const d of sc.directives) {
    const err = (msg: string): SmpError => new SmpError('SMP108', msg, d.span, sc.file);
    switch (d.name) {
      case 'model': {
        const m = d.args[0];
        if (d.args.length !== 1 || !MODELS.includes(m as ModelName)) throw err(`'model' takes one of: ${MODELS.join(', ')}`);
        out.model = m as ModelName;
        break;
      }
      case 'bound': {
        const [what, n] = d.args;
        const v = Number(n);
        if (d.args.length !== 2 || !Number.isSafeInteger(v) || v < 1 || v > BOUND_MAX) {
          throw err(`'bound' takes a name and a positive integer up to ${BOUND_MAX}: 'bound steps 500;'`);
        }
        if (what === 'steps') out.bounds.stepsMax = v;
        else if (what === 'executions') out.bounds.executionsMax = v;
        else throw err(`unknown bound '${what}': known bounds are 'steps' and 'executions'`);
        break;
      }
      default:
        if ((RESERVED_DIRECTIVES as readonly string[]).includes(d.name)) {
          throw err(`directive '${d.name}' is reserved for the kernel model and not supported in this version`);
        }
        throw err(`unknown directive '${d.name}'`);
    }
  }
  return out;
}

/** Validate directives at parse time so that bad ones fail before any search. */
export function validateDirectives(sc: Scenario): void {
  directiveSettings(sc);
}
