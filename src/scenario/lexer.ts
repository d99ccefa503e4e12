// Tokeniser for the Linux-kernel C litmus format.
// `(* ... *)` comments are kept aside (the header comment carries expectations);
// C `/* */` and `//` comments are skipped.

import { SmpError, type Span } from './errors.js';

export type TokKind = 'id' | 'num' | 'punct' | 'eof';

export interface Token {
  kind: TokKind;
  text: string;
  span: Span;
}

export interface Comment {
  text: string; // without the delimiters
  span: Span;
}

export interface Lexed {
  tokens: Token[];
  comments: Comment[];
}

// Longest first: the lexer tries each in order.
const PUNCT = [
  '/\\', '\\/', '<<', '>>', '==', '!=', '<=', '>=', '&&', '||', '->', '=>',
  '{', '}', '(', ')', '[', ']', ';', ',', '*', '&', '=', '+', '-', '/', '%',
  '|', '^', '~', '!', '<', '>', ':', '.', '?',
];

export const SOURCE_CHARS_MAX = 1_000_000;
/** A file larger than this cannot be under SOURCE_CHARS_MAX (UTF-8 takes at most 3 bytes per UTF-16 unit). */
export const SOURCE_BYTES_MAX = 3 * SOURCE_CHARS_MAX;

export function lex(src: string): Lexed {
  if (src.length > SOURCE_CHARS_MAX) {
    throw new SmpError('SMP111', `file is longer than ${SOURCE_CHARS_MAX} characters (source_chars_max)`, { line: 1, col: 1, len: 1 });
  }
  const tokens: Token[] = [];
  const comments: Comment[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  const n = src.length;
  let depth = 0;

  // Columns count characters (code points): the second half of a surrogate pair
  // does not move the column.
  const advance = (k: number): void => {
    for (let j = 0; j < k; j++) {
      const u = src.charCodeAt(i);
      if (u === 10) {
        line++;
        col = 1;
      } else if (!(u >= 0xdc00 && u <= 0xdfff && i > 0 && isHighSurrogate(src.charCodeAt(i - 1)))) {
        col++;
      }
      i++;
    }
  };
  // Each search moves forward only, so the whole scan stays linear in the input
  // (a file of unclosed '(* ' openers must not rescan the rest of the file for each).
  const nextClose = forwardFinder(src, '*)');
  const nextEol = forwardFinder(src, '\n');

  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v') {
      advance(1);
      continue;
    }
    const start: Span = { line, col, len: 1 };
    // '(*' opens an OCaml-style comment outside braces; inside a thread body it is
    // a comment only when a space follows and '*)' closes it on the same line
    // ('READ_ONCE(*x)' and 'READ_ONCE(* x)' are code).
    if (c === '(' && src[i + 1] === '*' && (depth === 0 || (/\s/.test(src[i + 2] ?? '') && nextClose(i + 2) < nextEol(i)))) {
      const end = nextClose(i + 2);
      if (end >= n) throw new SmpError('SMP002', 'unterminated comment: "(*" without "*)"', { ...start, len: 2 });
      const text = src.slice(i + 2, end);
      advance(end + 2 - i);
      comments.push({ text, span: start });
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new SmpError('SMP002', 'unterminated comment: "/*" without "*/"', { ...start, len: 2 });
      advance(end + 2 - i);
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') advance(1);
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      // Litmus test names may contain '+', '-', '.' and such; the parser reads the
      // name line raw, so identifiers stay C identifiers here.
      const text = src.slice(i, j);
      tokens.push({ kind: 'id', text, span: { ...start, len: j - i } });
      advance(j - i);
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      if (c === '0' && (src[j] === 'x' || src[j] === 'X')) {
        j++;
        const digits = j;
        while (j < n && /[0-9a-fA-F]/.test(src[j]!)) j++;
        if (j === digits) {
          let k = j;
          while (k < n && /[A-Za-z0-9_]/.test(src[k]!)) k++;
          throw new SmpError('SMP001', `malformed number '${src.slice(i, k)}': no hexadecimal digits`, { ...start, len: k - i });
        }
      } else {
        while (j < n && /[0-9]/.test(src[j]!)) j++;
      }
      // C integer suffixes (1UL, 2u) are accepted and ignored.
      while (j < n && /[uUlL]/.test(src[j]!)) j++;
      if (j < n && /[A-Za-z_]/.test(src[j]!)) {
        let k = j;
        while (k < n && /[A-Za-z0-9_]/.test(src[k]!)) k++;
        throw new SmpError('SMP001', `malformed number '${src.slice(i, k)}'`, { ...start, len: k - i });
      }
      tokens.push({ kind: 'num', text: src.slice(i, j), span: { ...start, len: j - i } });
      advance(j - i);
      continue;
    }
    const p = PUNCT.find((q) => src.startsWith(q, i));
    if (p === undefined) {
      const cp = src.codePointAt(i)!;
      const shown = cp < 32 || cp === 0x7f ? `\\x${cp.toString(16).padStart(2, '0')}` : String.fromCodePoint(cp);
      throw new SmpError('SMP001', `unexpected character '${shown}'`, start);
    }
    if (p === '{') depth++;
    else if (p === '}' && depth > 0) depth--;
    tokens.push({ kind: 'punct', text: p, span: { ...start, len: p.length } });
    advance(p.length);
  }
  tokens.push({ kind: 'eof', text: '<end of file>', span: { line, col, len: 1 } });
  return { tokens, comments };
}

function isHighSurrogate(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}

/**
 * `find(from)` is the index of the next `needle` at or after `from` (src.length if
 * none). Queries must not go backwards past an earlier answer; each part of the
 * input is then searched once.
 */
function forwardFinder(src: string, needle: string): (from: number) => number {
  let asked = -1;
  let at = -1;
  return (from: number): number => {
    if (asked < 0 || from < asked || from > at) {
      const k = src.indexOf(needle, from);
      at = k < 0 ? src.length : k;
      asked = from;
    }
    return at;
  };
}
