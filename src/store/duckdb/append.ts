import type { DuckDBConnection } from '@duckdb/node-api';
import { compareBigint } from '../shared/labels.js';
import { partitionOf, type PartitionGranularity, type PartitionSpan } from '../shared/partition.js';
import type { NormalizedRow } from '../shared/validate.js';
import { createPartitionSql } from './schema.js';
import { SqlParams } from './sql.js';
import { inTransaction } from './transaction.js';
import type { BloomPool } from './bloom-pool.js';
import type { Bloom } from '../shared/bloom.js';
import type { BloomCache, CachedBlock } from './bloom-cache.js';

/**
 * The write path. One append is one transaction: new partition tables and catalog rows, new
 * streams, the lines (through DuckDB's Appender, the fastest way in), presence counters and
 * source watermarks. DuckDB writes and fsyncs its WAL at COMMIT, so once `appendBatch`
 * resolves the batch survives a crash; if anything fails, ROLLBACK leaves no trace of it.
 * Appends must be serialized by the caller (one writer connection).
 */

/** What the writer knows about the database; updated only after a successful COMMIT. */
export class WriterState {
  /** tenant → stream id → labels key, to insert each stream once and catch hash collisions. */
  readonly streams = new Map<string, Map<bigint, string>>();
  readonly partitions = new Set<string>();
  /** partition → the next block number to use in it. */
  readonly nextBlock = new Map<string, number>();

  static async load(conn: DuckDBConnection): Promise<WriterState> {
    const s = new WriterState();
    for (const [tenant, id, key] of (await conn.runAndReadAll(`SELECT tenant, stream_id, labels_key FROM streams`)).getRows()) {
      s.streamsOf(tenant as string).set(id as bigint, key as string);
    }
    for (const [name] of (await conn.runAndReadAll(`SELECT name FROM partitions`)).getRows()) s.partitions.add(name as string);
    for (const [name, max] of (await conn.runAndReadAll(`SELECT partition, max(blk) FROM blocks GROUP BY partition`)).getRows()) {
      s.nextBlock.set(name as string, Number(max) + 1);
    }
    return s;
  }

  streamsOf(tenant: string): Map<bigint, string> {
    let m = this.streams.get(tenant);
    if (!m) this.streams.set(tenant, (m = new Map()));
    return m;
  }
}

interface PresenceDelta {
  partition: string;
  streamId: bigint;
  minTs: bigint;
  maxTs: bigint;
  rows: number;
  bytes: number;
}

/** Rows per multi-row INSERT statement for the catalog tables. */
const CATALOG_CHUNK = 200;

export interface AppendHooks {
  /** Called inside the transaction just before COMMIT (tests use it to inject a failure). */
  beforeCommit?: () => void | Promise<void>;
}

export async function appendBatch(
  conn: DuckDBConnection,
  blooms: BloomPool,
  state: WriterState,
  granularity: PartitionGranularity,
  tenant: string,
  rows: readonly NormalizedRow[],
  offsets: ReadonlyMap<string, number>,
  cache: BloomCache | undefined,
  hooks: AppendHooks = {},
): Promise<void> {
  const known = state.streamsOf(tenant);
  const newStreams = new Map<bigint, NormalizedRow>();
  for (const r of rows) {
    const existing = known.get(r.streamId) ?? newStreams.get(r.streamId)?.key;
    if (existing !== undefined && existing !== r.key) {
      // 2^-63 per pair; refuse rather than silently merge two streams.
      throw new Error(`stream id collision between ${existing} and ${r.key}; refusing to store`);
    }
    if (existing === undefined) newStreams.set(r.streamId, r);
  }
  const byPartition = groupByPartition(rows, granularity);
  const newPartitions = [...byPartition.values()].map((g) => g.span).filter((s) => !state.partitions.has(s.name));
  // One block per partition per append. Its bloom is built on the worker while this thread
  // appends the lines; both land in the same transaction.
  const blocks = [...byPartition.values()].map((g) => ({
    partition: g.span.name,
    blk: state.nextBlock.get(g.span.name) ?? 0,
    rows: g.rows,
    bloom: blooms.build(g.rows.map((r) => r.line)),
  }));

  const touched = blocks.map((b) => b.partition);
  await inTransaction(conn, async () => {
    for (const span of newPartitions) {
      await conn.run(createPartitionSql(span.name));
      const p = new SqlParams();
      await conn.run(`INSERT INTO partitions VALUES (${p.str(span.name)}, ${p.big(span.startNs)}, ${p.big(span.endNs)}) ON CONFLICT DO NOTHING`, p.values, p.types);
    }
    await insertStreams(conn, tenant, [...newStreams.values()]);
    const presence: PresenceDelta[] = [];
    for (const b of blocks) {
      appendLines(await conn.createAppender(b.partition), tenant, b.blk, b.rows);
      presence.push(...presenceOf(b.partition, b.rows));
    }
    const written = await insertBlocks(conn, tenant, blocks);
    await upsertPresence(conn, tenant, presence);
    await upsertOffsets(conn, tenant, offsets);
    // Into the bloom cache before COMMIT (see bloom-cache.ts), out again if it fails.
    if (cache) {
      for (const span of newPartitions) cache.track(span.name);
      for (const w of written) cache.add(w.partition, w.block);
    }
    await hooks.beforeCommit?.();
  }).catch((err: unknown) => {
    cache?.evict(touched);
    throw err;
  });
  for (const [id, r] of newStreams) known.set(id, r.key);
  for (const span of newPartitions) state.partitions.add(span.name);
  for (const b of blocks) state.nextBlock.set(b.partition, b.blk + 1);
}

function groupByPartition(rows: readonly NormalizedRow[], g: PartitionGranularity): Map<string, { span: PartitionSpan; rows: NormalizedRow[] }> {
  const out = new Map<string, { span: PartitionSpan; rows: NormalizedRow[] }>();
  // Consecutive rows usually share a partition: reuse the last span instead of formatting a date per row.
  let last: { span: PartitionSpan; rows: NormalizedRow[] } | undefined;
  for (const r of rows) {
    if (!last || r.tsNs < last.span.startNs || r.tsNs >= last.span.endNs) {
      const span = partitionOf(r.tsNs, g);
      last = out.get(span.name);
      if (!last) out.set(span.name, (last = { span, rows: [] }));
    }
    last.rows.push(r);
  }
  // Sorted by (stream, ts) so row groups have tight min/max on both; the sort is stable, so
  // rows with equal (stream, ts) keep their input order (their rowid order).
  for (const g of out.values()) g.rows.sort((a, b) => compareBigint(a.streamId, b.streamId) || compareBigint(a.tsNs, b.tsNs));
  return out;
}

type Appender = Awaited<ReturnType<DuckDBConnection['createAppender']>>;

function appendLines(appender: Appender, tenant: string, blk: number, rows: readonly NormalizedRow[]): void {
  try {
    for (const r of rows) {
      appender.appendVarchar(tenant);
      appender.appendBigInt(r.streamId);
      appender.appendBigInt(r.tsNs);
      appender.appendInteger(blk);
      appender.appendInteger(r.bytes);
      if (r.level !== undefined) appender.appendVarchar(r.level);
      else appender.appendNull();
      appender.appendVarchar(r.line);
      if (r.otherMetadataJson !== undefined) appender.appendVarchar(r.otherMetadataJson);
      else appender.appendNull();
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    // Closing flushes too; on error the rows it holds die with the ROLLBACK.
    appender.closeSync();
  }
}

function presenceOf(partition: string, rows: readonly NormalizedRow[]): PresenceDelta[] {
  const out = new Map<bigint, PresenceDelta>();
  for (const r of rows) {
    const d = out.get(r.streamId);
    if (!d) out.set(r.streamId, { partition, streamId: r.streamId, minTs: r.tsNs, maxTs: r.tsNs, rows: 1, bytes: r.bytes });
    else {
      if (r.tsNs < d.minTs) d.minTs = r.tsNs;
      if (r.tsNs > d.maxTs) d.maxTs = r.tsNs;
      d.rows++;
      d.bytes += r.bytes;
    }
  }
  return [...out.values()];
}

interface PendingBlock {
  partition: string;
  blk: number;
  rows: readonly NormalizedRow[];
  bloom: Promise<Bloom>;
}

async function insertBlocks(conn: DuckDBConnection, tenant: string, blocks: readonly PendingBlock[]): Promise<Array<{ partition: string; block: CachedBlock }>> {
  const out: Array<{ partition: string; block: CachedBlock }> = [];
  for (const b of blocks) {
    let min = b.rows[0]!.tsNs;
    let max = min;
    for (const r of b.rows) {
      if (r.tsNs < min) min = r.tsNs;
      if (r.tsNs > max) max = r.tsNs;
    }
    const bloom = await b.bloom;
    const p = new SqlParams();
    await conn.run(
      `INSERT INTO blocks (partition, blk, tenant, rows, min_ts, max_ts, m, bloom, k)
       VALUES (${p.str(b.partition)}, ${p.int(b.blk)}, ${p.str(tenant)}, ${p.big(BigInt(b.rows.length))},
        ${p.big(min)}, ${p.big(max)}, ${p.big(BigInt(bloom.m))}, ${p.blob(bloom.bits)}::BIT, ${p.int(bloom.k)})`,
      p.values,
      p.types,
    );
    out.push({ partition: b.partition, block: { blk: b.blk, tenant, minTs: min, maxTs: max, bloom } });
  }
  return out;
}

async function insertStreams(conn: DuckDBConnection, tenant: string, rows: readonly NormalizedRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CATALOG_CHUNK) {
    const p = new SqlParams();
    const values = rows
      .slice(i, i + CATALOG_CHUNK)
      .map((r) => `(${p.str(tenant)}, ${p.big(r.streamId)}, ${p.str(r.key)}, MAP(${p.strList(r.entries.map((e) => e[0]))}, ${p.strList(r.entries.map((e) => e[1]))}))`);
    await conn.run(`INSERT INTO streams VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`, p.values, p.types);
  }
}

async function upsertPresence(conn: DuckDBConnection, tenant: string, deltas: readonly PresenceDelta[]): Promise<void> {
  for (let i = 0; i < deltas.length; i += CATALOG_CHUNK) {
    const p = new SqlParams();
    const values = deltas
      .slice(i, i + CATALOG_CHUNK)
      .map((d) => `(${p.str(d.partition)}, ${p.str(tenant)}, ${p.big(d.streamId)}, ${p.big(d.minTs)}, ${p.big(d.maxTs)}, ${p.big(BigInt(d.rows))}, ${p.big(BigInt(d.bytes))})`);
    await conn.run(
      `INSERT INTO stream_presence VALUES ${values.join(', ')}
       ON CONFLICT (partition, tenant, stream_id) DO UPDATE SET
         min_ts = least(min_ts, excluded.min_ts), max_ts = greatest(max_ts, excluded.max_ts),
         rows = rows + excluded.rows, raw_bytes = raw_bytes + excluded.raw_bytes`,
      p.values,
      p.types,
    );
  }
}

async function upsertOffsets(conn: DuckDBConnection, tenant: string, offsets: ReadonlyMap<string, number>): Promise<void> {
  const entries = [...offsets];
  for (let i = 0; i < entries.length; i += CATALOG_CHUNK) {
    const p = new SqlParams();
    const now = p.big(BigInt(Date.now()) * 1_000_000n);
    const values = entries.slice(i, i + CATALOG_CHUNK).map(([source, offset]) => `(${p.str(tenant)}, ${p.str(source)}, ${p.big(BigInt(offset))}, ${now})`);
    // Watermarks only move forward: a replayed, older batch must not lower them.
    await conn.run(
      `INSERT INTO source_offsets (tenant, source, "offset", updated_ns) VALUES ${values.join(', ')}
       ON CONFLICT (tenant, source) DO UPDATE SET "offset" = greatest("offset", excluded."offset"), updated_ns = excluded.updated_ns`,
      p.values,
      p.types,
    );
  }
}
