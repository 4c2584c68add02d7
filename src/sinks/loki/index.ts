import { z } from 'zod';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { nowNs, parseRfc3339Nano } from '../../core/time.js';
import { encodePush, type PushStream } from '../../protocols/loki/index.js';
import { entryMetadata } from '../shared/ndjson.js';
import { sinkCommon } from '../shared/common.js';
import { authHeaders, deliverBatches, httpSinkCommon, post, RejectedError, type SinkItem } from '../shared/http.js';
import { DeadLetterFile } from '../shared/dead-letter.js';
import { tlsDispatcher, type TlsPool } from '../../core/tls.js';

export const lokiSinkSchema = z.strictObject({
  type: z.literal('loki'),
  ...sinkCommon,
  ...httpSinkCommon,
  /** Base URL of Loki (or of `loggy server`, which speaks the same protocol). */
  endpoint: z.string().url(),
  /** protobuf+snappy is what Loki's own clients send; json for debugging. */
  format: z.enum(['protobuf', 'json']).default('protobuf'),
  /** Labels moved from stream labels to structured metadata (high cardinality, e.g. pod_uid). */
  structured_metadata: z.array(z.string()).default(['pod_uid', 'restart', 'container_id']),
});
export type LokiSinkConfig = z.infer<typeof lokiSinkSchema>;

/** Pushes to Loki's /loki/api/v1/push. At-least-once: a 2xx acknowledges the batch. */
export class LokiSink implements Sink {
  private readonly url: string;
  private readonly meta: Set<string>;
  private readonly deadLetter: DeadLetterFile | null;

  /** The sink's own connection pool when it has TLS settings. */
  private readonly dispatcher: TlsPool | undefined;

  constructor(private readonly cfg: LokiSinkConfig, private readonly ctx: ComponentContext) {
    this.dispatcher = tlsDispatcher(cfg.tls, `sinks.${ctx.name}`, (msg) => ctx.log.warn({ sink: ctx.name }, msg));
    this.url = new URL('/loki/api/v1/push', cfg.endpoint).toString();
    this.meta = new Set(cfg.structured_metadata);
    this.deadLetter = cfg.dead_letter.enabled ? new DeadLetterFile(ctx, cfg.dead_letter.max_bytes) : null;
  }

  private split(labels: Readonly<Record<string, string>>, stream: string): { labels: Record<string, string>; metadata: Record<string, string> } {
    const l: Record<string, string> = { stream };
    const m: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) (this.meta.has(k) ? m : l)[k] = v;
    return { labels: l, metadata: m };
  }

  write(batches: EventBatch[]): Promise<void> {
    return deliverBatches(this.ctx, this.deadLetter, batches, (items) => this.send(items));
  }

  private async send(items: SinkItem[]): Promise<void> {
    const streams = new Map<string, PushStream & { metadata: Record<string, string> }>();
    for (const { b, ev } of items) {
      const key = `${b.source.id}|${ev.stream}`;
      let s = streams.get(key);
      if (!s) {
        const { labels, metadata } = this.split(b.source.labels, ev.stream);
        streams.set(key, (s = { labels, metadata, entries: [] }));
      }
      const own = entryMetadata(ev);
      const md = own ? { ...s.metadata, ...own } : s.metadata;
      s.entries.push({ tsNs: parseRfc3339Nano(ev.ts) ?? nowNs(), line: ev.line, metadata: Object.keys(md).length ? md : undefined });
    }
    const compress = this.cfg.format === 'protobuf' ? 'snappy' : this.cfg.compression;
    let encoded;
    try {
      encoded = encodePush([...streams.values()], { format: this.cfg.format, compress });
    } catch (err) {
      // A label name Loki cannot take (from a transform): no retry or split can fix it.
      throw new RejectedError(0, (err as Error).message);
    }
    const { body, headers } = encoded;
    await post(this.url, body, { ...authHeaders(this.cfg), ...headers }, this.cfg.timeout, 'POST', this.dispatcher?.current());
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, items.length);
    this.ctx.metrics.sinkBytes.inc({ component: this.ctx.name }, body.length);
  }

  async stop(): Promise<void> {
    await this.dispatcher?.close();
  }
}
