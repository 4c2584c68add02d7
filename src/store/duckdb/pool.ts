import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/**
 * Read connections. A DuckDB connection runs one statement at a time and a streaming result
 * holds it until drained, so every concurrent reader takes its own connection; idle ones are
 * kept for reuse. Each read runs in a transaction, so all its statements (catalog lookups and
 * partition scans) see one snapshot even while retention drops tables.
 */
export class ConnectionPool {
  private readonly idle: DuckDBConnection[] = [];
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly maxIdle = 4,
  ) {}

  async acquire(): Promise<DuckDBConnection> {
    if (this.closed) throw new Error('store engine is closed');
    return this.idle.pop() ?? (await this.instance.connect());
  }

  release(conn: DuckDBConnection): void {
    if (this.closed || this.idle.length >= this.maxIdle) conn.closeSync();
    else this.idle.push(conn);
  }

  /** Runs `fn` in a read transaction on a pooled connection. */
  async read<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    let ok = false;
    try {
      await conn.run('BEGIN TRANSACTION');
      const out = await fn(conn);
      await conn.run('COMMIT');
      ok = true;
      return out;
    } finally {
      if (ok) this.release(conn);
      else await discard(conn);
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.closeSync();
  }
}

/** Ends whatever transaction a failed or abandoned reader left open, then closes it. */
export async function discard(conn: DuckDBConnection): Promise<void> {
  try {
    await conn.run('ROLLBACK');
  } catch {
    // No transaction open, or the connection is already broken: closing is all that is left.
  }
  conn.closeSync();
}

/** Runs tasks one at a time, in call order: the single writer. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    // Keep the chain alive after a failure; the caller still sees the rejection.
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every queued task has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
