#!/usr/bin/env node
// Makes docs/viewer.png, the README's picture of the trace viewer: the membarrier-A
// counterexample without the IPI (kernel variant no-ipi) at its stale read, in
// Debian's chromium driven by playwright-core. Run after `npm run build`:
//   node scripts/viewer-screenshot.mjs [path/to/chromium]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { main } from '../dist/src/cli/main.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'smpcheck-shot-'));
const quiet = { out: () => undefined, err: (s) => process.stderr.write(s), isTTY: false, now: () => 0 };
const trace = join(dir, 'membarrier-A.json');
const html = join(dir, 'membarrier-A.html');
process.chdir(ROOT);
await main(['scenarios/membarrier/membarrier-A.litmus', '--variant', 'no-ipi', '--no-time', '--trace', trace], quiet);
await main(['view', trace, '--out', html, '--no-open'], quiet);
const browser = await chromium.launch({ executablePath: process.argv[2] ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${pathToFileURL(html).href}#step=76`);
  await page.waitForSelector('body[data-graph=ready]', { timeout: 60_000 });
  await page.locator('.row.fold-row').nth(4).locator('.fold-toggle').click();
  await page.screenshot({ path: join(ROOT, 'docs', 'viewer.png'), fullPage: true });
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
