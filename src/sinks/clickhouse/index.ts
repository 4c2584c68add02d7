import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { duration } from '../../config/schema-helpers.js';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { RetryableError } from '../../core/errors.js';
import type { EventSource } from '../../core/event.js';
import { parseRfc3339 } from '../../core/time.js';
import { clickhouseErrorCode, isDataError } from '../../protocols/clickhouse/errors.js';
import { quoteIdent, quoteString } from '../../protocols/clickhouse/sql.js';
import { sinkCommon } from '../shared/common.js';
import { DeadLetterFile } from '../shared/dead-letter.js';
import { tlsDispatcher, type TlsPool } from '../../core/tls.js';
import { deliverBatches, httpSinkCommon, parseJson, post, RejectedError, type SinkItem } from '../shared/http.js';
import { RowWriter } from './row-writer.js';
import { planRows, PlanError, type RowPlan, type RowTime, type TableColumn, VALUE_SOURCES } from './columns.js';

// tenant (X-Scope-OrgID) and bearer tokens mean nothing to ClickHouse: it has users.
const { headers, timeout, compression, tls, dead_letter } = httpSinkCommon;
const identifier = z.string().min(1).max(256);

export const clickhouseSinkSchema = z.strictObject({
  type: z.literal('clickhouse'),
  ...sinkCommon,
  /** ClickHouse wants few large inserts (each one is a part on disk to merge): larger batches than the default. */
  batch_max_events: z.number().int().positive().default(20_000),
  /** ClickHouse's HTTP interface (port 8123; 8443 with https). */
  endpoint: z.string().url(),
  database: identifier.default('default'),
  /** The table rows are inserted into; it must exist (docs/agent.md has a schema to start from). */
  table: identifier,
  user: z.string().min(1).default('default'),
  /** Use ${ENV_VAR} rather than writing it in the file. */
  password: z.string().default(''),
  /**
   * Column → what fills it, for a table whose names differ from Loggy's: one of
   * timestamp, date, stream, line, labels, fields, flags, source_id, offset, `label:<name>` or
   * `field:<name>`. Unmapped columns are matched by name (see docs/agent.md).
   */
  columns: z.record(z.string().min(1), z.string().refine((v) => (VALUE_SOURCES as readonly string[]).includes(v) || /^(label|field):.+$/.test(v), {
    message: `expected one of ${VALUE_SOURCES.join(', ')}, label:<name> or field:<name>`,
  })).default({}),
  /** ClickHouse settings sent with every insert, e.g. { async_insert: 1, wait_for_async_insert: 1 } on servers that have them. */
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /**
   * Small inserts (under 1,000 rows and half the memory buffer) wait until this long after the
   * previous insert; what arrives meanwhile goes in with them. Every insert makes a part that
   * ClickHouse merges later: a hundred agents inserting each trickle as it comes hit "Too many
   * parts". Large inserts go at once. 0: never wait.
   */
  min_insert_interval: duration.default(1000),
  headers,
  timeout,
  compression,
  tls,
  dead_letter,
}).superRefine((cfg, ctx) => {
  for (const k of Object.keys(cfg.settings)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(k)) ctx.addIssue({ code: 'custom', path: ['settings', k], message: `"${k}" is not a ClickHouse setting name (lower case letters, digits and _)` });
  }
});
export type ClickhouseSinkConfig = z.infer<typeof clickhouseSinkSchema>;

/** ClickHouse's own advice: inserts of at least 1,000 rows, or at most one insert a second. */
const LARGE_INSERT_ROWS = 1000;

/** The table as last described, and how rows are written into it. */
interface Target {
  plan: RowPlan;
  /** The INSERT's URL: statement and settings as query parameters. */
  url: string;
  /** insert_deduplication_token is known (22.2+). */
  dedupToken: boolean;
}

/**
 * Inserts events into a ClickHouse table through its HTTP interface, JSONEachRow, one insert
 * per write (split only when ClickHouse refuses rows: the rows refused on their own go to the
 * dead-letter file). The table's columns are read from `system.columns` before the first
 * insert, and again after an error that says the table changed, so the rows carry exactly the
 * columns it has, in the encoding their types want.
 *
 * The HTTP interface rather than @clickhouse/client: for JSON formats the client takes
 * JavaScript objects and JSON.stringify's them, which cannot write a 64-bit integer exactly
 * (DateTime64(9) ticks, nanoseconds) and costs an object per row; here each row is text built
 * from parts cached per source, and an insert is one POST.
 */
export class ClickhouseSink implements Sink {
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly deadLetter: DeadLetterFile | null;
  private target: Target | null = null;
  private readonly sourceParts = new WeakMap<EventSource, { plan: RowPlan; text: string }>();
  private lastInsert = 0;
  private lastWasLarge = false;
  private readonly writer = new RowWriter();

  /** The sink's own connection pool when it has TLS settings. */
  private readonly dispatcher: TlsPool | undefined;

  constructor(private readonly cfg: ClickhouseSinkConfig, private readonly ctx: ComponentContext) {
    this.dispatcher = tlsDispatcher(cfg.tls, `sinks.${ctx.name}`, (msg) => ctx.log.warn({ sink: ctx.name }, msg));
    this.base = new URL(cfg.endpoint.endsWith('/') ? cfg.endpoint : `${cfg.endpoint}/`);
    // Basic authentication: understood by every ClickHouse version (X-ClickHouse-User came later).
    this.headers = {
      ...cfg.headers,
      authorization: `Basic ${Buffer.from(`${cfg.user}:${cfg.password}`).toString('base64')}`,
      'content-type': 'application/x-ndjson',
      ...(cfg.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
    this.deadLetter = cfg.dead_letter.enabled ? new DeadLetterFile(ctx, cfg.dead_letter.max_bytes) : null;
  }

  async write(batches: EventBatch[]): Promise<void> {
    // Only small writes wait: a write of many rows, or of half the memory buffer, is the large
    // insert ClickHouse wants already, and holding it back would cap throughput at a buffer a
    // second.
    let events = 0;
    let bytes = 0;
    for (const b of batches) {
      events += b.events.length;
      bytes += b.bytes;
    }
    const small = events < Math.min(LARGE_INSERT_ROWS, this.cfg.batch_max_events) && bytes < this.cfg.buffer_max_bytes / 2;
    // After a large insert the source is busy, and the small rest that follows is sent too
    // (measured: waiting for it took a third of the time of reading 200 MiB); a trickle waits.
    const wait = small && !this.lastWasLarge ? this.lastInsert + this.cfg.min_insert_interval - Date.now() : 0;
    this.lastWasLarge = !small;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const target = this.target ?? (this.target = await this.describe());
    this.lastInsert = Date.now();
    await deliverBatches(this.ctx, this.deadLetter, batches, (items) => this.send(target, items));
  }

  private where(): string {
    return `sinks.${this.ctx.name} (${this.cfg.database}.${this.cfg.table})`;
  }

  /** Reads the table's columns and the server's version; a missing table is retried, loudly. */
  private async describe(): Promise<Target> {
    const { database, table } = this.cfg;
    const rows = await this.query(`SELECT name, type, default_kind FROM system.columns WHERE database = ${quoteString(database)} AND table = ${quoteString(table)} FORMAT JSONEachRow`);
    const columns = rows as unknown as TableColumn[];
    if (columns.length === 0) throw new RetryableError(`${this.where()}: table ${database}.${table} does not exist (or user ${this.cfg.user} cannot see it); create it (docs/agent.md has a schema)`);
    const version = String((await this.query('SELECT version() AS v FORMAT JSONEachRow'))[0]?.v ?? '0');
    let plan: RowPlan;
    try {
      plan = planRows(columns, this.cfg.columns, this.where());
    } catch (err) {
      // The table is not one Loggy can fill: an operator must change the table or the mapping.
      if (err instanceof PlanError) throw new RetryableError(err.message);
      throw err;
    }
    const url = new URL(this.base);
    url.searchParams.set('query', `INSERT INTO ${quoteIdent(database)}.${quoteIdent(table)} (${plan.columns.map(quoteIdent).join(', ')}) FORMAT JSONEachRow`);
    for (const [k, v] of Object.entries(this.cfg.settings)) url.searchParams.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    const [major = 0, minor = 0] = version.split('.').map(Number);
    const dedupToken = major > 22 || (major === 22 && minor >= 2);
    this.ctx.log.info({ sink: this.ctx.name, table: `${database}.${table}`, version, columns: plan.columns }, 'clickhouse sink: writing into table');
    return { plan, url: url.toString(), dedupToken };
  }

  private async query(sql: string): Promise<Array<Record<string, unknown>>> {
    const plain: Record<string, string> = { ...this.headers, 'content-type': 'text/plain' };
    delete plain['content-encoding'];
    let text: string;
    try {
      ({ text } = await post(this.base.toString(), Buffer.from(sql), plain, this.cfg.timeout, 'POST', this.dispatcher?.current()));
    } catch (err) {
      // Any answer but 2xx here is about the server, the user or the table: retried, loudly.
      throw new RetryableError(`${this.where()}: ${(err as Error).message}`);
    }
    return text.split('\n').filter((l) => l !== '').map((l) => (parseJson(l) ?? {}) as Record<string, unknown>);
  }

  private async send(target: Target, items: SinkItem[]): Promise<void> {
    const body = this.encode(target.plan, items);
    let url = target.url;
    if (target.dedupToken) {
      // A retry of the very same rows is then dropped by a table that deduplicates inserts
      // (Replicated*, or non_replicated_deduplication_window set): same events, same token.
      const h = createHash('sha256');
      for (const { b, ev } of items) h.update(`${b.source.id}\u0000${ev.stream}\u0000${ev.offset}\n`);
      url += `&insert_deduplication_token=${h.digest('hex').slice(0, 32)}`;
    }
    const sent = this.cfg.compression === 'gzip' ? gzipSync(body, { level: 1 }) : body;
    try {
      await post(url, sent, this.headers, this.cfg.timeout, 'POST', this.dispatcher?.current());
    } catch (err) {
      const msg = (err as Error).message;
      // Rows ClickHouse cannot store as they are: split down to them, dead-letter them.
      if (isDataError(msg)) throw new RejectedError(err instanceof RejectedError ? err.status : 400, msg);
      const code = clickhouseErrorCode(msg);
      // The table changed under us (a column dropped, renamed, retyped): describe it again.
      if (code === 16 || code === 60 || code === 117 || code === 81 || code === 47) this.target = null;
      throw new RetryableError(msg, err instanceof RetryableError ? err.retryAfterMs : undefined);
    }
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, items.length);
    this.ctx.metrics.sinkBytes.inc({ component: this.ctx.name }, sent.length);
  }

  private encode(plan: RowPlan, items: SinkItem[]): Buffer {
    const w = this.writer;
    w.reset();
    const now = Date.now();
    const t: RowTime = { secs: 0, frac: '' };
    for (const { b, ev } of items) {
      if (plan.needsTime) {
        const p = parseRfc3339(ev.ts);
        // Sources always give RFC3339; should one not, the row goes in at the time it was sent.
        t.secs = p ? p.secs : Math.floor(now / 1000);
        t.frac = p ? String(p.nanos).padStart(9, '0') : String((now % 1000) * 1_000_000).padStart(9, '0');
      }
      w.begin();
      for (const m of plan.perEvent) m(ev, t, w);
      w.members(this.sourcePart(plan, b.source));
      w.end();
    }
    return w.bytes();
  }

  /** The members every row of a source has (its labels, label columns), built once per source and plan. */
  private sourcePart(plan: RowPlan, source: EventSource): string {
    const cached = this.sourceParts.get(source);
    if (cached && cached.plan === plan) return cached.text;
    const text = plan.perSource.map((m) => m(source)).filter((m): m is string => m !== null).join(',');
    this.sourceParts.set(source, { plan, text });
    return text;
  }

  async stop(): Promise<void> {
    await this.dispatcher?.close();
  }
}
