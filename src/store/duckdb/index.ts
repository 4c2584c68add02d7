import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
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
import type { PartitionGranularity } from '../shared/partition.js';
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
import { BloomPool } from './bloom-pool.js';
import { BLOOM_BITS_PER_LINE } from '../shared/bloom.js';
import { appendBatch, WriterState, type AppendHooks } from './append.js';
import { pruneBlocks } from './blocks.js';
import { BloomCache } from './bloom-cache.js';
import { countLines } from './count.js';
import { ConnectionPool, discard, SerialQueue } from './pool.js';
import { RegexChecker, regexesOf } from './predicates.js';
import { checkpoint, dropPartitions, forgetSourceOffsets, partitionsToDrop, SOURCE_OFFSET_MIN_AGE_NS } from './retention.js';
import { partitionScanSql, scanOrder, scanPartitions } from './scan.js';
import { ensureSchema, INSTANCE_SETTINGS } from './schema.js';
import { SqlParams } from './sql.js';
import { collectStats } from './stats.js';
import { planPartitions, resolveStreams, streamsWithLines } from './streams.js';

/**
 * The embedded store: one DuckDB database file, `<dataDir>/loggy.duckdb`, used by one process
 * (DuckDB locks the file). One writer connection applies appends and retention one at a time;
 * reads run on pooled connections, each in its own snapshot. See schema.ts for the layout.
 */

export interface DuckDbEngineOptions {
  dataDir: string;
  /** Partition width, fixed when the database is created. Default: day. */
  partition?: PartitionGranularity;
  /** Rows per batch yielded by `scan`. Default 5000. */
  scanBatchRows?: number;
  /** DuckDB settings for the instance, e.g. `{ threads: '2', memory_limit: '1GB' }`. */
  settings?: Record<string, string>;
  /** Test seams; not for production use. */
  hooks?: AppendHooks;
  /** Memory for token blooms of recently used partitions (bytes, default 256 MiB; 0: probe in SQL). */
  bloomCacheBytes?: number;
}

export const DB_FILE = 'loggy.duckdb';

export async function openDuckDbEngine(opts: DuckDbEngineOptions): Promise<DuckDbEngine> {
  await mkdir(opts.dataDir, { recursive: true });
  const dbPath = join(opts.dataDir, DB_FILE);
  // Opening replays the WAL left by a crash; a corrupt or foreign file fails here, loudly.
  const instance = await DuckDBInstance.create(dbPath, { ...INSTANCE_SETTINGS, ...opts.settings });
  let writer: DuckDBConnection | undefined;
  try {
    writer = await instance.connect();
    const granularity = await ensureSchema(writer, opts.partition);
    const state = await WriterState.load(writer);
    const engine = new DuckDbEngine(instance, writer, dbPath, granularity, state, opts);
    engine.warmBloomCache();
    return engine;
  } catch (err) {
    writer?.closeSync();
    instance.closeSync();
    throw err;
  }
}

export class DuckDbEngine implements StoreEngine {
  private readonly pool: ConnectionPool;
  private readonly writes = new SerialQueue();
  private readonly regexes = new RegexChecker();
  private readonly blooms = new BloomPool(BLOOM_BITS_PER_LINE);
  private readonly batchRows: number;
  private closed = false;
  readonly bloomCache: BloomCache;

  /** Use openDuckDbEngine. */
  constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    readonly dbPath: string,
    readonly granularity: PartitionGranularity,
    private readonly state: WriterState,
    private readonly opts: DuckDbEngineOptions,
  ) {
    this.pool = new ConnectionPool(instance);
    this.batchRows = opts.scanBatchRows ?? 5000;
    this.bloomCache = new BloomCache(opts.bloomCacheBytes ?? 256 * 1024 * 1024, (task) => this.writes.run(() => (this.closed ? Promise.resolve() : task(this.writer))));
  }

  /** Loads the newest partitions' blooms in the background, so the first searches after a restart are quick too. */
  warmBloomCache(): void {
    const newest = [...this.state.partitions].sort().reverse().slice(0, 3);
    for (const name of newest) void this.bloomCache.load(name).catch(() => undefined);
  }

  async append(tenant: string, rows: LogRow[], offsets?: SourceOffset[]): Promise<AppendResult> {
    this.checkOpen();
    checkTenant(tenant);
    // Validate the whole batch before the transaction: a bad row costs nothing to reject.
    const norm = normalizeRows(rows);
    const offs = normalizeOffsets(offsets);
    const bytes = norm.reduce((s, r) => s + r.bytes, 0);
    if (norm.length === 0 && offs.size === 0) return { rows: 0, bytes: 0 };
    await this.writes.run(() => appendBatch(this.writer, this.blooms, this.state, this.granularity, tenant, norm, offs, this.bloomCache, this.opts.hooks));
    return { rows: norm.length, bytes };
  }

  /** Resolves when every write queued so far (appends, bloom loads, retention) is done. */
  async flushWrites(): Promise<void> {
    await this.writes.drain();
  }

  async committedOffsets(tenant: string, sources: string[]): Promise<Map<string, number>> {
    this.checkOpen();
    checkTenant(tenant);
    if (sources.length === 0) return new Map();
    return this.pool.read(async (conn) => {
      const p = new SqlParams();
      const sql = `SELECT source, "offset" FROM source_offsets WHERE tenant = ${p.str(tenant)} AND source IN (SELECT unnest(${p.strList(sources)}))`;
      const rows = (await conn.runAndReadAll(sql, p.values, p.types)).getRows();
      return new Map(rows.map(([s, o]) => [s as string, Number(o as bigint)]));
    });
  }

  async *scan(q: ScanQuery): AsyncIterable<StoredRow[]> {
    this.checkOpen();
    checkScanQuery(q);
    if (q.startNs >= q.endNs || q.limit === 0) return;
    const conn = await this.pool.acquire();
    let done = false;
    try {
      await this.regexes.check(conn, regexesOf(q.matchers, q.lineFilters));
      await conn.run('BEGIN TRANSACTION');
      const labels = await resolveStreams(conn, q.tenant, q.matchers);
      const planned = labels.size === 0 ? [] : await planPartitions(conn, q.tenant, q.matchers, q.startNs, q.endNs);
      const parts = await pruneBlocks(conn, this.bloomCache, q.tenant, planned, q.lineFilters, q.startNs, q.endNs);
      yield* scanPartitions(conn, q, parts, labels, this.batchRows);
      await conn.run('COMMIT');
      done = true;
    } finally {
      // Finished: back to the pool. Failed or abandoned mid-stream: roll back and close.
      if (done) this.pool.release(conn);
      else await discard(conn);
    }
  }

  async count(q: CountQuery): Promise<CountSeries[]> {
    this.checkOpen();
    checkCountQuery(q);
    if (q.startNs >= q.endNs) return [];
    return this.pool.read(async (conn) => {
      await this.regexes.check(conn, regexesOf(q.matchers, q.lineFilters));
      const labels = await resolveStreams(conn, q.tenant, q.matchers);
      if (labels.size === 0) return [];
      const planned = await planPartitions(conn, q.tenant, q.matchers, q.startNs, q.endNs);
      const parts = await pruneBlocks(conn, this.bloomCache, q.tenant, planned, q.lineFilters, q.startNs, q.endNs);
      return countLines(conn, q, parts, labels);
    });
  }

  async labelNames(tenant: string, startNs: bigint, endNs: bigint, matchers: LabelMatcher[] = []): Promise<string[]> {
    const names = new Set<string>();
    for (const l of await this.streams(tenant, [matchers], startNs, endNs)) for (const n of Object.keys(l)) names.add(n);
    return [...names].sort();
  }

  async labelValues(tenant: string, name: string, startNs: bigint, endNs: bigint, matchers: LabelMatcher[] = []): Promise<string[]> {
    const values = new Set<string>();
    for (const l of await this.streams(tenant, [matchers], startNs, endNs)) if (Object.hasOwn(l, name)) values.add(l[name]!);
    return [...values].sort();
  }

  async series(tenant: string, matcherSets: LabelMatcher[][], startNs: bigint, endNs: bigint): Promise<Labels[]> {
    return this.streams(tenant, matcherSets, startNs, endNs);
  }

  async applyRetention(policy: RetentionPolicy, nowNs: bigint): Promise<{ droppedPartitions: number }> {
    this.checkOpen();
    checkRetention(policy, nowNs);
    return this.writes.run(async () => {
      // Fold the WAL in first so the size estimate sees current blocks.
      if (policy.maxBytes !== undefined) await checkpoint(this.writer);
      const names = await partitionsToDrop(this.writer, this.dbPath, policy, nowNs);
      await dropPartitions(this.writer, names);
      await forgetSourceOffsets(this.writer, nowNs - maxBig(policy.maxAgeNs ?? 0n, SOURCE_OFFSET_MIN_AGE_NS));
      for (const n of names) this.state.partitions.delete(n);
      this.bloomCache.evict(names);
      if (names.length > 0) {
        // Streams without lines left were deleted from the catalog; reload what the writer knows.
        const fresh = await WriterState.load(this.writer);
        this.state.streams.clear();
        for (const [t, m] of fresh.streams) this.state.streams.set(t, m);
        await checkpoint(this.writer);
      }
      return { droppedPartitions: names.length };
    });
  }

  async stats(tenant?: string): Promise<EngineStats> {
    this.checkOpen();
    if (tenant !== undefined) checkTenant(tenant);
    return this.pool.read((conn) => collectStats(conn, this.dbPath, tenant));
  }

  /**
   * The partition tables and SQL a scan would run, without running it (for tests, EXPLAIN and
   * debugging). Parameters are not included; they are bound separately.
   */
  async planScan(q: ScanQuery): Promise<{ partitions: string[]; sql: string[] }> {
    this.checkOpen();
    checkScanQuery(q);
    if (q.startNs >= q.endNs) return { partitions: [], sql: [] };
    return this.pool.read(async (conn) => {
      await this.regexes.check(conn, regexesOf(q.matchers, q.lineFilters));
      const planned = await planPartitions(conn, q.tenant, q.matchers, q.startNs, q.endNs);
      const parts = scanOrder(await pruneBlocks(conn, this.bloomCache, q.tenant, planned, q.lineFilters, q.startNs, q.endNs), q.direction);
      return { partitions: parts.map((p) => p.name), sql: parts.map((p) => partitionScanSql(q, p, q.limit).sql) };
    });
  }

  /** EXPLAIN output of each partition query of a scan (DuckDB's physical plans). */
  async explainScan(q: ScanQuery): Promise<string[]> {
    this.checkOpen();
    checkScanQuery(q);
    if (q.startNs >= q.endNs) return [];
    return this.pool.read(async (conn) => {
      await this.regexes.check(conn, regexesOf(q.matchers, q.lineFilters));
      const planned = await planPartitions(conn, q.tenant, q.matchers, q.startNs, q.endNs);
      const parts = scanOrder(await pruneBlocks(conn, this.bloomCache, q.tenant, planned, q.lineFilters, q.startNs, q.endNs), q.direction);
      const out: string[] = [];
      for (const part of parts) {
        const { sql, params } = partitionScanSql(q, part, q.limit);
        const rows = (await conn.runAndReadAll(`EXPLAIN ${sql}`, params.values, params.types)).getRows();
        out.push(rows.map((r) => String(r[1])).join('\n'));
      }
      return out;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.drain();
    await this.blooms.close();
    this.pool.close();
    this.writer.closeSync();
    // Closing the instance checkpoints the WAL into the database file.
    this.instance.closeSync();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('store engine is closed');
  }

  private async streams(tenant: string, matcherSets: LabelMatcher[][], startNs: bigint, endNs: bigint): Promise<Labels[]> {
    this.checkOpen();
    checkTenant(tenant);
    checkRange(startNs, endNs);
    matcherSets.forEach(checkMatchers);
    return this.pool.read(async (conn) => {
      await this.regexes.check(conn, matcherSets.flatMap((s) => regexesOf(s)));
      return streamsWithLines(conn, tenant, matcherSets, startNs, endNs);
    });
  }
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
