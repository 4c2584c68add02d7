/**
 * Log query evaluation: runs the pipeline over rows (already narrowed by the scan plan, in
 * `direction` order), keeps the first `limit` surviving lines and groups them into Loki
 * "streams" by their final label set. Streams are sorted by their label string, entries by
 * time in `direction` order, as Loki returns them.
 */
import type { Labels, StoredRow } from '../store/engine.js';
import type { LogQueryExpr } from './ast.js';
import { labelsKey, withMetadata } from './labels.js';
import { planLogQuery } from './plan.js';

export interface StreamResult {
  stream: Labels;
  /** [unix nanoseconds as a decimal string, line] */
  values: Array<[string, string]>;
}

export interface LogEvalOptions {
  /** Maximum number of lines returned (over all streams); ≤ 0 or Infinity: no limit. */
  limit: number;
  direction: 'forward' | 'backward';
}

export async function evalLogQuery(
  expr: LogQueryExpr,
  rows: AsyncIterable<StoredRow[]>,
  opts: LogEvalOptions,
): Promise<StreamResult[]> {
  const { pipeline } = planLogQuery(expr);
  const limit = opts.limit > 0 ? opts.limit : Infinity;
  const streams = new Map<string, { stream: Labels; entries: Array<[bigint, string]> }>();
  let n = 0;
  outer: for await (const batch of rows) {
    for (const row of batch) {
      const labels = withMetadata(row.labels, row.metadata);
      if (!pipeline.run(row.line, labels, row.tsNs)) continue;
      const b = pipeline.builder;
      const key = b.key();
      let s = streams.get(key);
      if (!s) {
        s = { stream: b.labels(), entries: [] };
        streams.set(key, s);
      }
      s.entries.push([row.tsNs, pipeline.line]);
      if (++n >= limit) break outer;
    }
  }
  const backward = opts.direction === 'backward';
  const out: Array<StreamResult & { key: string }> = [];
  for (const s of streams.values()) {
    // Stable: equal timestamps keep their arrival order.
    s.entries.sort((a, b) => (a[0] === b[0] ? 0 : (a[0] < b[0]) !== backward ? -1 : 1));
    out.push({ key: labelsKey(s.stream), stream: s.stream, values: s.entries.map(([t, l]) => [t.toString(), l]) });
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out.map(({ stream, values }) => ({ stream, values }));
}
