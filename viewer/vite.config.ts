// Builds the trace viewer into dist/viewer/viewer.js: one classic script (IIFE),
// Graphviz's WebAssembly inlined, so that a page opened from disk (file://) can run
// it (browsers refuse module scripts there) and `smpcheck view` can put it and a
// trace into one self-contained page (scripts/build-viewer.mjs, src/cli/view.ts).

import { defineConfig } from 'vite';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
// src/zod.ts loads zod with Node's require(); the page takes viewer/src/zod.ts in its place.
const nodeZod = fileURLToPath(new URL('../src/zod.js', import.meta.url));
const browserZod = fileURLToPath(new URL('./src/zod.ts', import.meta.url));

export default defineConfig({
  root: here,
  logLevel: 'warn',
  plugins: [{
    name: 'browser-zod',
    enforce: 'pre',
    resolveId: (source, importer) => (importer && source.endsWith('zod.js') && resolve(dirname(importer), source) === nodeZod ? browserZod : null),
  }],
  // Graphviz's WebAssembly is inlined: the script never looks up its own URL.
  define: { 'process.env.NODE_ENV': '"production"', 'import.meta.url': 'undefined' },
  build: {
    outDir: fileURLToPath(new URL('../dist/viewer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    reportCompressedSize: false,
    lib: { entry: fileURLToPath(new URL('./src/main.ts', import.meta.url)), formats: ['iife'], name: 'smpcheckViewer', fileName: () => 'viewer.js' },
  },
});
