import type { RetentionPolicy } from '../engine.js';
import { newSql, type Ctx } from './context.js';
import { quoteString } from '../../protocols/clickhouse/sql.js';
import { DAY_NS, onCluster } from './schema.js';

/**
 * Retention by whole days: ALTER TABLE ... DROP PARTITION on logs and streams together. Sizes
 * are the active parts' bytes_on_disk of both tables (what the server would free). Another
 * replica may drop the same day at the same time: dropping a missing partition is a no-op.
 * On a cluster both read every shard's local tables (one replica each) and drop ON CLUSTER.
 */

/** Where the parts are listed: this server's system.parts, or one replica of every shard's. */
function partsOf(ctx: Ctx): string {
  return ctx.tables.cluster ? `cluster(${quoteString(ctx.tables.cluster.name)}, system.parts)` : 'system.parts';
}

interface Partition {
  day: bigint;
  bytes: number;
}

/** Day partitions of logs and streams with their bytes on disk, oldest first. */
export async function diskPartitions(ctx: Ctx): Promise<Partition[]> {
  const sql = newSql(ctx);
  const rows = await ctx.http.select(
    'read partitions',
    `SELECT partition, sum(bytes_on_disk) FROM ${partsOf(ctx)} WHERE active AND database = ${sql.str(ctx.tables.database)} AND table IN (${sql.str(ctx.tables.local.names.logs)}, ${sql.str(ctx.tables.local.names.streams)}) GROUP BY partition`,
    sql.params,
  );
  const out: Partition[] = [];
  for (const [p, bytes] of rows as Array<[string, string]>) {
    // The partition of intDiv(ts, ...) / day is printed as a bare number; anything else is not ours.
    if (!/^\d+$/.test(p)) continue;
    out.push({ day: BigInt(p), bytes: Number(bytes) });
  }
  return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

/** Days that hold lines (not just streams rows left by a failed append). */
async function daysWithLines(ctx: Ctx): Promise<Set<bigint>> {
  const sql = newSql(ctx);
  const rows = await ctx.http.select(
    'read partitions',
    `SELECT DISTINCT partition FROM ${partsOf(ctx)} WHERE active AND rows > 0 AND database = ${sql.str(ctx.tables.database)} AND table = ${sql.str(ctx.tables.local.names.logs)}`,
    sql.params,
  );
  return new Set(rows.map((r) => BigInt(String(r[0]))));
}

async function newestLine(ctx: Ctx, day: bigint): Promise<bigint | null> {
  const sql = newSql(ctx);
  const rows = await ctx.http.select('find the newest line of a day', `SELECT count(), max(ts) FROM ${ctx.tables.logs} WHERE ts >= ${sql.i64(day * DAY_NS)} AND ts < ${sql.i64((day + 1n) * DAY_NS)}`);
  const [n, max] = rows[0] as [string, string];
  return Number(n) === 0 ? null : BigInt(max);
}

async function dropDay(ctx: Ctx, day: bigint): Promise<void> {
  const on = onCluster(ctx.tables);
  for (const table of [ctx.tables.local.logs, ctx.tables.local.streams]) {
    await ctx.ddl(`drop partition ${day} of ${table}`, `ALTER TABLE ${table}${on} DROP PARTITION ${day.toString()}`, `ALTER TABLE ${table} DROP PARTITION ${day.toString()}`);
  }
}

export async function applyRetention(ctx: Ctx, policy: RetentionPolicy, nowNs: bigint): Promise<{ droppedPartitions: number }> {
  const parts = await diskPartitions(ctx);
  const withLines = await daysWithLines(ctx);
  const drop = new Set<bigint>();
  if (policy.maxAgeNs !== undefined) {
    const cutoff = nowNs - policy.maxAgeNs;
    for (const p of parts) {
      // A day that ends by the cutoff is old throughout; only the day holding the cutoff needs its newest line.
      if ((p.day + 1n) * DAY_NS <= cutoff) drop.add(p.day);
      else if (p.day * DAY_NS < cutoff) {
        const newest = await newestLine(ctx, p.day);
        if (newest === null || newest < cutoff) drop.add(p.day);
      }
    }
  }
  if (policy.maxBytes !== undefined) {
    let total = parts.reduce((s, p) => s + (drop.has(p.day) ? 0 : p.bytes), 0);
    for (const p of parts) {
      if (total <= policy.maxBytes) break;
      if (!drop.has(p.day)) {
        drop.add(p.day);
        total -= p.bytes;
      }
    }
  }
  for (const day of drop) await dropDay(ctx, day);
  return { droppedPartitions: [...drop].filter((d) => withLines.has(d)).length };
}
