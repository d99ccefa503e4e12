// The browser's src/zod.ts (viewer/vite.config.ts puts it in its place): the page
// bundles zod as an ES module; the schemas are still built on first use.

import { z } from 'zod';

export function zod(): typeof z {
  return z;
}

export function lazySchema<T>(build: (zz: typeof z) => T): () => T {
  let built: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      built = build(z);
      done = true;
    }
    return built as T;
  };
}
