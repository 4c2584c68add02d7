import type { DuckDBConnection } from '@duckdb/node-api';
import type { Labels, ScanQuery, StoredRow } from '../engine.js';
import { blocksSql } from './blocks.js';
import { lineFiltersSql } from './predicates.js';
import { SqlParams, partitionTable } from './sql.js';
import { streamIdsSql, type PartitionPlan } from './streams.js';

/**
 * Line scans. Partitions cover disjoint time ranges, so a scan in timestamp order is the
 * concatenation of per-partition scans in partition order: one partition is queried at a time
 * (oldest first, or newest first for `backward`) with the remaining limit, and the scan stops
 * as soon as the limit is met — a `backward` query for the newest 100 lines reads only the
 * newest partition that has them. Results are read chunk by chunk from a streaming result,
 * so memory stays bounded by the batch size, not the result size.
 *
 * Ties on ts are broken by stream id, then rowid (insertion order within a partition), the
 * order the in-memory reference engine uses too.
 */

export interface LineQuery {
  sql: string;
  params: SqlParams;
}

/**
 * What every line query of a partition selects: the tenant, the planned streams, the time range
 * and the blocks bloom pruning kept. Line filters are added by the caller where they apply.
 */
export function partitionWhereSql(q: ScanQuery, part: PartitionPlan, p: SqlParams): string {
  return `tenant = ${p.str(q.tenant)} AND ${streamIdsSql(part.streamIds, p)}
      AND ts >= ${p.big(q.startNs)} AND ts < ${p.big(q.endNs)} AND ${blocksSql(part, p)}`;
}

/** The SQL for one partition of a scan; exported so tests can inspect what a query reads. */
export function partitionScanSql(q: ScanQuery, part: PartitionPlan, limit: number | undefined, bound?: bigint): LineQuery {
  const p = new SqlParams();
  const dir = q.direction === 'forward' ? 'ASC' : 'DESC';
  const edge = bound === undefined ? '' : q.direction === 'forward' ? ` AND ts <= ${p.big(bound)}` : ` AND ts >= ${p.big(bound)}`;
  const sql = `SELECT stream_id, ts, line, metadata, level FROM ${partitionTable(part.name)}
    WHERE ${partitionWhereSql(q, part, p)}${edge} AND ${lineFiltersSql(q.lineFilters, p)}
    ORDER BY ts ${dir}, stream_id ${dir}, rowid ${dir}${limit === undefined ? '' : ` LIMIT ${p.big(BigInt(limit))}`}`;
  return { sql, params: p };
}

function withLevel(metadata: Labels | undefined, level: string): Labels {
  if (!metadata) return { detected_level: level };
  // Same key order as the stored object had (sorted), so results match the memory engine's.
  return Object.fromEntries(Object.entries({ ...metadata, detected_level: level }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * For a limited scan without line filters: the timestamp of the limit-th row, found from the
 * ts and stream_id columns alone. Bounding the real query by it lets zone maps skip the row
 * groups that cannot make the cut, so only those lines are decompressed (DuckDB would
 * otherwise read every candidate line before its top-N). Undefined: fewer rows than the limit.
 */
async function limitBound(conn: DuckDBConnection, q: ScanQuery, part: PartitionPlan, limit: number): Promise<bigint | undefined> {
  const p = new SqlParams();
  const dir = q.direction === 'forward' ? 'ASC' : 'DESC';
  const sql = `SELECT ts FROM ${partitionTable(part.name)}
    WHERE ${partitionWhereSql(q, part, p)}
    ORDER BY ts ${dir} LIMIT 1 OFFSET ${p.big(BigInt(limit - 1))}`;
  const rows = (await conn.runAndReadAll(sql, p.values, p.types)).getRows();
  return rows.length > 0 ? (rows[0]![0] as bigint) : undefined;
}

/** Partitions in the order a scan reads them. */
export function scanOrder(parts: readonly PartitionPlan[], direction: ScanQuery['direction']): PartitionPlan[] {
  return direction === 'forward' ? [...parts] : [...parts].reverse();
}

/**
 * Streams rows of the planned partitions in batches of about `batchRows`.
 * `labels` maps every planned stream id to its label set.
 */
export async function* scanPartitions(
  conn: DuckDBConnection,
  q: ScanQuery,
  parts: readonly PartitionPlan[],
  labels: ReadonlyMap<bigint, Labels>,
  batchRows: number,
): AsyncGenerator<StoredRow[]> {
  let remaining = q.limit;
  let batch: StoredRow[] = [];
  for (const part of scanOrder(parts, q.direction)) {
    if (remaining === 0) break;
    const bound = remaining !== undefined && remaining > 0 && q.lineFilters.length === 0 ? await limitBound(conn, q, part, remaining) : undefined;
    const { sql, params } = partitionScanSql(q, part, remaining, bound);
    const result = await conn.stream(sql, params.values, params.types);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const [id, ts, line, metadata, level] of chunk.getRows()) {
        const row: StoredRow = { tsNs: ts as bigint, labels: labels.get(id as bigint)!, line: line as string };
        // JSON.parse defines own properties, so a key named __proto__ stays a plain key.
        if (metadata !== null) row.metadata = JSON.parse(metadata as string) as Labels;
        if (level !== null) row.metadata = withLevel(row.metadata, level as string);
        batch.push(row);
        if (batch.length >= batchRows) {
          yield batch;
          batch = [];
        }
      }
      if (remaining !== undefined) remaining -= chunk.rowCount;
    }
  }
  if (batch.length > 0) yield batch;
}
