/**
 * A small Go text/template subset for `line_format` and `label_format`:
 *   {{.label}}  {{ .label }}  {{- .trimmed -}}  {{/* comment *\/}}
 *   {{ .a | ToUpper }}  {{ ToLower .a }}  {{ default "-" .a }}  {{ printf "%s=%d" .k .v }}
 *   {{ if eq .level "error" }}…{{ else if .x }}…{{ else }}…{{ end }}
 *   {{ __line__ }}  {{ __timestamp__ | unixEpoch }}
 * Missing labels are "" (Loki's missingkey=zero). `range`, `with`, variables and `define` are
 * not supported and are rejected when the query is parsed.
 */

export interface TemplateContext {
  /** A label's value, "" when absent. */
  label(name: string): string;
  line: string;
  tsNs: bigint;
}

class Timestamp {
  constructor(readonly ns: bigint) {}
  toString(): string {
    // Go's time.Time.String() in UTC.
    const ms = Number(this.ns / 1_000_000n);
    const d = new Date(ms);
    const frac = (this.ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
    const base = d.toISOString().slice(0, 19).replace('T', ' ');
    return `${base}${frac ? '.' + frac : ''} +0000 UTC`;
  }
}

type Value = string | number | boolean | Timestamp | null;
type Fn = (...args: Value[]) => Value;
type Eval = (ctx: TemplateContext) => Value;

export class TemplateError extends Error {}

// ---- functions -------------------------------------------------------------------------------

const str = (v: Value): string => toText(v);
const num = (v: Value): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null) return 0;
  const n = Number(String(v).trim());
  return Number.isNaN(n) ? 0 : n;
};
const int = (v: Value): number => Math.trunc(num(v));
const truthy = (v: Value): boolean => !(v === null || v === false || v === 0 || v === '');

function goRegex(re: string): RegExp {
  try {
    return new RegExp(re.replace(/\(\?P</g, '(?<'), 'g');
  } catch (e) {
    throw new TemplateError(`error parsing regexp: ${(e as Error).message}`);
  }
}

/** Go's Regexp.Expand syntax (`${1}`, `${name}`, `$1`, `$name`) to JavaScript's (`$1`, `$<name>`). */
function goReplacement(repl: string): string {
  return repl.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (m, braced?: string, bare?: string) => {
    if (m === '$$') return '$$';
    const name = (braced ?? bare)!;
    return /^\d+$/.test(name) ? `$${name}` : `$<${name}>`;
  });
}

function cutsetRe(cutset: string, where: 'both' | 'left' | 'right'): RegExp {
  const cls = `[${cutset.replace(/[\\\]^-]/g, '\\$&')}]+`;
  return new RegExp(where === 'left' ? `^${cls}` : where === 'right' ? `${cls}$` : `^${cls}|${cls}$`, 'g');
}

const FUNCS: Record<string, Fn> = {
  ToLower: (s) => str(s).toLowerCase(),
  ToUpper: (s) => str(s).toUpperCase(),
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  title: (s) => str(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  trim: (s) => str(s).trim(),
  TrimSpace: (s) => str(s).trim(),
  Trim: (s, cut) => (str(cut) === '' ? str(s) : str(s).replace(cutsetRe(str(cut), 'both'), '')),
  TrimLeft: (s, cut) => (str(cut) === '' ? str(s) : str(s).replace(cutsetRe(str(cut), 'left'), '')),
  TrimRight: (s, cut) => (str(cut) === '' ? str(s) : str(s).replace(cutsetRe(str(cut), 'right'), '')),
  trimAll: (cut, s) => (str(cut) === '' ? str(s) : str(s).replace(cutsetRe(str(cut), 'both'), '')),
  TrimPrefix: (s, p) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)),
  TrimSuffix: (s, p) => (str(p) !== '' && str(s).endsWith(str(p)) ? str(s).slice(0, -str(p).length) : str(s)),
  trimPrefix: (p, s) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)),
  trimSuffix: (p, s) => (str(p) !== '' && str(s).endsWith(str(p)) ? str(s).slice(0, -str(p).length) : str(s)),
  Replace: (s, o, n, count) => {
    const c = int(count);
    if (c < 0) return str(s).split(str(o)).join(str(n));
    let out = str(s);
    let from = 0;
    for (let i = 0; i < c; i++) {
      const at = out.indexOf(str(o), from);
      if (at < 0) break;
      out = out.slice(0, at) + str(n) + out.slice(at + str(o).length);
      from = at + str(n).length;
    }
    return out;
  },
  replace: (o, n, s) => str(s).split(str(o)).join(str(n)),
  regexReplaceAll: (re, s, repl) => str(s).replace(goRegex(str(re)), goReplacement(str(repl))),
  regexReplaceAllLiteral: (re, s, repl) => str(s).replace(goRegex(str(re)), () => str(repl)),
  count: (re, s) => (str(s).match(goRegex(str(re))) ?? []).length,
  trunc: (n, s) => {
    const c = int(n);
    const r = Array.from(str(s));
    if (c < 0 && r.length + c > 0) return r.slice(r.length + c).join('');
    if (c >= 0 && r.length > c) return r.slice(0, c).join('');
    return str(s);
  },
  substr: (a, b, s) => {
    const t = str(s);
    const start = int(a);
    const end = int(b);
    if (start < 0) return t.slice(0, end);
    if (end < 0 || end > t.length) return t.slice(start);
    return t.slice(start, end);
  },
  repeat: (n, s) => str(s).repeat(Math.max(0, int(n))),
  contains: (sub, s) => str(s).includes(str(sub)),
  hasPrefix: (p, s) => str(s).startsWith(str(p)),
  hasSuffix: (p, s) => str(s).endsWith(str(p)),
  alignLeft: (n, s) => {
    const c = int(n);
    const t = str(s);
    return t.length >= c ? t.slice(0, c) : t.padEnd(c);
  },
  alignRight: (n, s) => {
    const c = int(n);
    const t = str(s);
    return t.length >= c ? t.slice(t.length - c) : t.padStart(c);
  },
  default: (def, ...given) => {
    const v = given.length > 0 ? given[given.length - 1]! : null;
    return truthy(v) ? v : def;
  },
  printf: (fmt, ...args) => sprintf(str(fmt), args),
  urlencode: (s) => encodeURIComponent(str(s)).replace(/%20/g, '+'),
  urldecode: (s) => {
    try {
      return decodeURIComponent(str(s).replace(/\+/g, ' '));
    } catch {
      throw new TemplateError(`invalid URL escape ${JSON.stringify(str(s))}`);
    }
  },
  b64enc: (s) => Buffer.from(str(s), 'utf8').toString('base64'),
  b64dec: (s) => Buffer.from(str(s), 'base64').toString('utf8'),
  int: (v) => int(v),
  float64: (v) => num(v),
  add: (a, b) => int(a) + int(b),
  sub: (a, b) => int(a) - int(b),
  mul: (a, b) => int(a) * int(b),
  div: (a, b) => (int(b) === 0 ? 0 : Math.trunc(int(a) / int(b))),
  mod: (a, b) => (int(b) === 0 ? 0 : int(a) % int(b)),
  addf: (a, b) => num(a) + num(b),
  subf: (a, b) => num(a) - num(b),
  mulf: (a, b) => num(a) * num(b),
  divf: (a, b) => num(a) / num(b),
  max: (...a) => Math.max(...a.map(int)),
  min: (...a) => Math.min(...a.map(int)),
  ceil: (a) => Math.ceil(num(a)),
  floor: (a) => Math.floor(num(a)),
  round: (a, p) => {
    const f = 10 ** int(p ?? 0);
    return Math.round(num(a) * f) / f;
  },
  len: (v) => Array.from(str(v)).length,
  eq: (a, ...b) => b.some((x) => equal(a, x)),
  ne: (a, b) => !equal(a, b),
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1] ?? null,
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1] ?? null,
  unixEpoch: (t) => (t instanceof Timestamp ? (t.ns / 1_000_000_000n).toString() : str(t)),
  unixEpochMillis: (t) => (t instanceof Timestamp ? Number(t.ns / 1_000_000n) : 0),
  unixEpochNanos: (t) => (t instanceof Timestamp ? t.ns.toString() : '0'),
};

function equal(a: Value, b: Value): boolean {
  if (typeof a === 'number' || typeof b === 'number') return num(a) === num(b);
  return toText(a) === toText(b);
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' || typeof b === 'number') return num(a) - num(b);
  const x = toText(a);
  const y = toText(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function toText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  return String(v);
}

/** Go's fmt for %s %v %d %f %q %x %t %% with width/precision/`-`/`0` flags. */
export function sprintf(fmt: string, args: Value[]): string {
  let ai = 0;
  return fmt.replace(/%([-+ 0#]*)(\d+)?(?:\.(\d+))?([svdfgeqxXt%])/g, (_m, flags: string, width?: string, prec?: string, verb?: string) => {
    if (verb === '%') return '%';
    if (ai >= args.length) return `%!${verb}(MISSING)`;
    const a = args[ai++]!;
    let out: string;
    switch (verb) {
      case 'd':
        out = String(Math.trunc(num(a)));
        break;
      case 'f':
      case 'e':
      case 'g': {
        const n = num(a);
        out = verb === 'f' ? n.toFixed(prec === undefined ? 6 : Number(prec)) : verb === 'e' ? n.toExponential(prec === undefined ? 6 : Number(prec)) : String(n);
        break;
      }
      case 'q':
        out = JSON.stringify(toText(a));
        break;
      case 'x':
      case 'X':
        out = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(toText(a)).toString('hex');
        if (verb === 'X') out = out.toUpperCase();
        break;
      case 't':
        out = String(truthy(a));
        break;
      default:
        out = toText(a);
        if (prec !== undefined && verb === 's') out = out.slice(0, Number(prec));
    }
    if (flags.includes('+') && /[dfeg]/.test(verb!) && num(a) >= 0) out = '+' + out;
    const w = width === undefined ? 0 : Number(width);
    if (out.length < w) {
      if (flags.includes('-')) out = out.padEnd(w);
      else if (flags.includes('0') && /[dfeg]/.test(verb!)) out = out.startsWith('-') ? '-' + out.slice(1).padStart(w - 1, '0') : out.padStart(w, '0');
      else out = out.padStart(w);
    }
    return out;
  });
}

// ---- parsing ---------------------------------------------------------------------------------

type Node =
  | { t: 'text'; s: string }
  | { t: 'action'; e: Eval }
  | { t: 'if'; branches: Array<{ cond: Eval; body: Node[] }>; else: Node[] };

interface ActionTok {
  kind: 'field' | 'dot' | 'string' | 'number' | 'bool' | 'ident' | 'pipe' | 'lparen' | 'rparen' | 'nil';
  text: string;
}

function lexAction(src: string): ActionTok[] {
  const out: ActionTok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '|') {
      out.push({ kind: 'pipe', text: c });
      i++;
    } else if (c === '(') {
      out.push({ kind: 'lparen', text: c });
      i++;
    } else if (c === ')') {
      out.push({ kind: 'rparen', text: c });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      let v: string;
      try {
        v = JSON.parse(src.slice(i, j + 1).replace(/\\'/g, "'")) as string;
      } catch {
        throw new TemplateError(`invalid string ${src.slice(i, j + 1)}`);
      }
      out.push({ kind: 'string', text: v });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw quoted string');
      out.push({ kind: 'string', text: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i));
      if (m) {
        if (src[i + m[0].length] === '.') throw new TemplateError(`nested field access ${m[0]}.… is not supported`);
        out.push({ kind: 'field', text: m[1]! });
        i += m[0].length;
      } else {
        out.push({ kind: 'dot', text: '.' });
        i++;
      }
    } else if (c === '$') {
      throw new TemplateError('template variables are not supported');
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(src.slice(i));
      if (!m) throw new TemplateError(`bad number syntax: ${JSON.stringify(src.slice(i, i + 8))}`);
      out.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      const w = m[0];
      out.push({ kind: w === 'true' || w === 'false' ? 'bool' : w === 'nil' ? 'nil' : 'ident', text: w });
      i += w.length;
    } else {
      throw new TemplateError(`unexpected ${JSON.stringify(c)} in command`);
    }
  }
  return out;
}

class ActionParser {
  private i = 0;
  constructor(private readonly toks: ActionTok[]) {}

  parseAll(): Eval {
    const e = this.pipeline();
    if (this.i < this.toks.length) throw new TemplateError(`unexpected ${JSON.stringify(this.toks[this.i]!.text)} in operand`);
    return e;
  }

  private pipeline(): Eval {
    let e = this.command(null);
    while (this.toks[this.i]?.kind === 'pipe') {
      this.i++;
      e = this.command(e);
    }
    return e;
  }

  private command(piped: Eval | null): Eval {
    const first = this.toks[this.i];
    if (!first || first.kind === 'pipe' || first.kind === 'rparen') throw new TemplateError('missing value for command');
    if (first.kind === 'ident') {
      this.i++;
      const name = first.text;
      const args: Eval[] = [];
      while (this.i < this.toks.length && this.toks[this.i]!.kind !== 'pipe' && this.toks[this.i]!.kind !== 'rparen') {
        args.push(this.operand());
      }
      if (piped) args.push(piped);
      return this.call(name, args);
    }
    const op = this.operand();
    if (this.i < this.toks.length && this.toks[this.i]!.kind !== 'pipe' && this.toks[this.i]!.kind !== 'rparen') {
      throw new TemplateError(`can't give argument to non-function ${first.text}`);
    }
    if (piped) throw new TemplateError(`can't give argument to non-function ${first.text}`);
    return op;
  }

  private call(name: string, args: Eval[]): Eval {
    if (name === '__line__') return (ctx) => ctx.line;
    if (name === '__timestamp__') return (ctx) => new Timestamp(ctx.tsNs);
    if (name === 'if' || name === 'else' || name === 'end') throw new TemplateError(`unexpected ${name}`);
    if (['range', 'with', 'define', 'template', 'block', 'break', 'continue'].includes(name)) {
      throw new TemplateError(`"${name}" is not supported`);
    }
    const fn = FUNCS[name];
    if (!fn) throw new TemplateError(`function "${name}" not defined`);
    if (args.length === 0) return () => fn();
    if (args.length === 1) {
      const a = args[0]!;
      return (ctx) => fn(a(ctx));
    }
    if (args.length === 2) {
      const [a, b] = args as [Eval, Eval];
      return (ctx) => fn(a(ctx), b(ctx));
    }
    return (ctx) => fn(...args.map((a) => a(ctx)));
  }

  private operand(): Eval {
    const t = this.toks[this.i++]!;
    switch (t.kind) {
      case 'field': {
        const name = t.text;
        return (ctx) => ctx.label(name);
      }
      case 'string': {
        const s = t.text;
        return () => s;
      }
      case 'number': {
        const n = Number(t.text);
        return () => n;
      }
      case 'bool': {
        const b = t.text === 'true';
        return () => b;
      }
      case 'nil':
        return () => null;
      case 'ident':
        return this.call(t.text, []);
      case 'lparen': {
        const e = this.pipeline();
        if (this.toks[this.i]?.kind !== 'rparen') throw new TemplateError('unclosed left paren');
        this.i++;
        return e;
      }
      case 'dot':
        throw new TemplateError('"." (the whole label map) is not supported; use .label');
      default:
        throw new TemplateError(`unexpected ${JSON.stringify(t.text)} in operand`);
    }
  }
}

function compileAction(src: string): Eval {
  return new ActionParser(lexAction(src)).parseAll();
}

export class Template {
  /** Set when the template is exactly `{{.label}}`: a fast path. */
  readonly simpleField: string | undefined;
  private readonly nodes: Node[];

  constructor(readonly source: string) {
    this.nodes = parseNodes(source);
    const only = /^\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(source);
    this.simpleField = only ? only[1] : undefined;
  }

  /** Renders; throws TemplateError on a runtime problem (bad regex, bad escape, …). */
  render(ctx: TemplateContext): string {
    if (this.simpleField !== undefined) return ctx.label(this.simpleField);
    return renderNodes(this.nodes, ctx);
  }
}

function renderNodes(nodes: Node[], ctx: TemplateContext): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'action') out += toText(n.e(ctx));
    else {
      let done = false;
      for (const b of n.branches) {
        if (truthy(b.cond(ctx))) {
          out += renderNodes(b.body, ctx);
          done = true;
          break;
        }
      }
      if (!done) out += renderNodes(n.else, ctx);
    }
  }
  return out;
}

/** Splits the template into text and actions, honouring `{{-` and `-}}` trim markers. */
function parseNodes(src: string): Node[] {
  type Raw = { text: string } | { action: string };
  const raws: Raw[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) raws.push({ text });
      break;
    }
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) raws.push({ text });
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError('unclosed action');
    let end = close;
    if (end - 1 >= start && src[end - 1] === '-' && /\s/.test(src[end - 2] ?? '')) {
      trimNext = true;
      end -= 1;
    }
    raws.push({ action: src.slice(start, end).trim() });
    i = close + 2;
  }

  // Build the tree (if/else if/else/end).
  let pos = 0;
  const block = (inIf: boolean): { nodes: Node[]; term: string } => {
    const nodes: Node[] = [];
    while (pos < raws.length) {
      const r = raws[pos++]!;
      if ('text' in r) {
        nodes.push({ t: 'text', s: r.text });
        continue;
      }
      const a = r.action;
      if (a.startsWith('/*')) {
        if (!a.endsWith('*/')) throw new TemplateError('unclosed comment');
        continue;
      }
      const word = /^[A-Za-z_]+/.exec(a)?.[0];
      if (word === 'if') {
        const branches: Array<{ cond: Eval; body: Node[] }> = [];
        let cond = compileAction(a.slice(2));
        let elseBody: Node[] = [];
        for (;;) {
          const inner = block(true);
          branches.push({ cond, body: inner.nodes });
          if (inner.term === 'end') break;
          if (inner.term.startsWith('else if')) {
            cond = compileAction(inner.term.slice('else if'.length));
            continue;
          }
          const tail = block(true);
          if (tail.term !== 'end') throw new TemplateError('expected end; found else');
          elseBody = tail.nodes;
          break;
        }
        nodes.push({ t: 'if', branches, else: elseBody });
        continue;
      }
      if (word === 'end' || word === 'else') {
        if (!inIf) throw new TemplateError(`unexpected {{${word}}}`);
        if (word === 'end' && a !== 'end') throw new TemplateError('unexpected tokens after end');
        return { nodes, term: a.replace(/\s+/g, ' ') };
      }
      nodes.push({ t: 'action', e: compileAction(a) });
    }
    if (inIf) throw new TemplateError('unexpected EOF');
    return { nodes, term: '' };
  };
  return block(false).nodes;
}

/** The index of the `}}` closing an action starting at `from`, skipping quoted strings. */
function findClose(src: string, from: number): number {
  let i = from;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) return -1;
      i = j + 1;
      continue;
    }
    if (c === '}' && src[i + 1] === '}') return i;
    i++;
  }
  return -1;
}

const cache = new Map<string, Template>();

/** Compiles (cached). Throws TemplateError on syntax errors or unsupported constructs. */
export function compileTemplate(source: string): Template {
  let t = cache.get(source);
  if (!t) {
    t = new Template(source);
    if (cache.size > 256) cache.clear();
    cache.set(source, t);
  }
  return t;
}
