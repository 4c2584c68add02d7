import type { EventSource, LogEvent } from '../../core/event.js';
import { flagList } from '../shared/ndjson.js';
import type { RowWriter } from './row-writer.js';

/** A column of the target table, as `system.columns` describes it. */
export interface TableColumn {
  name: string;
  type: string;
  /** '', DEFAULT, MATERIALIZED, ALIAS (EPHEMERAL on newer servers). */
  default_kind: string;
}

/**
 * What a column is filled with. Columns are matched by name unless `columns` in the config
 * maps them: `timestamp`, `date`, `stream`, `line` (or `message`), `labels`, `fields`, `flags`,
 * `source_id`, `offset`; `label:<name>`, `field:<name>`. Any other String column takes the
 * label of its own name.
 */
const NAMED: Record<string, string> = {
  timestamp: 'timestamp', date: 'date', stream: 'stream', line: 'line', message: 'line',
  labels: 'labels', fields: 'fields', flags: 'flags', source_id: 'source_id', offset: 'offset',
};
export const VALUE_SOURCES = ['timestamp', 'date', 'stream', 'line', 'labels', 'fields', 'flags', 'source_id', 'offset'] as const;

/** The ns-since-epoch parts of an event's timestamp, computed once per row for every column that needs them. */
export interface RowTime {
  /** Whole seconds since the epoch. */
  secs: number;
  /** The nine fractional digits. */
  frac: string;
}

/** Writes one `"key":value` member of the row. */
type Member = (ev: LogEvent, t: RowTime, w: RowWriter) => void;
/** The part of a row that is the same for every event of a source, computed once per source. */
type SourceMember = (src: EventSource) => string | null;

export interface RowPlan {
  /** Column names in insert order (quoted by the caller). */
  readonly columns: string[];
  readonly perEvent: Member[];
  readonly perSource: SourceMember[];
  readonly needsTime: boolean;
}

/** A plan problem the operator must fix (the table lacks a line column, a mapping names nothing). */
export class PlanError extends Error {}

/** `LowCardinality(Nullable(String))` → { base: 'String', nullable: true }. */
export function baseType(type: string): { base: string; nullable: boolean } {
  let t = type.trim();
  let nullable = false;
  for (;;) {
    const m = /^(LowCardinality|Nullable)\((.*)\)$/.exec(t);
    if (!m) break;
    if (m[1] === 'Nullable') nullable = true;
    t = m[2]!.trim();
  }
  return { base: t, nullable };
}

const isStringType = (base: string) => base === 'String' || /^FixedString\(/.test(base);
const isIntType = (base: string) => /^U?Int(8|16|32|64|128|256)$/.test(base);
const isStringMap = (base: string) => /^Map\(\s*(LowCardinality\()?String\)?\s*,\s*(LowCardinality\()?(Nullable\()?String\)?\)?\s*\)$/.test(base);
const isStringArray = (base: string) => /^Array\((LowCardinality\()?String\)?\)$/.test(base);

const q = (s: string) => JSON.stringify(s);

/**
 * Builds how each event becomes a JSONEachRow object for this table. Only columns that can be
 * written are sent: MATERIALIZED/ALIAS columns and columns without a source are left to their
 * defaults. Types decide the encoding (a timestamp into DateTime is whole seconds, into
 * DateTime64(p) integer ticks — unambiguous whatever the column's time zone, which a date text
 * would not be).
 */
export function planRows(table: readonly TableColumn[], mapping: Readonly<Record<string, string>>, where: string): RowPlan {
  const columns: string[] = [];
  const perEvent: Member[] = [];
  const perSource: SourceMember[] = [];
  let needsTime = false;
  let hasLine = false;
  const byName = new Map(table.map((c) => [c.name, c]));
  for (const name of Object.keys(mapping)) {
    if (!byName.has(name)) throw new PlanError(`${where}: columns maps "${name}", but the table has no such column (it has ${table.map((c) => c.name).join(', ')})`);
  }
  // Nested(key, value) columns come as two arrays, `labels.key` and `labels.value`.
  const nested = new Set<string>();
  for (const c of table) {
    const dot = c.name.lastIndexOf('.');
    if (dot > 0 && c.name.endsWith('.key') && byName.has(`${c.name.slice(0, dot)}.value`)) nested.add(c.name.slice(0, dot));
  }
  for (const c of table) {
    if (c.default_kind === 'MATERIALIZED' || c.default_kind === 'ALIAS' || c.default_kind === 'EPHEMERAL') continue;
    const { base, nullable } = baseType(c.type);
    const key = `${q(c.name)}:`;
    const dot = c.name.lastIndexOf('.');
    const parent = dot > 0 ? c.name.slice(0, dot) : '';
    if (nested.has(parent)) {
      const src = mapping[parent] ?? NAMED[parent] ?? parent;
      if (src !== 'labels' && src !== 'fields') continue;
      if (!isStringArray(base)) throw new PlanError(`${where}: column ${c.name} is ${c.type}; a Nested ${parent} needs key and value Array(String)`);
      const part = c.name.slice(dot + 1) === 'key' ? 0 : 1;
      columns.push(c.name);
      if (src === 'labels') perSource.push((s) => `${key}${JSON.stringify(part === 0 ? Object.keys(s.labels) : Object.values(s.labels))}`);
      else perEvent.push((ev, _t, w) => { w.key(key); w.raw(ev.fields ? JSON.stringify(part === 0 ? Object.keys(ev.fields) : Object.values(ev.fields)) : '[]'); });
      continue;
    }
    const src = mapping[c.name] ?? NAMED[c.name] ?? (isStringType(base) ? `label:${c.name}` : null);
    if (src === null) continue;
    const bad = (wants: string) => new PlanError(`${where}: column ${c.name} is ${c.type}, but ${src} needs ${wants}`);
    columns.push(c.name);
    switch (src) {
      case 'timestamp': {
        needsTime = true;
        const dt64 = /^DateTime64\((\d)/.exec(base);
        if (dt64) {
          const p = Number(dt64[1]);
          perEvent.push((_ev, t, w) => { w.key(key); w.raw(`${t.secs}${t.frac.slice(0, p)}`); });
        } else if (/^DateTime(\(|$)/.test(base)) perEvent.push((_ev, t, w) => { w.key(key); w.raw(String(t.secs)); });
        else if (base === 'Int64' || base === 'UInt64') perEvent.push((_ev, t, w) => { w.key(key); w.raw(`${t.secs}${t.frac}`); });
        else if (isStringType(base)) perEvent.push((ev, _t, w) => { w.key(key); w.str(ev.ts); });
        else throw bad('DateTime, DateTime64, Int64/UInt64 (nanoseconds) or String');
        break;
      }
      case 'date':
        if (base !== 'Date' && base !== 'Date32') throw bad('Date');
        needsTime = true;
        perEvent.push((_ev, t, w) => { w.key(key); w.str(utcDate(t.secs)); });
        break;
      case 'stream':
        if (!isStringType(base) && !/^Enum(8|16)\(/.test(base)) throw bad('String or Enum');
        perEvent.push((ev, _t, w) => { w.key(key); w.raw(ev.stream === 'stdout' ? '"stdout"' : '"stderr"'); });
        break;
      case 'line':
        if (!isStringType(base)) throw bad('String');
        hasLine = true;
        perEvent.push((ev, _t, w) => { w.key(key); w.str(wellFormed(ev.line)); });
        break;
      case 'labels':
        if (isStringMap(base)) perSource.push((s) => `${key}${s.labelsJson}`);
        else if (isStringType(base)) perSource.push((s) => `${key}${q(s.labelsJson)}`);
        else throw bad('Map(String, String), Nested(key String, value String) or String (JSON)');
        break;
      case 'fields':
        if (isStringMap(base)) perEvent.push((ev, _t, w) => { w.key(key); w.raw(ev.fields ? JSON.stringify(ev.fields) : '{}'); });
        else if (isStringType(base)) perEvent.push((ev, _t, w) => { w.key(key); w.str(ev.fields ? JSON.stringify(ev.fields) : '{}'); });
        else throw bad('Map(String, String), Nested(key String, value String) or String (JSON)');
        break;
      case 'flags':
        if (isStringArray(base)) perEvent.push((ev, _t, w) => { w.key(key); w.raw(ev.flags === 0 ? '[]' : JSON.stringify(flagList(ev.flags))); });
        else if (isStringType(base)) perEvent.push((ev, _t, w) => { w.key(key); w.str(ev.flags === 0 ? '' : flagList(ev.flags).join(',')); });
        else if (isIntType(base)) perEvent.push((ev, _t, w) => { w.key(key); w.raw(String(ev.flags)); });
        else throw bad('Array(String), String or an integer (the bit mask)');
        break;
      case 'source_id':
        if (!isStringType(base)) throw bad('String');
        perSource.push((s) => `${key}${q(s.id)}`);
        break;
      case 'offset':
        if (!isIntType(base)) throw bad('an integer type');
        perEvent.push((ev, _t, w) => { w.key(key); w.raw(String(ev.offset)); });
        break;
      default: {
        const m = /^(label|field):(.+)$/.exec(src);
        if (!m) throw new PlanError(`${where}: columns.${c.name}: unknown value "${src}" (one of ${VALUE_SOURCES.join(', ')}, label:<name>, field:<name>)`);
        if (!isStringType(base)) throw bad('String');
        const name = m[2]!;
        const absent = nullable ? 'null' : '""';
        // A column with a DEFAULT expression keeps it when the label is missing.
        const keepDefault = c.default_kind === 'DEFAULT';
        if (m[1] === 'label') perSource.push((s) => { const v = s.labels[name]; return v === undefined ? (keepDefault ? null : `${key}${absent}`) : `${key}${q(v)}`; });
        else perEvent.push((ev, _t, w) => { const v = ev.fields?.[name]; w.key(key); if (v === undefined) w.raw(absent); else w.str(v); });
      }
    }
  }
  if (!hasLine) throw new PlanError(`${where}: the table has no column for the log line: add \`line String\` (or \`message String\`), or map one with columns: { <column>: line }`);
  return { columns, perEvent, perSource, needsTime };
}

/** Seconds since the epoch → YYYY-MM-DD (UTC), cached: a batch's events share a day. */
function utcDate(secs: number): string {
  const day = Math.floor(secs / 86_400);
  if (day !== lastDay) {
    lastDay = day;
    lastDate = new Date(day * 86_400_000).toISOString().slice(0, 10);
  }
  return lastDate;
}
let lastDay = NaN;
let lastDate = '';

/** Lone UTF-16 surrogates (only a pushed JSON line can carry them) as U+FFFD: ClickHouse refuses the escape. */
function wellFormed(s: string): string {
  return SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\ufffd') : s;
}
const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
