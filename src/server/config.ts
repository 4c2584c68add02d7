import { z } from 'zod';
import { byteSize, duration } from '../config/schema-helpers.js';
import { tlsSchema } from '../core/tls.js';

const token = z.strictObject({
  /** The bearer token. Use ${ENV_VAR} interpolation rather than writing secrets in the file. */
  token: z.string().min(16, 'tokens must be at least 16 characters'),
  /** Tenants this token may act for; X-Scope-OrgID picks one when there are several. */
  tenants: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'tenant ids use letters, digits, "_", "." and "-" (at most 64)')).min(1),
  read: z.boolean().default(true),
  write: z.boolean().default(false),
});

/** `loggy server` configuration. */
export const serverConfigSchema = z.strictObject({
  /** host:port. Loki's port by default, loopback only until you decide otherwise. */
  listen: z.string().regex(/^[^:]*:\d+$/, 'expected "host:port"').default('127.0.0.1:3100'),
  data_dir: z.string().default('/var/lib/loggy-server'),
  engine: z.strictObject({
    /** duckdb: embedded, one process; clickhouse: stateless replicas over a ClickHouse server or cluster; memory: tests. */
    type: z.enum(['duckdb', 'clickhouse', 'memory']).default('duckdb'),
    partition: z.enum(['day', 'hour']).default('day'),
    /** Memory for token blooms of recent partitions (DuckDB engine); 0 probes them in SQL. */
    bloom_cache: byteSize.default(256 * 1024 * 1024),
    /** The ClickHouse engine's server (with type: clickhouse). */
    clickhouse: z.strictObject({
      /** ClickHouse's HTTP interface: a Service in front of every replica, or chproxy. */
      url: z.string().url(),
      /** Created if missing, with the tables. */
      database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a database name: letters, digits and _').default('loggy'),
      user: z.string().min(1).default('default'),
      /** Use ${ENV_VAR} rather than writing it in the file. */
      password: z.string().default(''),
      /** Prepended to every table name: several stores in one database. */
      table_prefix: z.string().regex(/^[A-Za-z0-9_]*$/, 'letters, digits and _').default(''),
      /** One statement's time limit. */
      timeout: duration.default(30_000),
      /**
       * A cluster of the servers' remote_servers: tables are created ON CLUSTER (needs Keeper),
       * sharded behind Distributed tables. Without it, one server's tables.
       */
      cluster: z.string().min(1).optional(),
      /** With cluster: Replicated* tables (default; needs the {shard} and {replica} macros), or plain ones per shard. */
      replicated: z.boolean().default(true),
      /** For an https:// url: a private CA, a client certificate, the name to verify (as the agent's sinks). */
      tls: tlsSchema.optional(),
    }).optional(),
  }).prefault({}).refine((e) => e.type !== 'clickhouse' || e.clickhouse !== undefined, {
    message: 'type: clickhouse needs clickhouse: { url: http://<clickhouse>:8123, ... }', path: ['clickhouse'],
  }),
  auth: z.strictObject({
    enabled: z.boolean().default(false),
    tokens: z.array(token).default([]),
  }).default({ enabled: false, tokens: [] }).refine((a) => !a.enabled || a.tokens.length > 0, { message: 'auth is enabled but no tokens are configured' }),
  limits: z.strictObject({
    /** Largest request body accepted (after decompression too). */
    max_body_bytes: byteSize.default(32 * 1024 * 1024),
    max_entries_per_push: z.number().int().positive().default(500_000),
    max_line_bytes: byteSize.default(256 * 1024),
    /** Entries older than this are refused (0: no limit). */
    reject_older_than: duration.default(7 * 24 * 3600 * 1000),
    /** Entries further in the future than this are refused. */
    reject_newer_than: duration.default(10 * 60 * 1000),
    /** Push requests waiting for the engine; past this, 429 with Retry-After. */
    max_pending_pushes: z.number().int().positive().default(64),
    max_query_lines: z.number().int().positive().default(5000),
  }).prefault({}),
  ingest: z.strictObject({
    /** Attach `detected_level` structured metadata to each line (as Loki does). */
    detect_level: z.boolean().default(true),
    /** OTLP resource attributes to keep as labels besides the built-in list (e.g. host.name); the others become structured metadata. */
    otlp_label_attributes: z.array(z.string().min(1)).default([]),
  }).prefault({}),
  retention: z.strictObject({
    max_age: duration.optional(),
    max_bytes: byteSize.optional(),
    check_interval: duration.default(60_000),
  }).default({ check_interval: 60_000 }),
  metrics: z.strictObject({
    /** Serve GET /metrics (Prometheus): counts only, no tenant names or log content, no token needed. */
    enabled: z.boolean().default(true),
  }).prefault({}),
  /** Live tail (/loki/api/v1/tail, the UI's live view, `loggy logs -f`). */
  tail: z.strictObject({
    /**
     * push: lines ingested by this process are sent to its tail clients as they are stored;
     * poll: tail clients' queries are read from the engine every poll_interval, so lines
     * ingested by another replica sharing the engine are tailed too. auto: poll on an engine
     * replicas share (clickhouse), push otherwise.
     */
    mode: z.enum(['auto', 'push', 'poll']).default('auto'),
    poll_interval: duration.default(1000),
    /** poll: lines arriving up to this late (by their own timestamps) are still tailed. */
    lookback: duration.default(10_000),
  }).prefault({}),
  ui: z.strictObject({
    /** Serve the web UI at `/` (static files; its data calls carry the user's token). */
    enabled: z.boolean().default(true),
    /** Directory of a built UI; default: dist/ui of this installation. */
    dir: z.string().optional(),
  }).prefault({}),
  log_level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});
export type ServerConfig = z.infer<typeof serverConfigSchema>;
