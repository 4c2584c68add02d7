import { quoteIdent, quoteString } from '../../protocols/clickhouse/sql.js';
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
 *
 * On a cluster (`cluster` set) the three tables above are Distributed tables, one on every node
 * (a replica of the store may reach any node through a Service), over per-node tables
 * `<prefix>logs_local`, `<prefix>streams_local`, `<prefix>offsets_local` with the layout above.
 * Every DDL statement runs ON CLUSTER, which needs ZooKeeper/Keeper (`<distributed_ddl>`) on
 * every version, replicated or not.
 *   Sharding: logs and streams by cityHash64(tenant, stream_id), so a stream's lines and its
 *     streams rows are on one shard (the ORDER BY locality holds per shard); offsets by
 *     cityHash64(tenant, source). Reads go through Distributed: max(), any() and GROUP BY
 *     merge across shards (a stream's rows all sit on one), and a logs query naming streams
 *     by subquery uses GLOBAL IN (a plain IN of two Distributed tables is denied by
 *     distributed_product_mode).
 *   Inserts are synchronous (insert_distributed_sync / distributed_foreground_insert): an
 *     acknowledged append is on its shards, not in a node's send queue.
 *   Replicated (default): Replicated(Replacing)MergeTree at
 *     '/clickhouse/tables/{shard}/<database>/<local table>' with replica '{replica}': the nodes
 *     need the {shard} and {replica} macros. Identical blocks are deduplicated by the
 *     replication log (replicated_deduplication_window), so a retry cut into the same blocks
 *     lands once. Untested against a real Keeper (none in CI): its DDL is tested as text.
 *     `replicated: false`: plain MergeTree per shard (no Keeper for the data, no copies).
 *   system.parts (retention, sizes) is read with cluster('<cluster>', system.parts): one replica
 *     of each shard, which is what there is to drop; DROP PARTITION runs ON CLUSTER on the local
 *     tables.
 */

/** A cluster layout: its name in the servers' remote_servers, and whether shards are replicated. */
export interface ClusterLayout {
  name: string;
  replicated: boolean;
}

export interface Tables {
  database: string;
  logs: string;
  streams: string;
  offsets: string;
  /** Names as they appear in system tables. */
  names: { logs: string; streams: string; offsets: string };
  /** The tables holding the parts: the tables above on one server, `*_local` on a cluster's nodes. */
  local: { logs: string; streams: string; offsets: string; names: { logs: string; streams: string; offsets: string } };
  cluster: ClusterLayout | null;
}

export const DAY_NS = 86_400_000_000_000n;

export function tablesOf(database: string, prefix: string, cluster: ClusterLayout | null = null): Tables {
  const names = { logs: `${prefix}logs`, streams: `${prefix}streams`, offsets: `${prefix}offsets` };
  const qualified = (n: typeof names) => ({ logs: tableName(database, n.logs), streams: tableName(database, n.streams), offsets: tableName(database, n.offsets) });
  const tables = { database, ...qualified(names), names, cluster };
  if (!cluster) return { ...tables, local: { ...qualified(names), names } };
  const local = { logs: `${names.logs}_local`, streams: `${names.streams}_local`, offsets: `${names.offsets}_local` };
  return { ...tables, local: { ...qualified(local), names: local } };
}

/** ` ON CLUSTER <name>`, or nothing on one server. */
export function onCluster(t: Tables): string {
  return t.cluster ? ` ON CLUSTER ${quoteIdent(t.cluster.name)}` : '';
}

/**
 * Runs one DDL statement. `sql` is the statement as sent (ON CLUSTER on a cluster), `perNode`
 * the same statement without that clause: what each node runs.
 */
export type DdlRunner = (what: string, sql: string, perNode: string) => Promise<void>;

/** Codes of "already exists" when two replicas create the same object at once. */
const ALREADY_EXISTS = new Set([57 /* TABLE_ALREADY_EXISTS */, 82 /* DATABASE_ALREADY_EXISTS */]);

/** The statements that create the database and tables if missing, in order: [what, sql]. */
export function schemaStatements(t: Tables, f: Features): Array<[string, string]> {
  const tenant = f.lowCardinality ? 'LowCardinality(String)' : 'String';
  // Every table, streams and offsets too: a logs row whose streams row was lost is invisible.
  const fsync = f.fsync ? 'fsync_after_insert = 1, fsync_part_directory = 1' : '';
  const settings = (...s: string[]): string => {
    const all = s.filter((x) => x !== '');
    return all.length === 0 ? '' : `\nSETTINGS ${all.join(', ')}`;
  };
  const on = onCluster(t);
  const replicated = t.cluster?.replicated === true;
  const engine = (base: 'MergeTree' | 'ReplacingMergeTree', table: string, ...args: string[]): string => {
    if (!replicated) return args.length === 0 ? base : `${base}(${args.join(', ')})`;
    const path = quoteString(`/clickhouse/tables/{shard}/${t.database}/${table}`);
    return `Replicated${base}(${[path, quoteString('{replica}'), ...args].join(', ')})`;
  };
  // Replicated tables dedupe blocks through the replication log; the window is for plain MergeTree.
  const dedupWindow = f.dedupToken && !replicated ? 'non_replicated_deduplication_window = 1000' : '';
  const l = t.local;
  const statements: Array<[string, string]> = [
    [`create database ${t.database}`, `CREATE DATABASE IF NOT EXISTS ${quoteIdent(t.database)}${on}`],
    [`create table ${l.names.logs}`, `CREATE TABLE IF NOT EXISTS ${l.logs}${on} (
  tenant ${tenant},
  stream_id UInt64,
  ts Int64,
  seq UInt64,
  idx UInt32,
  line String${f.skipIndexes ? ' CODEC(ZSTD(1))' : ''},
  md_keys Array(String),
  md_values Array(String),
  rid UInt64${f.skipIndexes ? ',\n  INDEX line_tokens line TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1' : ''}
) ENGINE = ${engine('MergeTree', l.names.logs)}
PARTITION BY intDiv(ts, ${DAY_NS})
ORDER BY (tenant, stream_id, ts, seq, idx)${settings(dedupWindow, fsync)}`],
    [`create table ${l.names.streams}`, `CREATE TABLE IF NOT EXISTS ${l.streams}${on} (
  tenant ${tenant},
  day UInt32,
  stream_id UInt64,
  label_names Array(String),
  label_values Array(String)
) ENGINE = ${engine('ReplacingMergeTree', l.names.streams)}
PARTITION BY day
ORDER BY (tenant, stream_id)${settings(fsync)}`],
    [`create table ${l.names.offsets}`, `CREATE TABLE IF NOT EXISTS ${l.offsets}${on} (
  tenant ${tenant},
  source String,
  watermark UInt64
) ENGINE = ${engine('ReplacingMergeTree', l.names.offsets, 'watermark')}
ORDER BY (tenant, source)${settings(fsync)}`],
  ];
  if (t.cluster) {
    const c = quoteString(t.cluster.name);
    const db = quoteString(t.database);
    const keys: Array<[keyof Tables['names'], string]> = [['logs', 'cityHash64(tenant, stream_id)'], ['streams', 'cityHash64(tenant, stream_id)'], ['offsets', 'cityHash64(tenant, source)']];
    for (const [k, key] of keys) {
      statements.push([`create table ${t.names[k]}`, `CREATE TABLE IF NOT EXISTS ${t[k]}${on} AS ${l[k]}\nENGINE = Distributed(${c}, ${db}, ${quoteString(l.names[k])}, ${key})`]);
    }
  }
  return statements;
}

/** Creates the database and tables if missing; idempotent, and safe when replicas race. */
export async function ensureSchema(ddl: DdlRunner, t: Tables, f: Features): Promise<void> {
  const on = onCluster(t);
  for (const [what, sql] of schemaStatements(t, f)) await ddl(what, sql, on === '' ? sql : sql.replace(on, ''));
}

/** The DDL runner of one server, or of a cluster through ON CLUSTER (which needs Keeper). */
export function serverDdl(http: ClickHouseHttp, t: Tables): DdlRunner {
  return async (what, sql) => {
    try {
      await http.exec(what, sql);
    } catch (err) {
      if (err instanceof ClickHouseError && err.code !== null && ALREADY_EXISTS.has(err.code)) return;
      // The server's three answers when it has no DDL worker (18.16 gives the last one without ZooKeeper).
      if (t.cluster && err instanceof ClickHouseError && /There is no (Zookeeper|DistributedDDL) configuration|DDL background thread is not initialized/i.test(err.message)) {
        throw new ClickHouseError(`clickhouse: ${what} ON CLUSTER ${t.cluster.name}: the server cannot run distributed DDL (it needs ZooKeeper/Keeper and <distributed_ddl> in its config): ${err.message}`, err.code);
      }
      throw err;
    }
  };
}
