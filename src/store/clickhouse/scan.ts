import type { CountQuery, CountSeries, Labels, ScanQuery, StoredRow } from '../engine.js';
import { byLevel, CountAccumulator, withDetectedLevel } from '../shared/count.js';
import { labelsFromEntries } from '../shared/labels.js';
import { newSql, type Ctx } from './context.js';
import { lineFilterSql } from './predicates.js';
import type { Sql } from './sql.js';
import { resolveStreams, streamIdsIn, type Stream } from './streams.js';

/**
 * Scans and counts, pushed down: selector → stream ids (streams table), then one logs query
 * with the time range and every line filter in its WHERE. Scans page by keyset on the full
 * sort key (ts, stream_id, seq, idx), so a huge range streams in batches of bounded size and
 * no page repeats or skips a row, whatever the ties.
 */

/**
 * WHERE for logs rows of a query (tenant, streams, range, filters). `resolved` is the query the
 * streams were resolved for, when `q` is a window of it.
 */
function rowsWhere(sql: Sql, ctx: Ctx, q: ScanQuery, streams: ReadonlyMap<bigint, Stream>, resolved: ScanQuery = q): string {
  return [
    `tenant = ${sql.str(q.tenant)}`,
    streamIdsIn(sql, streams, ctx, q.tenant, [q.matchers], resolved.startNs, resolved.endNs),
    `ts >= ${sql.i64(q.startNs)}`,
    `ts < ${sql.i64(q.endNs)}`,
    ...q.lineFilters.map((f) => lineFilterSql(sql, f, ctx.features.skipIndexes)),
  ].join(' AND ');
}

type RowTuple = [ts: string, streamId: string, seq: string, idx: number, line: string, mdKeys: string[], mdValues: string[]];

/** The first time window a scan reads; it grows 4× each time a window holds less than a page. */
const FIRST_WINDOW_NS = 3_600_000_000_000n;

export async function* scanRows(ctx: Ctx, q: ScanQuery, batchRows: number): AsyncIterable<StoredRow[]> {
  if (q.limit === 0 || q.endNs <= q.startNs) return;
  const streams = await resolveStreams(ctx, q.tenant, [q.matchers], q.startNs, q.endNs);
  if (streams.size === 0) return;
  const fwd = q.direction === 'forward';
  const dir = fwd ? 'ASC' : 'DESC';
  let remaining = q.limit ?? Infinity;
  // A window of time at a time, in scan direction: ClickHouse must read (and for the ORDER BY,
  // sort) every row that passes the WHERE before it can apply a LIMIT, so a limited query over
  // a month would read the month. Windows start small and grow while they come back short.
  let width = FIRST_WINDOW_NS;
  let lo = fwd ? q.startNs : q.endNs - width < q.startNs ? q.startNs : q.endNs - width;
  let hi = fwd ? (q.startNs + width > q.endNs ? q.endNs : q.startNs + width) : q.endNs;
  let after: { ts: bigint; streamId: bigint; seq: bigint; idx: number } | null = null;
  while (remaining > 0) {
    const n = Math.min(batchRows, remaining);
    const sql = newSql(ctx);
    let where = rowsWhere(sql, ctx, { ...q, startNs: lo, endNs: hi }, streams, q);
    if (after) {
      const cmp = fwd ? '>' : '<';
      // The ts bound alone is what the primary key can use; the tuple is exact.
      where += ` AND ts ${cmp}= ${sql.i64(after.ts)} AND (ts, stream_id, seq, idx) ${cmp} (${sql.i64(after.ts)}, ${sql.u64(after.streamId)}, ${sql.u64(after.seq)}, ${after.idx})`;
    }
    const rows = (await ctx.http.select(
      'scan',
      `SELECT ts, stream_id, seq, idx, line, md_keys, md_values FROM ${ctx.tables.logs} WHERE ${where} ORDER BY ts ${dir}, stream_id ${dir}, seq ${dir}, idx ${dir} LIMIT ${n}`,
      sql.params,
    )) as RowTuple[];
    const batch: StoredRow[] = [];
    for (const [ts, sid, , , line, keys, values] of rows) {
      const s = streams.get(BigInt(sid));
      if (!s) continue;
      const tsNs = BigInt(ts);
      batch.push(keys.length === 0 ? { tsNs, labels: s.labels, line } : { tsNs, labels: s.labels, line, metadata: labelsFromEntries(keys.map((k, i): [string, string] => [k, values[i]!])) });
    }
    if (batch.length > 0) yield batch;
    remaining -= rows.length;
    if (rows.length === n) {
      const last = rows[rows.length - 1]!;
      after = { ts: BigInt(last[0]), streamId: BigInt(last[1]), seq: BigInt(last[2]), idx: Number(last[3]) };
      continue;
    }
    // The window is done.
    if (fwd ? hi >= q.endNs : lo <= q.startNs) return;
    after = null;
    if (rows.length < n / 4) width *= 4n;
    if (fwd) {
      lo = hi;
      hi = q.endNs - lo < width ? q.endNs : lo + width;
    } else {
      hi = lo;
      lo = hi - q.startNs < width ? q.startNs : hi - width;
    }
  }
}

/**
 * count(): grouped in SQL by stream, step bucket and (when asked) detected_level, so the answer
 * is streams × buckets rows, never lines; the `by` labels are then merged from the stream labels.
 */
export async function countRows(ctx: Ctx, q: CountQuery): Promise<CountSeries[]> {
  const acc = new CountAccumulator(q.by);
  if (q.endNs <= q.startNs) return acc.result();
  const streams = await resolveStreams(ctx, q.tenant, [q.matchers], q.startNs, q.endNs);
  if (streams.size === 0) return acc.result();
  const level = byLevel(q);
  const sql = newSql(ctx);
  const levelSql = level ? `, md_values[indexOf(md_keys, ${sql.str('detected_level')})] AS level` : '';
  // Buckets counted from the last bucket start at or before 0, so ts - base never overflows
  // Int64 however negative startNs is (ts >= 0).
  const base = q.startNs < 0n ? q.startNs + (-q.startNs / q.stepNs) * q.stepNs : q.startNs;
  const rows = (await ctx.http.select(
    'count',
    `SELECT stream_id, intDiv(ts - ${sql.i64(base)}, ${sql.i64(q.stepNs)}) AS k${levelSql}, count(), sum(length(line)) FROM ${ctx.tables.logs} WHERE ${rowsWhere(sql, ctx, q, streams)} GROUP BY stream_id, k${level ? ', level' : ''}`,
    sql.params,
  )) as Array<[string, string, ...Array<string | number>]>;
  for (const r of rows) {
    const s = streams.get(BigInt(r[0]));
    if (!s) continue;
    const [n, bytes] = level ? [r[3], r[4]] : [r[2], r[3]];
    const labels: Labels = level ? withDetectedLevel(s.labels, String(r[2])) : s.labels;
    acc.add(labels, base + BigInt(r[1]) * q.stepNs, Number(n), Number(bytes));
  }
  return acc.result();
}
