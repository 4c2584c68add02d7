import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { SourceContext } from '../../core/component.js';
import { type Labels, type LogEvent, type Stream } from '../../core/event.js';
import { formatRfc3339Nano, nowNs, parseRfc3339Nano } from '../../core/time.js';
import { capLine } from '../shared/line-cap.js';
import { readBody } from '../shared/body.js';
import { HttpPushSource, httpPushCommon } from '../shared/http-push-source.js';
import { closesConnection, Refusal, shuttingDown } from '../shared/refusal.js';
import { checkBearer, checkBodyHeaders } from '../shared/request-checks.js';

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
  /** max_body_bytes, max_line_bytes, token, ack (204 when acknowledged, 202 without), ack_timeout, backpressure_wait. */
  ...httpPushCommon,
});
export type HttpSourceConfig = z.infer<typeof httpSourceSchema>;

/** Events of one request grouped by their labels (one batch source each). */
type Groups = Map<string, { labels: Labels; events: LogEvent[] }>;

/**
 * Direct push from applications: POST NDJSON, a JSON array or plain lines; labels from the
 * config, headers, query parameters and each event. A request is taken whole or refused whole
 * (one bad event → 400 naming it, nothing emitted), so its answer speaks for all its events:
 * with `ack`, 204 only after every batch of the request was acknowledged — delivered by every
 * sink, or written to a sink's disk buffer — so a 2xx survives an agent crash like a read
 * file line does.
 *
 * Identity and offsets of pushed events, waiting for room and for acknowledgements: see
 * sources/shared (the otlp source works the same way).
 */
export class HttpSource extends HttpPushSource {
  private readonly headerLabels: Array<[string, string]>;

  constructor(private readonly cfg: HttpSourceConfig, ctx: SourceContext) {
    super('http', cfg, ctx);
    this.headerLabels = Object.entries(cfg.label_headers).map(([h, l]) => [h.toLowerCase(), l]);
  }

  protected path(): string {
    return this.cfg.path;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const status = await this.accept(req);
      this.count('accepted');
      res.writeHead(status).end();
    } catch (err) {
      const r = err instanceof Refusal ? err : new Refusal(500, (err as Error).message, 'error');
      this.count(r.reason);
      if (r.status >= 500 && r.reason === 'error') this.ctx.log.warn({ err: r.message }, 'http source request failed');
      const body = JSON.stringify({ error: r.message });
      const close = closesConnection(r.status);
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
    checkBearer(req, this.token);
    if (this.stopping) throw shuttingDown();
    const { gzip } = checkBodyHeaders(req, this.cfg.max_body_bytes);
    const base = this.requestLabels(req, url);

    // Room first, then read (see RoomGate).
    await this.room.wait();
    if (this.stopping) throw shuttingDown();

    const body = await readBody(req, gzip, this.cfg.max_body_bytes);
    const groups = this.parse(body, base);
    if (this.stopping) throw shuttingDown();

    const { acks, events } = this.emitter.emit(groups.values());
    this.ctx.metrics.eventsIn.inc({ component: this.ctx.name }, events);
    this.ctx.metrics.bytesIn.inc({ component: this.ctx.name }, body.length);
    if (!this.cfg.ack) return 202;
    await this.acks.wait(acks);
    return 204;
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

  private event(text: string, ts: string, stream: Stream, fields: Record<string, string> | undefined): LogEvent {
    const { line, flags } = capLine(text, this.cfg.max_line_bytes, this.ctx);
    const ev: LogEvent = { ts, stream, line, flags, offset: 0 };
    if (fields) ev.fields = fields;
    return ev;
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
