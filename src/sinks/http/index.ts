import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { byteSize } from '../../config/schema-helpers.js';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { NdjsonEncoder } from '../shared/ndjson.js';
import { sinkCommon } from '../shared/common.js';
import { authHeaders, deliverBatches, httpSinkCommon, post, type SinkItem } from '../shared/http.js';
import { DeadLetterFile } from '../shared/dead-letter.js';
import { tlsDispatcher, type TlsPool } from '../../core/tls.js';

export const httpSinkSchema = z.strictObject({
  type: z.literal('http'),
  ...sinkCommon,
  ...httpSinkCommon,
  /** The full URL the batches are sent to (no path is added). */
  endpoint: z.string().url(),
  method: z.enum(['POST', 'PUT']).default('POST'),
  /** ndjson: one event per line (application/x-ndjson); json: a JSON array of the same objects. */
  encoding: z.enum(['ndjson', 'json']).default('ndjson'),
  /** HTTP basic authentication; for a bearer token, use `token`. */
  auth: z.discriminatedUnion('strategy', [
    z.strictObject({ strategy: z.literal('basic'), user: z.string().min(1), password: z.string() }),
  ]).optional(),
  /**
   * Largest body (before compression) of one request: a write over it is sent as several
   * requests, in order. An event bigger than this on its own is sent alone.
   */
  max_body_bytes: byteSize.default(10 * 1024 * 1024),
}).refine((c) => !(c.token && c.auth), { message: 'give either token (bearer) or auth (basic), not both', path: ['auth'] });
export type HttpSinkConfig = z.infer<typeof httpSinkSchema>;

/**
 * Sends events to any HTTP collector as Loggy's NDJSON objects
 * ({"ts","stream","line","labels",["flags"],["fields"]}), one per line or as a JSON array.
 * At-least-once: a 2xx acknowledges the request; what the receiver refuses for good is split
 * down to the events refused on their own, which go to the dead-letter file.
 */
export class HttpSink implements Sink {
  private readonly enc = new NdjsonEncoder();
  private readonly deadLetter: DeadLetterFile | null;
  private readonly headers: Record<string, string>;

  /** The sink's own connection pool when it has TLS settings. */
  private readonly dispatcher: TlsPool | undefined;

  constructor(private readonly cfg: HttpSinkConfig, private readonly ctx: ComponentContext) {
    this.dispatcher = tlsDispatcher(cfg.tls, `sinks.${ctx.name}`, (msg) => ctx.log.warn({ sink: ctx.name }, msg));
    this.deadLetter = cfg.dead_letter.enabled ? new DeadLetterFile(ctx, cfg.dead_letter.max_bytes) : null;
    const h = authHeaders(cfg);
    if (cfg.auth) h.authorization = `Basic ${Buffer.from(`${cfg.auth.user}:${cfg.auth.password}`).toString('base64')}`;
    h['content-type'] = cfg.encoding === 'json' ? 'application/json' : 'application/x-ndjson';
    if (cfg.compression === 'gzip') h['content-encoding'] = 'gzip';
    this.headers = h;
  }

  write(batches: EventBatch[]): Promise<void> {
    return deliverBatches(this.ctx, this.deadLetter, batches, (items) => this.send(items), (items) => this.chunks(items));
  }

  /** Consecutive runs of events whose body stays within max_body_bytes. */
  private chunks(items: SinkItem[]): SinkItem[][] {
    const cap = this.cfg.max_body_bytes;
    const enc = this.enc;
    enc.reset();
    // A JSON array is the NDJSON with `[` in front and each `\n` turned into `,` or `]`.
    const extra = this.cfg.encoding === 'json' ? 1 : 0;
    const out: SinkItem[][] = [];
    let start = 0;
    let startPos = 0;
    for (let i = 0; i < items.length; i++) {
      const before = enc.length;
      enc.add(items[i]!.ev, items[i]!.b.source);
      if (i > start && enc.length - startPos + extra > cap) {
        out.push(items.slice(start, i));
        start = i;
        startPos = before;
      }
    }
    if (start < items.length) out.push(start === 0 ? items : items.slice(start));
    return out;
  }

  private encode(items: SinkItem[]): Buffer {
    const enc = this.enc;
    enc.reset();
    for (const { b, ev } of items) enc.add(ev, b.source);
    const ndjson = enc.bytes();
    if (this.cfg.encoding === 'ndjson') return Buffer.from(ndjson);
    // Lines end with `\n` and contain none (JSON escapes it), so `\n` is only ever a separator.
    const json = Buffer.allocUnsafe(ndjson.length + 1);
    json[0] = 0x5b; // [
    ndjson.copy(json, 1);
    for (let i = 1; i < json.length; i++) if (json[i] === 0x0a) json[i] = 0x2c; // ,
    json[json.length - 1] = 0x5d; // ]
    return json;
  }

  private async send(items: SinkItem[]): Promise<void> {
    const raw = this.encode(items);
    const body = this.cfg.compression === 'gzip' ? gzipSync(raw, { level: 1 }) : raw;
    await post(this.cfg.endpoint, body, this.headers, this.cfg.timeout, this.cfg.method, this.dispatcher?.current());
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, items.length);
    this.ctx.metrics.sinkBytes.inc({ component: this.ctx.name }, body.length);
  }

  async stop(): Promise<void> {
    await this.dispatcher?.close();
  }
}
