import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { byteSize, duration } from '../../config/schema-helpers.js';
import { EventBatch } from '../../core/batch.js';
import type { Source, SourceContext } from '../../core/component.js';
import { EventFlags, makeSource, type EventSource, type Labels, type LogEvent, type Stream } from '../../core/event.js';
import { formatRfc3339Nano, nowNs, parseRfc3339Nano } from '../../core/time.js';
import { truncateString } from '../../formats/bytes.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const labelName = z.string().regex(LABEL_NAME, 'expected a label name: letters, digits and "_", not starting with a digit');

export const httpSourceSchema = z.strictObject({
  type: z.literal('http'),
  /**
   * host:port to listen on. Loopback by default: the endpoint accepts logs from anyone who can
   * reach it, so exposing it (0.0.0.0, a pod IP) is a choice to make with `token` set.
   */
  address: z.string().regex(/^[^:]*:\d+$/, 'expected "host:port"').default('127.0.0.1:8687'),
  /** The one path that accepts pushes (POST). */
  path: z.string().startsWith('/').default('/push'),
  /** ndjson: one JSON object a line; json: a JSON array of objects (or one object); text: one raw line an event. */
  encoding: z.enum(['ndjson', 'json', 'text']).default('ndjson'),
  /** Added to every event; headers, query parameters and the event's own `labels` override them. */
  labels: z.record(labelName, z.string()).default({}),
  /** Request header → label name, e.g. `{ x-loggy-app: app }`. */
  label_headers: z.record(z.string().min(1), labelName).default({}),
  /** Request bodies larger than this (after gzip decompression too) are refused with 413. */
  max_body_bytes: byteSize.default(10 * 1024 * 1024),
  /** Longer lines are truncated, flagged "truncated" and counted, as for files. */
  max_line_bytes: byteSize.default(256 * 1024),
  /** Optional bearer token: requests without `Authorization: Bearer <token>` get 401. */
  token: z.string().min(1).optional(),
  /** true: answer 204 once every sink delivered the events or wrote them to its disk buffer; false: 202 once accepted. */
  ack: z.boolean().default(true),
  /** With ack: how long a request waits for its acknowledgement before a 504 (the events may still be delivered). */
  ack_timeout: duration.default(30_000),
  /** How long a request waits for room in a full pipeline before a 429 with Retry-After. */
  backpressure_wait: duration.default(1000),
});
export type HttpSourceConfig = z.infer<typeof httpSourceSchema>;

/** A refusal: status, a message for the client, the reason it is counted under. */
class Refusal extends Error {
  constructor(readonly status: number, message: string, readonly reason: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Events of one request grouped by their labels (one batch source each). */
type Groups = Map<string, { labels: Labels; events: LogEvent[] }>;

const MAX_BATCH_EVENTS = 1000;

/**
 * Direct push from applications: POST NDJSON, a JSON array or plain lines; labels from the
 * config, headers, query parameters and each event. A request is taken whole or refused whole
 * (one bad event → 400 naming it, nothing emitted), so its answer speaks for all its events:
 * with `ack`, 204 only after every batch of the request was acknowledged — delivered by every
 * sink, or written to a sink's disk buffer — so a 2xx survives an agent crash like a read
 * file line does.
 *
 * Identity and offsets: the pipeline (the loggy sink, and the store's replay dedupe) expects a
 * source id and offsets strictly increasing per (id, stream), and the store keeps, per source,
 * the highest offset it committed and drops anything at or below it. A push has no file, so the
 * id is `http:<component>:<boot>:<labels hash>` with `boot` random per start of the source and
 * the offset a counter of this source instance assigned at emission, in emission order. The
 * same batch re-sent (a retry, a disk buffer replayed after a crash) keeps its id and offsets and
 * is dropped as the duplicate it is; a distinct push always gets a higher offset, and after a
 * restart a fresh `boot` (the counter starts again at 1), so it is never mistaken for a replay.
 * The labels are part of the id because the loggy sink groups events by id and stream and gives
 * the group the labels of its first batch.
 */
export class HttpSource implements Source {
  private server: Server | null = null;
  private readonly boot = randomBytes(6).toString('hex');
  private readonly sources = new Map<string, EventSource>();
  private offset = 0;
  private stopping = false;
  private room: Promise<void> | null = null;
  /** Requests waiting for their acknowledgement: answered 503 at close if still waiting. */
  private readonly waiting = new Set<(status: number) => void>();
  private readonly token: Buffer | null;
  private readonly headerLabels: Array<[string, string]>;

  constructor(private readonly cfg: HttpSourceConfig, private readonly ctx: SourceContext) {
    this.token = cfg.token ? Buffer.from(`Bearer ${cfg.token}`) : null;
    this.headerLabels = Object.entries(cfg.label_headers).map(([h, l]) => [h.toLowerCase(), l]);
  }

  async start(): Promise<void> {
    const i = this.cfg.address.lastIndexOf(':');
    const host = this.cfg.address.slice(0, i) || '0.0.0.0';
    const port = Number(this.cfg.address.slice(i + 1));
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const a = server.address();
    this.ctx.log.info({ address: typeof a === 'object' && a ? `${a.address}:${a.port}` : this.cfg.address, path: this.cfg.path }, 'http source listening');
  }

  private count(result: string): void {
    this.ctx.metrics.httpRequests.inc({ component: this.ctx.name, result });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const status = await this.accept(req);
      this.count('accepted');
      res.writeHead(status).end();
    } catch (err) {
      const r = err instanceof Refusal ? err : new Refusal(500, (err as Error).message, 'error');
      this.count(r.reason);
      if (r.status >= 500 && r.reason === 'error') this.ctx.log.warn({ err: r.message }, 'http source request failed');
      const body = JSON.stringify({ error: r.message });
      // A refused body is not read on: the connection closes after the answer.
      const close = r.status === 413 || r.status === 415 || r.status === 401 || r.status === 503;
      res.writeHead(r.status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}), ...r.headers }).end(body);
      if (close) res.once('finish', () => req.destroy());
      else req.resume();
    }
  }

  /** Takes a request whole and returns the success status, or throws a Refusal. */
  private async accept(req: IncomingMessage): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://push');
    if (url.pathname !== this.cfg.path) throw new Refusal(404, `not found: POST to ${this.cfg.path}`, 'not_found');
    if (req.method !== 'POST') throw new Refusal(405, `method ${req.method} not allowed: POST`, 'method', { allow: 'POST' });
    if (this.token) {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== this.token.length || !timingSafeEqual(got, this.token)) {
        throw new Refusal(401, 'missing or wrong bearer token (Authorization: Bearer <token>)', 'unauthorized', { 'www-authenticate': 'Bearer' });
      }
    }
    if (this.stopping) throw this.shuttingDown();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.cfg.max_body_bytes) throw this.tooLarge();
    const enc = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (enc !== 'identity' && enc !== 'gzip') throw new Refusal(415, `content-encoding ${enc} not supported (gzip or none)`, 'encoding');
    const base = this.requestLabels(req, url);

    // Room first, then read: a full pipeline holds requests briefly and then turns them away,
    // instead of holding their bodies in memory without bound.
    await this.waitForRoom();
    if (this.stopping) throw this.shuttingDown();

    const body = await this.readBody(req, enc === 'gzip');
    const groups = this.parse(body, base);
    if (this.stopping) throw this.shuttingDown();

    let n = 0;
    const acks: Array<Promise<void>> = [];
    // Synchronous from here to the last emit: offsets are assigned in emission order.
    for (const { labels, events } of groups.values()) {
      const source = this.sourceFor(labels);
      for (const ev of events) ev.offset = ++this.offset;
      for (let i = 0; i < events.length; i += MAX_BATCH_EVENTS) {
        const part = events.length <= MAX_BATCH_EVENTS ? events : events.slice(i, i + MAX_BATCH_EVENTS);
        let acked!: () => void;
        acks.push(new Promise<void>((r) => { acked = r; }));
        this.ctx.emit(new EventBatch(source, part, () => acked()));
      }
      n += events.length;
    }
    this.ctx.metrics.eventsIn.inc({ component: this.ctx.name }, n);
    this.ctx.metrics.bytesIn.inc({ component: this.ctx.name }, body.length);
    if (!this.cfg.ack) return 202;
    return this.waitForAcks(acks);
  }

  private async waitForAcks(acks: Array<Promise<void>>): Promise<number> {
    let settle!: (status: number) => void;
    const answer = new Promise<number>((r) => { settle = r; });
    this.waiting.add(settle);
    const timer = setTimeout(() => settle(504), this.cfg.ack_timeout);
    void Promise.all(acks).then(() => settle(204));
    const status = await answer;
    clearTimeout(timer);
    this.waiting.delete(settle);
    if (status === 504) throw new Refusal(504, `not acknowledged within ${this.cfg.ack_timeout} ms; the events may still be delivered (a retry may duplicate them)`, 'ack_timeout');
    if (status === 503) throw new Refusal(503, 'the agent shut down before the events were delivered; retry', 'shutdown');
    return status;
  }

  private waitForRoom(): Promise<void> {
    // One waiter for all requests: requests turned away do not leave waiters behind.
    this.room ??= this.ctx.waitForRoom().finally(() => { this.room = null; });
    let timer: NodeJS.Timeout | undefined;
    const full = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const retry = Math.max(1, Math.ceil(this.cfg.backpressure_wait / 1000));
        reject(new Refusal(429, 'the pipeline is full (sinks behind); retry later', 'backpressure', { 'retry-after': String(retry) }));
      }, this.cfg.backpressure_wait);
    });
    return Promise.race([this.room, full]).finally(() => clearTimeout(timer));
  }

  private shuttingDown(): Refusal {
    return new Refusal(503, 'the agent is shutting down; retry', 'shutdown', { 'retry-after': '1' });
  }

  private tooLarge(): Refusal {
    return new Refusal(413, `request body larger than max_body_bytes (${this.cfg.max_body_bytes} bytes, counted after decompression)`, 'too_large');
  }

  private requestLabels(req: IncomingMessage, url: URL): Record<string, string> {
    const labels: Record<string, string> = { ...this.cfg.labels };
    for (const [h, l] of this.headerLabels) {
      const v = req.headers[h];
      if (typeof v === 'string') labels[l] = v;
    }
    // Every query parameter is a label: ?app=checkout&env=prod.
    for (const [k, v] of url.searchParams) {
      if (!LABEL_NAME.test(k)) throw new Refusal(400, `query parameter ${JSON.stringify(k)} is not a label name (letters, digits and "_", not starting with a digit)`, 'invalid');
      labels[k] = v;
    }
    return labels;
  }

  /** The body, decompressed, refused past max_body_bytes at either end (a zip bomb stops there). */
  private async readBody(req: IncomingMessage, gzip: boolean): Promise<Buffer> {
    const max = this.cfg.max_body_bytes;
    const stream: Readable = gzip ? req.pipe(createGunzip()) : req;
    const chunks: Buffer[] = [];
    let total = 0;
    let raw = 0;
    if (gzip) req.on('data', (c: Buffer) => { raw += c.length; });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > max || raw > max) throw this.tooLarge();
        chunks.push(chunk);
      }
    } catch (err) {
      if (gzip) {
        req.unpipe();
        stream.destroy();
      }
      if (err instanceof Refusal) throw err;
      if (gzip) throw new Refusal(400, `gzip body could not be decompressed: ${(err as Error).message}`, 'invalid');
      throw new Refusal(400, `request body could not be read: ${(err as Error).message}`, 'invalid');
    }
    return Buffer.concat(chunks, total);
  }

  /** The request's events, grouped by labels; throws a 400 naming the first bad event. */
  private parse(body: Buffer, base: Record<string, string>): Groups {
    const groups: Groups = new Map();
    const add = (ev: LogEvent, own: Record<string, string> | undefined) => {
      const labels = own ? { ...base, ...own } : base;
      const key = own ? JSON.stringify(labels) : '';
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { labels, events: [] }));
      g.events.push(ev);
    };
    const text = body.toString('utf8');
    if (this.cfg.encoding === 'json') {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        throw new Refusal(400, `body is not JSON: ${(err as Error).message}`, 'invalid');
      }
      const items = Array.isArray(doc) ? doc : [doc];
      items.forEach((item, i) => {
        const r = this.toEvent(item, `element ${i + 1}`);
        add(r.ev, r.labels);
      });
      return groups;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    lines.forEach((raw, i) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (this.cfg.encoding === 'text') {
        add(this.event(line, nowTs(), 'stdout', undefined), undefined);
        return;
      }
      if (line.trim() === '') return;
      let item: unknown;
      try {
        item = JSON.parse(line);
      } catch (err) {
        throw new Refusal(400, `line ${i + 1}: not JSON: ${(err as Error).message}`, 'invalid');
      }
      const r = this.toEvent(item, `line ${i + 1}`);
      add(r.ev, r.labels);
    });
    return groups;
  }

  private toEvent(item: unknown, at: string): { ev: LogEvent; labels?: Record<string, string> } {
    const bad = (msg: string) => new Refusal(400, `${at}: ${msg}`, 'invalid');
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad('expected a JSON object');
    const o = item as Record<string, unknown>;
    const line = o.line ?? o.message;
    if (typeof line !== 'string') throw bad('"line" (or "message") must be a string');
    const ts = parseTs(o.ts);
    if (ts === null) throw bad(`"ts" must be an RFC3339 timestamp, epoch milliseconds or nanoseconds, got ${JSON.stringify(o.ts)}`);
    const stream = o.stream ?? 'stdout';
    if (stream !== 'stdout' && stream !== 'stderr') throw bad(`"stream" must be "stdout" or "stderr", got ${JSON.stringify(stream)}`);
    let labels: Record<string, string> | undefined;
    if (o.labels !== undefined) {
      if (typeof o.labels !== 'object' || o.labels === null || Array.isArray(o.labels)) throw bad('"labels" must be an object of strings');
      labels = {};
      for (const [k, v] of Object.entries(o.labels)) {
        if (!LABEL_NAME.test(k)) throw bad(`invalid label name ${JSON.stringify(k)} (letters, digits and "_", not starting with a digit)`);
        if (typeof v !== 'string') throw bad(`label ${k} must be a string`);
        labels[k] = v;
      }
    }
    let fields: Record<string, string> | undefined;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'line' || k === 'message' || k === 'ts' || k === 'stream' || k === 'labels') continue;
      flatten(sanitize(k), v, (fields ??= {}));
    }
    if (fields && Object.keys(fields).length === 0) fields = undefined;
    return { ev: this.event(line, ts, stream, fields), labels };
  }

  private event(line: string, ts: string, stream: Stream, fields: Record<string, string> | undefined): LogEvent {
    let flags = 0;
    const cut = truncateString(line, this.cfg.max_line_bytes);
    if (cut !== null) {
      line = cut;
      flags |= EventFlags.Truncated;
      this.ctx.metrics.truncated.inc({ component: this.ctx.name });
    }
    const ev: LogEvent = { ts, stream, line, flags, offset: 0 };
    if (fields) ev.fields = fields;
    return ev;
  }

  private sourceFor(labels: Labels): EventSource {
    const json = JSON.stringify(labels);
    let s = this.sources.get(json);
    if (!s) {
      if (this.sources.size > 10_000) this.sources.clear();
      const hash = createHash('sha256').update(json).digest('hex').slice(0, 16);
      s = makeSource(`http:${this.ctx.name}:${this.boot}:${hash}`, this.ctx.name, labels);
      this.sources.set(json, s);
    }
    return s;
  }

  /** Nothing to read to an end: a push source is drained at once. */
  async drained(): Promise<void> {}

  /** New requests get 503; requests waiting for their acknowledgement still get it (until close). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.server?.closeIdleConnections();
  }

  /** After the sinks drained (or the grace expired): whoever still waits gets 503, and the server closes. */
  async close(): Promise<void> {
    for (const settle of [...this.waiting]) settle(503);
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Let the 503s go out, then cut whatever is left (keep-alive, slow uploads).
      setTimeout(() => server.closeAllConnections(), 100).unref();
    });
  }
}

/** RFC3339 (nanoseconds kept), epoch milliseconds (a number below 1e15) or nanoseconds; now when absent. */
function parseTs(v: unknown): string | null {
  if (v === undefined || v === null) return nowTs();
  if (typeof v === 'string') {
    if (/^\d{1,19}$/.test(v)) return formatRfc3339Nano(BigInt(v));
    const ns = parseRfc3339Nano(v);
    return ns === null ? null : formatRfc3339Nano(ns);
  }
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    return formatRfc3339Nano(v < 1e15 ? BigInt(Math.round(v * 1e6)) : BigInt(Math.round(v)));
  }
  return null;
}

function nowTs(): string {
  return formatRfc3339Nano(nowNs());
}

/** A field name as LogQL's json parser would name it: non-name characters replaced by `_`. */
function sanitize(k: string): string {
  const s = k.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** Nested objects joined with `_` (as the parse transform does); arrays kept as JSON text; null skipped. */
function flatten(name: string, v: unknown, out: Record<string, string>, depth = 0): void {
  if (v === null || v === undefined) return;
  if (typeof v === 'object' && !Array.isArray(v) && depth < 8) {
    for (const [k, x] of Object.entries(v)) flatten(`${name}_${sanitize(k)}`, x, out, depth + 1);
    return;
  }
  out[name] = typeof v === 'string' ? v : JSON.stringify(v);
}
