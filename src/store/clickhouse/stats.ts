import type { EngineStats } from '../engine.js';
import { newSql, type Ctx } from './context.js';
import { DAY_NS } from './schema.js';
import { diskPartitions } from './retention.js';

/**
 * Counts from logs; disk bytes from system.parts. Parts hold every tenant, so a tenant's disk
 * bytes are an estimate: the total shared in proportion to its raw bytes.
 */
export async function collectStats(ctx: Ctx, tenant?: string): Promise<EngineStats> {
  const sql = newSql(ctx);
  const where = tenant === undefined ? '' : ` WHERE tenant = ${sql.str(tenant)}`;
  const rows = await ctx.http.select(
    'read stats',
    `SELECT count(), sum(length(line)), uniqExact(tenant, stream_id), uniqExact(intDiv(ts, ${DAY_NS})) FROM ${ctx.tables.logs}${where}`,
    sql.params,
  );
  const [n, raw, streams, partitions] = (rows[0] as string[]).map(Number) as [number, number, number, number];
  const disk = (await diskPartitions(ctx)).reduce((s, p) => s + p.bytes, 0);
  let diskBytes = disk;
  if (tenant !== undefined) {
    const all = await ctx.http.select('read stats', `SELECT sum(length(line)) FROM ${ctx.tables.logs}`);
    const total = Number((rows.length > 0 ? all[0]![0] : 0) as string);
    diskBytes = total > 0 ? Math.round((disk * raw) / total) : 0;
  }
  return { rows: n, rawBytes: raw, diskBytes, streams, partitions };
}
