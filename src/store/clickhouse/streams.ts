import type { LabelMatcher, Labels } from '../engine.js';
import { compareStrings, labelsFromEntries, labelsKey } from '../shared/labels.js';
import { newSql, type Ctx } from './context.js';
import { matchersSql } from './predicates.js';
import { DAY_NS } from './schema.js';
import type { Sql } from './sql.js';

/**
 * Selector resolution: matcher sets → the streams (ids and labels) of a tenant that have a row
 * in the streams table for a day overlapping the range. Scans, counts and label queries start
 * here, then read logs by stream id (the second key of logs' ORDER BY).
 */

export interface Stream {
  id: bigint;
  labels: Labels;
  /** labelsKey: the memory engine's series order. */
  key: string;
}

/** Inclusive day numbers of [startNs, endNs), or null when the range holds no valid timestamp. */
export function dayRange(startNs: bigint, endNs: bigint): [bigint, bigint] | null {
  const s = startNs < 0n ? 0n : startNs;
  if (endNs <= s) return null;
  return [s / DAY_NS, (endNs - 1n) / DAY_NS];
}

/** The WHERE of streams rows matching any matcher set in the days. */
function streamsWhere(sql: Sql, tenant: string, matcherSets: readonly LabelMatcher[][], days: [bigint, bigint]): string {
  const sets = matcherSets.map((ms) => `(${matchersSql(sql, ms)})`).join(' OR ');
  return `tenant = ${sql.str(tenant)} AND day >= ${sql.u64(days[0])} AND day <= ${sql.u64(days[1])} AND (${sets})`;
}

export async function resolveStreams(ctx: Ctx, tenant: string, matcherSets: readonly LabelMatcher[][], startNs: bigint, endNs: bigint): Promise<Map<bigint, Stream>> {
  const out = new Map<bigint, Stream>();
  const days = dayRange(startNs, endNs);
  if (!days || matcherSets.length === 0) return out;
  const sql = newSql(ctx);
  const rows = await ctx.http.select(
    'resolve streams',
    `SELECT stream_id, any(label_names), any(label_values) FROM ${ctx.tables.streams} WHERE ${streamsWhere(sql, tenant, matcherSets, days)} GROUP BY stream_id`,
    sql.params,
  );
  for (const [id, names, values] of rows as Array<[string, string[], string[]]>) {
    const entries = names.map((n, i): [string, string] => [n, values[i]!]);
    out.set(BigInt(id), { id: BigInt(id), labels: labelsFromEntries(entries), key: labelsKey(entries) });
  }
  return out;
}

/** Above this many streams a query names them by a subquery instead of a list (max_query_size is 256 KiB). */
const MAX_LISTED_STREAMS = 5000;

/**
 * `stream_id IN (...)` for logs queries: the resolved ids, or for very many streams the
 * resolving subquery itself (rows of streams that appear meanwhile are then skipped by the
 * caller, which has no labels for them).
 */
export function streamIdsIn(sql: Sql, streams: ReadonlyMap<bigint, Stream>, ctx: Ctx, tenant: string, matcherSets: readonly LabelMatcher[][], startNs: bigint, endNs: bigint): string {
  if (streams.size <= MAX_LISTED_STREAMS) return `stream_id IN (${[...streams.keys()].map((id) => sql.u64(id)).join(', ')})`;
  const days = dayRange(startNs, endNs)!;
  // GLOBAL on a cluster: the subquery runs once, here, and its ids go to every shard.
  return `stream_id ${ctx.tables.cluster ? 'GLOBAL IN' : 'IN'} (SELECT stream_id FROM ${ctx.tables.streams} WHERE ${streamsWhere(sql, tenant, matcherSets, days)})`;
}

/** The streams of `candidates` with at least one line in [startNs, endNs). */
export async function streamsWithLines(ctx: Ctx, tenant: string, matcherSets: readonly LabelMatcher[][], startNs: bigint, endNs: bigint): Promise<Stream[]> {
  const candidates = await resolveStreams(ctx, tenant, matcherSets, startNs, endNs);
  if (candidates.size === 0) return [];
  const sql = newSql(ctx);
  const rows = await ctx.http.select(
    'find streams with lines',
    `SELECT DISTINCT stream_id FROM ${ctx.tables.logs} WHERE tenant = ${sql.str(tenant)} AND ${streamIdsIn(sql, candidates, ctx, tenant, matcherSets, startNs, endNs)} AND ts >= ${sql.i64(startNs)} AND ts < ${sql.i64(endNs)}`,
    sql.params,
  );
  const out: Stream[] = [];
  for (const [id] of rows as Array<[string]>) {
    const s = candidates.get(BigInt(id));
    if (s) out.push(s);
  }
  return out.sort((a, b) => compareStrings(a.key, b.key));
}
