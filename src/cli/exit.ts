// Exit codes (docs/cli.md). The CLI exits with the most severe code of all checks.

export const EXIT = {
  ok: 0,
  input_error: 1,
  violation: 2,
  liveness: 3,
  incomplete: 4,
  internal_error: 70,
} as const;

export type ExitName = keyof typeof EXIT;

/** Most severe first. */
const SEVERITY: ExitName[] = ['internal_error', 'input_error', 'violation', 'liveness', 'incomplete', 'ok'];

export function worst(names: Iterable<ExitName>): ExitName {
  let best = SEVERITY.length - 1;
  for (const n of names) best = Math.min(best, SEVERITY.indexOf(n));
  return SEVERITY[best]!;
}
