/**
 * Prometheus/Loki label-set strings, as carried in `StreamAdapter.labels` of a protobuf push:
 * `{app="web", namespace="shop"}`.
 *
 * Parsing accepts what Loki's `syntax.ParseLabels` accepts for pushes: whitespace between
 * tokens, values in double quotes with Go string escapes (`\" \\ \n \t \r \a \b \f \v \'`,
 * `\xHH` and 3-digit octal bytes — decoded as UTF-8 —, `\uXXXX`, `\UXXXXXXXX`) or in back-quotes
 * (raw, no escapes), and, leniently, a trailing comma. Duplicate names are an error (Loki rejects
 * them too). Names must match `[a-zA-Z_][a-zA-Z0-9_]*`. Empty values are returned as-is.
 *
 * Formatting writes sorted names and escapes so that `parseLabelSet(formatLabelSet(l))` equals
 * `l` for every valid label set (lone UTF-16 surrogates excepted: they have no UTF-8 form).
 */
import type { Labels } from '../../store/engine.js';
import { LabelSetSyntaxError } from './errors.js';
import { isValidLabelName, LABEL_NAME_PATTERN, setLabel } from './validate.js';

const enum C {
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  Comma = 44,
  Zero = 48,
  Seven = 55,
  Nine = 57,
  Eq = 61,
  UpperA = 65,
  UpperZ = 90,
  Backslash = 92,
  Underscore = 95,
  Backtick = 96,
  LowerA = 97,
  LowerZ = 122,
  LBrace = 123,
  RBrace = 125,
}

function isNameStart(c: number): boolean {
  return (c >= C.LowerA && c <= C.LowerZ) || (c >= C.UpperA && c <= C.UpperZ) || c === C.Underscore;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= C.Zero && c <= C.Nine);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function describe(s: string, pos: number): string {
  if (pos >= s.length) return 'end of input';
  const cp = s.codePointAt(pos) ?? 0;
  const ch = String.fromCodePoint(cp);
  return cp < 0x20 || cp === 0x7f ? JSON.stringify(ch) : `'${ch}'`;
}

function fail(s: string, pos: number, expected: string): never {
  throw new LabelSetSyntaxError(`${expected} at position ${pos}, found ${describe(s, pos)}`, pos);
}

function skipWs(s: string, pos: number): number {
  for (;;) {
    const c = s.charCodeAt(pos);
    if (c === C.Space || c === C.Tab || c === C.Lf || c === C.Cr) pos++;
    else return pos;
  }
}

/** Parses a label-set string. Throws `LabelSetSyntaxError` (with `.position`) on bad input. */
export function parseLabelSet(s: string): Labels {
  const out: Record<string, string> = {};
  let pos = skipWs(s, 0);
  if (s.charCodeAt(pos) !== C.LBrace) fail(s, pos, "expected '{'");
  pos = skipWs(s, pos + 1);
  if (s.charCodeAt(pos) !== C.RBrace) {
    for (;;) {
      const nameStart = pos;
      if (!isNameStart(s.charCodeAt(pos))) fail(s, pos, 'expected label name');
      pos++;
      while (isNameChar(s.charCodeAt(pos))) pos++;
      const name = s.slice(nameStart, pos);
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        throw new LabelSetSyntaxError(`duplicate label name ${JSON.stringify(name)} at position ${nameStart}`, nameStart);
      }
      pos = skipWs(s, pos);
      if (s.charCodeAt(pos) !== C.Eq) fail(s, pos, "expected '=' after label name");
      pos = skipWs(s, pos + 1);
      const q = s.charCodeAt(pos);
      let value: string;
      if (q === C.Quote) [value, pos] = readQuoted(s, pos);
      else if (q === C.Backtick) [value, pos] = readRaw(s, pos);
      else fail(s, pos, `expected '"' to start the value of label ${JSON.stringify(name)}`);
      setLabel(out, name, value);
      pos = skipWs(s, pos);
      const c = s.charCodeAt(pos);
      if (c === C.Comma) {
        pos = skipWs(s, pos + 1);
        if (s.charCodeAt(pos) === C.RBrace) break; // trailing comma
        continue;
      }
      if (c === C.RBrace) break;
      fail(s, pos, "expected ',' or '}' after label value");
    }
  }
  // s[pos] is '}'
  pos = skipWs(s, pos + 1);
  if (pos < s.length) fail(s, pos, "expected end of input after '}'");
  return out;
}

/** Reads a back-quoted raw string starting at `start` (the back-quote). */
function readRaw(s: string, start: number): [string, number] {
  const end = s.indexOf('`', start + 1);
  if (end < 0) {
    throw new LabelSetSyntaxError(`unterminated label value starting at position ${start}`, start);
  }
  return [s.slice(start + 1, end), end + 1];
}

/** Reads a double-quoted Go string literal starting at `start` (the quote). */
function readQuoted(s: string, start: number): [string, number] {
  let pos = start + 1;
  // Fast path: no escapes.
  const close = s.indexOf('"', pos);
  const bs = s.indexOf('\\', pos);
  if (close >= 0 && (bs < 0 || bs > close)) return [s.slice(pos, close), close + 1];

  let out = '';
  let bytes: number[] | null = null; // pending \x / octal bytes, decoded together as UTF-8
  const flush = (): void => {
    if (bytes) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = null;
    }
  };
  let runStart = pos;
  for (;;) {
    if (pos >= s.length) {
      throw new LabelSetSyntaxError(`unterminated label value starting at position ${start}`, start);
    }
    const c = s.charCodeAt(pos);
    if (c === C.Quote) {
      if (pos > runStart) {
        flush();
        out += s.slice(runStart, pos);
      }
      flush();
      return [out, pos + 1];
    }
    if (c !== C.Backslash) {
      pos++;
      continue;
    }
    if (pos > runStart) {
      flush();
      out += s.slice(runStart, pos);
    }
    const escPos = pos;
    const e = s.charCodeAt(pos + 1);
    pos += 2;
    let ch: string | null = null;
    switch (e) {
      case 110: ch = '\n'; break; // n
      case 116: ch = '\t'; break; // t
      case 114: ch = '\r'; break; // r
      case 34: ch = '"'; break;
      case 92: ch = '\\'; break;
      case 39: ch = "'"; break;
      case 97: ch = '\x07'; break; // a
      case 98: ch = '\b'; break; // b
      case 102: ch = '\f'; break; // f
      case 118: ch = '\v'; break; // v
      case 120: { // xHH
        const h = hexVal(s.charCodeAt(pos));
        if (h < 0) fail(s, pos, 'expected 2 hex digits after \\x');
        const l = hexVal(s.charCodeAt(pos + 1));
        if (l < 0) fail(s, pos + 1, 'expected 2 hex digits after \\x');
        (bytes ??= []).push(h * 16 + l);
        pos += 2;
        break;
      }
      case 117: // uXXXX
      case 85: { // UXXXXXXXX
        const n = e === 117 ? 4 : 8;
        let cp = 0;
        for (let i = 0; i < n; i++) {
          const v = hexVal(s.charCodeAt(pos + i));
          if (v < 0) fail(s, pos + i, `expected ${n} hex digits after \\${String.fromCharCode(e)}`);
          cp = cp * 16 + v;
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          throw new LabelSetSyntaxError(`invalid Unicode code point in escape at position ${escPos}`, escPos);
        }
        ch = String.fromCodePoint(cp);
        pos += n;
        break;
      }
      default:
        if (e >= C.Zero && e <= C.Seven) { // \NNN octal byte
          const d1 = s.charCodeAt(pos) - C.Zero;
          if (!(d1 >= 0 && d1 <= 7)) fail(s, pos, 'expected 3 octal digits after \\');
          const d2 = s.charCodeAt(pos + 1) - C.Zero;
          if (!(d2 >= 0 && d2 <= 7)) fail(s, pos + 1, 'expected 3 octal digits after \\');
          const v = (e - C.Zero) * 64 + d1 * 8 + d2;
          if (v > 255) throw new LabelSetSyntaxError(`octal escape out of range at position ${escPos}`, escPos);
          (bytes ??= []).push(v);
          pos += 2;
          break;
        }
        if (escPos + 1 >= s.length) {
          throw new LabelSetSyntaxError(`unterminated label value starting at position ${start}`, start);
        }
        throw new LabelSetSyntaxError(
          `invalid escape '\\${String.fromCodePoint(s.codePointAt(escPos + 1) ?? 0)}' at position ${escPos}`,
          escPos,
        );
    }
    if (ch !== null) {
      flush();
      out += ch;
    }
    runStart = pos;
  }
}

function escapeValue(v: string): string {
  let out = '';
  let run = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x20 && c !== C.Quote && c !== C.Backslash && c !== 0x7f) continue;
    out += v.slice(run, i);
    run = i + 1;
    if (c === C.Quote) out += '\\"';
    else if (c === C.Backslash) out += '\\\\';
    else if (c === C.Lf) out += '\\n';
    else if (c === C.Tab) out += '\\t';
    else if (c === C.Cr) out += '\\r';
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return run === 0 ? v : out + v.slice(run);
}

/**
 * Formats labels as `{a="x", b="y"}` with names sorted (code-unit order, which is byte order
 * for valid names). Throws a RangeError for a name that is not a valid label name: the string
 * would not parse back.
 */
export function formatLabelSet(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!isValidLabelName(name)) {
      throw new RangeError(`invalid label name ${JSON.stringify(name)}: must match ${LABEL_NAME_PATTERN}`);
    }
    if (i > 0) out += ', ';
    out += `${name}="${escapeValue(labels[name]!)}"`;
  }
  return out + '}';
}
