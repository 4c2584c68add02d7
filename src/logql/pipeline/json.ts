/**
 * `| json` and `| unpack`: a single-pass JSON scanner that sets labels straight from the line,
 * without building objects. Nested keys are flattened with `_` (`{"a":{"b":1}}` → `a_b`), names
 * sanitized, arrays and nulls skipped, numbers kept verbatim (as Loki does). On malformed input
 * the labels found so far stay and `__error__="JSONParserErr"` is set.
 * `| json a="x.y", b="z[0]"` extracts only the given paths.
 */
import { EXTRACTED_SUFFIX, LabelsBuilder } from '../labels.js';

export const JSON_PARSER_ERR = 'JSONParserErr';

class JsonSyntaxError extends Error {}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Loki's sanitizeLabelKey: trim, `_` before a leading digit, anything but [A-Za-z0-9_] → `_`. */
export function sanitizeLabelKey(key: string, isPrefix: boolean): string {
  key = key.trim();
  if (key === '') return key;
  let out = isPrefix && key.charCodeAt(0) >= 48 && key.charCodeAt(0) <= 57 ? '_' : '';
  let clean = true;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57))) {
      clean = false;
      break;
    }
  }
  if (clean) return out + key;
  for (const ch of key) {
    const c = ch.charCodeAt(0);
    out += (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57) ? ch : '_';
  }
  return out;
}

/** Scans JSON text; reads values verbatim. Positions are UTF-16 offsets into `s`. */
class Scanner {
  s = '';
  i = 0;
  /** No backslash anywhere in `s`: strings end at the next quote. */
  noEsc = true;

  reset(s: string): void {
    this.s = s;
    this.i = 0;
    this.noEsc = s.indexOf('\\') < 0;
  }

  fail(msg: string): never {
    throw new JsonSyntaxError(`${msg} at offset ${this.i}`);
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  /** At a '"': the decoded string. */
  str(): string {
    const s = this.s;
    const start = this.i + 1;
    if (this.noEsc) {
      const end = s.indexOf('"', start);
      if (end < 0) {
        this.i = s.length;
        this.fail('unterminated string');
      }
      this.i = end + 1;
      return s.slice(start, end);
    }
    let i = start;
    let esc = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        esc = true;
        i += 2;
        continue;
      }
      if (Number.isNaN(c)) {
        this.i = i;
        this.fail('unterminated string');
      }
      i++;
    }
    this.i = i + 1;
    if (!esc) return s.slice(start, i);
    try {
      return JSON.parse(s.slice(start - 1, i + 1)) as string;
    } catch {
      this.i = start;
      return this.fail('invalid escape in string');
    }
  }

  /** At a '"': past the string, without decoding it. */
  skipStr(): void {
    const s = this.s;
    if (this.noEsc) {
      const end = s.indexOf('"', this.i + 1);
      if (end < 0) {
        this.i = s.length;
        this.fail('unterminated string');
      }
      this.i = end + 1;
      return;
    }
    let i = this.i + 1;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) i++;
      else if (Number.isNaN(c)) {
        this.i = i;
        this.fail('unterminated string');
      }
      i++;
    }
    this.i = i + 1;
  }

  /** At a digit or '-': the number's text. */
  num(): string {
    const s = this.s;
    const start = this.i;
    let i = start;
    if (s.charCodeAt(i) === 45) i++;
    const intStart = i;
    while (isDigit(s.charCodeAt(i))) i++;
    let ok = i > intStart;
    if (ok && s.charCodeAt(i) === 46) {
      const f = ++i;
      while (isDigit(s.charCodeAt(i))) i++;
      ok = i > f;
    }
    const e = s.charCodeAt(i);
    if (ok && (e === 101 || e === 69)) {
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      const x = i;
      while (isDigit(s.charCodeAt(i))) i++;
      ok = i > x;
    }
    if (!ok) {
      this.i = i;
      this.fail('invalid number');
    }
    this.i = i;
    return s.slice(start, i);
  }

  lit(word: string): void {
    if (!this.s.startsWith(word, this.i)) this.fail('unexpected character');
    this.i += word.length;
  }

  /** Skips any value. */
  skip(): void {
    const c = this.s.charCodeAt(this.i);
    if (c === 34) this.skipStr();
    else if (c === 123 || c === 91) this.skipComposite();
    else if (c === 116) this.lit('true');
    else if (c === 102) this.lit('false');
    else if (c === 110) this.lit('null');
    else if (c === 45 || (c >= 48 && c <= 57)) this.num();
    else this.fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
  }

  private skipComposite(): void {
    const open = this.s.charCodeAt(this.i);
    const close = open === 123 ? 125 : 93;
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === close) {
      this.i++;
      return;
    }
    for (;;) {
      if (open === 123) {
        if (this.s.charCodeAt(this.i) !== 34) this.fail('expected object key');
        this.skipStr();
        this.ws();
        if (this.s.charCodeAt(this.i) !== 58) this.fail("expected ':'");
        this.i++;
        this.ws();
      }
      this.skip();
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 44) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === close) {
        this.i++;
        return;
      }
      this.fail(Number.isNaN(c) ? 'unexpected end of input' : `expected ',' or '${String.fromCharCode(close)}'`);
    }
  }
}

/**
 * `| json` without parameters. One instance per compiled stage (not re-entrant).
 * With `required`, only those label names are set and, with `earlyExit`, scanning stops once all
 * are found (Loki's parser hints; also a cheap probe before a label filter, see pipeline/index.ts).
 */
export class JsonParser {
  private readonly sc = new Scanner();
  private readonly keys = new Map<string, string>();
  private b!: LabelsBuilder;
  private required: ReadonlySet<string> | null = null;
  private earlyExit = true;
  private found = 0;
  private done = false;

  process(line: string, b: LabelsBuilder, required?: ReadonlySet<string>, earlyExit = true): void {
    const sc = this.sc;
    sc.reset(line);
    this.b = b;
    this.required = required ?? null;
    this.earlyExit = earlyExit;
    this.found = 0;
    this.done = false;
    this.pos = 0;
    if (required && required.size === 0 && earlyExit) return;
    try {
      sc.ws();
      if (line.charCodeAt(sc.i) !== 123) sc.fail('expecting json object');
      this.object('');
      if (this.done) return;
      sc.ws();
      if (sc.i < line.length) sc.fail('unexpected data after the object');
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      b.setErr(JSON_PARSER_ERR, e.message);
    }
  }

  /** Top-level keys are sanitized once and cached. */
  private topKey(raw: string): string {
    let k = this.keys.get(raw);
    if (k === undefined) {
      k = sanitizeLabelKey(raw, true);
      if (this.keys.size > 4096) this.keys.clear();
      this.keys.set(raw, k);
    }
    return k;
  }

  /** Should the value under this (flattened) key be read? Probe mode: only required names. */
  private wanted(key: string): boolean {
    if (key === '') return false;
    const req = this.required;
    if (req === null) return true;
    return req.has(this.b.baseHas(key) ? key + EXTRACTED_SUFFIX : key);
  }

  private emit(key: string, value: string): void {
    const b = this.b;
    if (this.required === null) {
      b.setExtracted(key, value);
      return;
    }
    const name = b.baseHas(key) ? key + EXTRACTED_SUFFIX : key;
    if (b.hasParsed(name)) return;
    b.set(name, value);
    if (this.earlyExit && ++this.found >= this.required.size) this.done = true;
  }

  // The keys of the previous line, in document order: lines of one stream mostly share a shape,
  // so a key is usually recognised with one startsWith, without slicing or hashing it.
  private readonly shapeRaw: string[] = [];
  private readonly shapePrefix: string[] = [];
  private readonly shapeKey: string[] = [];
  private pos = 0;

  /** At a key's opening quote: its flattened, sanitized label name. */
  private key(prefix: string): string {
    const sc = this.sc;
    const k = this.pos++;
    if (sc.noEsc) {
      const raw = this.shapeRaw[k];
      const start = sc.i + 1;
      if (raw !== undefined && this.shapePrefix[k] === prefix && sc.s.startsWith(raw, start) && sc.s.charCodeAt(start + raw.length) === 34) {
        sc.i = start + raw.length + 1;
        return this.shapeKey[k]!;
      }
    }
    const raw = sc.str();
    let key: string;
    if (prefix === '') {
      key = this.topKey(raw);
    } else {
      const part = sanitizeLabelKey(raw, false);
      key = part === '' ? prefix : prefix + '_' + part;
    }
    if (sc.noEsc) {
      this.shapeRaw[k] = raw;
      this.shapePrefix[k] = prefix;
      this.shapeKey[k] = key;
    }
    return key;
  }

  private object(prefix: string): void {
    const sc = this.sc;
    const s = sc.s;
    sc.i++; // '{'
    sc.ws();
    if (s.charCodeAt(sc.i) === 125) {
      sc.i++;
      return;
    }
    for (;;) {
      if (s.charCodeAt(sc.i) !== 34) sc.fail('expected object key');
      const key = this.key(prefix);
      sc.ws();
      if (s.charCodeAt(sc.i) !== 58) sc.fail("expected ':'");
      sc.i++;
      sc.ws();
      const c = s.charCodeAt(sc.i);
      if (c === 123) {
        this.object(key);
        if (this.done) return;
      } else if (c === 34 || c === 116 || c === 102 || c === 45 || (c >= 48 && c <= 57)) {
        if (this.wanted(key)) {
          this.emit(key, c === 34 ? sc.str() : c === 116 ? (sc.lit('true'), 'true') : c === 102 ? (sc.lit('false'), 'false') : sc.num());
          if (this.done) return;
        } else {
          sc.skip();
        }
      } else {
        sc.skip(); // arrays, null
      }
      sc.ws();
      const d = s.charCodeAt(sc.i);
      if (d === 44) {
        sc.i++;
        sc.ws();
        continue;
      }
      if (d === 125) {
        sc.i++;
        return;
      }
      sc.fail(Number.isNaN(d) ? 'unexpected end of input' : "expected ',' or '}'");
    }
  }
}

export type JsonPath = Array<string | number>;

/** Loki's jsonexpr: `a.b`, `a[0]`, `a["b c"]`, `["a"].b[1]`. Throws on bad syntax. */
export function parseJsonPath(expr: string): JsonPath {
  const out: JsonPath = [];
  let i = 0;
  const n = expr.length;
  const ident = /[A-Za-z_][A-Za-z0-9_]*/y;
  let expectField = true;
  while (i < n) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '.') {
      if (out.length === 0) throw new Error('unexpected .');
      i++;
      expectField = true;
    } else if (c === '[') {
      const close = expr.indexOf(']', i);
      if (close < 0) throw new Error('missing ]');
      const inner = expr.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (/^"[^"]*"$/.test(inner)) out.push(inner.slice(1, -1));
      else throw new Error(`invalid index or key ${inner}`);
      i = close + 1;
      expectField = false;
    } else {
      if (!expectField) throw new Error(`unexpected char ${c}`);
      ident.lastIndex = i;
      const m = ident.exec(expr);
      if (!m) throw new Error(`unexpected char ${c}`);
      out.push(m[0]);
      i += m[0].length;
      expectField = false;
    }
  }
  if (out.length === 0) throw new Error('empty expression');
  return out;
}

/** `| json a="x.y", …`: each path's value (strings decoded, objects/arrays raw), "" when missing. */
export class JsonExpressionParser {
  private readonly sc = new Scanner();
  private readonly paths: JsonPath[];

  constructor(private readonly params: ReadonlyArray<{ name: string; expression: string }>) {
    this.paths = params.map((p) => parseJsonPath(p.expression));
  }

  process(line: string, b: LabelsBuilder): void {
    if (line === '') return;
    const c0 = line.charCodeAt(0);
    if (c0 !== 123 && c0 !== 91 && c0 !== 34) {
      b.setErr(JSON_PARSER_ERR);
      return;
    }
    for (let p = 0; p < this.paths.length; p++) {
      const name = this.params[p]!.name;
      try {
        const v = this.extract(line, this.paths[p]!);
        b.setExtracted(name, v ?? '');
      } catch (e) {
        if (!(e instanceof JsonSyntaxError)) throw e;
        b.setErr(JSON_PARSER_ERR, e.message);
        b.setExtracted(name, '');
      }
    }
  }

  private extract(line: string, path: JsonPath): string | undefined {
    const sc = this.sc;
    sc.reset(line);
    sc.ws();
    for (const step of path) {
      const c = line.charCodeAt(sc.i);
      if (typeof step === 'string') {
        if (c !== 123) return undefined;
        if (!this.seekKey(step)) return undefined;
      } else {
        if (c !== 91) return undefined;
        if (!this.seekIndex(step)) return undefined;
      }
    }
    const c = line.charCodeAt(sc.i);
    if (c === 34) return sc.str();
    if (c === 110) {
      sc.lit('null');
      return '';
    }
    const start = sc.i;
    sc.skip();
    return line.slice(start, sc.i);
  }

  /** Inside an object at '{': moves to the value of `key`. */
  private seekKey(key: string): boolean {
    const sc = this.sc;
    sc.i++;
    sc.ws();
    if (sc.s.charCodeAt(sc.i) === 125) return false;
    for (;;) {
      if (sc.s.charCodeAt(sc.i) !== 34) sc.fail('expected object key');
      const k = sc.str();
      sc.ws();
      if (sc.s.charCodeAt(sc.i) !== 58) sc.fail("expected ':'");
      sc.i++;
      sc.ws();
      if (k === key) return true;
      sc.skip();
      sc.ws();
      const d = sc.s.charCodeAt(sc.i);
      if (d === 44) {
        sc.i++;
        sc.ws();
        continue;
      }
      if (d === 125) return false;
      sc.fail("expected ',' or '}'");
    }
  }

  private seekIndex(idx: number): boolean {
    const sc = this.sc;
    sc.i++;
    sc.ws();
    if (sc.s.charCodeAt(sc.i) === 93) return false;
    for (let k = 0; ; k++) {
      if (k === idx) return true;
      sc.skip();
      sc.ws();
      const d = sc.s.charCodeAt(sc.i);
      if (d === 44) {
        sc.i++;
        sc.ws();
        continue;
      }
      if (d === 93) return false;
      sc.fail("expected ',' or ']'");
    }
  }
}

/**
 * `| unpack`: a JSON object of strings (as Promtail's `pack` writes); every string becomes a
 * label, and `_entry`, when present, replaces the line.
 */
export class UnpackParser {
  private readonly sc = new Scanner();

  /** Returns the new line. */
  process(line: string, b: LabelsBuilder): string {
    const sc = this.sc;
    sc.reset(line);
    let entry: string | undefined;
    try {
      sc.ws();
      if (line.charCodeAt(sc.i) !== 123) sc.fail('expecting json object');
      sc.i++;
      sc.ws();
      if (line.charCodeAt(sc.i) === 125) return line;
      for (;;) {
        if (line.charCodeAt(sc.i) !== 34) sc.fail('expected object key');
        const key = sc.str();
        sc.ws();
        if (line.charCodeAt(sc.i) !== 58) sc.fail("expected ':'");
        sc.i++;
        sc.ws();
        if (line.charCodeAt(sc.i) === 34) {
          const v = sc.str();
          if (key === '_entry') entry = v;
          else {
            const k = sanitizeLabelKey(key, true);
            if (k !== '') b.setExtracted(k, v);
          }
        } else {
          sc.skip();
        }
        sc.ws();
        const d = line.charCodeAt(sc.i);
        if (d === 44) {
          sc.i++;
          sc.ws();
          continue;
        }
        if (d === 125) break;
        sc.fail("expected ',' or '}'");
      }
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      b.setErr(JSON_PARSER_ERR, e.message);
      return line;
    }
    return entry ?? line;
  }
}
