/** Fields of a structured line, as LogQL's json and logfmt parsers would extract them. */

export interface Field {
  /** Dotted path for JSON (a.b), the key for logfmt. */
  key: string;
  value: string;
}

export interface ParsedLine {
  format: 'json' | 'logfmt';
  fields: Field[];
}

const MAX_FIELDS = 200;

export function parseLine(line: string): ParsedLine | null {
  const t = line.trimStart();
  if (t.startsWith('{')) {
    const fields = jsonFields(t);
    if (fields) return { format: 'json', fields };
  }
  const lf = logfmtFields(line);
  return lf ? { format: 'logfmt', fields: lf } : null;
}

function jsonFields(text: string): Field[] | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const out: Field[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, val] of Object.entries(o)) {
      if (out.length >= MAX_FIELDS) return;
      const key = prefix ? `${prefix}.${k}` : k;
      if (val && typeof val === 'object' && !Array.isArray(val)) walk(val as Record<string, unknown>, key);
      else out.push({ key, value: typeof val === 'string' ? val : JSON.stringify(val) });
    }
  };
  walk(v as Record<string, unknown>, '');
  return out;
}

const PAIR = /([A-Za-z_][A-Za-z0-9_.\-/]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)/y;

/**
 * logfmt: space-separated key=value pairs, values optionally double-quoted. A line counts
 * as logfmt only if it is nothing but pairs (bare words allowed, as in `msg` flags) and has
 * at least two, so prose with one "a=b" in it stays prose.
 */
function logfmtFields(line: string): Field[] | null {
  const out: Field[] = [];
  let pos = 0;
  const n = line.length;
  while (pos < n && out.length < MAX_FIELDS) {
    while (pos < n && line[pos] === ' ') pos++;
    if (pos >= n) break;
    PAIR.lastIndex = pos;
    const m = PAIR.exec(line);
    if (!m || (PAIR.lastIndex < n && line[PAIR.lastIndex] !== ' ')) return null;
    const raw = m[2]!;
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        value = raw.slice(1, -1);
      }
    }
    out.push({ key: m[1]!, value });
    pos = PAIR.lastIndex;
  }
  return out.length >= 2 ? out : null;
}
