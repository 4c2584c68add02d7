/**
 * `| logfmt`: key=value pairs, values bare or double-quoted with escapes (`msg="a \"b\""`).
 * Like Loki: garbage is skipped, a key without value is "" (dropped unless --keep-empty), and
 * only --strict turns a syntax error into `__error__="LogfmtParserErr"` and stops.
 * `| logfmt a, b="key"` extracts only the given keys (always creating the labels).
 */
import { EXTRACTED_SUFFIX, LabelsBuilder } from '../labels.js';
import { sanitizeLabelKey } from './json.js';

export const LOGFMT_PARSER_ERR = 'LogfmtParserErr';

/** A resumable logfmt scanner over one line (Loki's/go-logfmt's decoder rules). */
export class LogfmtDecoder {
  private s = '';
  private pos = 0;
  key = '';
  value = '';
  err: string | null = null;

  reset(line: string): void {
    this.s = line;
    this.pos = 0;
    this.err = null;
  }

  eol(): boolean {
    return this.pos >= this.s.length;
  }

  /** Advances to the next pair; false on garbage or error (check `err`) or at the end. */
  next(): boolean {
    const s = this.s;
    const n = s.length;
    this.key = '';
    this.value = '';
    let p = this.pos;
    while (p < n && s.charCodeAt(p) <= 32) p++;
    if (p >= n) {
      this.pos = n;
      return false;
    }
    // key
    const ks = p;
    for (;;) {
      if (p >= n) {
        this.key = s.slice(ks, p);
        this.pos = p;
        return true;
      }
      const c = s.charCodeAt(p);
      if (c === 61 /* = */) break;
      if (c === 34 /* " */) {
        this.pos = p;
        return this.unexpected(c);
      }
      if (c <= 32) {
        this.key = s.slice(ks, p);
        this.pos = p;
        return true;
      }
      p++;
    }
    if (p === ks) {
      this.pos = p;
      return this.unexpected(61);
    }
    this.key = s.slice(ks, p);
    p++; // '='
    if (p >= n) {
      this.pos = p;
      return true;
    }
    let c = s.charCodeAt(p);
    if (c <= 32) {
      this.pos = p;
      return true;
    }
    if (c !== 34) {
      const vs = p;
      while (p < n) {
        c = s.charCodeAt(p);
        if (c === 61 || c === 34) {
          this.pos = p;
          return this.unexpected(c);
        }
        if (c <= 32) break;
        p++;
      }
      this.value = s.slice(vs, p);
      this.pos = p;
      return true;
    }
    // quoted value
    const qs = p;
    let esc = false;
    let hasEsc = false;
    for (p = p + 1; p < n; p++) {
      c = s.charCodeAt(p);
      if (esc) esc = false;
      else if (c === 92) hasEsc = esc = true;
      else if (c === 34) {
        this.pos = p + 1;
        if (!hasEsc) {
          this.value = s.slice(qs + 1, p);
          return true;
        }
        const v = unquote(s.slice(qs, p + 1));
        if (v === null) {
          this.syntaxError('invalid quoted value');
          return false;
        }
        this.value = v;
        return true;
      }
    }
    this.pos = n;
    this.syntaxError('unterminated quoted value');
    return false;
  }

  private unexpected(c: number): false {
    this.err = `logfmt syntax error at pos ${this.pos + 1} : unexpected ${JSON.stringify(String.fromCharCode(c))}`;
    // skip the rest of the garbage token
    const s = this.s;
    let p = this.pos;
    while (p < s.length && s.charCodeAt(p) > 32) p++;
    this.pos = p;
    return false;
  }

  private syntaxError(msg: string): void {
    this.err = `logfmt syntax error at pos ${this.pos + 1} : ${msg}`;
  }
}

/** JSON-style string unquoting (go-logfmt's unquoteBytes), lenient on unknown escapes. */
function unquote(q: string): string | null {
  try {
    return JSON.parse(q) as string;
  } catch {
    // Go's unquote accepts raw control characters and `\'`; handle those by hand.
    let out = '';
    for (let i = 1; i < q.length - 1; i++) {
      const c = q[i]!;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = q[++i];
      switch (e) {
        case '"': case '\\': case '/': case "'":
          out += e;
          break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const h = q.slice(i + 1, i + 5);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) return null;
          out += String.fromCharCode(Number.parseInt(h, 16));
          i += 4;
          break;
        }
        default:
          return null;
      }
    }
    return out;
  }
}

export class LogfmtParser {
  private readonly dec = new LogfmtDecoder();
  private readonly keys = new Map<string, string>();

  constructor(
    private readonly strict: boolean,
    private readonly keepEmpty: boolean,
  ) {}

  /** With `required`: only those label names, and with `earlyExit` stopping once all are found (see JsonParser). */
  process(line: string, b: LabelsBuilder, required?: ReadonlySet<string>, earlyExit = true): void {
    if (required && required.size === 0 && earlyExit) return;
    const dec = this.dec;
    dec.reset(line);
    let found = 0;
    while (!dec.eol()) {
      if (!dec.next()) {
        if (this.strict && dec.err !== null) break;
        continue;
      }
      let key = this.keys.get(dec.key);
      if (key === undefined) {
        key = sanitizeLabelKey(dec.key, true);
        if (this.keys.size > 4096) this.keys.clear();
        this.keys.set(dec.key, key);
      }
      if (key === '') continue;
      if (!this.keepEmpty && dec.value === '') continue;
      if (required) {
        const name = b.baseHas(key) ? key + EXTRACTED_SUFFIX : key;
        if (!required.has(name) || b.hasParsed(name)) continue;
        b.set(name, dec.value);
        if (earlyExit && ++found >= required.size) return;
        continue;
      }
      b.setExtracted(key, dec.value);
    }
    if (this.strict && dec.err !== null) b.setErr(LOGFMT_PARSER_ERR, dec.err);
  }
}

/** `| logfmt a, b="key"`: only these keys, each label created even when the key is missing. */
export class LogfmtExpressionParser {
  private readonly dec = new LogfmtDecoder();
  private readonly byKey = new Map<string, string[]>();

  constructor(
    private readonly params: ReadonlyArray<{ name: string; expression: string }>,
    private readonly strict: boolean,
  ) {
    for (const p of params) {
      const list = this.byKey.get(p.expression) ?? [];
      list.push(p.name);
      this.byKey.set(p.expression, list);
    }
  }

  process(line: string, b: LabelsBuilder): void {
    for (const p of this.params) if (!b.baseHas(p.name)) b.set(p.name, '');
    const dec = this.dec;
    dec.reset(line);
    while (!dec.eol()) {
      if (!dec.next()) {
        if (this.strict && dec.err !== null) break;
        continue;
      }
      const names = this.byKey.get(dec.key);
      if (!names) continue;
      for (const name of names) b.set(b.baseHas(name) ? name + '_extracted' : name, dec.value);
    }
    if (this.strict && dec.err !== null) b.setErr(LOGFMT_PARSER_ERR, dec.err);
  }
}
