import type { DuckDBConnection } from '@duckdb/node-api';
import type { PartitionGranularity } from '../shared/partition.js';
import { partitionTable } from './sql.js';

/**
 * Table layout.
 *
 * Catalog (small, keyed):
 * - streams(tenant, stream_id, labels_key, labels MAP): one row per label set per tenant.
 *   stream_id is a 63-bit hash of labels_key; matchers are resolved here before any line is read.
 * - partitions(name, start_ns, end_ns): one row per time partition table.
 * - stream_presence(partition, tenant, stream_id, min_ts, max_ts, rows, raw_bytes): which
 *   streams have lines in which partition. It prunes partitions per query, restricts label
 *   queries to a time range without reading lines, and holds the per-tenant row/byte counts.
 * - source_offsets(tenant, source, offset, updated_ns): replay watermarks, raised with the rows they
 *   cover; forgotten by retention once not raised for longer than the retention age (at least 7 days).
 * - blocks(partition, blk, tenant, rows, min_ts, max_ts, m, bloom, k): one row per block, i.e.
 *   the lines one append put into one partition. `bloom` is the block's token bloom filter (m
 *   bits, k per token, see ../shared/bloom.ts), NULL when none was built (always read).
 * - meta(key, value): schema version and partition granularity.
 *
 * Lines: one table per partition, `logs_YYYYMMDD` (or hourly `logs_YYYYMMDDHH`), holding
 * (tenant, stream_id, ts, blk, len, level, line, metadata). Retention drops whole tables; a query reads
 * only the tables overlapping its range. Each batch is appended sorted by (stream_id, ts), so
 * DuckDB's per-row-group min/max (zone maps) on ts, stream_id and blk can skip data.
 * `len` is the line's UTF-8 length, so counting bytes never decompresses lines. `line` is
 * ZSTD-compressed: log text shrinks to about a fifth, where DuckDB's default string
 * compression gives up on a whole row group as soon as it holds one very long line.
 * `level` holds the `detected_level` structured metadata value (dictionary-compressed, so level
 * histograms are counted without touching lines); `metadata` is the rest as JSON object text
 * (NULL when none): it is returned, never filtered on here.
 */

export const SCHEMA_VERSION = '2';

/**
 * Instance settings the layout needs: ZSTD for VARCHAR exists only in storage format v1.2+,
 * and DuckDB creates files in its oldest compatible format unless told otherwise.
 */
export const INSTANCE_SETTINGS: Readonly<Record<string, string>> = { storage_compatibility_version: 'latest' };

const CATALOG_DDL = [
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS streams (
     tenant VARCHAR NOT NULL, stream_id BIGINT NOT NULL, labels_key VARCHAR NOT NULL,
     labels MAP(VARCHAR, VARCHAR) NOT NULL, PRIMARY KEY (tenant, stream_id))`,
  `CREATE TABLE IF NOT EXISTS partitions (
     name VARCHAR PRIMARY KEY, start_ns BIGINT NOT NULL, end_ns BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS stream_presence (
     partition VARCHAR NOT NULL, tenant VARCHAR NOT NULL, stream_id BIGINT NOT NULL,
     min_ts BIGINT NOT NULL, max_ts BIGINT NOT NULL, rows BIGINT NOT NULL, raw_bytes BIGINT NOT NULL,
     PRIMARY KEY (partition, tenant, stream_id))`,
  `CREATE TABLE IF NOT EXISTS blocks (
     partition VARCHAR NOT NULL, blk INTEGER NOT NULL, tenant VARCHAR NOT NULL, rows BIGINT NOT NULL,
     min_ts BIGINT NOT NULL, max_ts BIGINT NOT NULL, m BIGINT, bloom BIT, k INTEGER,
     PRIMARY KEY (partition, blk))`,
  // Stores created before k was kept per block hold k = 3 blooms.
  `ALTER TABLE blocks ADD COLUMN IF NOT EXISTS k INTEGER DEFAULT 3`,
  `CREATE TABLE IF NOT EXISTS source_offsets (
     tenant VARCHAR NOT NULL, source VARCHAR NOT NULL, "offset" BIGINT NOT NULL,
     PRIMARY KEY (tenant, source))`,
  // When a watermark last moved, so retention can forget files no agent will replay again.
  `ALTER TABLE source_offsets ADD COLUMN IF NOT EXISTS updated_ns BIGINT DEFAULT 0`,
];

/** Creates the catalog if needed and settles the partition granularity of this database. */
export async function ensureSchema(conn: DuckDBConnection, wanted: PartitionGranularity | undefined): Promise<PartitionGranularity> {
  for (const ddl of CATALOG_DDL) await conn.run(ddl);
  // Watermarks from before updated_ns existed count from this start, not from 1970.
  await conn.run(`UPDATE source_offsets SET updated_ns = ${BigInt(Date.now()) * 1_000_000n} WHERE updated_ns = 0`);
  const rows = (await conn.runAndReadAll(`SELECT key, value FROM meta`)).getRowObjectsJS();
  const meta = new Map(rows.map((r) => [String(r.key), String(r.value)]));
  const version = meta.get('schema_version');
  if (version !== undefined && version !== SCHEMA_VERSION) {
    throw new Error(`store schema version ${version} is not supported by this build (expects ${SCHEMA_VERSION}); start with an empty data_dir`);
  }
  const stored = meta.get('partition') as PartitionGranularity | undefined;
  if (stored !== undefined && wanted !== undefined && stored !== wanted) {
    throw new Error(`store was created with partition=${stored}; cannot open it with partition=${wanted}`);
  }
  const granularity = stored ?? wanted ?? 'day';
  if (version === undefined) {
    await conn.run(`INSERT INTO meta VALUES ('schema_version', ?), ('partition', ?)`, [SCHEMA_VERSION, granularity]);
  }
  return granularity;
}

export function createPartitionSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${partitionTable(name)} (
    tenant VARCHAR NOT NULL, stream_id BIGINT NOT NULL, ts BIGINT NOT NULL, blk INTEGER NOT NULL,
    len INTEGER NOT NULL, level VARCHAR, line VARCHAR NOT NULL USING COMPRESSION zstd, metadata VARCHAR)`;
}
