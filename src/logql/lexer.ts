/**
 * The LogQL lexer, after Loki's: keywords are case-insensitive, function names (`rate`, `sum`,
 * `bytes`, …) are keywords only when a `(` (or `by (…)`/`without (…)`) follows, a number is a
 * DURATION (`5m`, `250ms`) or BYTES (`1KB`) when a unit follows without a space, and `[…]` is
 * one RANGE token. `#` starts a comment. Lexical errors become an ERROR token so that the
 * parser reports whichever problem comes first.
 */
import { parseBytes, parsePromDuration, parseQueryDuration } from './units.js';

export type TokenType =
  | 'IDENTIFIER'
  | 'STRING'
  | 'NUMBER'
  | 'DURATION'
  | 'BYTES'
  | 'RANGE'
  | 'FUNCTION_FLAG'
  /** A keyword or operator; its `text` (lower-cased) says which. */
  | 'KEYWORD'
  /** A function name followed by `(`; `text` is the lower-cased name. */
  | 'FUNCTION'
  | 'ERROR'
  | 'EOF';

export interface Token {
  type: TokenType;
  /** Keyword/function: lower-cased name; STRING: the unquoted value; others: source text. */
  text: string;
  /** 0-based offsets into the query. */
  pos: number;
  end: number;
  /** NUMBER/BYTES: the value. */
  num?: number;
  /** DURATION/RANGE: nanoseconds. */
  ns?: bigint;
  /** ERROR: the message. */
  error?: string;
}

/** Keywords and operators (Loki's `tokens` map). */
const KEYWORDS = new Set([
  'by', 'without', 'bool', 'offset', 'on', 'ignoring', 'group_left', 'group_right',
  'or', 'and', 'unless',
  'json', 'logfmt', 'regexp', 'pattern', 'unpack', 'line_format', 'label_format',
  'unwrap', 'drop', 'keep', 'decolorize', 'ip', 'label_replace',
]);

/** Names that are keywords only as function calls (Loki's `functionTokens`). */
export const FUNCTIONS = new Set([
  'rate', 'rate_counter', 'count_over_time', 'bytes_rate', 'bytes_over_time', 'avg_over_time',
  'sum_over_time', 'min_over_time', 'max_over_time', 'stdvar_over_time', 'stddev_over_time',
  'quantile_over_time', 'first_over_time', 'last_over_time', 'absent_over_time', 'vector',
  'sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'bottomk', 'topk', 'sort', 'sort_desc',
  'approx_topk', 'label_replace', 'bytes', 'duration', 'duration_seconds', 'ip',
]);

const PARSER_FLAGS = new Set(['--strict', '--keep-empty']);

/** Operators, longest first. */
const OPERATORS = [
  '==', '!=', '=~', '!~', '!>', '|=', '|~', '|>', '>=', '<=',
  '{', '}', '(', ')', ',', '.', '=', '|', '>', '<', '+', '-', '*', '/', '%', '^',
];

/** How a token is named in "unexpected X, expecting Y" (yacc's names, as Loki prints them). */
export function tokenName(t: Token): string {
  switch (t.type) {
    case 'EOF':
      return '$end';
    case 'KEYWORD':
      return t.text;
    case 'FUNCTION':
      return FUNCTION_TOKEN_NAMES[t.text] ?? t.text.toUpperCase();
    case 'ERROR':
      return 'error';
    default:
      return t.type;
  }
}

const FUNCTION_TOKEN_NAMES: Record<string, string> = {
  bytes: 'BYTES_CONV',
  duration: 'DURATION_CONV',
  duration_seconds: 'DURATION_SECONDS_CONV',
  ip: 'ip',
  label_replace: 'label_replace',
};

export function tokenize(input: string): Token[] {
  const toks: Token[] = [];
  const n = input.length;
  let i = 0;

  const isIdentStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c > 127;
  const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);
  const isDigit = (c: number) => c >= 48 && c <= 57;
  const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;

  /** Does a function call follow position p (`(`, or `by`/`without` then `(`)? */
  const functionFollows = (p: number): boolean => {
    while (p < n && isSpace(input.charCodeAt(p))) p++;
    if (input[p] === '(') return true;
    const m = /^(by|without)/i.exec(input.slice(p, p + 7));
    if (!m) return false;
    p += m[0].length;
    while (p < n && isSpace(input.charCodeAt(p))) p++;
    return input[p] === '(';
  };

  while (i < n) {
    const c = input.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      while (i < n && input.charCodeAt(i) !== 10) i++;
      continue;
    }
    const start = i;

    // Strings.
    if (c === 34 /* " */ || c === 96 /* ` */) {
      const r = c === 34 ? readQuoted(input, i) : readRaw(input, i);
      if ('error' in r) {
        toks.push({ type: 'ERROR', text: '', pos: start, end: r.end, error: r.error });
        return finish(toks, n);
      }
      toks.push({ type: 'STRING', text: r.value, pos: start, end: r.end });
      i = r.end;
      continue;
    }

    // Ranges: the whole "[…]" is one token.
    if (c === 91 /* [ */) {
      const close = input.indexOf(']', i + 1);
      if (close < 0) {
        toks.push({ type: 'ERROR', text: '', pos: start, end: n, error: "missing closing ']' in duration" });
        return finish(toks, n);
      }
      const body = input.slice(i + 1, close);
      try {
        const ns = parsePromDuration(body);
        toks.push({ type: 'RANGE', text: input.slice(i, close + 1), pos: start, end: close + 1, ns });
      } catch (e) {
        toks.push({ type: 'ERROR', text: '', pos: start, end: close + 1, error: (e as Error).message });
        return finish(toks, n);
      }
      i = close + 1;
      continue;
    }

    // Numbers, durations, byte sizes.
    if (isDigit(c) || (c === 46 && isDigit(input.charCodeAt(i + 1)))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(input.slice(i, i + 64))!;
      const j = i + m[0].length;
      const numText = m[0];
      // A unit glued to the number: duration first, then bytes (Loki's order).
      let k = j;
      while (k < n && /[0-9.nuµμmshdwy]/.test(input[k]!)) k++;
      if (k > j) {
        try {
          const ns = parseQueryDuration(input.slice(i, k));
          toks.push({ type: 'DURATION', text: input.slice(i, k), pos: start, end: k, ns });
          i = k;
          continue;
        } catch {
          /* not a duration */
        }
      }
      k = j;
      while (k < n && /[0-9.BikKMGTP]/.test(input[k]!)) k++;
      if (k > j) {
        try {
          const b = parseBytes(input.slice(i, k));
          toks.push({ type: 'BYTES', text: input.slice(i, k), pos: start, end: k, num: b });
          i = k;
          continue;
        } catch {
          /* not bytes */
        }
      }
      toks.push({ type: 'NUMBER', text: numText, pos: start, end: j, num: Number(numText) });
      i = j;
      continue;
    }

    // Identifiers, keywords, function names.
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(input.charCodeAt(j))) j++;
      const text = input.slice(i, j);
      const lower = text.toLowerCase();
      if (FUNCTIONS.has(lower) && functionFollows(j)) {
        toks.push({ type: 'FUNCTION', text: lower, pos: start, end: j });
      } else if (KEYWORDS.has(lower) && !FUNCTIONS.has(lower)) {
        toks.push({ type: 'KEYWORD', text: lower, pos: start, end: j });
      } else {
        toks.push({ type: 'IDENTIFIER', text, pos: start, end: j });
      }
      i = j;
      continue;
    }

    // Parser flags: --strict, --keep-empty.
    if (c === 45 && input.charCodeAt(i + 1) === 45) {
      const m = /^--[A-Za-z-]+/.exec(input.slice(i, i + 32));
      if (m && PARSER_FLAGS.has(m[0])) {
        toks.push({ type: 'FUNCTION_FLAG', text: m[0], pos: start, end: i + m[0].length });
        i += m[0].length;
        continue;
      }
    }

    const op = OPERATORS.find((o) => input.startsWith(o, i));
    if (op) {
      toks.push({ type: 'KEYWORD', text: op, pos: start, end: i + op.length });
      i += op.length;
      continue;
    }
    toks.push({ type: 'ERROR', text: '', pos: start, end: i + 1, error: `syntax error: unexpected character ${JSON.stringify(input[i])}` });
    return finish(toks, n);
  }
  return finish(toks, n);
}

function finish(toks: Token[], n: number): Token[] {
  toks.push({ type: 'EOF', text: '', pos: n, end: n });
  return toks;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** A Go double-quoted string starting at `i`. */
function readQuoted(s: string, i: number): { value: string; end: number } | { error: string; end: number } {
  let out = '';
  let j = i + 1;
  let segStart = j;
  while (j < s.length) {
    const ch = s[j]!;
    if (ch === '"') return { value: out + s.slice(segStart, j), end: j + 1 };
    if (ch === '\n') break;
    if (ch !== '\\') {
      j++;
      continue;
    }
    out += s.slice(segStart, j);
    const e = s[j + 1];
    if (e === undefined) break;
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      j += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(j + 2, j + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return { error: 'invalid syntax', end: j };
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      j += 2 + len;
    } else if (e >= '0' && e <= '7') {
      const oct = s.slice(j + 1, j + 4);
      if (!/^[0-7]{3}$/.test(oct)) return { error: 'invalid syntax', end: j };
      out += String.fromCharCode(Number.parseInt(oct, 8));
      j += 4;
    } else {
      return { error: 'invalid syntax', end: j };
    }
    segStart = j;
  }
  return { error: 'literal not terminated', end: s.length };
}

function readRaw(s: string, i: number): { value: string; end: number } | { error: string; end: number } {
  const close = s.indexOf('`', i + 1);
  if (close < 0) return { error: 'literal not terminated', end: s.length };
  return { value: s.slice(i + 1, close).replace(/\r/g, ''), end: close + 1 };
}
