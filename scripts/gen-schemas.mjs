#!/usr/bin/env node
// Writes docs/schema/NAME.schema.json, the JSON Schema of every JSON shape smpcheck prints
// or reads, from the zod schemas of src/cli/json-shapes.ts (compiled: run after tsc).
// `npm run schemas`; test/json-schema.test.ts fails when a committed file is out of date.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { JSON_SHAPES, jsonSchemaOf } = await import(new URL('../dist/src/cli/json-shapes.js', import.meta.url).href);
const dir = join(ROOT, 'docs', 'schema');
mkdirSync(dir, { recursive: true });
for (const name of Object.keys(JSON_SHAPES)) {
  writeFileSync(join(dir, `${name}.schema.json`), `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`);
  process.stdout.write(`docs/schema/${name}.schema.json\n`);
}
