#!/usr/bin/env node
// Entry point of the smpcheck command (compiled sources live in dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A clone that was never built has no dist/: say what to run, in one line, not a stack trace.
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`smpcheck: not built (${fileURLToPath(entry)} is missing): run 'npm ci' or 'npm run build' in ${root}\n`);
  process.exit(1);
}
// `smpcheck --version` needs nothing but the version: it loads no other module.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { VERSION } = await import(new URL('../dist/src/version.js', import.meta.url).href);
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}
const { main } = await import(entry.href);

// A reader that goes away (`smpcheck ... | head`) ends the command quietly, like other Unix tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(args);
