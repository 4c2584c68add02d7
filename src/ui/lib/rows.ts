import { levelOf, type Level } from './levels.js';

/** A Loki "streams" result entry. */
export interface StreamResult {
  stream: Record<string, string>;
  values: Array<[string, string] | [string, string, Record<string, string>]>;
}

export interface Row {
  /** Unique within a result set; stable across renders (keys, expanded state). */
  id: number;
  tsNs: string;
  labels: Record<string, string>;
  line: string;
  level: Level;
  /** Came from the live tail (not from the range query). */
  live?: boolean;
}

/** Compares decimal nanosecond strings without BigInt allocations: longer is later. */
export function compareNs(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Streams flattened into rows, newest first (or oldest first for `forward`). Structured
 * metadata sent as a third value element (Loki's categorized form) joins the labels, as the
 * server itself does for detected_level.
 */
export function flattenStreams(streams: StreamResult[], direction: 'backward' | 'forward' = 'backward', firstId = 0): Row[] {
  const rows: Row[] = [];
  let id = firstId;
  for (const s of streams) {
    for (const v of s.values) {
      const labels = v[2] ? { ...s.stream, ...v[2] } : s.stream;
      rows.push({ id: id++, tsNs: v[0], labels, line: v[1], level: levelOf(labels, v[1]) });
    }
  }
  const sign = direction === 'backward' ? -1 : 1;
  rows.sort((a, b) => sign * compareNs(a.tsNs, b.tsNs) || a.id - b.id);
  return rows;
}

/**
 * Live tail: newest lines go on top, the buffer keeps at most `cap` of them, and how many
 * fell off the bottom is returned so the UI can count them as dropped.
 */
export function prependCapped(rows: readonly Row[], incoming: readonly Row[], cap: number): { rows: Row[]; discarded: number } {
  const newestFirst = [...incoming].sort((a, b) => compareNs(b.tsNs, a.tsNs) || b.id - a.id);
  const all = newestFirst.concat(rows);
  const discarded = Math.max(0, all.length - cap);
  return { rows: discarded ? all.slice(0, cap) : all, discarded };
}

/** Line and column of a LogQL syntax error, from the server's "parse error at line L, col C: ..." text. */
export function errorPosition(message: string): { line: number; column: number; detail: string } | null {
  const m = /parse error at line (\d+), col (\d+):\s*([\s\S]*)/.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]), detail: m[3]!.trim() } : null;
}

/** 0-based offset into the query for a 1-based line/column. */
export function offsetOf(query: string, line: number, column: number): number {
  let off = 0;
  const lines = query.split('\n');
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i]!.length + 1;
  return Math.min(query.length, off + column - 1);
}

/**
 * The stream a result row came from: of the series the selector matches, the largest whose
 * labels all appear in the row (rows also carry metadata and parsed labels, which are not
 * stream labels and cannot be used in a selector).
 */
export function streamOf(row: Record<string, string>, series: ReadonlyArray<Record<string, string>>): Record<string, string> | null {
  let best: Record<string, string> | null = null;
  for (const s of series) {
    const keys = Object.keys(s);
    if (keys.every((k) => row[k] === s[k]) && (!best || keys.length > Object.keys(best).length)) best = s;
  }
  return best;
}

/** The two queries around a line: before it (backward, ending at it) and from it on (forward). */
export function contextQueries(stream: Record<string, string>, tsNs: string, spanMs: number, limit: number) {
  const selector = `{${Object.keys(stream).sort().map((k) => `${k}=${JSON.stringify(stream[k])}`).join(', ')}}`;
  const ms = Number(tsNs.slice(0, -6));
  return {
    selector,
    before: { query: selector, start: `${ms - spanMs}000000`, end: tsNs, direction: 'backward' as const, limit },
    // start is inclusive: the line itself comes back first and marks where "after" begins.
    after: { query: selector, start: tsNs, end: `${ms + spanMs}000000`, direction: 'forward' as const, limit: limit + 1 },
  };
}
