import type { DuckDBConnection } from '@duckdb/node-api';
import type { EngineStats } from '../engine.js';
import { SqlParams } from './sql.js';
import { diskBytes } from './size.js';

/**
 * Counts come from the presence catalog (kept in step with the lines in each append), so stats
 * never scan lines. For one tenant, disk bytes are its share of raw bytes times the file size.
 */
export async function collectStats(conn: DuckDBConnection, dbPath: string, tenant: string | undefined): Promise<EngineStats> {
  const p = new SqlParams();
  const where = tenant === undefined ? '' : `WHERE tenant = ${p.str(tenant)}`;
  const sql = `SELECT coalesce(sum(rows), 0)::BIGINT, coalesce(sum(raw_bytes), 0)::BIGINT,
      count(DISTINCT (tenant, stream_id)), count(DISTINCT partition)
    FROM stream_presence ${where}`;
  const [rows, raw, streams, partitions] = (await conn.runAndReadAll(sql, p.values, p.types)).getRows()[0]!;
  const rawBytes = Number(raw as bigint);
  let disk = await diskBytes(dbPath);
  if (tenant !== undefined) {
    const [all] = (await conn.runAndReadAll(`SELECT coalesce(sum(raw_bytes), 0)::BIGINT FROM stream_presence`)).getRows()[0]!;
    const totalRaw = Number(all as bigint);
    disk = totalRaw === 0 ? 0 : Math.round((disk * rawBytes) / totalRaw);
  }
  return { rows: Number(rows as bigint), rawBytes, diskBytes: disk, streams: Number(streams as bigint), partitions: Number(partitions as bigint) };
}
