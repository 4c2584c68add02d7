import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { DuckDBMapValue } from '@duckdb/node-api';
import type { LabelMatcher, Labels } from '../engine.js';
import { compareStrings, labelsFromEntries } from '../shared/labels.js';
import { matcherSetsSql, matchersSql } from './predicates.js';
import { SqlParams, partitionTable } from './sql.js';

/**
 * Stream-level lookups: matchers are resolved against the streams table, and the presence
 * table says which partitions hold lines of which streams, before any line is read.
 */

export interface PartitionPlan {
  name: string;
  startNs: bigint;
  endNs: bigint;
  /** Matched streams with lines in this partition whose [min, max] overlaps the query. */
  streamIds: bigint[];
  /** Set by bloom pruning: only these blocks can hold matching lines. */
  blocks?: number[];
}

export function mapToLabels(v: DuckDBValue): Labels {
  if (!(v instanceof DuckDBMapValue)) throw new Error('streams.labels is not a MAP');
  return labelsFromEntries(v.entries.map((e) => [String(e.key), String(e.value)]));
}

/** Label sets of the tenant's streams matching all matchers, by stream id. */
export async function resolveStreams(conn: DuckDBConnection, tenant: string, matchers: readonly LabelMatcher[]): Promise<Map<bigint, Labels>> {
  const p = new SqlParams();
  const sql = `SELECT stream_id, labels FROM streams WHERE tenant = ${p.str(tenant)} AND (${matchersSql(matchers, p)})`;
  const rows = (await conn.runAndReadAll(sql, p.values, p.types)).getRows();
  return new Map(rows.map((r) => [r[0] as bigint, mapToLabels(r[1]!)]));
}

/**
 * Partitions overlapping [start, end) that hold lines of streams matching `matchers`, oldest
 * first, each with those streams. Partitions without a matching stream are not read at all.
 */
export async function planPartitions(
  conn: DuckDBConnection,
  tenant: string,
  matchers: readonly LabelMatcher[],
  startNs: bigint,
  endNs: bigint,
): Promise<PartitionPlan[]> {
  if (startNs >= endNs) return [];
  const p = new SqlParams();
  const sql = `
    SELECT p.name, p.start_ns, p.end_ns, list(sp.stream_id ORDER BY sp.stream_id)
    FROM stream_presence sp JOIN partitions p ON p.name = sp.partition
    WHERE sp.tenant = ${p.str(tenant)}
      AND sp.min_ts < ${p.big(endNs)} AND sp.max_ts >= ${p.big(startNs)}
      AND sp.stream_id IN (SELECT stream_id FROM streams WHERE tenant = ${p.str(tenant)} AND (${matchersSql(matchers, p)}))
    GROUP BY p.name, p.start_ns, p.end_ns
    ORDER BY p.start_ns`;
  const rows = (await conn.runAndReadAll(sql, p.values, p.types)).getRowsJS();
  return rows.map((r) => ({
    name: r[0] as string,
    startNs: r[1] as bigint,
    endNs: r[2] as bigint,
    streamIds: r[3] as bigint[],
  }));
}

/** Above this many ids a stream filter binds one list parameter instead of one per id. */
export const IN_LIST_MAX = 1000;

/** `stream_id IN (...)` for the given ids, as parameters. */
export function streamIdsSql(ids: readonly bigint[], p: SqlParams, column = 'stream_id'): string {
  if (ids.length <= IN_LIST_MAX) return `${column} IN (${ids.map((id) => p.big(id)).join(', ')})`;
  return `${column} IN (SELECT unnest(${p.bigList(ids)}))`;
}

/**
 * Label sets of streams matching any matcher set that have at least one line in [start, end),
 * sorted by their canonical key. Exact: presence rows whose [min, max] lies inside the range
 * settle a stream; only streams straddling a range edge are checked against the lines.
 */
export async function streamsWithLines(
  conn: DuckDBConnection,
  tenant: string,
  matcherSets: readonly (readonly LabelMatcher[])[],
  startNs: bigint,
  endNs: bigint,
): Promise<Labels[]> {
  if (startNs >= endNs || matcherSets.length === 0) return [];
  const p = new SqlParams();
  const presence = `
    SELECT sp.partition, sp.stream_id, sp.min_ts >= ${p.big(startNs)} AND sp.max_ts < ${p.big(endNs)} AS inside
    FROM stream_presence sp
    WHERE sp.tenant = ${p.str(tenant)}
      AND sp.min_ts < ${p.big(endNs)} AND sp.max_ts >= ${p.big(startNs)}
      AND sp.stream_id IN (SELECT stream_id FROM streams WHERE tenant = ${p.str(tenant)} AND (${matcherSetsSql(matcherSets, p)}))`;
  const rows = (await conn.runAndReadAll(presence, p.values, p.types)).getRows();
  const found = new Set<bigint>();
  const unsure = new Map<string, bigint[]>();
  for (const [partition, id, inside] of rows) {
    if (inside === true) found.add(id as bigint);
    else {
      const list = unsure.get(partition as string) ?? [];
      list.push(id as bigint);
      unsure.set(partition as string, list);
    }
  }
  for (const [partition, ids] of unsure) {
    const pending = ids.filter((id) => !found.has(id));
    if (pending.length === 0) continue;
    const q = new SqlParams();
    const sql = `SELECT DISTINCT stream_id FROM ${partitionTable(partition)}
      WHERE tenant = ${q.str(tenant)} AND ts >= ${q.big(startNs)} AND ts < ${q.big(endNs)} AND ${streamIdsSql(pending, q)}`;
    for (const [id] of (await conn.runAndReadAll(sql, q.values, q.types)).getRows()) found.add(id as bigint);
  }
  if (found.size === 0) return [];
  const q = new SqlParams();
  const sql = `SELECT labels_key, labels FROM streams WHERE tenant = ${q.str(tenant)} AND ${streamIdsSql([...found], q)}`;
  const streams = (await conn.runAndReadAll(sql, q.values, q.types)).getRows();
  return streams
    .map((r): [string, Labels] => [r[0] as string, mapToLabels(r[1]!)])
    .sort((a, b) => compareStrings(a[0], b[0]))
    .map(([, l]) => l);
}
