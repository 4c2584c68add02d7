import { tlsDispatcher, type TlsConfig } from '../../core/tls.js';
import type { Logger } from '../../core/logger.js';
import type {
  AppendResult,
  CountQuery,
  CountSeries,
  EngineStats,
  LabelMatcher,
  Labels,
  LogRow,
  RetentionPolicy,
  ScanQuery,
  SourceOffset,
  StoredRow,
  StoreEngine,
} from '../engine.js';
import { compareStrings, labelValue } from '../shared/labels.js';
import {
  checkCountQuery,
  checkMatchers,
  checkRange,
  checkRetention,
  checkScanQuery,
  checkTenant,
  normalizeOffsets,
  normalizeRows,
} from '../shared/validate.js';
import { appendRows, readOffsets, SeqClock } from './append.js';
import { newSql, type Ctx } from './context.js';
import { ClickHouseHttp } from './http.js';
import { RegexChecker, regexesOf } from './predicates.js';
import { applyRetention } from './retention.js';
import { countRows, scanRows } from './scan.js';
import { quoteString } from '../../protocols/clickhouse/sql.js';
import { ensureSchema, serverDdl, tablesOf, type DdlRunner, type Tables } from './schema.js';
import { collectStats } from './stats.js';
import { streamsWithLines } from './streams.js';
import { detectFeatures, MIN_VERSION } from './version.js';

/**
 * The ClickHouse store: every replica of the server talks to one ClickHouse (or, with `cluster`,
 * any node of a ClickHouse cluster through Distributed tables) over its HTTP interface and
 * keeps no state of its own beyond caches, so replicas see the same rows and the same
 * watermarks. Oldest supported server: ClickHouse 18.16 (see version.ts for what newer
 * servers add). Layout in schema.ts, append and replay guarantees in append.ts.
 */

export interface ClickHouseEngineOptions {
  /** The HTTP interface, e.g. http://clickhouse:8123 */
  url: string;
  /** Default `loggy`; created if missing. */
  database?: string;
  user?: string;
  password?: string;
  /** Prepended to every table name (several stores in one database). Default ''. */
  tablePrefix?: string;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  /** For https:// urls: a private CA, a client certificate, the name to verify (renewed files are picked up). */
  tls?: TlsConfig;
  log?: Logger;
  /** Rows per batch yielded by `scan` (one query each). Default 5000. */
  scanBatchRows?: number;
  /**
   * A cluster of the servers' remote_servers: the tables become Distributed tables over per-node
   * `*_local` tables, created ON CLUSTER (needs ZooKeeper/Keeper). Layout in schema.ts.
   */
  cluster?: string;
  /**
   * Replicated(Replacing)MergeTree for the local tables (needs the {shard} and {replica} macros).
   * Default true; without `cluster` it means nothing (one server has no shards to replicate).
   */
  replicated?: boolean;
  /**
   * Runs the DDL instead of sending it ON CLUSTER: for tests on servers without Keeper, which
   * run each statement's per-node form on every node as the server's DDL worker would.
   */
  ddl?: DdlRunner;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function openClickHouseEngine(opts: ClickHouseEngineOptions): Promise<StoreEngine> {
  const database = opts.database ?? 'loggy';
  const prefix = opts.tablePrefix ?? '';
  // Quoting would make any name safe, but names that need it are surely a configuration mistake.
  if (!NAME_RE.test(database)) throw new Error(`clickhouse: database name ${JSON.stringify(database)} must match ${NAME_RE.source}`);
  if (prefix !== '' && !/^[A-Za-z0-9_]+$/.test(prefix)) throw new Error(`clickhouse: table prefix ${JSON.stringify(prefix)} may hold only letters, digits and _`);
  const pool = tlsDispatcher(opts.tls, 'engine.clickhouse', (msg) => opts.log?.warn(msg));
  const http = new ClickHouseHttp({ url: opts.url, user: opts.user, password: opts.password, timeoutMs: opts.timeoutMs ?? 30_000, ...(pool ? { dispatcher: () => pool.current() } : {}) });
  if (opts.cluster !== undefined && opts.cluster === '') throw new Error('clickhouse: cluster name is empty');
  const features = await detectFeatures(http);
  const cluster = opts.cluster === undefined ? null : { name: opts.cluster, replicated: opts.replicated ?? true };
  let insertSettings = {};
  if (cluster) {
    await checkCluster(http, cluster.name);
    // Without it an acknowledged append could sit in a node's queue for the shards, and be lost with the node.
    if (features.distributedSyncInsert === null) throw new Error(`clickhouse: cluster ${cluster.name}: server ${features.version} has neither insert_distributed_sync nor distributed_foreground_insert`);
    insertSettings = { [features.distributedSyncInsert]: '1' };
  }
  const tables = tablesOf(database, prefix, cluster);
  const ddl = opts.ddl ?? serverDdl(http, tables);
  await ensureSchema(ddl, tables, features);
  await checkLayout(http, tables);
  opts.log?.info({ url: opts.url, database, prefix, cluster, minVersion: MIN_VERSION, features }, 'clickhouse store: ready');
  return new ClickHouseEngine({ http, tables, features, ddl, insertSettings, ...(pool ? { release: () => pool.close() } : {}) }, opts.scanBatchRows ?? 5000);
}

/**
 * CREATE ... IF NOT EXISTS keeps a table of the other mode: one-server tables under a cluster
 * store would be written unsharded and never reached by retention (which drops *_local), and
 * a cluster's Distributed tables under a one-server store cannot drop partitions.
 */
async function checkLayout(http: ClickHouseHttp, t: Tables): Promise<void> {
  const names = Object.values(t.names);
  const rows = await http.select('read system.tables', `SELECT name, engine FROM system.tables WHERE database = ${quoteString(t.database)} AND name IN (${names.map(quoteString).join(', ')}) ORDER BY name`);
  for (const [name, engine] of rows as Array<[string, string]>) {
    if ((engine === 'Distributed') === (t.cluster !== null)) continue;
    throw new Error(t.cluster
      ? `clickhouse: ${t.database}.${name} is a ${engine} table, not Distributed: a one-server store's tables; cluster mode needs another table_prefix or database`
      : `clickhouse: ${t.database}.${name} is a Distributed table of a cluster store: set cluster, or use another table_prefix or database`);
  }
}

/** A cluster the server does not know would fail later, at the first Distributed read, less clearly. */
async function checkCluster(http: ClickHouseHttp, name: string): Promise<void> {
  const rows = await http.select('read system.clusters', 'SELECT DISTINCT cluster FROM system.clusters ORDER BY cluster');
  const known = rows.map((r) => String(r[0]));
  if (!known.includes(name)) {
    throw new Error(`clickhouse: cluster ${quoteString(name)} is not in the server's remote_servers (system.clusters has ${known.length === 0 ? 'none' : known.map(quoteString).join(', ')})`);
  }
}

export class ClickHouseEngine implements StoreEngine {
  private readonly regexes: RegexChecker;
  private readonly seq = new SeqClock();
  private closed = false;

  constructor(private readonly ctx: Ctx, private readonly batchRows: number) {
    this.regexes = new RegexChecker(ctx.http, () => newSql(ctx));
  }

  async append(tenant: string, rows: LogRow[], offsets?: SourceOffset[]): Promise<AppendResult> {
    this.checkOpen();
    checkTenant(tenant);
    const norm = normalizeRows(rows);
    const offs = normalizeOffsets(offsets);
    return appendRows(this.ctx, this.seq, tenant, norm, offs);
  }

  async committedOffsets(tenant: string, sources: string[]): Promise<Map<string, number>> {
    this.checkOpen();
    checkTenant(tenant);
    return readOffsets(this.ctx, tenant, sources);
  }

  async *scan(q: ScanQuery): AsyncIterable<StoredRow[]> {
    this.checkOpen();
    checkScanQuery(q);
    await this.regexes.check(regexesOf(q.matchers, q.lineFilters));
    yield* scanRows(this.ctx, q, this.batchRows);
  }

  async count(q: CountQuery): Promise<CountSeries[]> {
    this.checkOpen();
    checkCountQuery(q);
    await this.regexes.check(regexesOf(q.matchers, q.lineFilters));
    return countRows(this.ctx, q);
  }

  async labelNames(tenant: string, startNs: bigint, endNs: bigint, matchers: LabelMatcher[] = []): Promise<string[]> {
    const names = new Set<string>();
    for (const s of await this.streams(tenant, [matchers], startNs, endNs)) for (const n of Object.keys(s)) names.add(n);
    return [...names].sort(compareStrings);
  }

  async labelValues(tenant: string, name: string, startNs: bigint, endNs: bigint, matchers: LabelMatcher[] = []): Promise<string[]> {
    const values = new Set<string>();
    for (const s of await this.streams(tenant, [matchers], startNs, endNs)) {
      const v = labelValue(s, name);
      if (v !== '') values.add(v);
    }
    return [...values].sort(compareStrings);
  }

  async series(tenant: string, matcherSets: LabelMatcher[][], startNs: bigint, endNs: bigint): Promise<Labels[]> {
    return this.streams(tenant, matcherSets, startNs, endNs);
  }

  async applyRetention(policy: RetentionPolicy, nowNs: bigint): Promise<{ droppedPartitions: number }> {
    this.checkOpen();
    checkRetention(policy, nowNs);
    return applyRetention(this.ctx, policy, nowNs);
  }

  async stats(tenant?: string): Promise<EngineStats> {
    this.checkOpen();
    if (tenant !== undefined) checkTenant(tenant);
    return collectStats(this.ctx, tenant);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.ctx.release?.();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('store engine is closed');
  }

  /** Label sets of streams with a line in [start, end) matching any of the sets, in labelsKey order. */
  private async streams(tenant: string, matcherSets: LabelMatcher[][], startNs: bigint, endNs: bigint): Promise<Labels[]> {
    this.checkOpen();
    checkTenant(tenant);
    checkRange(startNs, endNs);
    matcherSets.forEach(checkMatchers);
    await this.regexes.check(matcherSets.flatMap((ms) => regexesOf(ms)));
    return (await streamsWithLines(this.ctx, tenant, matcherSets, startNs, endNs)).map((s) => s.labels);
  }
}
