import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger } from '../core/logger.js';
import { nowNs } from '../core/time.js';
import type { StoreEngine } from '../store/engine.js';
import { openDuckDbEngine } from '../store/duckdb/index.js';
import { MemoryEngine } from '../store/memory/index.js';
import { buildServer } from './app.js';
import type { ServerConfig } from './config.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly engine: StoreEngine;
  /** The address actually bound (port 0 picks one). */
  readonly url: string;
  stop(): Promise<void>;
}

export async function openEngine(config: ServerConfig, log?: Logger): Promise<StoreEngine> {
  if (config.engine.type === 'memory') return new MemoryEngine();
  if (config.engine.type === 'clickhouse') {
    const ch = config.engine.clickhouse;
    if (!ch) throw new Error('engine.type: clickhouse needs engine.clickhouse.url');
    const { openClickHouseEngine } = await import('../store/clickhouse/index.js');
    return openClickHouseEngine({ url: ch.url, database: ch.database, user: ch.user, password: ch.password, tablePrefix: ch.table_prefix, timeoutMs: ch.timeout, cluster: ch.cluster, replicated: ch.replicated, tls: ch.tls, log });
  }
  return openDuckDbEngine({ dataDir: config.data_dir, partition: config.engine.partition, bloomCacheBytes: config.engine.bloom_cache });
}

/**
 * Open the engine, listen, and run retention on a timer; stop() closes in reverse order.
 * `processMetrics`: add the process's own figures (memory, event loop) to /metrics; the CLI
 * does, in-process servers of tests and the demo do not (prom-client's are per process).
 */
export async function startServer(config: ServerConfig, opts: { log?: Logger; engine?: StoreEngine; processMetrics?: boolean } = {}): Promise<RunningServer> {
  const log = opts.log ?? createLogger(config.log_level);
  const engine = opts.engine ?? (await openEngine(config, log));
  const { app, ctx } = await buildServer(config, engine, log, { processMetrics: opts.processMetrics ?? false });
  const i = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, i) || '0.0.0.0';
  const port = Number(config.listen.slice(i + 1));
  await app.listen({ host, port });
  const addr = app.server.address();
  const url = typeof addr === 'object' && addr ? `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}` : `http://${config.listen}`;

  const { max_age, max_bytes, check_interval } = config.retention;
  let timer: NodeJS.Timeout | null = null;
  if (max_age !== undefined || max_bytes !== undefined) {
    const sweep = async () => {
      try {
        const r = await engine.applyRetention({ maxAgeNs: max_age !== undefined ? BigInt(max_age) * 1_000_000n : undefined, maxBytes: max_bytes }, nowNs());
        if (r.droppedPartitions > 0) log.info({ dropped: r.droppedPartitions }, 'retention dropped partitions');
      } catch (err) {
        log.error({ err: (err as Error).message }, 'retention failed');
      }
    };
    timer = setInterval(() => void sweep(), check_interval);
    timer.unref();
    void sweep();
  }
  log.info({ url, engine: config.engine.type, dataDir: config.data_dir, auth: config.auth.enabled }, 'loggy server listening');
  return {
    app, engine, url,
    stop: async () => {
      if (timer) clearInterval(timer);
      await app.close();
      await ctx.writer.idle();
      await engine.close();
    },
  };
}
