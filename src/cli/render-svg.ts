// Renders DOT (standard input) to SVG (standard output) with Graphviz compiled to
// WebAssembly (@viz-js/viz), never a system binary. It runs as a child process so
// that the command line stays synchronous: Graphviz's WebAssembly loads asynchronously.

import { instance } from '@viz-js/viz';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const viz = await instance();
const r = viz.render(Buffer.concat(chunks).toString('utf8'), { format: 'svg' });
if (r.status !== 'success') {
  process.stderr.write(`${r.errors.map((e) => e.message).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(r.output);
