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
  SMP200: 'bad command-line argument',
  SMP201: 'malformed trace file',
  SMP202: 'trace does not replay on this scenario',
  SMP301: 'division by zero at run time',
  SMP302: 'arithmetic on a pointer value at run time',
  SMP303: 'dereference of a value that is not a pointer at run time',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SmpError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly span: Span | undefined;

  constructor(code: ErrorCode, message: string, span?: Span, file?: string) {
    super(message);
    this.name = 'SmpError';
    this.code = code;
    this.span = span;
    this.file = file;
  }

  withFile(file: string): SmpError {
    return this.file !== undefined ? this : new SmpError(this.code, this.message, this.span, file);
  }
}

/** `file:line:col error[SMPnnn] message`, the source line and a caret under the span. */
export function formatError(err: SmpError, source?: string): string {
  const where = err.span
    ? `${err.file ?? '<input>'}:${err.span.line}:${err.span.col}`
    : (err.file ?? 'smpcheck');
  let out = `${where} error[${err.code}] ${err.message}`;
  if (err.span && source !== undefined) {
    const lines = source.split('\n');
    const text = (lines[err.span.line - 1] ?? '').replace(/\t/g, ' ');
    const gutter = String(err.span.line).length;
    const pad = ' '.repeat(gutter);
    out += `\n${pad} |\n${err.span.line} | ${text}\n${pad} | ${' '.repeat(Math.max(0, err.span.col - 1))}${'^'.repeat(Math.max(1, err.span.len))}`;
  }
  return out;
}

export function errorJson(err: SmpError): object {
  return {
    error: err.code,
    message: err.message,
    file: err.file ?? null,
    line: err.span?.line ?? null,
    col: err.span?.col ?? null,
  };
}
