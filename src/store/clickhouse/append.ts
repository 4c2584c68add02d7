import { createHash } from 'node:crypto';
import type { AppendResult } from '../engine.js';
import type { NormalizedRow } from '../shared/validate.js';
import { newSql, type Ctx } from './context.js';
import { DAY_NS } from './schema.js';
import { jsonInt } from './sql.js';

/**
 * Appends. ClickHouse has no transaction across statements (nor, before 22.x, across the
 * partitions of one INSERT), so an append is a sequence, ordered so that a crash anywhere
 * loses nothing that was acknowledged and never raises a watermark over missing rows:
 *
 *   1. streams rows (harmless alone: every read checks logs for lines);
 *   2. logs rows, one INSERT per day (one part each, so each is all-or-nothing);
 *   3. the raised watermarks, only once every logs INSERT has succeeded.
 *
 * Replays. A crash between 2 and 3 (or during 2) leaves rows without their watermark; the
 * agent then re-sends and, the watermark being low, the rows come again. When the append
 * carries offsets (native push), each day's rows get a batch id — a hash of the tenant, day
 * and the rows' content, not of seq — stored in every row, and step 2 first asks which of the
 * append's batch ids are already stored and skips those days. So a replay of the same append
 * (same rows, same order) stores each row once on every version. On 22.2+ the same id is also
 * the insert_deduplication_token, which closes the window where two replicas check at the
 * same moment and both insert: the server drops the second identical block. On older servers
 * two replicas appending the very same replay concurrently can both store it.
 * Not covered anywhere: a replay whose rows were grouped into appends differently from the
 * first attempt (the ids differ) — that is at-least-once, as for any appends without offsets.
 */

/** Tie order across appends: increasing within a process and roughly in time across replicas. */
export class SeqClock {
  private last = 0n;
  next(): bigint {
    const now = BigInt(Date.now()) * 1_000_000n;
    this.last = now > this.last ? now : this.last + 1n;
    return this.last;
  }
}

interface DayChunk {
  day: bigint;
  rows: NormalizedRow[];
  /** Index of each row in the append (the tie order within it). */
  idx: number[];
  minTs: bigint;
  maxTs: bigint;
  batch: string;
}

function chunksByDay(tenant: string, rows: readonly NormalizedRow[], withBatchIds: boolean): DayChunk[] {
  const byDay = new Map<bigint, DayChunk>();
  rows.forEach((r, i) => {
    const day = r.tsNs / DAY_NS;
    let c = byDay.get(day);
    if (!c) byDay.set(day, (c = { day, rows: [], idx: [], minTs: r.tsNs, maxTs: r.tsNs, batch: '' }));
    c.rows.push(r);
    c.idx.push(i);
    if (r.tsNs < c.minTs) c.minTs = r.tsNs;
    if (r.tsNs > c.maxTs) c.maxTs = r.tsNs;
  });
  const chunks = [...byDay.values()];
  if (withBatchIds) {
    for (const c of chunks) {
      const h = createHash('sha256').update(`${tenant}\u0000${c.day}\u0000`);
      for (const r of c.rows) h.update(`${r.tsNs}\u0000${r.key}\u0000${r.metadata ? JSON.stringify(r.metadata) : ''}\u0000${r.line.length}\u0000${r.line}\u0000`);
      c.batch = h.digest('hex').slice(0, 32);
    }
  }
  return chunks;
}

/** The batch ids of `chunks` already stored (a replay of an append that crashed before its watermarks). */
async function storedBatches(ctx: Ctx, tenant: string, chunks: readonly DayChunk[]): Promise<Set<string>> {
  const sql = newSql(ctx);
  let minTs = chunks[0]!.minTs;
  let maxTs = chunks[0]!.maxTs;
  for (const c of chunks) {
    if (c.minTs < minTs) minTs = c.minTs;
    if (c.maxTs > maxTs) maxTs = c.maxTs;
  }
  const rows = await ctx.http.select(
    'look for a replayed batch',
    `SELECT DISTINCT batch FROM ${ctx.tables.logs} WHERE tenant = ${sql.str(tenant)} AND ts >= ${sql.i64(minTs)} AND ts <= ${sql.i64(maxTs)} AND batch IN (${chunks.map((c) => sql.str(c.batch)).join(', ')})`,
    sql.params,
  );
  return new Set(rows.map((r) => String(r[0])));
}

export async function appendRows(ctx: Ctx, seq: SeqClock, tenant: string, rows: readonly NormalizedRow[], offsets: ReadonlyMap<string, number>): Promise<AppendResult> {
  const t = JSON.stringify(tenant);
  let bytes = 0;
  for (const r of rows) bytes += r.bytes;
  if (rows.length > 0) {
    const withIds = offsets.size > 0;
    let chunks = chunksByDay(tenant, rows, withIds);
    if (withIds) {
      const stored = await storedBatches(ctx, tenant, chunks);
      chunks = chunks.filter((c) => !stored.has(c.batch));
    }
    if (chunks.length > 0) {
      const streamLines: string[] = [];
      for (const c of chunks) {
        const seen = new Set<bigint>();
        for (const r of c.rows) {
          if (seen.has(r.streamId)) continue;
          seen.add(r.streamId);
          streamLines.push(`{"tenant":${t},"day":${jsonInt(c.day)},"stream_id":${jsonInt(r.streamId)},"label_names":${JSON.stringify(r.entries.map((e) => e[0]))},"label_values":${JSON.stringify(r.entries.map((e) => e[1]))}}`);
        }
      }
      await ctx.http.insert('insert streams', `INSERT INTO ${ctx.tables.streams} (tenant, day, stream_id, label_names, label_values)`, streamLines);
      const s = seq.next();
      for (const c of chunks) {
        const lines = c.rows.map((r, j) => {
          const md = r.metadata ?? [];
          return `{"tenant":${t},"stream_id":${jsonInt(r.streamId)},"ts":${jsonInt(r.tsNs)},"seq":${jsonInt(s)},"idx":${c.idx[j]},"line":${JSON.stringify(r.line)},"md_keys":${JSON.stringify(md.map((e) => e[0]))},"md_values":${JSON.stringify(md.map((e) => e[1]))},"batch":${JSON.stringify(c.batch)}}`;
        });
        const settings: Record<string, string> = c.batch !== '' && ctx.features.dedupToken ? { insert_deduplication_token: c.batch } : {};
        await ctx.http.insert('insert rows', `INSERT INTO ${ctx.tables.logs} (tenant, stream_id, ts, seq, idx, line, md_keys, md_values, batch)`, lines, settings);
      }
    }
  }
  if (offsets.size > 0) {
    const lines = [...offsets].map(([source, offset]) => `{"tenant":${t},"source":${JSON.stringify(source)},"watermark":${offset}}`);
    await ctx.http.insert('raise offsets', `INSERT INTO ${ctx.tables.offsets} (tenant, source, watermark)`, lines);
  }
  return { rows: rows.length, bytes };
}

export async function readOffsets(ctx: Ctx, tenant: string, sources: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (sources.length === 0) return out;
  const sql = newSql(ctx);
  const rows = await ctx.http.select(
    'read offsets',
    `SELECT source, max(watermark) FROM ${ctx.tables.offsets} WHERE tenant = ${sql.str(tenant)} AND source IN (${sources.map((s) => sql.str(s)).join(', ')}) GROUP BY source`,
    sql.params,
  );
  for (const [source, w] of rows as Array<[string, string]>) out.set(source, Number(w));
  return out;
}
