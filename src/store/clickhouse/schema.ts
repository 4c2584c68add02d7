import { quoteIdent } from '../../protocols/clickhouse/sql.js';
import { ClickHouseError, type ClickHouseHttp } from './http.js';
import { tableName } from './sql.js';
import type { Features } from './version.js';

/**
 * The tables, in `<database>`, each named `<prefix><name>` (several stores can share one
 * database). Times are Int64 Unix nanoseconds on every version: exact, cheap to compare, and
 * DateTime64(9) would add nothing but a second code path for 18.16.
 *
 * <prefix>logs — one row per line. MergeTree
 *   PARTITION BY intDiv(ts, 86400e9): a UTC day, so retention is DROP PARTITION and the day
 *     numbers are the memory and DuckDB engines' day partitions;
 *   ORDER BY (tenant, stream_id, ts, seq, idx): a stream's lines are contiguous and in time
 *     order, so a selector resolved to stream ids plus a time range reads only their granules.
 *     (seq, idx) is the insertion order — the tie order on equal timestamps after the stream id.
 *   md_keys/md_values: structured metadata as parallel arrays (18.16 has no Map; counts read
 *     detected_level from them with indexOf, and metadata is never filtered on).
 *   rid: a row's replay identity in appends that carry source offsets (0 otherwise); append.ts.
 *   From 21.1: ZSTD on the line and a tokenbf_v1 index on it (32 KiB per 8192 lines, about
 *     4 bytes a line, sized for tens of thousands of distinct tokens per granule: a few %
 *     false positives) that `|=` (as LIKE) and `|~` skip granules with; from 22.2:
 *     non_replicated_deduplication_window, so an insert_deduplication_token drops a second copy.
 *   Where the server has fsync_after_insert (all three tables): an acknowledged append survives
 *   power loss. Without it (18.16) it survives a crash of the ClickHouse process, not of the
 *   machine — the page cache is ClickHouse's durability there.
 *
 * <prefix>streams — one row per (tenant, day, stream): its labels as sorted parallel arrays.
 *   ReplacingMergeTree, PARTITION BY day, ORDER BY (tenant, stream_id). Selectors are evaluated
 *   here (a few rows per stream and day, not per line) and yield the stream ids a scan then
 *   reads; labels, values and series are answered from it too. Duplicates before a merge are
 *   harmless (every read groups by stream_id). Partitioned like logs, so retention drops both.
 *   Labels are not a Map on newer servers: the table is small, so a Map would save nothing.
 *
 * <prefix>offsets — (tenant, source, offset) watermarks. ReplacingMergeTree(watermark)
 *   ORDER BY (tenant, source); read with max(watermark), so it is right before any merge and when
 *   several replicas raise the same source concurrently (max commutes). Never partitioned by
 *   day: a watermark must outlive the lines it protects.
 */

export interface Tables {
  database: string;
  logs: string;
  streams: string;
  offsets: string;
  /** Names as they appear in system tables. */
  names: { logs: string; streams: string; offsets: string };
}

export const DAY_NS = 86_400_000_000_000n;

export function tablesOf(database: string, prefix: string): Tables {
  const names = { logs: `${prefix}logs`, streams: `${prefix}streams`, offsets: `${prefix}offsets` };
  return {
    database,
    logs: tableName(database, names.logs),
    streams: tableName(database, names.streams),
    offsets: tableName(database, names.offsets),
    names,
  };
}

/** Codes of "already exists" when two replicas create the same object at once. */
const ALREADY_EXISTS = new Set([57 /* TABLE_ALREADY_EXISTS */, 82 /* DATABASE_ALREADY_EXISTS */]);

/** Creates the database and tables if missing; idempotent, and safe when replicas race. */
export async function ensureSchema(http: ClickHouseHttp, t: Tables, f: Features): Promise<void> {
  const tenant = f.lowCardinality ? 'LowCardinality(String)' : 'String';
  // Every table, streams and offsets too: a logs row whose streams row was lost is invisible.
  const fsync = f.fsync ? 'fsync_after_insert = 1, fsync_part_directory = 1' : '';
  const settings = (...s: string[]): string => {
    const all = s.filter((x) => x !== '');
    return all.length === 0 ? '' : `\nSETTINGS ${all.join(', ')}`;
  };
  const statements: Array<[string, string]> = [
    [`create database ${t.database}`, `CREATE DATABASE IF NOT EXISTS ${quoteIdent(t.database)}`],
    [`create table ${t.names.logs}`, `CREATE TABLE IF NOT EXISTS ${t.logs} (
  tenant ${tenant},
  stream_id UInt64,
  ts Int64,
  seq UInt64,
  idx UInt32,
  line String${f.skipIndexes ? ' CODEC(ZSTD(1))' : ''},
  md_keys Array(String),
  md_values Array(String),
  rid UInt64${f.skipIndexes ? ',\n  INDEX line_tokens line TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1' : ''}
) ENGINE = MergeTree
PARTITION BY intDiv(ts, ${DAY_NS})
ORDER BY (tenant, stream_id, ts, seq, idx)${settings(f.dedupToken ? 'non_replicated_deduplication_window = 1000' : '', fsync)}`],
    [`create table ${t.names.streams}`, `CREATE TABLE IF NOT EXISTS ${t.streams} (
  tenant ${tenant},
  day UInt32,
  stream_id UInt64,
  label_names Array(String),
  label_values Array(String)
) ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (tenant, stream_id)${settings(fsync)}`],
    [`create table ${t.names.offsets}`, `CREATE TABLE IF NOT EXISTS ${t.offsets} (
  tenant ${tenant},
  source String,
  watermark UInt64
) ENGINE = ReplacingMergeTree(watermark)
ORDER BY (tenant, source)${settings(fsync)}`],
  ];
  for (const [what, sql] of statements) {
    try {
      await http.exec(what, sql);
    } catch (err) {
      if (!(err instanceof ClickHouseError && err.code !== null && ALREADY_EXISTS.has(err.code))) throw err;
    }
  }
}
