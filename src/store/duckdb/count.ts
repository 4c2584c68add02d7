import type { DuckDBConnection } from '@duckdb/node-api';
import type { CountQuery, CountSeries, Labels } from '../engine.js';
import { byLevel, CountAccumulator, withDetectedLevel } from '../shared/count.js';
import { lineFiltersSql } from './predicates.js';
import { SqlParams, partitionTable } from './sql.js';
import { partitionWhereSql } from './scan.js';
import type { PartitionPlan } from './streams.js';

/**
 * Counts per step bucket, computed in DuckDB: lines are grouped by (stream, bucket) in SQL,
 * which yields at most streams × buckets rows; the `by` grouping is then a merge of those rows
 * in JS using the stream label sets already resolved (no per-line MAP lookups in SQL).
 */

export function countSql(q: CountQuery, parts: readonly PartitionPlan[]): { sql: string; params: SqlParams } {
  const p = new SqlParams();
  const level = byLevel(q) ? 'level' : 'NULL::VARCHAR AS level';
  const branches = parts.map(
    (part) => `SELECT stream_id, ts, len, ${level} FROM ${partitionTable(part.name)}
      WHERE ${partitionWhereSql(q, part, p)} AND ${lineFiltersSql(q.lineFilters, p)}`,
  );
  const sql = `SELECT stream_id, level, (ts - ${p.big(q.startNs)}) // ${p.big(q.stepNs)} AS bucket,
      count(*)::BIGINT AS n, sum(len)::BIGINT AS bytes
    FROM (${branches.join('\n UNION ALL ')})
    GROUP BY stream_id, level, bucket`;
  return { sql, params: p };
}

export async function countLines(
  conn: DuckDBConnection,
  q: CountQuery,
  parts: readonly PartitionPlan[],
  labels: ReadonlyMap<bigint, Labels>,
): Promise<CountSeries[]> {
  if (parts.length === 0) return [];
  const { sql, params } = countSql(q, parts);
  const rows = (await conn.runAndReadAll(sql, params.values, params.types)).getRows();
  const acc = new CountAccumulator(q.by);
  for (const [id, level, bucket, n, bytes] of rows) {
    acc.add(withDetectedLevel(labels.get(id as bigint)!, level as string | null), q.startNs + (bucket as bigint) * q.stepNs, Number(n as bigint), Number(bytes as bigint));
  }
  return acc.result();
}
