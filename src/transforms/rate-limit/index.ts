import { z } from 'zod';
import { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Transform } from '../../core/component.js';
import { EventFlags, type Labels, type LogEvent } from '../../core/event.js';
import { AnnotationWarnings, Annotations, annotationFor, podOf } from '../../kube/annotations.js';
import type { PodCache } from '../../kube/pod-cache.js';
import { podCacheLookup } from '../../kube/shared.js';
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
  /**
   * Honour the `loggy.io/rate-limit: <lines/s>` pod annotation (and `loggy.io/rate-limit.<container>`):
   * it replaces lines_per_sec for that pod. Needs the pod cache of a kube_metadata or
   * kubernetes_pod_files component.
   */
  annotations: z.boolean().default(true),
  /** The most lines/s an annotation may ask for (0: no ceiling); higher values are lowered to it. */
  max_annotated_lines_per_sec: z.number().nonnegative().default(0),
}).refine((c) => c.lines_per_sec > 0 || c.bytes_per_sec > 0 || c.annotations, { message: 'give lines_per_sec, bytes_per_sec or both (or keep annotations on to limit only annotated pods)' });
export type RateLimitTransformConfig = z.infer<typeof rateLimitTransformSchema>;

interface Bucket {
  /** This container's line rate (lines_per_sec, or its pod's annotation) and bucket size. */
  lineRate: number;
  lineCap: number;
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
  private readonly byteCap: number;
  /** Per container: the line rate its pod's annotation asks for (or null), until the pod cache changes. */
  private readonly annotated = new Map<string, { generation: number; rate: number | null }>();
  private readonly warnings: AnnotationWarnings;

  private readonly podCache: () => PodCache | null;
  constructor(private readonly cfg: RateLimitTransformConfig, private readonly ctx: ComponentContext, private readonly now: () => number = Date.now) {
    this.byteCap = cfg.bytes_per_sec * (cfg.burst / 1000);
    this.warnings = new AnnotationWarnings(ctx, Annotations.rateLimit);
    this.podCache = podCacheLookup(ctx, Annotations.rateLimit);
  }

  process(batch: EventBatch): EventBatch | null {
    const l = batch.source.labels;
    const who = l.namespace !== undefined ? `${l.namespace}/${l.pod ?? ''}/${l.container ?? ''}` : batch.source.id;
    const lineRate = this.lineRateFor(who, l);
    if (lineRate === 0 && this.cfg.bytes_per_sec === 0) return batch;
    const b = this.refill(who, lineRate);
    const lineCap = b.lineCap;
    // One slot per input event; a dropped one becomes null.
    const slots: Array<LogEvent | null> = batch.events.slice();
    let lastDropped = -1;
    let droppedHere = 0;
    let droppedBytesHere = 0;
    slots.forEach((ev, i) => {
      // Line length in UTF-16 units: close to bytes for logs, and free to compute.
      const size = ev!.line.length;
      if ((lineCap === 0 || b.lines >= 1) && (this.byteCap === 0 || b.bytes >= size)) {
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
        line: `loggy: ${b.droppedLines} lines (${b.droppedBytes} bytes) dropped from ${who} by rate limit (${this.describe(lineRate)})`,
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

  private refill(who: string, lineRate: number): Bucket {
    const t = this.now();
    const lineCap = lineRate * (this.cfg.burst / 1000);
    let b = this.buckets.get(who);
    if (!b) {
      b = { lineRate, lineCap, lines: lineCap, bytes: this.byteCap, at: t, droppedLines: 0, droppedBytes: 0, lastSummary: -Infinity };
      this.buckets.set(who, b);
      return b;
    }
    if (b.lineRate !== lineRate) {
      // The pod's annotation changed: the new rate applies from now, tokens kept up to the new size.
      b.lineRate = lineRate;
      b.lineCap = lineCap;
      b.lines = Math.min(b.lines, lineCap);
    }
    const secs = Math.max(0, t - b.at) / 1000;
    b.lines = Math.min(lineCap, b.lines + secs * lineRate);
    b.bytes = Math.min(this.byteCap, b.bytes + secs * this.cfg.bytes_per_sec);
    b.at = t;
    return b;
  }

  /** lines_per_sec, or what the container's pod asks for with `loggy.io/rate-limit`. */
  private lineRateFor(who: string, labels: Labels): number {
    if (!this.cfg.annotations) return this.cfg.lines_per_sec;
    const cache = this.podCache();
    if (!cache) return this.cfg.lines_per_sec;
    let a = this.annotated.get(who);
    if (!a || a.generation !== cache.generation) {
      a = { generation: cache.generation, rate: this.annotatedRate(cache, labels) };
      if (this.annotated.size > 50_000) this.annotated.clear();
      this.annotated.set(who, a);
    }
    return a.rate ?? this.cfg.lines_per_sec;
  }

  private annotatedRate(cache: PodCache, labels: Labels): number | null {
    const pod = podOf(cache, labels);
    const value = pod ? annotationFor(pod, Annotations.rateLimit, labels.container) : undefined;
    if (!pod || value === undefined) return null;
    const rate = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
    const max = this.cfg.max_annotated_lines_per_sec;
    if (!(rate > 0)) {
      this.warnings.warn(pod, value, { problem: 'expected a positive number of lines per second', using: `${this.cfg.lines_per_sec} lines/s` });
      return null;
    }
    if (max > 0 && rate > max) {
      this.warnings.warn(pod, value, { problem: 'above max_annotated_lines_per_sec', using: `${max} lines/s` }, 'pod annotation lowered to the ceiling');
      return max;
    }
    return rate;
  }

  private describe(lineRate: number): string {
    const parts = [];
    if (lineRate > 0) parts.push(`${lineRate} lines/s`);
    if (this.cfg.bytes_per_sec > 0) parts.push(`${this.cfg.bytes_per_sec} bytes/s`);
    return parts.join(', ');
  }
}

