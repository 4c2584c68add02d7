import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Run `work` inside one transaction: COMMIT when it resolves, ROLLBACK when it throws. Either
 * every statement takes effect or none does.
 */
export async function inTransaction<T>(conn: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await conn.run('COMMIT');
    return result;
  } catch (err) {
    try {
      await conn.run('ROLLBACK');
    } catch {
      // A failed COMMIT has already ended the transaction; the original error is what matters.
    }
    throw err;
  }
}
