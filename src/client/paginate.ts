import { ClientError } from './errors.js';
import { flattenStreams, type Entry, type StoreClient } from './http.js';
import { logqlString } from './translate.js';

/** Key of a line for de-duplication at a page boundary: same time, same labels, same text. */
export function entryKey(e: Entry): string {
  return `${e.tsNs}\u0000${JSON.stringify(e.labels)}\u0000${e.line}`;
}

export interface PageOptions {
  query: string;
  startNs: bigint;
  /** Exclusive, as the store's scan is. */
  endNs: bigint;
  direction: 'forward' | 'backward';
  /** Lines per request; lowered to the store's maximum when it says so. */
  pageSize?: number;
  /** Stop after this many lines (--tail). */
  total?: number;
  /** Told when more lines share one timestamp than fit in a page (some may be missing). */
  warn?: (msg: string) => void;
  /**
   * The query as selector and pipeline: when more lines share one timestamp than a page holds,
   * that timestamp is read again stream by stream (each stream's own selector + pipeline).
   */
  split?: { selector: string; pipeline: string };
  /** Told after each request (for the progress indicator). */
  onPage?: (lines: number) => void;
}

/** The store's maximum lines per query, from its refusal ("over the maximum of N", Loki's "(X > N)"). */
export function maxFromRefusal(err: unknown): number | null {
  if (!(err instanceof ClientError)) return null;
  const m = /over the maximum of (\d+)/.exec(err.message) ?? /max entries limit.*\(\d+ > (\d+)\)/.exec(err.message);
  return m ? Number(m[1]) : null;
}

/**
 * Every line of a log query between start and end, in order, page by page as Loki's clients
 * do: one request is capped at the store's per-query line limit, so the next page starts at
 * the last timestamp seen (inclusive, as lines can share it) and skips the lines of that
 * timestamp the previous page already returned (counted per identical line, so identical
 * lines are neither lost nor repeated). Only when more lines share one timestamp than a page
 * holds can some be missed; that is reported through `warn`.
 */
export async function* pageLines(client: StoreClient, opts: PageOptions): AsyncGenerator<Entry[]> {
  let pageSize = opts.pageSize ?? 5000;
  const forward = opts.direction === 'forward';
  let start = opts.startNs;
  let end = opts.endNs;
  /** Lines at the boundary timestamp already returned, by key → count. */
  let seenAtBoundary = new Map<string, number>();
  let boundary: bigint | null = null;
  let remaining = opts.total ?? Infinity;
  while (remaining > 0 && start < end) {
    const limit = Math.min(pageSize, remaining + countOf(seenAtBoundary));
    let data;
    try {
      data = await client.query('range', { query: opts.query, start, end, limit, direction: opts.direction });
    } catch (err) {
      const max = maxFromRefusal(err);
      if (max !== null && max < pageSize && max > 0) {
        pageSize = max;
        continue;
      }
      throw err;
    }
    if (data.resultType !== 'streams') throw new ClientError(`expected log lines but the query returned a ${data.resultType}: use "loggy query" for metric queries`);
    const raw = flattenStreams(data, opts.direction);
    opts.onPage?.(raw.length);
    const fresh: Entry[] = [];
    const used = new Map<string, number>();
    for (const e of raw) {
      if (boundary !== null && e.tsNs === boundary) {
        const k = entryKey(e);
        const n = (used.get(k) ?? 0) + 1;
        used.set(k, n);
        if (n <= (seenAtBoundary.get(k) ?? 0)) continue;
      }
      fresh.push(e);
    }
    const out = fresh.length > remaining ? fresh.slice(0, remaining) : fresh;
    remaining -= out.length;
    if (out.length) yield out;
    if (raw.length < limit) return; // the store had no more
    const last = raw[raw.length - 1]!.tsNs;
    if (fresh.length === 0 || (boundary !== null && last === boundary && raw[0]!.tsNs === boundary)) {
      // A whole page at one timestamp: more lines share it than a page holds. Read that
      // timestamp stream by stream (what was returned already is skipped), then move past it.
      const rest = await oneTimestamp(client, opts, last, pageSize, seenAtBoundary);
      const out2 = rest.length > remaining ? rest.slice(0, remaining) : rest;
      remaining -= out2.length;
      if (out2.length) yield out2;
      if (forward) start = last + 1n;
      else end = last;
      boundary = null;
      seenAtBoundary = new Map();
      continue;
    }
    const next = new Map<string, number>();
    for (const e of raw) if (e.tsNs === last) next.set(entryKey(e), (next.get(entryKey(e)) ?? 0) + 1);
    seenAtBoundary = next;
    boundary = last;
    if (forward) start = last;
    else end = last + 1n;
  }
}

/** Every line at one timestamp, one request per stream, minus those already returned. */
async function oneTimestamp(client: StoreClient, opts: PageOptions, ts: bigint, pageSize: number, seen: Map<string, number>): Promise<Entry[]> {
  const warn = () => opts.warn?.(`more than ${pageSize} lines of one stream share the timestamp ${ts}: some of them may be missing (the store returns at most ${pageSize} per query)`);
  if (!opts.split) {
    warn();
    return [];
  }
  const series = await client.series(opts.split.selector, { start: ts, end: ts + 1n });
  // A stream's request may also return streams whose labels include its own: count each line
  // as the most copies any one answer holds, not the sum.
  const most = new Map<string, { e: Entry; n: number }>();
  for (const s of series) {
    const selector = `{${Object.keys(s).sort().map((k) => `${k}=${logqlString(s[k]!)}`).join(', ')}}`;
    const data = await client.query('range', { query: selector + opts.split.pipeline, start: ts, end: ts + 1n, limit: pageSize, direction: 'forward' });
    if (data.resultType !== 'streams') continue;
    const lines = flattenStreams(data);
    if (lines.length >= pageSize) warn();
    const local = new Map<string, number>();
    for (const e of lines) {
      const k = entryKey(e);
      const n = (local.get(k) ?? 0) + 1;
      local.set(k, n);
      const m = most.get(k);
      if (!m) most.set(k, { e, n });
      else if (n > m.n) m.n = n;
    }
  }
  const out: Entry[] = [];
  for (const [k, { e, n }] of most) for (let i = seen.get(k) ?? 0; i < n; i++) out.push(e);
  return out;
}

function countOf(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}
