// Renders a Vega-Lite specification (standard input, JSON) to SVG (standard output):
// Vega-Lite compiles it to a Vega specification and Vega renders that headless, with no
// browser and no canvas. It runs as a child process so that the command line stays
// synchronous (Vega renders asynchronously), as src/cli/render-svg.ts does for Graphviz.

import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const spec = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TopLevelSpec;
const view = new View(parse(compile(spec).spec), { renderer: 'none' });
process.stdout.write(`${await view.toSVG()}\n`);
