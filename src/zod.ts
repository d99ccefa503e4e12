// zod, loaded on first use. Most commands validate no JSON (a check of a classic
// litmus test reads a scenario and prints a verdict), and loading zod costs about
// as much as the rest of such a command's start-up; so every schema is built by a
// memoised function the first time a reader asks for it (README, Performance).
// Loaded with require() because the callers are synchronous; the browser viewer
// replaces this module with viewer/src/zod.ts (viewer/vite.config.ts).

import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';

let loaded: typeof Zod | undefined;

/** The zod namespace (`z`), loaded by the first call. */
export function zod(): typeof Zod {
  loaded ??= (createRequire(import.meta.url)('zod') as { z: typeof Zod }).z;
  return loaded;
}

/** A schema (or any value made with zod) built by its first reader and kept. */
export function lazySchema<T>(build: (z: typeof Zod) => T): () => T {
  let built: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      built = build(zod());
      done = true;
    }
    return built as T;
  };
}
