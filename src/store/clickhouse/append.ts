import { createHash } from 'node:crypto';
import type { AppendResult } from '../engine.js';
import type { NormalizedRow } from '../shared/validate.js';
import { newSql, type Ctx } from './context.js';
import { DAY_NS } from './schema.js';
import { jsonInt, type Sql } from './sql.js';

/**
 * Appends. ClickHouse has no transaction across statements (nor, before 22.x, across the
 * partitions of one INSERT), so an append is a sequence, ordered so that a crash anywhere
 * loses nothing that was acknowledged and never raises a watermark over missing rows:
 *
 *   1. streams rows (harmless alone: every read checks logs for lines);
 *   2. logs rows, one INSERT per day (one part each, so each is all-or-nothing);
 *   3. the raised watermarks, only once every logs INSERT has succeeded.
 *
 * Replays. A crash between 2 and 3 (or during 2) leaves rows stored without their watermark;
 * the agent re-sends from its last acknowledged offset and, the watermark being low, those
 * rows come again — regrouped: the server's writer merges concurrent requests into one
 * append, and the agent's new batches need not match its old ones. So replays are found row
 * by row. When an append carries offsets (native push), each row gets a row id: 63 bits of
 * sha256(tenant, stream, ts, metadata, line), never seq. Before step 2 the engine asks which of
 * the append's row ids are already stored for its streams within its time span (a primary-key
 * range read) and leaves those rows out. Guarantees, for rows of appends with offsets:
 *   - every version, one replica at a time: a row replayed after a crash anywhere in 1-3 is
 *     stored once, however the replay is grouped;
 *   - 22.2+ (insert_deduplication_token): also when two replicas append the same replay at
 *     once — each day's block carries a token hashed from its row ids, so when both check
 *     before either inserts, the server drops the second identical block. If the two replicas
 *     grouped the replay differently, their blocks differ and both can land (at-least-once);
 *   - 18.16: two replicas racing the same replay can both store it (at-least-once).
 * The price: within an append with offsets, a line identical to one already stored (same
 * stream, nanosecond and text) counts as a replay — Loki's ingester drops such lines too.
 * Identical lines within one append are all kept; appends without offsets are never deduped.
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
  /** Row ids (0: no dedupe). */
  rids: bigint[];
  minTs: bigint;
  maxTs: bigint;
}

/** The replay identity of a row: its content, without anything the insert adds. Never 0. */
export function rowId(tenant: string, r: NormalizedRow): bigint {
  const h = createHash('sha256').update(`${tenant}\u0000${r.key}\u0000${r.tsNs}\u0000${r.metadata ? JSON.stringify(r.metadata) : ''}\u0000`).update(r.line).digest();
  return h.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn || 1n;
}

function chunksByDay(tenant: string, rows: readonly NormalizedRow[], withIds: boolean): DayChunk[] {
  const byDay = new Map<bigint, DayChunk>();
  rows.forEach((r, i) => {
    const day = r.tsNs / DAY_NS;
    let c = byDay.get(day);
    if (!c) byDay.set(day, (c = { day, rows: [], idx: [], rids: [], minTs: r.tsNs, maxTs: r.tsNs }));
    c.rows.push(r);
    c.idx.push(i);
    c.rids.push(withIds ? rowId(tenant, r) : 0n);
    if (r.tsNs < c.minTs) c.minTs = r.tsNs;
    if (r.tsNs > c.maxTs) c.maxTs = r.tsNs;
  });
  return [...byDay.values()];
}

/** Row ids per query: keeps the statement far below max_query_size (256 KiB). */
const IDS_PER_QUERY = 5000;

/**
 * The streams as a key condition, when they are few enough to list next to the row ids
 * (the statement stays under max_query_size); the rid test alone is exact anyway.
 */
function streamsIn(sql: Sql, streams: readonly bigint[]): string {
  return streams.length > 1000 ? '' : ` AND stream_id IN (${streams.map((id) => sql.u64(id)).join(', ')})`;
}

/** Row ids of `c` already stored: replayed rows. Reads only its streams' key range in its span. */
async function storedRowIds(ctx: Ctx, tenant: string, c: DayChunk): Promise<Set<bigint>> {
  const streams = [...new Set(c.rows.map((r) => r.streamId))];
  const ids = [...new Set(c.rids)];
  const found = new Set<bigint>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const sql = newSql(ctx);
    const rows = await ctx.http.select(
      'look for replayed rows',
      `SELECT DISTINCT rid FROM ${ctx.tables.logs} WHERE tenant = ${sql.str(tenant)}${streamsIn(sql, streams)} AND ts >= ${sql.i64(c.minTs)} AND ts <= ${sql.i64(c.maxTs)} AND rid IN (${ids.slice(i, i + IDS_PER_QUERY).map((id) => sql.u64(id)).join(', ')})`,
      sql.params,
    );
    for (const [rid] of rows as Array<[string]>) found.add(BigInt(rid));
  }
  return found;
}

/** The chunk without its rows already stored. */
function withoutStored(c: DayChunk, stored: ReadonlySet<bigint>): DayChunk {
  if (stored.size === 0) return c;
  const out: DayChunk = { ...c, rows: [], idx: [], rids: [] };
  c.rows.forEach((r, j) => {
    if (stored.has(c.rids[j]!)) return;
    out.rows.push(r);
    out.idx.push(c.idx[j]!);
    out.rids.push(c.rids[j]!);
  });
  return out;
}

export async function appendRows(ctx: Ctx, seq: SeqClock, tenant: string, rows: readonly NormalizedRow[], offsets: ReadonlyMap<string, number>): Promise<AppendResult> {
  const t = JSON.stringify(tenant);
  let stored = 0;
  let bytes = 0;
  if (rows.length > 0) {
    const withIds = offsets.size > 0;
    let chunks = chunksByDay(tenant, rows, withIds);
    if (withIds) chunks = (await Promise.all(chunks.map(async (c) => withoutStored(c, await storedRowIds(ctx, tenant, c))))).filter((c) => c.rows.length > 0);
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
      await ctx.http.insert('insert streams', `INSERT INTO ${ctx.tables.streams} (tenant, day, stream_id, label_names, label_values)`, streamLines, ctx.insertSettings);
      const s = seq.next();
      for (const c of chunks) {
        const lines = c.rows.map((r, j) => {
          const md = r.metadata ?? [];
          return `{"tenant":${t},"stream_id":${jsonInt(r.streamId)},"ts":${jsonInt(r.tsNs)},"seq":${jsonInt(s)},"idx":${c.idx[j]},"line":${JSON.stringify(r.line)},"md_keys":${JSON.stringify(md.map((e) => e[0]))},"md_values":${JSON.stringify(md.map((e) => e[1]))},"rid":${jsonInt(c.rids[j]!)}}`;
        });
        const settings: Record<string, string> = { ...ctx.insertSettings };
        if (withIds && ctx.features.dedupToken) {
          // Content, not seq: two replicas inserting the same rows compute the same token.
          const h = createHash('sha256').update(`${tenant}\u0000${c.day}`);
          for (const rid of c.rids) h.update(`\u0000${rid}`);
          settings.insert_deduplication_token = h.digest('hex').slice(0, 32);
        }
        await ctx.http.insert('insert rows', `INSERT INTO ${ctx.tables.logs} (tenant, stream_id, ts, seq, idx, line, md_keys, md_values, rid)`, lines, settings);
        stored += c.rows.length;
        for (const r of c.rows) bytes += r.bytes;
      }
    }
  }
  if (offsets.size > 0) {
    const lines = [...offsets].map(([source, offset]) => `{"tenant":${t},"source":${JSON.stringify(source)},"watermark":${offset}}`);
    await ctx.http.insert('raise offsets', `INSERT INTO ${ctx.tables.offsets} (tenant, source, watermark)`, lines, ctx.insertSettings);
  }
  return { rows: stored, bytes };
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
