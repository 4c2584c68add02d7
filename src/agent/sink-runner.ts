import type { EventBatch } from '../core/batch.js';
import type { Sink } from '../core/component.js';
import { RetryableError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AgentMetrics } from '../core/metrics.js';

export interface SinkRunnerOptions {
  maxBytes: number;
  /** drop_newest: when full, new batches are counted and acknowledged instead of queued. */
  whenFull?: 'block' | 'drop_newest';
  batchMaxEvents: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** What the topology needs of a sink's buffer (in memory, or on disk). */
export interface SinkBuffer {
  readonly name: string;
  enqueue(batch: EventBatch): void;
  readonly hasRoom: boolean;
  waitRoom(): Promise<void>;
  /** Resolves when everything queued so far was delivered. */
  idle(): Promise<void>;
  /** Stop retrying (shutdown grace expired). */
  abandon(): void;
  stop(): Promise<void>;
}

/** Backoff before retry `failures` (1, 2, ...): exponential, jittered on its upper half, never sooner than Retry-After. */
export function retryDelay(failures: number, err: unknown, initialMs = 100, maxMs = 30_000): number {
  const delay = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 16));
  const asked = err instanceof RetryableError ? (err.retryAfterMs ?? 0) : 0;
  return Math.max(asked, delay / 2 + Math.random() * (delay / 2));
}

/**
 * A sink's memory buffer and its delivery loop. The buffer is bounded in bytes: sources
 * await `waitRoom()` before reading more, so a slow sink pauses reading instead of growing
 * memory. Batches are acknowledged in the order they were queued, only after the sink's
 * write resolved; a failed write is retried with backoff, never acknowledged.
 */
export class SinkRunner implements SinkBuffer {
  private queue: EventBatch[] = [];
  private bytes = 0;
  private running = false;
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private abandoned = false;

  constructor(
    readonly name: string,
    private readonly sink: Sink,
    private readonly opts: SinkRunnerOptions,
    private readonly log: Logger,
    private readonly metrics: AgentMetrics,
  ) {}

  enqueue(batch: EventBatch): void {
    if (this.opts.whenFull === 'drop_newest' && this.bytes >= this.opts.maxBytes) {
      this.metrics.bufferDropped.inc({ component: this.name }, batch.events.length);
      if (!this.warned) this.log.error({ sink: this.name, maxBytes: this.opts.maxBytes }, 'sink buffer full: dropping new events (when_full: drop_newest)');
      this.warned = true;
      batch.ack();
      return;
    }
    this.warned = false;
    this.queue.push(batch);
    this.bytes += batch.bytes;
    this.metrics.bufferBytes.set({ component: this.name }, this.bytes);
    if (!this.running) void this.run();
  }

  private warned = false;

  get hasRoom(): boolean {
    return this.bytes < this.opts.maxBytes || this.abandoned || this.opts.whenFull === 'drop_newest';
  }

  waitRoom(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves when everything queued so far was delivered. */
  idle(): Promise<void> {
    if (this.abandoned || (!this.running && this.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop retrying (shutdown grace expired): unacknowledged batches stay unacknowledged. */
  abandon(): void {
    this.abandoned = true;
    this.wake(this.idleWaiters);
    this.wake(this.roomWaiters);
  }

  /** Release the sink (close files, connections) after the queue is settled. */
  stop(): Promise<void> {
    return this.sink.stop();
  }

  private async run(): Promise<void> {
    this.running = true;
    let failures = 0;
    while (this.queue.length > 0 && !this.abandoned) {
      const take: EventBatch[] = [];
      let events = 0;
      for (const b of this.queue) {
        if (take.length > 0 && events + b.events.length > this.opts.batchMaxEvents) break;
        take.push(b);
        events += b.events.length;
      }
      try {
        await this.sink.write(take);
        failures = 0;
      } catch (err) {
        failures++;
        this.metrics.sinkErrors.inc({ component: this.name });
        const jittered = retryDelay(failures, err, this.opts.retryInitialMs, this.opts.retryMaxMs);
        this.log.warn({ sink: this.name, err: (err as Error).message, retryInMs: Math.round(jittered) }, 'sink write failed; retrying');
        await new Promise((r) => setTimeout(r, jittered));
        continue;
      }
      this.queue.splice(0, take.length);
      let freed = 0;
      for (const b of take) {
        freed += b.bytes;
        b.ack();
      }
      this.bytes -= freed;
      this.metrics.bufferBytes.set({ component: this.name }, this.bytes);
      if (this.hasRoom) this.wake(this.roomWaiters);
    }
    this.running = false;
    this.wake(this.idleWaiters);
  }

  private wake(list: Array<() => void>): void {
    const ws = list.splice(0, list.length);
    for (const w of ws) w();
  }
}
