// Executable documentation: every ```console block of docs/*.md and README.md
// that starts with `$ smpcheck` is run from the repository root and its output
// compared byte for byte. `2>&1` appends standard error; `> /dev/null` drops
// standard output; a final `[exit N]` line is the expected exit code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

test('the documentation has transcripts', async () => {
  assert.ok(all.length >= 5, `found ${all.length} transcripts`);
});

// Transcripts run in document order (a replay reads the trace an earlier block wrote).
test('every transcript in the documentation reproduces exactly', async () => {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    for (const t of all) {
      const r = await cli(t.args);
      const where = `${t.file.slice(ROOT.length)}:${t.line}: smpcheck ${t.args.join(' ')}`;
      if (!t.quiet) assert.equal(r.out + (t.merge ? r.err : ''), t.expected, where);
      if (t.exit !== null) assert.equal(r.code, t.exit, `${where}: exit code`);
    }
  } finally {
    process.chdir(cwd);
  }
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of read(file).split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (m) out.add(slug(m[1]!));
  }
  return out;
}

// A reader of a clone (or of the package) follows every link of the README and docs/ to a file there.
test('every relative link in README.md and docs/*.md leads to a file of the repository, and every anchor to a heading', async () => {
  let links = 0;
  for (const file of files) {
    let fenced = false;
    read(file).split('\n').forEach((line, i) => {
      if (line.startsWith('```')) fenced = !fenced;
      if (fenced) return;
      for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        links++;
        const where = `${file.slice(ROOT.length)}:${i + 1}: ${target}`;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const dest = path === '' ? file : resolve(dirname(file), path);
        assert.ok(dest.startsWith(ROOT), `${where} leaves the repository`);
        assert.ok(existsSync(dest), `${where} does not exist`);
        if (anchor !== undefined && dest.endsWith('.md')) assert.ok(anchors(dest).has(anchor), `${where}: no heading with that anchor`);
      }
    });
  }
  assert.ok(links >= 5, `found ${links} links`);
});
