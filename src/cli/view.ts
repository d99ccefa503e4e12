// `smpcheck view TRACE`: the trace in the browser viewer (viewer/, built into
// dist/viewer/ by `npm run build`). It writes one self-contained HTML page, the
// viewer's script and the trace together, which can be opened from disk, kept or
// mailed; it opens the page in a browser where one can be started, and always
// prints its file:// URL. The trace is embedded as JSON data (a script element of
// type application/json, which browsers never run) after it has been validated
// with the trace schema; a Content-Security-Policy allows only the viewer's own
// script, by its hash, so nothing in a trace can run even if it got through.

import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { fsReason, readBounded } from '../scenario/bounded-read.js';
import { SmpError } from '../scenario/errors.js';
import type { Trace } from '../explore/trace.js';
import { readTrace } from './replay.js';
import type { ExitName } from './exit.js';
import type { Io } from './main.js';

/** The viewer's bundle, built by `npm run build` (viewer/vite.config.ts); SMPCHECK_VIEWER_JS names another build. */
export function viewerBundle(): string {
  return process.env.SMPCHECK_VIEWER_JS || fileURLToPath(new URL('../../viewer/viewer.js', import.meta.url));
}

/** The built viewer script is far below this; a larger file is not a viewer. */
const VIEWER_BYTES_MAX = 64 * 1024 * 1024;

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON that cannot end the script element it sits in: every '<' is written as \u003c. */
export function embeddedJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** One page with the viewer and `trace` (null: the viewer alone, which opens files by picker or drop). */
export function viewerPage(script: string, trace: Trace | null): string {
  if (/<\/script/i.test(script)) throw new Error('internal: the viewer bundle contains "</script" and cannot be inlined');
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  const csp = `default-src 'none'; script-src 'sha256-${hash}' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; connect-src data:`;
  const title = trace ? `smpcheck trace: ${trace.scenario.name} on ${trace.machine}` : 'smpcheck trace viewer';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    '<body>',
    trace ? `<script type="application/json" id="smpcheck-trace">${embeddedJson(trace)}</script>` : '',
    `<script>${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function readViewer(): string {
  const file = viewerBundle();
  if (!existsSync(file)) {
    throw new SmpError('SMP210', `the browser viewer is not built (${file} is missing): run npm run build`);
  }
  return readBounded(file, VIEWER_BYTES_MAX, 'the viewer');
}

/** Starts the desktop's browser on `url`, detached; false when there is none to start. */
function openBrowser(url: string): boolean {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  try {
    const child = spawn(cmd, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

export interface ViewOpts {
  out?: string;
  open: boolean;
}

export function cmdView(io: Io, traceFile: string, o: ViewOpts): ExitName {
  const trace = readTrace(traceFile);
  const page = viewerPage(readViewer(), trace);
  const out = resolve(o.out ?? join(dirname(traceFile), `${basename(traceFile).replace(/\.json$/i, '')}.html`));
  try {
    writeFileSync(out, page);
  } catch (e) {
    throw new SmpError('SMP004', `cannot write the viewer page '${out}': ${fsReason(e)}`, undefined, out);
  }
  const url = pathToFileURL(out).href;
  // A browser is started only for a person at a terminal, never in CI or a test.
  const opened = o.open && io.isTTY && !process.env.CI && openBrowser(url);
  io.out(`${opened ? 'Opened' : 'Open'} ${url}\n`);
  return 'ok';
}

export function addViewCommand(program: Command, io: Io, setExit: (n: ExitName) => void): void {
  program
    .command('view')
    .description('show a trace written by --trace in the browser viewer: writes TRACE.html (viewer and trace in one page) and opens it, or prints its file:// URL')
    .argument('<trace>', 'trace JSON file')
    .option('--out <file>', 'write the page to FILE instead of TRACE.html beside the trace')
    .option('--no-open', 'only print the URL, start no browser')
    .action((traceFile: string, opts: ViewOpts) => setExit(cmdView(io, traceFile, opts)));
}
