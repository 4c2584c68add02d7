import type { Labels } from '../../core/event.js';
import { LabelsBuilder } from '../../logql/labels.js';
import { JsonParser } from '../../logql/pipeline/json.js';
import { LogfmtParser } from '../../logql/pipeline/logfmt.js';

/**
 * Extracts fields from one line into `b` (reset by the caller to the stream labels, so a field
 * named like a stream label becomes `<name>_extracted`, as with LogQL's parsers). Returns false
 * when the line is not in the parser's format.
 */
export type LineParser = (line: string, b: LabelsBuilder) => boolean;

/** What a `format` setting or a `loggy.io/parser` annotation asks for. */
export type ParserSpec = { kind: 'none' } | { kind: 'json' } | { kind: 'logfmt' } | { kind: 'regex'; name: string };

/** `none | json | logfmt | regex:<name>`; an error message when it is none of these. */
export function parseParserSpec(value: string): ParserSpec | string {
  const v = value.trim();
  if (v === 'none' || v === 'json' || v === 'logfmt') return { kind: v };
  if (v.startsWith('regex:') && v.length > 'regex:'.length) return { kind: 'regex', name: v.slice('regex:'.length) };
  return `unknown parser ${JSON.stringify(value)}: expected none, json, logfmt or regex:<name>`;
}

export function specName(s: ParserSpec): string {
  return s.kind === 'regex' ? `regex:${s.name}` : s.kind;
}

/**
 * The same parsers as LogQL's `| json` and `| logfmt` (one scanner each, no object per line), so
 * fields the agent extracts are named exactly as a query-time parser would name them: nested
 * JSON keys joined with `_`, names sanitized to label names.
 */
export function jsonLineParser(): LineParser {
  const p = new JsonParser();
  return (line, b) => {
    p.process(line, b, undefined, false);
    return b.err === '';
  };
}

/** A line with no `key=value` pair is not logfmt (plain text would otherwise "parse" to nothing). */
export function logfmtLineParser(): LineParser {
  const p = new LogfmtParser(false, false);
  return (line, b) => {
    p.process(line, b, undefined, false);
    return b.parsedCount > 0;
  };
}

/** Named groups become fields; a line the regex does not match is not parsed. */
export function regexLineParser(re: RegExp): LineParser {
  return (line, b) => {
    const m = re.exec(line);
    if (m === null || m.groups === undefined) return false;
    const g = m.groups;
    for (const n in g) {
      const v = g[n];
      if (v !== undefined && v !== '') b.setExtracted(n, v);
    }
    return true;
  };
}

/** The named groups of a regex (`(?<name>…)`), to check a pattern has some. */
export function namedGroups(source: string): string[] {
  return [...source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
}

/** Reads the fields a parser set on `b`, filtered by `keep`, at most `maxFields`, values cut to `maxValue` characters. */
export function collectFields(b: LabelsBuilder, keep: (name: string) => boolean, maxFields: number, maxValue: number): Labels | undefined {
  const n = b.parsedCount;
  if (n === 0) return undefined;
  let out: Record<string, string> | undefined;
  let count = 0;
  for (let i = 0; i < n && count < maxFields; i++) {
    const name = b.parsedName(i);
    if (!keep(name)) continue;
    const v = b.parsedValue(i);
    (out ??= {})[name] = v.length > maxValue ? v.slice(0, maxValue) : v;
    count++;
  }
  return out;
}
