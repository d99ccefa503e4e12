// --plot FILE.svg: simulated against published per cell (a --table run), or the per-CPU
// timeline of one iteration in the steady state (a single scenario). Each picture is a
// Vega-Lite specification built here from the run's numbers; Vega-Lite and Vega draw it
// (src/cli/render-plot.ts, in a child process).

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fsReason } from '../scenario/bounded-read.js';
import { SmpError } from '../scenario/errors.js';
import type { SeedCell } from './seeds.js';
import type { SimReport } from './run.js';

type Spec = Record<string, unknown>;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = { font: 'sans-serif' };
/** Rendering a picture may take this long (Vega's layout of a few thousand marks takes well under a second). */
const PLOT_RENDER_TIMEOUT_MS = 60_000;

/** Published (grey) and simulated (blue) bars per cell, with the error; one panel per table. */
export function cellsSpec(cells: readonly SeedCell[]): Spec {
  const tables = [...new Set(cells.map((c) => c.table))];
  return {
    $schema: SCHEMA,
    config: { ...FONT, view: { stroke: null } },
    vconcat: tables.map((t) => {
      const cs = cells.filter((c) => c.table === t);
      const unit = cs[0]!.unit;
      const label = (c: SeedCell): string => `${c.row} / ${c.column}${c.fitted ? ' *' : ''}`;
      const values = cs.flatMap((c) => [
        { cell: label(c), series: 'published', value: c.published, error: '' },
        ...(c.simulated === null ? [] : [{ cell: label(c), series: 'simulated', value: c.simulated, error: c.error === null ? '' : `${c.error >= 0 ? '+' : ''}${(100 * c.error).toFixed(1)}%` }]),
      ]);
      const x = { field: 'cell', type: 'nominal', sort: cs.map(label), title: null, axis: { labelAngle: -35, labelLimit: 240 } };
      return {
        title: `${t}: published (grey) and simulated (blue), ${unit === 'us' ? 'us per operation' : 'ns per iteration'}; * fitted`,
        width: 60 * cs.length,
        height: 200,
        data: { values },
        encoding: { x, xOffset: { field: 'series', sort: ['published', 'simulated'] } },
        layer: [
          {
            mark: 'bar',
            encoding: {
              y: { field: 'value', type: 'quantitative', title: unit },
              color: { field: 'series', type: 'nominal', scale: { domain: ['published', 'simulated'], range: ['#999999', '#2b6cb0'] }, legend: null },
            },
          },
          {
            mark: { type: 'text', dy: -5, fontSize: 9 },
            encoding: { y: { field: 'value', type: 'quantitative' }, text: { field: 'error' } },
          },
        ],
      };
    }),
  };
}

const COLOURS = { busy: '#2b6cb0', spin: '#dd6b20', irq: '#c53030', idle: '#e2e8f0' } as const;

/** One lane per CPU over one iteration: busy, spinning, in interrupts, idle. */
export function timelineSpec(r: SimReport): Spec {
  const run = r.runs[0]!;
  const win = run.timelineWindow;
  const title = `${r.scenario.name}, ${r.variant.name}, profile ${r.profile.name}: one iteration per CPU`;
  if (!win) {
    return {
      $schema: SCHEMA, config: FONT, title, width: 600, height: 40,
      data: { values: [{ text: 'no loop iteration to draw (the scenario has no loop, or fewer than three iterations)' }] },
      mark: { type: 'text', align: 'left', x: 0, y: 20 }, encoding: { text: { field: 'text' } },
    };
  }
  const [t0, t1] = win;
  const values = run.timeline
    .filter((s) => s.to > t0 && s.from < t1)
    .map((s) => ({ cpu: `CPU${s.cpu}`, from: Math.max(s.from, t0) - t0, to: Math.min(s.to, t1) - t0, what: s.what }));
  return {
    $schema: SCHEMA,
    config: FONT,
    title,
    width: 700,
    height: 28 * run.cpus.length,
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'cpu', type: 'nominal', title: null, sort: run.cpus.map((_, c) => `CPU${c}`) },
      x: { field: 'from', type: 'quantitative', title: 'ns into the iteration', scale: { domain: [0, t1 - t0], nice: false } },
      x2: { field: 'to' },
      color: { field: 'what', type: 'nominal', title: null, scale: { domain: Object.keys(COLOURS), range: Object.values(COLOURS) }, legend: { orient: 'bottom' } },
    },
  };
}

/** A Vega-Lite specification drawn to SVG by Vega-Lite and Vega, in a child process (src/cli/render-plot.ts). */
export function renderPlot(spec: Spec): string {
  const script = fileURLToPath(new URL('../cli/render-plot.js', import.meta.url));
  try {
    return execFileSync(process.execPath, [script], { input: JSON.stringify(spec), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: PLOT_RENDER_TIMEOUT_MS, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new SmpError('SMP200', `Vega could not draw the plot: ${(err.stderr || err.message).trim().split('\n')[0]}`);
  }
}

export function writeSvg(file: string, what: { cells?: readonly SeedCell[]; report?: SimReport }): void {
  if (!file.endsWith('.svg')) throw new SmpError('SMP200', `--plot writes an SVG file: name it FILE.svg, not '${file}'`);
  const svg = renderPlot(what.cells ? cellsSpec(what.cells) : timelineSpec(what.report!));
  try {
    writeFileSync(file, svg);
  } catch (e) {
    throw new SmpError('SMP004', `cannot write the plot '${file}': ${fsReason(e)}`, undefined, file);
  }
}
