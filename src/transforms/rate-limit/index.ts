import { z } from 'zod';
import { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Transform } from '../../core/component.js';
import { EventFlags, type LogEvent } from '../../core/event.js';
import { formatRfc3339Nano, nowNs } from '../../core/time.js';
import { byteSize, duration } from '../../config/schema-helpers.js';

export const rateLimitTransformSchema = z.strictObject({
  type: z.literal('rate_limit'),
  inputs: z.array(z.string().min(1)).min(1),
  /** Sustained lines per second per container (0: no line limit). */
  lines_per_sec: z.number().nonnegative().default(0),
  /** Sustained bytes of line text per second per container (0: no byte limit). */
  bytes_per_sec: byteSize.default(0),
  /** Bucket size, in seconds of the rate: how long a container may burst above it. */
  burst: duration.default(5_000),
  /** At most one "lines dropped" event per container this often. */
  summary_interval: duration.default(10_000),
}).refine((c) => c.lines_per_sec > 0 || c.bytes_per_sec > 0, { message: 'give lines_per_sec, bytes_per_sec or both' });
export type RateLimitTransformConfig = z.infer<typeof rateLimitTransformSchema>;

interface Bucket {
  lines: number;
  bytes: number;
  at: number;
  /** Dropped since the last summary event. */
  droppedLines: number;
  droppedBytes: number;
  lastSummary: number;
}

/**
 * A token bucket per container (namespace/pod/container), in lines and in bytes: a noisy
 * container cannot take the node's whole budget. What exceeds it is dropped, counted per
 * container (`loggy_rate_limited_events_total`), and reported in the logs themselves: the
 * last dropped event of a batch is replaced by one event saying "N lines dropped", at most
 * once per `summary_interval`, so the gap is visible where people look (in the store). The
 * summary takes that event's stream and offset, so offsets stay increasing per file and a
 * replay deduplicates it like any event.
 */
export class RateLimitTransform implements Transform {
  private readonly buckets = new Map<string, Bucket>();
  private readonly lineCap: number;
  private readonly byteCap: number;

  constructor(private readonly cfg: RateLimitTransformConfig, private readonly ctx: ComponentContext, private readonly now: () => number = Date.now) {
    this.lineCap = cfg.lines_per_sec * (cfg.burst / 1000);
    this.byteCap = cfg.bytes_per_sec * (cfg.burst / 1000);
  }

  process(batch: EventBatch): EventBatch | null {
    const l = batch.source.labels;
    const who = l.namespace !== undefined ? `${l.namespace}/${l.pod ?? ''}/${l.container ?? ''}` : batch.source.id;
    const b = this.refill(who);
    // One slot per input event; a dropped one becomes null.
    const slots: Array<LogEvent | null> = batch.events.slice();
    let lastDropped = -1;
    let droppedHere = 0;
    let droppedBytesHere = 0;
    slots.forEach((ev, i) => {
      // Line length in UTF-16 units: close to bytes for logs, and free to compute.
      const size = ev!.line.length;
      if ((this.lineCap === 0 || b.lines >= 1) && (this.byteCap === 0 || b.bytes >= size)) {
        b.lines -= 1;
        b.bytes -= size;
        return;
      }
      slots[i] = null;
      lastDropped = i;
      droppedHere++;
      droppedBytesHere += size;
    });
    if (droppedHere === 0) return batch;
    b.droppedLines += droppedHere;
    b.droppedBytes += droppedBytesHere;
    const { metrics, name } = this.ctx;
    metrics.rateLimited.inc({ component: name, namespace: l.namespace ?? '', pod: l.pod ?? '', container: l.container ?? '' }, droppedHere);
    const t = this.now();
    if (t - b.lastSummary >= this.cfg.summary_interval) {
      const last = batch.events[lastDropped]!;
      slots[lastDropped] = {
        ts: formatRfc3339Nano(nowNs()),
        stream: last.stream,
        line: `loggy: ${b.droppedLines} lines (${b.droppedBytes} bytes) dropped from ${who} by rate limit (${this.describe()})`,
        flags: EventFlags.RateLimitSummary,
        offset: last.offset,
      };
      b.droppedLines = 0;
      b.droppedBytes = 0;
      b.lastSummary = t;
    }
    const out = slots.filter((e): e is LogEvent => e !== null);
    return out.length === 0 ? null : new EventBatch(batch.source, out);
  }

  private refill(who: string): Bucket {
    const t = this.now();
    let b = this.buckets.get(who);
    if (!b) {
      b = { lines: this.lineCap, bytes: this.byteCap, at: t, droppedLines: 0, droppedBytes: 0, lastSummary: -Infinity };
      this.buckets.set(who, b);
      return b;
    }
    const secs = Math.max(0, t - b.at) / 1000;
    b.lines = Math.min(this.lineCap, b.lines + secs * this.cfg.lines_per_sec);
    b.bytes = Math.min(this.byteCap, b.bytes + secs * this.cfg.bytes_per_sec);
    b.at = t;
    return b;
  }

  private describe(): string {
    const parts = [];
    if (this.cfg.lines_per_sec > 0) parts.push(`${this.cfg.lines_per_sec} lines/s`);
    if (this.cfg.bytes_per_sec > 0) parts.push(`${this.cfg.bytes_per_sec} bytes/s`);
    return parts.join(', ');
  }
}

