/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The browser trace viewer (viewer/), driven in headless Chromium (Debian's
// chromium, with playwright-core): for a counterexample of each scenario folder, the
// page that `smpcheck view` writes opens, steps to the stale read, and shows that
// step, the state the trace records there, and the execution graph; its screenshot
// is compared by structure (size, lanes, rows, state boxes, graph nodes), not by
// pixels. A trace with markup and script in its strings shows them as text.
// Skipped, with the reason, where Chromium cannot be started (.ci/run installs it).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { traceSchema, type Trace } from '../src/explore/trace.js';
import { executionGraph } from '../src/explore/graph.js';
import { stateAt } from '../src/explore/state.js';
import { viewerBundle, viewerPage } from '../src/cli/view.js';
import { cli, ROOT } from './helpers.js';

const CHROMIUM = process.env.SMPCHECK_CHROMIUM ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1400, height: 1000 };

const dir = mkdtempSync(join(tmpdir(), 'smpcheck-viewer-'));
let browser: Browser | null = null;
let skip: string | false = false;

before(async () => {
  if (!existsSync(viewerBundle())) {
    skip = `the viewer is not built (${viewerBundle()}): run npm run build`;
    return;
  }
  if (!existsSync(CHROMIUM)) {
    skip = `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
    return;
  }
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 60_000 });
  } catch (e) {
    skip = `Chromium at ${CHROMIUM} cannot be started: ${String((e as Error).message).split('\n')[0]}`;
  }
});

after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A page with the console and page errors collected. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: VIEWPORT });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]');
  return { page, errors };
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

interface Case {
  folder: string;
  file: string;
  variant?: string;
  /** The step the counterexample turns on: the stale read (the last step whose text matches). */
  stale: RegExp;
}

const CASES: Case[] = [
  { folder: 'litmus', file: 'SB.litmus', stale: /^READ_ONCE\(x\) = 0$/ },
  { folder: 'membarrier', file: 'membarrier-A.litmus', variant: 'no-ipi', stale: /^READ_ONCE\(y\) = 0$/ },
  { folder: 'sync-core', file: 'jit-reclaim-plain.litmus', stale: /exec_code\(code\) runs version 1 \(stale\)/ },
  { folder: 'rseq', file: 'rseq-fence-free-plain.litmus', stale: /^READ_ONCE\(slot\) = 0$/ },
  { folder: 'irq', file: 'SB+ipi-nowait.litmus', stale: /^READ_ONCE\(y\) = 0$/ },
  { folder: 'tlb', file: 'madvise-stale-read.litmus', variant: 'async-flush', stale: /stale: the PTE has changed/ },
];

for (const c of CASES) {
  test(`viewer: a counterexample of scenarios/${c.folder} (${c.file}${c.variant ? `, ${c.variant}` : ''}) at its stale read`, async (t) => {
    if (skip) return t.skip(skip);
    const traceFile = join(dir, `${c.folder}.json`);
    const args = [join(ROOT, 'scenarios', c.folder, c.file), '--model', 'x86', '--no-time', '--trace', traceFile, ...(c.variant ? ['--variant', c.variant] : [])];
    const chk = await cli(args);
    assert.ok(chk.code === 0 || chk.code === 2, chk.err);
    const trace: Trace = traceSchema().parse(JSON.parse(readFileSync(traceFile, 'utf8')));
    const html = join(dir, `${c.folder}.html`);
    const v = await cli(['view', traceFile, '--out', html]);
    assert.equal(v.code, 0, v.err);
    const url = pathToFileURL(html).href;
    assert.equal(v.out, `Open ${url}\n`, 'view prints the URL and starts no browser in a test');

    const stale = trace.steps.filter((s) => c.stale.test(s.text)).pop();
    assert.ok(stale, `the trace has the stale step ${c.stale}`);
    const n = stale.i + 1;
    const { page, errors } = await open(`${url}#step=${n}`);
    await page.waitForSelector('body[data-graph=ready]', { timeout: 60_000 });

    // The steps: one lane per CPU, the selected row is the stale read, in its CPU's lane.
    assert.equal(await page.locator('.lanes-head .lane-title').count(), trace.cpus.length);
    const sel = page.locator('.row.selected');
    assert.equal(await sel.count(), 1);
    assert.equal(await sel.getAttribute('data-step'), String(n));
    assert.equal((await sel.locator('.cell.step .text').textContent())?.trim(), stale.text);
    assert.equal(await sel.locator('.cell').nth(stale.cpu).evaluate((el) => el.classList.contains('step')), true);
    assert.equal(await page.locator('.detail .step-text').textContent(), stale.text);
    assert.match((await page.locator('.detail h3').textContent()) ?? '', new RegExp(`^Step ${n} of ${trace.steps.length} · CPU${stale.cpu} `));

    // The state at that step, as the trace records it: each CPU's store buffer and the scenario's locations.
    const want = stateAt(trace.state!, stale.i);
    assert.equal(await page.locator('.state .cpu-state').count(), trace.cpus.length);
    for (let k = 0; k < trace.cpus.length; k++) {
      const shown = await page.locator(`.cpu-state[data-cpu="${k}"] .buffer .entry`).allTextContents();
      assert.deepEqual(shown, want.cpus[k]!.buffer.map((e) => `${e.loc}=${e.value}`), `CPU${k}'s store buffer at step ${n}`);
      assert.equal(await page.locator(`.cpu-state[data-cpu="${k}"] .pending`).textContent(), `pending: ${want.cpus[k]!.pending.length ? want.cpus[k]!.pending.join(', ') : 'none'}`);
    }
    const rows = await page.locator('table.scenario-locs tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent]));
    const scen = trace.state!.locations.filter((l) => l.scope !== 'kernel').map((l) => [l.name, want.mem[l.name]]);
    assert.deepEqual(rows, scen);
    if (trace.kernel) {
      const kern = await page.locator('table.kernel-key th').allTextContents();
      assert.ok(kern.some((x) => /^rq\d->curr$/.test(x)), `rq->curr is shown: ${kern.join(', ')}`);
      assert.ok(kern.some((x) => /membarrier_state$/.test(x)), 'membarrier_state is shown');
    }

    // The execution graph: the events the core computes, drawn; the selected read is an event of it.
    const g = executionGraph(trace, trace, 'scenario');
    assert.equal(await page.locator('svg.graph g.node').count(), g.events.length);
    const texts = await page.locator('svg.graph g.node text').allTextContents();
    for (const e of g.events) assert.ok(texts.includes(e.label), `graph node '${e.label}'`);
    if (g.events.some((e) => e.step === stale.i)) {
      assert.equal(await page.locator(`svg.graph g.node[data-event="e${stale.i}"]`).evaluate((el) => el.classList.contains('current')), true);
    }
    assert.ok((await page.locator('svg.graph g.edge[data-rel="rf"]').count()) > 0, 'rf edges drawn');

    // Keyboard stepping moves the selection and the URL.
    await page.keyboard.press('k');
    const back = Number(/#step=(\d+)/.exec(page.url())?.[1]);
    assert.ok(back < n, `k moves back (#step=${back})`);
    await page.keyboard.press('j');
    assert.match(page.url(), new RegExp(`#step=${n}$`));

    // The screenshot, compared by structure: its size and the page's parts.
    const png = await page.screenshot({ path: join(dir, `${c.folder}.png`) });
    assert.deepEqual(pngSize(png), VIEWPORT);
    const shape = await page.evaluate(() => ({
      lanes: document.querySelectorAll('.lanes-head .lane-title').length,
      rows: document.querySelectorAll('.lanes .row').length > 0,
      cpuStates: document.querySelectorAll('.state .cpu-state').length,
      graph: document.querySelectorAll('svg.graph').length,
      header: document.querySelector('header h1')?.textContent,
    }));
    assert.deepEqual(shape, { lanes: trace.cpus.length, rows: true, cpuStates: trace.cpus.length, graph: 1, header: trace.scenario.name });
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('viewer: kernel calls fold into one row each and open; search finds a kernel function', async (t) => {
  if (skip) return t.skip(skip);
  const html = join(dir, 'membarrier.html');
  if (!existsSync(html)) return t.skip('the membarrier page was not written');
  const last = traceSchema().parse(JSON.parse(readFileSync(join(dir, 'membarrier.json'), 'utf8'))).steps.length;
  const { page, errors } = await open(`${pathToFileURL(html).href}#step=${last}`);
  const folds = page.locator('.row.fold-row');
  assert.ok((await folds.count()) > 0, 'folded kernel calls');
  const first = folds.first();
  assert.match((await first.locator('.fn').textContent()) ?? '', /^sys_membarrier\(\)/);
  const before = await page.locator('.lanes .row').count();
  await first.locator('.fold-toggle').click();
  assert.ok((await page.locator('.lanes .row').count()) > before, 'opening a call shows its rows');
  await page.fill('#search', 'membarrier_private_expedited');
  assert.match((await page.locator('.hits').textContent()) ?? '', /^\d+ matching steps$/);
  assert.ok((await page.locator('.row.match').count()) > 0);
  await page.press('#search', 'Enter');
  const step = Number(/#step=(\d+)/.exec(page.url())?.[1]);
  const s = traceSchema().parse(JSON.parse(readFileSync(join(dir, 'membarrier.json'), 'utf8'))).steps[step - 1]!;
  assert.ok(s.calls?.includes('membarrier_private_expedited'), `Enter selects a step in the function (step ${step})`);
  assert.equal(await page.locator('.ipi-arrow').count(), 2, 'an arrow for each IPI');
  // A click on an event of the graph selects its step.
  await page.waitForSelector('body[data-graph=ready]');
  const node = page.locator('svg.graph g.node[data-event^="e"]').first();
  const ev = Number(((await node.getAttribute('data-event')) ?? '').slice(1));
  await node.click();
  assert.match(page.url(), new RegExp(`#step=${ev + 1}$`));
  assert.equal(await page.locator('.detail .step-text').textContent(), traceSchema().parse(JSON.parse(readFileSync(join(dir, 'membarrier.json'), 'utf8'))).steps[ev]!.text);
  assert.deepEqual(errors, []);
  await page.close();
});

test('viewer: context switches are marked, in their step and in the folded call around it', async (t) => {
  if (skip) return t.skip(skip);
  const traceFile = join(dir, 'switch.json');
  await cli([join(ROOT, 'scenarios', 'membarrier', 'membarrier-switch-mm.litmus'), '--model', 'x86', '--no-time', '--trace', traceFile]);
  const trace = traceSchema().parse(JSON.parse(readFileSync(traceFile, 'utf8')));
  const sw = trace.steps.find((s) => s.op === 'st' && /^rq\d+->curr$/.test(s.loc ?? ''));
  assert.ok(sw, 'the trace switches tasks');
  const html = join(dir, 'switch.html');
  await cli(['view', traceFile, '--out', html]);
  const { page, errors } = await open(`${pathToFileURL(html).href}#step=${sw.i + 1}`);
  const sel = page.locator('.row.selected');
  assert.equal(await sel.locator('.badge.switch').textContent(), 'context switch');
  assert.match((await sel.locator('.text').textContent()) ?? '', /RCU_INIT_POINTER\(rq->curr, next\)/);
  // Folded, the call that contains the switch says so.
  await page.keyboard.press('h');
  const folded = page.locator('.row.selected');
  assert.equal(await folded.getAttribute('data-fold') !== null, true, 'h folds the call around the step');
  assert.equal(await folded.locator('.badge.switch').count(), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

/** SB asking only about CPU0's read: several execution graphs satisfy it. */
const SB_ONE = ['C SB-one', '', '{}', '', 'P0(int *x, int *y)', '{', '\tint r0;', '\tWRITE_ONCE(*x, 1);', '\tr0 = READ_ONCE(*y);', '}', '',
  'P1(int *x, int *y)', '{', '\tint r0;', '\tWRITE_ONCE(*y, 1);', '\tr0 = READ_ONCE(*x);', '}', '', 'exists (0:r0=0)', ''].join('\n');

test('viewer: the witnesses of one check, switched in the page and named in the URL', async (t) => {
  if (skip) return t.skip(skip);
  const sc = join(dir, 'SB-one.litmus');
  writeFileSync(sc, SB_ONE);
  const traceFile = join(dir, 'witnesses.json');
  assert.equal((await cli([sc, '--model', 'x86', '--no-time', '--witnesses', '3', '--trace', traceFile])).code, 0);
  const trace = traceSchema().parse(JSON.parse(readFileSync(traceFile, 'utf8')));
  const runs = [trace, ...(trace.witnesses ?? [])];
  assert.ok(runs.length >= 2, 'more than one witness');
  const html = join(dir, 'witnesses.html');
  assert.equal((await cli(['view', traceFile, '--out', html])).code, 0);
  const { page, errors } = await open(`${pathToFileURL(html).href}#step=1`);
  const rowsOf = async (): Promise<string[]> => page.locator('.lanes .row .cell.step .text').allTextContents();
  assert.deepEqual(await rowsOf(), trace.steps.map((s) => s.text));
  assert.equal(await page.locator('#witness option').count(), runs.length);
  await page.selectOption('#witness', '1');
  await page.waitForSelector('body[data-graph=ready]');
  assert.deepEqual(await rowsOf(), runs[1]!.steps.map((s) => s.text));
  assert.match(page.url(), /#step=1&witness=2$/);
  // The URL brings the same witness back.
  const again = await open(page.url());
  assert.deepEqual(await again.page.locator('.lanes .row .cell.step .text').allTextContents(), runs[1]!.steps.map((s) => s.text));
  assert.deepEqual([...errors, ...again.errors], []);
  await page.close();
  await again.page.close();
});

/** A trace whose every string is markup or script. */
async function maliciousTrace(): Promise<Trace> {
  const file = join(dir, 'sb-clean.json');
  await cli([join(ROOT, 'scenarios', 'litmus', 'SB.litmus'), '--model', 'x86', '--no-time', '--trace', file, '--witnesses', '2']);
  const t = traceSchema().parse(JSON.parse(readFileSync(file, 'utf8')));
  const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
  t.scenario.name = `SB ${evil}`;
  t.cpus = t.cpus.map((c) => `${c}${evil}`);
  const loc = (name: string): string => `${name}"><b onmouseover=alert(1)><iframe src="javascript:window.__pwned=5">`;
  const val = (v: string): string => `${v}<img src=x onerror="window.__pwned=6">`;
  const mem = (m: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(m).map(([k, v]) => [loc(k), val(v)]));
  for (const s of t.steps) {
    s.text = `${s.text} ${evil}`;
    s.fn = `${s.fn}</script><svg onload="window.__pwned=3">`;
    if (s.loc) s.loc = loc(s.loc);
    if (s.value) s.value = val(s.value);
    s.label = `</style><script>window.__pwned=4</script>`;
  }
  const st = t.state!;
  for (const l of st.locations) l.name = loc(l.name);
  st.initial.mem = mem(st.initial.mem);
  for (const a of st.after) {
    a.mem = mem(a.mem);
    for (const c of a.cpus) c.buffer = c.buffer.map((e) => ({ loc: loc(e.loc), value: val(e.value) }));
  }
  t.final = { '0:r0': evil };
  return t;
}

test('viewer: a trace with markup and script in its strings renders them as text and runs nothing', async (t) => {
  if (skip) return t.skip(skip);
  const trace = await maliciousTrace();
  const html = join(dir, 'evil.html');
  writeFileSync(html, viewerPage(readFileSync(viewerBundle(), 'utf8'), trace));
  const last = trace.steps.length;
  for (const how of ['embedded', 'picked'] as const) {
    const url = how === 'embedded' ? `${pathToFileURL(html).href}#step=${last}` : `${pathToFileURL(join(dir, 'picker.html')).href}#step=${last}`;
    if (how === 'picked') {
      writeFileSync(join(dir, 'picker.html'), viewerPage(readFileSync(viewerBundle(), 'utf8'), null));
      writeFileSync(join(dir, 'evil.json'), JSON.stringify(trace));
    }
    const { page, errors } = await open(url);
    if (how === 'picked') {
      assert.match((await page.locator('#load-error').textContent()) ?? '', /No trace loaded/);
      await page.setInputFiles('#file', join(dir, 'evil.json'));
      await page.waitForSelector('.lanes .row');
    }
    await page.waitForSelector('body[data-graph=ready]', { timeout: 60_000 });
    await page.locator('.lanes .row').first().hover();
    const probe = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
      injected: document.querySelectorAll('#app img, #app iframe, #app b, #app script, svg.graph svg, #app [onerror], #app [onload], #app [onmouseover]').length,
      title: document.querySelector('header h1')?.textContent,
      text: document.querySelector('.detail .step-text')?.textContent,
      graphText: [...document.querySelectorAll('svg.graph text')].map((x) => x.textContent).join('\n'),
    }));
    assert.equal(probe.pwned, null, `${how}: nothing from the trace ran`);
    assert.equal(probe.injected, 0, `${how}: no element from the trace's strings`);
    assert.equal(probe.title, trace.scenario.name, `${how}: the name shows as text`);
    assert.equal(probe.text, trace.steps[last - 1]!.text);
    assert.ok(probe.graphText.includes('"><b onmouseover=alert(1)>'), `${how}: graph labels are text`);
    assert.deepEqual(errors.filter((e) => !/Content Security Policy|Refused to/.test(e)), []);
    await page.close();
  }
});

test('viewer: a file that is not a trace is refused with the schema\'s reason', async (t) => {
  if (skip) return t.skip(skip);
  writeFileSync(join(dir, 'picker.html'), viewerPage(readFileSync(viewerBundle(), 'utf8'), null));
  writeFileSync(join(dir, 'not-a-trace.json'), JSON.stringify({ format: 'smpcheck-trace', version: 3, steps: '<b>x</b>' }));
  const { page } = await open(pathToFileURL(join(dir, 'picker.html')).href);
  await page.setInputFiles('#file', join(dir, 'not-a-trace.json'));
  await page.waitForFunction(() => !/No trace loaded/.test(document.querySelector('#load-error')?.textContent ?? ''));
  assert.match((await page.locator('#load-error').textContent()) ?? '', /^not-a-trace\.json is not an smpcheck trace: /);
  assert.equal(await page.locator('#app b').count(), 0);
  await page.close();
});
