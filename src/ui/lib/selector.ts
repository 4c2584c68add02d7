/**
 * Editing LogQL text without a full parser: the UI rewrites only the leading stream selector
 * and appends pipeline stages, and leaves everything else the user typed as it was. The
 * server parses the result and reports any mistake with its position.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export interface SplitQuery {
  matchers: Matcher[];
  /** Everything after the closing brace (pipeline stages), untouched. */
  rest: string;
}

const MATCHER = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*,?/y;

/** The query's leading `{...}`, or null when it does not start with one (metric queries). */
export function splitQuery(text: string): SplitQuery | null {
  const start = text.search(/\S/);
  if (start < 0) return { matchers: [], rest: '' };
  if (text[start] !== '{') return null;
  const matchers: Matcher[] = [];
  let pos = start + 1;
  for (;;) {
    const close = /\s*\}/y;
    close.lastIndex = pos;
    if (close.exec(text)) return { matchers, rest: text.slice(close.lastIndex) };
    MATCHER.lastIndex = pos;
    const m = MATCHER.exec(text);
    if (!m) return null;
    matchers.push({ name: m[1]!, op: m[2] as MatchOp, value: unquote(m[3]!) });
    pos = MATCHER.lastIndex;
  }
}

function unquote(q: string): string {
  if (q.startsWith('`')) return q.slice(1, -1);
  return JSON.parse(q) as string;
}

export function quote(v: string): string {
  return JSON.stringify(v);
}

export function formatSelector(matchers: Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${quote(m.value)}`).join(', ')}}`;
}

/** RE2 metacharacters escaped, so a picked value matches itself only. */
export function escapeRegex(v: string): string {
  return v.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** The matcher for a set of picked values: none → absent, one → `=`, several → `=~"a|b"`. */
export function matcherFor(name: string, values: readonly string[]): Matcher | null {
  if (values.length === 0) return null;
  if (values.length === 1) return { name, op: '=', value: values[0]! };
  return { name, op: '=~', value: values.map(escapeRegex).join('|') };
}

/** Values a matcher picks when it was made by matcherFor (so the pickers can show it). */
export function valuesOf(m: Matcher | undefined): string[] {
  if (!m) return [];
  if (m.op === '=') return [m.value];
  if (m.op === '=~' && /^(?:[^\\.+*?()|[\]{}^$]|\\[\\.+*?()|[\]{}^$])+(?:\|(?:[^\\.+*?()|[\]{}^$]|\\[\\.+*?()|[\]{}^$])+)*$/.test(m.value)) {
    return m.value.split(/(?<!\\)\|/).map((v) => v.replace(/\\(.)/g, '$1'));
  }
  return [];
}

/**
 * The query with label `name` picked to `values` in its selector (replacing any matcher on
 * it). A selector needs one positive matcher: an empty one becomes `{namespace=~".+"}`-style
 * only when the last picker is cleared, so the query still runs.
 */
export function setSelectorLabel(query: string, name: string, values: readonly string[]): string {
  const split = splitQuery(query) ?? { matchers: [], rest: '' };
  const kept = split.matchers.filter((m) => m.name !== name);
  const m = matcherFor(name, values);
  const matchers = m ? [...kept, m] : kept;
  return formatSelector(matchers.length ? matchers : [{ name, op: '=~', value: '.+' }]) + split.rest;
}

const LEVEL_STAGE = /\s*\|\s*detected_level\s*(?:=~|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)/;

/** Level is structured metadata, not a stream label: it is picked with a label-filter stage. */
export function setLevelFilter(query: string, levels: readonly string[]): string {
  const split = splitQuery(query);
  if (!split) return query;
  const head = query.slice(0, query.length - split.rest.length);
  let rest = split.rest.replace(LEVEL_STAGE, '');
  const m = matcherFor('detected_level', levels);
  if (m) rest = ` | detected_level${m.op}${quote(m.value)}` + rest;
  return head + rest;
}

export function levelsOf(query: string): string[] {
  const split = splitQuery(query);
  const m = split && LEVEL_STAGE.exec(split.rest);
  if (!m) return [];
  const op = /=~/.test(m[0]) ? '=~' : '=';
  return valuesOf({ name: 'detected_level', op, value: unquote(m[1]!) });
}

/** A LogQL label name from a field path (the json parser's flattening: a.b-c → a_b_c). */
export function labelName(path: string): string {
  const n = path.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(n) ? `_${n}` : n;
}

/**
 * Filter on a clicked label or field. Stream labels go into the selector (the engine narrows
 * by them); anything else becomes a label filter after the parser that extracts it.
 */
export function addFilter(query: string, key: string, value: string, kind: 'stream' | 'metadata' | 'json' | 'logfmt'): string {
  if (kind === 'stream') {
    const split = splitQuery(query);
    if (split) return formatSelector([...split.matchers.filter((m) => m.name !== key), { name: key, op: '=', value }]) + split.rest;
  }
  const name = kind === 'stream' || kind === 'metadata' ? key : labelName(key);
  let q = query.trimEnd();
  if ((kind === 'json' || kind === 'logfmt') && !new RegExp(`\\|\\s*${kind}\\b`).test(q)) q += ` | ${kind}`;
  return `${q} | ${name}=${quote(value)}`;
}
