// Coded user errors with a source location. Every problem a user can fix carries
// one of these codes; the CLI prints `file:line:col error[SMPnnn] message`, the
// offending line and a caret, and exits 1. Nothing here is an internal error.

export interface Span {
  line: number; // 1-based
  col: number; // 1-based
  len: number; // characters underlined by the caret (at least 1)
}

/** Every error code the tool can print. Documented in docs/errors.md. */
export const ERROR_CODES = {
  SMP001: 'unexpected character',
  SMP002: 'unterminated comment',
  SMP003: 'file is empty or does not start with a litmus header',
  SMP004: 'cannot read file',
  SMP100: 'syntax error',
  SMP101: 'unknown shared location',
  SMP102: 'unknown or undeclared register',
  SMP103: 'construct not supported',
  SMP104: 'unknown CPU or thread',
  SMP105: 'duplicate definition',
  SMP106: 'threads must be numbered P0, P1, ... without gaps',
  SMP107: 'malformed expectation in the header',
  SMP108: 'malformed or unsupported smpcheck directive',
  SMP109: 'type error',
  SMP110: 'bad value',
  SMP111: 'limit exceeded',
  SMP112: 'construct not modelled on this machine or engine yet',
  SMP200: 'bad command-line argument',
  SMP201: 'malformed trace file',
  SMP202: 'trace does not replay on this scenario',
  SMP203: 'variant module missing or not the one the trace recorded',
  SMP204: 'variant module failed while the model ran',
  SMP205: 'part file of a sharded check missing, given twice, malformed or of another check',
  SMP210: 'browser viewer not built',
  SMP220: 'malformed or invalid cost profile',
  SMP301: 'division by zero at run time',
  SMP302: 'arithmetic on a pointer value at run time',
  SMP303: 'dereference of a value that is not a pointer at run time',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SmpError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly span: Span | undefined;
  /** The text the span points into, when it is not the file on disk (a trace's embedded source). */
  source: string | undefined;
  /** For SMP103: the construct refused (`spin_lock`), as herd7's `Unknown macro` line names it. */
  construct: string | undefined;

  constructor(code: ErrorCode, message: string, span?: Span, file?: string) {
    super(message);
    this.name = 'SmpError';
    this.code = code;
    this.span = span;
    this.file = file;
  }

  withFile(file: string): SmpError {
    if (this.file !== undefined) return this;
    const e = new SmpError(this.code, this.message, this.span, file);
    e.source = this.source;
    e.construct = this.construct;
    return e;
  }

  /** Names the construct an SMP103 error refuses. */
  naming(construct: string): SmpError {
    this.construct = construct;
    return this;
  }

  /** Keeps the first source attached: the text the parser read. */
  withSource(source: string): SmpError {
    this.source ??= source;
    return this;
  }
}

/** The widest source line an error echoes; a longer one is cut around the caret. */
export const ECHO_CHARS_MAX = 100;

/** `file:line:col error[SMPnnn] message`, the source line and a caret under the span. */
export function formatError(err: SmpError, source?: string): string {
  const where = err.span
    ? `${err.file ?? '<input>'}:${err.span.line}:${err.span.col}`
    : (err.file ?? 'smpcheck');
  let out = `${where} error[${err.code}] ${clip(err.message, 4 * ECHO_CHARS_MAX)}`;
  const src = err.source ?? source;
  if (err.span && src !== undefined) {
    const { text, col, len } = echoLine(src, err.span);
    const gutter = String(err.span.line).length;
    const pad = ' '.repeat(gutter);
    out += `\n${pad} |\n${err.span.line} | ${text}\n${pad} | ${' '.repeat(col - 1)}${'^'.repeat(len)}`;
  }
  return out;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

/**
 * The span's line as it is echoed: tabs as spaces, at most ECHO_CHARS_MAX characters
 * (code points) around the caret, with '…' where it was cut; and the caret's column
 * and length on the echoed text. Only the one line is looked at.
 */
export function echoLine(source: string, span: Span): { text: string; col: number; len: number } {
  let start = 0;
  for (let l = 1; l < span.line; l++) {
    const k = source.indexOf('\n', start);
    if (k < 0) {
      start = source.length;
      break;
    }
    start = k + 1;
  }
  let end = source.indexOf('\n', start);
  if (end < 0) end = source.length;
  // Look at no more of the line than the caret needs.
  const take = Math.min(end, start + 2 * (span.col + ECHO_CHARS_MAX));
  const chars = Array.from(source.slice(start, take).replace(/\t/g, ' ').replace(/\r$/, ''));
  const cut = take < end;
  const at = Math.max(1, span.col);
  let col = at;
  let len = Math.max(1, span.len);
  let from = 0;
  if (col - 1 + Math.min(len, 10) > ECHO_CHARS_MAX) from = Math.max(0, col - 1 - Math.floor(ECHO_CHARS_MAX / 2));
  const to = Math.min(chars.length, from + ECHO_CHARS_MAX);
  let text = chars.slice(from, to).join('');
  if (from > 0) {
    text = `…${text}`;
    col = col - from + 1;
  }
  if (to < chars.length || cut) text += '…';
  len = Math.max(1, Math.min(len, to - (at - 1)));
  return { text, col, len };
}

export function errorJson(err: SmpError): object {
  return {
    error: err.code,
    message: clip(err.message, 4 * ECHO_CHARS_MAX),
    file: err.file ?? null,
    line: err.span?.line ?? null,
    col: err.span?.col ?? null,
  };
}

/**
 * herd7's line for a construct it does not know, `Warning: File "F": Unknown macro X (User
 * error)`, printed with every SMP103 so that the kernel's tools/memory-model scripts
 * (judgelitmus.sh) report `does not know "X"` instead of a verification error. X is the
 * construct the error names, else the first word under its caret.
 */
export function unknownMacroLine(err: SmpError, source?: string): string | null {
  if (err.code !== 'SMP103') return null;
  let name = err.construct;
  const src = err.source ?? source;
  if (name === undefined && err.span && src !== undefined) {
    const line = src.split('\n', err.span.line)[err.span.line - 1] ?? '';
    const under = line.slice(err.span.col - 1, err.span.col - 1 + Math.max(1, err.span.len));
    name = /[A-Za-z_][A-Za-z0-9_]*/.exec(under)?.[0] ?? (under.trim() || undefined);
  }
  return `Warning: File "${err.file ?? '<input>'}": Unknown macro ${name ?? 'construct'} (User error)`;
}
