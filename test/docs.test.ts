// Executable documentation: every ```console block of docs/*.md and README.md
// that starts with `$ smpcheck` is run from the repository root and its output
// compared byte for byte. `2>&1` appends standard error; `> /dev/null` drops
// standard output; a final `[exit N]` line is the expected exit code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli, read, ROOT } from './helpers.js';

interface Transcript {
  file: string;
  line: number;
  args: string[];
  merge: boolean;
  quiet: boolean;
  expected: string;
  exit: number | null;
}

function transcripts(file: string): Transcript[] {
  const out: Transcript[] = [];
  const lines = read(file).split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```console') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    const cmd = body[0];
    if (!cmd?.startsWith('$ smpcheck')) continue;
    let words = cmd.slice(2).split(/\s+/).slice(1);
    const merge = words.includes('2>&1');
    const devnull = words.indexOf('>');
    const quiet = devnull >= 0;
    words = words.filter((w, k) => w !== '2>&1' && !(quiet && k >= devnull));
    let rest = body.slice(1);
    let exit: number | null = null;
    const m = /^\[exit (\d+)\]$/.exec(rest[rest.length - 1] ?? '');
    if (m) {
      exit = Number(m[1]);
      rest = rest.slice(0, -1);
    }
    out.push({ file, line: start + 2, args: words, merge, quiet, expected: rest.length ? `${rest.join('\n')}\n` : '', exit });
  }
  return out;
}

const files = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];
const all = files.flatMap(transcripts);

test('the documentation has transcripts', () => {
  assert.ok(all.length >= 5, `found ${all.length} transcripts`);
});

// Transcripts run in document order (a replay reads the trace an earlier block wrote).
test('every transcript in the documentation reproduces exactly', () => {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    for (const t of all) {
      const r = cli(t.args);
      const where = `${t.file.slice(ROOT.length)}:${t.line}: smpcheck ${t.args.join(' ')}`;
      if (!t.quiet) assert.equal(r.out + (t.merge ? r.err : ''), t.expected, where);
      if (t.exit !== null) assert.equal(r.code, t.exit, `${where}: exit code`);
    }
  } finally {
    process.chdir(cwd);
  }
});
