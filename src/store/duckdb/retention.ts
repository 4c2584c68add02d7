import type { DuckDBConnection } from '@duckdb/node-api';
import type { RetentionPolicy } from '../engine.js';
import { SqlParams, partitionTable } from './sql.js';
import { liveBytes } from './size.js';
import { inTransaction } from './transaction.js';

/**
 * Retention drops whole partition tables, oldest first: by age (a partition whose newest line
 * is older than now - maxAge) and by size (until the estimated live data is at most maxBytes).
 *
 * A partition's size is estimated as its share of raw line bytes times the live bytes of the
 * whole database. DuckDB has no cheap exact per-table size (blocks can be shared), and the
 * compression ratio of one day's logs is close to another's, so the share is a good estimate at
 * scale; the catalog's overhead is spread over the partitions, so dropping everything is what
 * it takes to go below it.
 */

interface PartitionInfo {
  name: string;
  maxTs: bigint | null;
  rawBytes: number;
}

async function partitionsOldestFirst(conn: DuckDBConnection): Promise<PartitionInfo[]> {
  const rows = (
    await conn.runAndReadAll(`
      SELECT p.name, max(sp.max_ts), coalesce(sum(sp.raw_bytes), 0)::BIGINT
      FROM partitions p LEFT JOIN stream_presence sp ON sp.partition = p.name
      GROUP BY p.name, p.start_ns ORDER BY p.start_ns`)
  ).getRows();
  return rows.map(([name, maxTs, raw]) => ({ name: name as string, maxTs: maxTs as bigint | null, rawBytes: Number(raw as bigint) }));
}

/** Names of the partitions the policy drops, oldest first. */
export async function partitionsToDrop(conn: DuckDBConnection, dbPath: string, policy: RetentionPolicy, nowNs: bigint): Promise<string[]> {
  const parts = await partitionsOldestFirst(conn);
  const drop = new Set<string>();
  if (policy.maxAgeNs !== undefined) {
    const cutoff = nowNs - policy.maxAgeNs;
    // A partition without lines (never expected) has no age; drop it with the old ones.
    for (const p of parts) if (p.maxTs === null || p.maxTs < cutoff) drop.add(p.name);
  }
  if (policy.maxBytes !== undefined && parts.length > 0) {
    const live = await liveBytes(conn, dbPath);
    const totalRaw = parts.reduce((s, p) => s + p.rawBytes, 0);
    const estimate = (p: PartitionInfo): number => (totalRaw === 0 ? live / parts.length : (live * p.rawBytes) / totalRaw);
    let remaining = parts.reduce((s, p) => s + (drop.has(p.name) ? 0 : estimate(p)), 0);
    for (const p of parts) {
      if (remaining <= policy.maxBytes) break;
      if (!drop.has(p.name)) {
        drop.add(p.name);
        remaining -= estimate(p);
      }
    }
  }
  return parts.filter((p) => drop.has(p.name)).map((p) => p.name);
}

/** Drops the partitions and their catalog rows, and forgets streams left without lines, in one transaction. */
export async function dropPartitions(conn: DuckDBConnection, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await inTransaction(conn, async () => {
    for (const name of names) {
      await conn.run(`DROP TABLE IF EXISTS ${partitionTable(name)}`);
      const p = new SqlParams();
      await conn.run(`DELETE FROM stream_presence WHERE partition = ${p.str(name)}`, p.values, p.types);
      const b = new SqlParams();
      await conn.run(`DELETE FROM blocks WHERE partition = ${b.str(name)}`, b.values, b.types);
      const q = new SqlParams();
      await conn.run(`DELETE FROM partitions WHERE name = ${q.str(name)}`, q.values, q.types);
    }
    await conn.run(`DELETE FROM streams s WHERE NOT EXISTS (
      SELECT 1 FROM stream_presence sp WHERE sp.tenant = s.tenant AND sp.stream_id = s.stream_id)`);
  });
}

/**
 * Replay watermarks are kept per file an agent ever sent from: one row per rotated file, for
 * ever, unless forgotten. A watermark only matters while an agent may still re-send that file,
 * which it does for unacknowledged data — minutes or hours, not the retention age. Rows not
 * raised since `cutoffNs` go (the retention age, at least SOURCE_OFFSET_MIN_AGE_NS).
 */
export async function forgetSourceOffsets(conn: DuckDBConnection, cutoffNs: bigint): Promise<number> {
  const p = new SqlParams();
  const r = await conn.run(`DELETE FROM source_offsets WHERE updated_ns < ${p.big(cutoffNs)}`, p.values, p.types);
  return Number(r.rowsChanged);
}

export const SOURCE_OFFSET_MIN_AGE_NS = 7n * 24n * 3600n * 1_000_000_000n;

/** Folds the WAL into the database so freed blocks are reused and sizes are current. */
export async function checkpoint(conn: DuckDBConnection): Promise<void> {
  try {
    await conn.run('CHECKPOINT');
  } catch {
    // Best effort: DuckDB refuses while other transactions run; it checkpoints on its own later.
  }
}
