// --plot FILE.svg: simulated against published per cell (a --table run), or the per-CPU
// timeline of one iteration in the steady state (a single scenario). Plain SVG text,
// written here: every value drawn is a number of the run, escaped names only.

import { writeFileSync } from 'node:fs';
import { fsReason } from '../scenario/bounded-read.js';
import { SmpError } from '../scenario/errors.js';
import type { SeedCell } from './seeds.js';
import type { SimReport } from './run.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Published (grey) and simulated (blue) bars per cell, one panel per table. */
export function cellsSvg(cells: readonly SeedCell[]): string {
  const tables = [...new Set(cells.map((c) => c.table))];
  const barW = 14;
  const gap = 18;
  const panelH = 220;
  const width = 80 + Math.max(...tables.map((t) => cells.filter((c) => c.table === t).length)) * (2 * barW + gap) + 40;
  const out: string[] = [];
  tables.forEach((t, ti) => {
    const cs = cells.filter((c) => c.table === t);
    const max = Math.max(...cs.map((c) => Math.max(c.published, c.simulated ?? 0))) * 1.1;
    const y0 = 40 + ti * (panelH + 90);
    const y = (v: number): number => y0 + panelH - (v / max) * panelH;
    out.push(`<text x="10" y="${y0 - 12}" font-size="13">${esc(`${t} (${cs[0]!.unit}): published (grey) and simulated (blue); * fitted`)}</text>`);
    out.push(`<line x1="60" y1="${y0 + panelH}" x2="${width - 20}" y2="${y0 + panelH}" stroke="black"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      out.push(`<text x="55" y="${y(v) + 4}" font-size="10" text-anchor="end">${v.toFixed(cs[0]!.unit === 'us' ? 2 : 0)}</text>`);
    }
    cs.forEach((c, i) => {
      const x = 70 + i * (2 * barW + gap);
      out.push(`<rect x="${x}" y="${y(c.published)}" width="${barW}" height="${y0 + panelH - y(c.published)}" fill="#999"/>`);
      if (c.simulated !== null) out.push(`<rect x="${x + barW}" y="${y(c.simulated)}" width="${barW}" height="${y0 + panelH - y(c.simulated)}" fill="#2b6cb0"/>`);
      out.push(`<text transform="translate(${x + barW},${y0 + panelH + 10}) rotate(40)" font-size="9">${esc(`${c.row} ${c.column}${c.fitted ? ' *' : ''}`)}</text>`);
    });
  });
  const height = 40 + tables.length * (panelH + 90);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n${out.join('\n')}\n</svg>\n`;
}

const COLOURS = { busy: '#2b6cb0', spin: '#dd6b20', irq: '#c53030', idle: '#e2e8f0' } as const;

/** One lane per CPU over one iteration: busy, spinning, in interrupts, idle. */
export function timelineSvg(r: SimReport): string {
  const run = r.runs[0]!;
  const win = run.timelineWindow;
  const width = 760;
  const lane = 28;
  const n = run.cpus.length;
  const out: string[] = [];
  out.push(`<text x="10" y="20" font-size="13">${esc(`${r.scenario.name}, ${r.variant.name}, profile ${r.profile.name}: one iteration per CPU`)}</text>`);
  if (!win) {
    out.push('<text x="10" y="50" font-size="12">no loop iteration to draw (the scenario has no loop, or fewer than three iterations)</text>');
  } else {
    const [t0, t1] = win;
    const x = (t: number): number => 60 + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * (width - 80);
    for (let c = 0; c < n; c++) out.push(`<text x="10" y="${50 + c * lane + 16}" font-size="11">CPU${c}</text>`);
    for (const s of run.timeline) {
      out.push(`<rect x="${x(s.from).toFixed(2)}" y="${50 + s.cpu * lane}" width="${Math.max(0.3, x(s.to) - x(s.from)).toFixed(2)}" height="${lane - 6}" fill="${COLOURS[s.what]}"><title>${esc(`${s.what} ${(s.to - s.from).toFixed(1)} ns`)}</title></rect>`);
    }
    out.push(`<text x="60" y="${60 + n * lane}" font-size="10">0 ns</text><text x="${width - 20}" y="${60 + n * lane}" font-size="10" text-anchor="end">${(t1 - t0).toFixed(0)} ns</text>`);
    Object.entries(COLOURS).forEach(([k, col], i) => out.push(`<rect x="${60 + i * 90}" y="${72 + n * lane}" width="10" height="10" fill="${col}"/><text x="${74 + i * 90}" y="${81 + n * lane}" font-size="10">${k}</text>`));
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${100 + n * lane}" font-family="sans-serif">\n${out.join('\n')}\n</svg>\n`;
}

export function writeSvg(file: string, what: { cells?: readonly SeedCell[]; report?: SimReport }): void {
  if (!file.endsWith('.svg')) throw new SmpError('SMP200', `--plot writes an SVG file: name it FILE.svg, not '${file}'`);
  const svg = what.cells ? cellsSvg(what.cells) : timelineSvg(what.report!);
  try {
    writeFileSync(file, svg);
  } catch (e) {
    throw new SmpError('SMP004', `cannot write the plot '${file}': ${fsReason(e)}`, undefined, file);
  }
}
