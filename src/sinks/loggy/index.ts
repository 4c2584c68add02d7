import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { parseRfc3339Nano, nowNs } from '../../core/time.js';
import { flagList } from '../shared/ndjson.js';
import { sinkCommon } from '../shared/common.js';
import { authHeaders, deliverBatches, httpSinkCommon, post, type SinkItem } from '../shared/http.js';
import { DeadLetterFile } from '../shared/dead-letter.js';

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

  constructor(private readonly cfg: LoggySinkConfig, private readonly ctx: ComponentContext) {
    this.url = new URL('/api/v1/push', cfg.endpoint).toString();
    this.deadLetter = cfg.dead_letter.enabled ? new DeadLetterFile(ctx, cfg.dead_letter.max_bytes) : null;
  }

  write(batches: EventBatch[]): Promise<void> {
    return deliverBatches(this.ctx, this.deadLetter, batches, (items) => this.send(items));
  }

  private async send(items: SinkItem[]): Promise<void> {
    const streams = new Map<string, { labels: Record<string, string>; source: string; entries: Entry[] }>();
    for (const { b, ev } of items) {
      const key = `${b.source.id}|${ev.stream}`;
      let s = streams.get(key);
      if (!s) streams.set(key, (s = { labels: { ...b.source.labels, stream: ev.stream }, source: key, entries: [] }));
      const ts = (parseRfc3339Nano(ev.ts) ?? nowNs()).toString();
      s.entries.push(ev.flags ? [ts, ev.line, ev.offset, { loggy_flags: flagList(ev.flags).join(',') }] : [ts, ev.line, ev.offset]);
    }
    const json = Buffer.from(JSON.stringify({ streams: [...streams.values()] }));
    const gzip = this.cfg.compression === 'gzip';
    const headers = { ...authHeaders(this.cfg), 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) };
    const body = gzip ? gzipSync(json, { level: 1 }) : json;
    await post(this.url, body, headers, this.cfg.timeout);
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, items.length);
    this.ctx.metrics.sinkBytes.inc({ component: this.ctx.name }, body.length);
  }

  async stop(): Promise<void> {}
}
