// `--write-readme` of the benches: replace what stands between two markers of README.md.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeReadmeSection(root: string, marker: string, body: string): void {
  const readme = join(root, 'README.md');
  const src = readFileSync(readme, 'utf8');
  const begin = `<!-- ${marker}:begin -->`;
  const end = `<!-- ${marker}:end -->`;
  const i = src.indexOf(begin);
  const j = src.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${marker} markers`);
  writeFileSync(readme, `${src.slice(0, i + begin.length)}\n${body}${src.slice(j)}`);
}
