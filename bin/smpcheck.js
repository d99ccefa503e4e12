#!/usr/bin/env node
// Entry point of the smpcheck command (compiled sources live in dist/).
import { main } from '../dist/src/cli/main.js';

// A reader that goes away (`smpcheck ... | head`) ends the command quietly, like other Unix tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = main(process.argv.slice(2));
