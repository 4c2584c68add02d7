import { queryLogs, series } from './api.js';
import { contextQueries, flattenStreams, streamOf, type Row } from './lib/rows.js';
import { formatSelector, splitQuery } from './lib/selector.js';
import { msToNs, nsToMs } from './lib/time.js';

const LINES = 10;
const SPAN_MS = 3_600_000;

export interface LoadedContext {
  selector: string;
  before: Row[];
  after: Row[];
}

/**
 * The lines around `row` in its own stream. Result rows carry metadata and parsed labels
 * besides their stream labels, so the stream is looked up among the series the query's
 * selector matches; then one query backward from the line and one forward from it.
 */
export async function loadContext(row: Row, query: string, streamLabels: ReadonlySet<string>, nextId: { current: number }): Promise<LoadedContext> {
  const ms = nsToMs(row.tsNs);
  const split = splitQuery(query);
  const byNames = Object.fromEntries(Object.entries(row.labels).filter(([k]) => streamLabels.has(k)));
  const match = split && split.matchers.some((m) => m.op === '=')
    ? formatSelector(split.matchers)
    : formatSelector(Object.entries(byNames).map(([name, value]) => ({ name, op: '=' as const, value })));
  const candidates = await series(match, msToNs(ms - SPAN_MS), msToNs(ms + SPAN_MS));
  const stream = streamOf(row.labels, candidates) ?? byNames;
  const q = contextQueries(stream, row.tsNs, SPAN_MS, LINES);
  const [b, a] = await Promise.all([queryLogs(q.before), queryLogs(q.after)]);
  const before = flattenStreams(b, 'forward', nextId.current);
  const after = flattenStreams(a, 'forward', nextId.current + before.length);
  nextId.current += before.length + after.length;
  // The forward query starts at the line itself (inclusive start); leave that one copy out.
  const self = after.findIndex((r) => r.tsNs === row.tsNs && r.line === row.line);
  if (self >= 0) after.splice(self, 1);
  return { selector: q.selector, before, after: after.slice(0, LINES) };
}
