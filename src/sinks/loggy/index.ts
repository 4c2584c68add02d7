import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { parseRfc3339Nano, nowNs } from '../../core/time.js';
import { entryMetadata } from '../shared/ndjson.js';
import { sinkCommon } from '../shared/common.js';
import { authHeaders, deliverBatches, httpSinkCommon, parseJson, post, refuse, type SinkItem } from '../shared/http.js';
import { DeadLetterFile } from '../shared/dead-letter.js';
import { tlsDispatcher, type TlsPool } from '../../core/tls.js';

export const loggySinkSchema = z.strictObject({
  type: z.literal('loggy'),
  ...sinkCommon,
  ...httpSinkCommon,
  /** Base URL of `loggy server`. */
  endpoint: z.string().url().default('http://127.0.0.1:3100'),
});
export type LoggySinkConfig = z.infer<typeof loggySinkSchema>;

type Entry = [string, string, number] | [string, string, number, Record<string, string>];

/**
 * Native push to the Loggy store. Each event carries its source (file identity + stream)
 * and byte offset, so the store drops what an agent restart replays: exactly-once into the
 * store on top of the agent's at-least-once.
 */
export class LoggySink implements Sink {
  private readonly url: string;
  private readonly deadLetter: DeadLetterFile | null;

  /** The sink's own connection pool when it has TLS settings. */
  private readonly dispatcher: TlsPool | undefined;

  constructor(private readonly cfg: LoggySinkConfig, private readonly ctx: ComponentContext) {
    this.dispatcher = tlsDispatcher(cfg.tls, `sinks.${ctx.name}`, (msg) => ctx.log.warn({ sink: ctx.name }, msg));
    this.url = new URL('/api/v1/push', cfg.endpoint).toString();
    this.deadLetter = cfg.dead_letter.enabled ? new DeadLetterFile(ctx, cfg.dead_letter.max_bytes) : null;
  }

  write(batches: EventBatch[]): Promise<void> {
    return deliverBatches(this.ctx, this.deadLetter, batches, (items) => this.send(items));
  }

  private async send(items: SinkItem[]): Promise<void> {
    const streams = new Map<string, { labels: Record<string, string>; source: string; entries: Entry[]; items: SinkItem[] }>();
    for (const item of items) {
      const { b, ev } = item;
      const key = `${b.source.id}|${ev.stream}`;
      let s = streams.get(key);
      if (!s) streams.set(key, (s = { labels: { ...b.source.labels, stream: ev.stream }, source: key, entries: [], items: [] }));
      const ts = (parseRfc3339Nano(ev.ts) ?? nowNs()).toString();
      const md = entryMetadata(ev);
      s.entries.push(md ? [ts, ev.line, ev.offset, md] : [ts, ev.line, ev.offset]);
      s.items.push(item);
    }
    const list = [...streams.values()];
    const json = Buffer.from(JSON.stringify({ streams: list.map(({ labels, source, entries }) => ({ labels, source, entries })) }));
    const gzip = this.cfg.compression === 'gzip';
    const headers = { ...authHeaders(this.cfg), 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) };
    const body = gzip ? gzipSync(json, { level: 1 }) : json;
    const res = await post(this.url, body, headers, this.cfg.timeout, 'POST', this.dispatcher?.current());
    // The store writes what it can and lists the entries it refused on their own (too old, too
    // long): those, and only those, go to the dead letters — no splitting needed.
    const answer = parseJson(res.text) as { rejected?: Array<{ stream: number; entry: number; reason: string }> } | null;
    let refused = 0;
    for (const r of answer?.rejected ?? []) {
      const item = list[r.stream]?.items[r.entry];
      if (!item) continue;
      refused++;
      await refuse(this.ctx, this.deadLetter, [{ labels: item.b.source.labels, event: item.ev }], 400, `entry refused by the store: ${r.reason}`);
    }
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, items.length - refused);
    this.ctx.metrics.sinkBytes.inc({ component: this.ctx.name }, body.length);
  }

  async stop(): Promise<void> {
    await this.dispatcher?.close();
  }
}
