// Progress a person can watch, on standard error. The only clock is the CLI's (Io.now):
// the engine calls back every few runs with its counters and knows nothing of time.
//
// On a terminal, one live line, redrawn in place (carriage return, erase to the end of
// the line) a few times a second and cut to the terminal's width so that it never wraps;
// elsewhere (a log file, `--progress` into a pipe), whole lines now and then, without
// carriage returns. Plain ANSI: two escape sequences do not need a library, and the search
// is synchronous, so nothing that draws from a timer of its own could run during it.

import type { Progress } from '../explore/types.js';

export type ProgressMode = 'live' | 'lines' | 'off';

export interface ProgressIo {
  err: (s: string) => void;
  isTTY: boolean;
  now: () => number;
  /** Columns of the terminal standard error writes to, when it is one. */
  errColumns?: number;
}

/** `--quiet` and `--no-progress` silence it, `--progress` forces it; by default only a terminal gets it. */
export function progressMode(io: ProgressIo, o: { progress?: boolean; quiet?: boolean }): ProgressMode {
  if (o.quiet || o.progress === false) return 'off';
  if (o.progress === true) return io.isTTY ? 'live' : 'lines';
  return io.isTTY ? 'live' : 'off';
}

/** Milliseconds a check runs before its progress shows, between redraws of the live line, and between plain lines. */
export const PROGRESS_FIRST_MS = 1000;
export const PROGRESS_LIVE_MS = 200;
export const PROGRESS_LINES_MS = 5000;
/** Runs (DPOR) or states (explicit search) between the engine's calls: often enough for a clock read to matter, rare enough to cost nothing. */
export const PROGRESS_EVERY = 8;

const BAR_WIDTH = 20;

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const count = (n: number): string => n.toLocaleString('en-US');

export function bar(share: number, width = BAR_WIDTH): string {
  const full = Math.max(0, Math.min(width, Math.round(share * width)));
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

/** One check's counters as a phrase: executions, graphs, rate, elapsed, and a bar where the share done is estimated. */
export function describeProgress(p: Progress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((p.executions * 1000) / elapsedMs) : 0;
  let s = `${count(p.executions)} executions, ${count(p.graphs)} graphs, ${count(rate)}/s, ${formatDuration(elapsedMs)}`;
  if (p.share !== undefined) s += ` ${bar(p.share)} ~${Math.floor(p.share * 100)}%`;
  return s;
}

export class ProgressReporter {
  private live = ''; // what the terminal shows on the live line
  private suite: { total: number; done: number; t0: number; spentMs: number } | null = null;
  private check: { name: string; t0: number; last: number; shown: boolean } | null = null;

  constructor(private readonly io: ProgressIo, readonly mode: ProgressMode) {}

  get on(): boolean {
    return this.mode !== 'off';
  }

  /** A suite of `total` checks begins: `i/N` and the time left appear with each finished row. */
  startSuite(total: number): void {
    if (this.mode === 'off') return;
    this.suite = { total, done: 0, t0: this.io.now(), spentMs: 0 };
  }

  /** A check begins; the callback goes to the engine (CheckOptions.onProgress). */
  startCheck(name: string): ((p: Progress) => void) | undefined {
    if (this.mode === 'off') return undefined;
    const t0 = this.io.now();
    this.check = { name, t0, last: t0, shown: false };
    if (this.suite && this.mode === 'live') this.draw(this.suiteLine(name));
    return (p) => this.onProgress(p);
  }

  /** The check ended: a suite counts it; the live line gives way to what comes next. */
  endCheck(): void {
    if (this.mode === 'off') return;
    this.countDone();
    this.check = null;
    this.clear();
  }

  /** A check of the suite ran elsewhere (`suite --jobs`) and finished: it counts. */
  checkDone(): void {
    if (this.mode === 'off' || !this.suite) return;
    this.countDone();
    // Its row may wait for an earlier check's: the live line shows the count meanwhile.
    if (this.mode === 'live' && this.suite.done < this.suite.total) this.draw(this.suiteStatus());
  }

  private countDone(): void {
    if (!this.suite) return;
    this.suite.done++;
    this.suite.spentMs = this.io.now() - this.suite.t0;
  }

  /** Writes output (a row of the table on standard output) with the live line out of its way, then the suite's status. */
  above(write: () => void): void {
    this.clear();
    write();
    if (this.suite && this.mode !== 'off') {
      const status = this.suiteStatus();
      if (this.mode === 'live') {
        if (this.suite.done < this.suite.total) this.draw(status);
      } else this.io.err(`${status}\n`);
    }
  }

  /** Erases the live line (before other output, and at the end). */
  clear(): void {
    if (this.live !== '') {
      this.io.err('\r\x1b[K');
      this.live = '';
    }
  }

  private onProgress(p: Progress): void {
    const c = this.check;
    if (!c) return;
    const t = this.io.now();
    if (!c.shown && t - c.t0 < PROGRESS_FIRST_MS) return;
    if (c.shown && t - c.last < (this.mode === 'live' ? PROGRESS_LIVE_MS : PROGRESS_LINES_MS)) return;
    c.shown = true;
    c.last = t;
    const text = `${c.name}: ${describeProgress(p, t - c.t0)}`;
    if (this.mode === 'live') this.draw(this.suite ? `${this.suiteHead()} ${text}` : text);
    else this.io.err(`${this.suite ? `${this.suiteHead()} ` : ''}${text}\n`);
  }

  /** `3/40, ~1:20 left`: the time left is the mean time of a finished check times the checks to go. */
  private suiteHead(): string {
    const s = this.suite!;
    const left = s.done > 0 ? ` ~${formatDuration((s.spentMs / s.done) * (s.total - s.done))} left` : '';
    return `[${Math.min(s.done + 1, s.total)}/${s.total}${left}]`;
  }

  private suiteLine(name: string): string {
    return `${this.suiteHead()} ${name}`;
  }

  private suiteStatus(): string {
    const s = this.suite!;
    const left = s.done > 0 && s.done < s.total ? `, ~${formatDuration((s.spentMs / s.done) * (s.total - s.done))} left` : '';
    return `suite: ${s.done}/${s.total} checks, ${formatDuration(this.io.now() - s.t0)}${left}`;
  }

  private draw(text: string): void {
    const cols = this.io.errColumns || 80; // 0 where the terminal does not say
    // Cut to the terminal so that the line never wraps (a wrapped line cannot be erased in place).
    const line = text.length >= cols ? `${text.slice(0, Math.max(1, cols - 2))}…` : text;
    this.io.err(`\r\x1b[K${line}`);
    this.live = line;
  }
}
