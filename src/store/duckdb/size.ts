import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Sizes on disk. DuckDB never shrinks its file when tables are dropped — freed blocks are
 * reused by later writes — so the file size is what the store occupies, while the used blocks
 * (plus the WAL, which holds commits not yet checkpointed) are the live data that retention
 * controls.
 */

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** Bytes the store occupies on disk: database file plus WAL. */
export async function diskBytes(dbPath: string): Promise<number> {
  return (await fileSize(dbPath)) + (await fileSize(`${dbPath}.wal`));
}

/** Bytes of live data: used blocks of the database file plus the WAL. */
export async function liveBytes(conn: DuckDBConnection, dbPath: string): Promise<number> {
  const rows = (await conn.runAndReadAll(`SELECT used_blocks, block_size FROM pragma_database_size() LIMIT 1`)).getRows();
  const [used, blockSize] = rows[0] ?? [0n, 0n];
  return Number(used as bigint) * Number(blockSize as bigint) + (await fileSize(`${dbPath}.wal`));
}
