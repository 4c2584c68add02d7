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

/** The SQL for one partition of a scan; exported so tests can inspect what a query reads. */
export function partitionScanSql(q: ScanQuery, part: PartitionPlan, limit: number | undefined): LineQuery {
  const p = new SqlParams();
  const dir = q.direction === 'forward' ? 'ASC' : 'DESC';
  const sql = `SELECT stream_id, ts, line, metadata, level FROM ${partitionTable(part.name)}
    WHERE tenant = ${p.str(q.tenant)} AND ${streamIdsSql(part.streamIds, p)}
      AND ts >= ${p.big(q.startNs)} AND ts < ${p.big(q.endNs)}
      AND ${blocksSql(part, p)} AND ${lineFiltersSql(q.lineFilters, p)}
    ORDER BY ts ${dir}, stream_id ${dir}, rowid ${dir}${limit === undefined ? '' : ` LIMIT ${p.big(BigInt(limit))}`}`;
  return { sql, params: p };
}

function withLevel(metadata: Labels | undefined, level: string): Labels {
  if (!metadata) return { detected_level: level };
  // Same key order as the stored object had (sorted), so results match the memory engine's.
  const out = Object.fromEntries(Object.entries({ ...metadata, detected_level: level }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  return out;
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
    const { sql, params } = partitionScanSql(q, part, remaining);
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
