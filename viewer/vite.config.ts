// Builds the trace viewer into dist/viewer/viewer.js: one classic script (IIFE),
// Graphviz's WebAssembly inlined, so that a page opened from disk (file://) can run
// it (browsers refuse module scripts there) and `smpcheck view` can put it and a
// trace into one self-contained page (scripts/build-viewer.mjs, src/cli/view.ts).

import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  logLevel: 'warn',
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
