#!/usr/bin/env node
// Builds the browser trace viewer (viewer/) into dist/viewer/: viewer.js with Vite,
// then index.html, the viewer alone (open a trace with its file picker or by
// dropping it on the page), made by the same function `smpcheck view` uses.
// Runs after tsc (it imports dist/src/cli/view.js).

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
await build({ configFile: `${ROOT}viewer/vite.config.ts` });
const { viewerBundle, viewerPage } = await import('../dist/src/cli/view.js');
const script = readFileSync(viewerBundle(), 'utf8');
writeFileSync(`${ROOT}dist/viewer/index.html`, viewerPage(script, null));
