import type { EventBatch } from '../core/batch.js';
import type { Sink } from '../core/component.js';
import type { Logger } from '../core/logger.js';
import type { AgentMetrics } from '../core/metrics.js';
import type { DiskBuffer } from './disk-buffer.js';
import { retryDelay, type SinkBuffer } from './sink-runner.js';

export interface DiskSinkRunnerOptions {
  /** Batches waiting to be written to disk, in bytes: past this, sources wait. */
  memoryBytes: number;
  batchMaxEvents: number;
  /** When the disk buffer is full: make sources wait, or drop the oldest segment (counted). */
  whenFull: 'block' | 'drop_oldest';
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/**
 * A sink with a disk buffer in front. A batch is acknowledged to its source once it is in
 * the buffer (so the source's checkpoint moves on and the log file may rotate away), and the
 * delivery loop sends what is in the buffer, oldest first, retrying until the sink takes it.
 * A slow or dead receiver therefore fills this sink's disk, not the other sinks' pipeline:
 * sources only wait when the disk buffer itself is full (`when_full: block`).
 */
export class DiskSinkRunner implements SinkBuffer {
  private pending: EventBatch[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> | null = null;
  private delivering: Promise<void> | null = null;
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private wake: (() => void) | null = null;
  private abandoned = false;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly sink: Sink,
    private readonly buffer: DiskBuffer,
    private readonly opts: DiskSinkRunnerOptions,
    private readonly log: Logger,
    private readonly metrics: AgentMetrics,
  ) {
    this.updateGauges();
    this.delivering = this.deliver();
  }

  enqueue(batch: EventBatch): void {
    this.pending.push(batch);
    this.pendingBytes += batch.bytes;
    this.writing ??= this.write().finally(() => { this.writing = null; });
  }

  get hasRoom(): boolean {
    if (this.abandoned) return true;
    if (this.pendingBytes >= this.opts.memoryBytes) return false;
    return this.opts.whenFull !== 'block' || !this.buffer.full;
  }

  waitRoom(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private onAbandon: (() => void) | null = null;

  abandon(): void {
    this.abandoned = true;
    this.onAbandon?.();
    this.freed();
    this.kick();
    this.settle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abandon();
    await this.writing;
    await this.delivering;
    await this.buffer.close();
    await this.sink.stop();
  }

  private isIdle(): boolean {
    return this.abandoned || (this.pending.length === 0 && !this.writing && !this.buffer.hasUnread && !this.inFlight);
  }

  private inFlight = false;

  private async write(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending[0]!;
      // block: hold the batch (bounded by memoryBytes; sources wait meanwhile) until delivery frees space.
      while (this.buffer.full && this.opts.whenFull === 'block' && !this.abandoned) {
        await new Promise<void>((r) => { this.spaceFreed = r; });
      }
      if (this.abandoned && this.buffer.full && this.opts.whenFull === 'block') return; // stays unacknowledged: re-read after restart
      try {
        while (this.buffer.full && this.opts.whenFull === 'drop_oldest') {
          const dropped = await this.buffer.dropOldest();
          if (dropped === 0) break; // only the segment being written is left
          this.metrics.diskBufferDropped.inc({ component: this.name }, dropped);
          this.log.error({ sink: this.name, events: dropped }, 'disk buffer full: dropped its oldest segment (when_full: drop_oldest)');
        }
        await this.buffer.append(batch);
      } catch (err) {
        // Disk trouble: keep the batch (unacknowledged) and try again shortly.
        this.metrics.sinkErrors.inc({ component: this.name });
        this.log.error({ sink: this.name, err: (err as Error).message }, 'cannot write to the disk buffer; retrying');
        await new Promise((r) => setTimeout(r, 500));
        if (this.stopped) return;
        continue;
      }
      this.pending.shift();
      this.pendingBytes -= batch.bytes;
      batch.ack();
      this.updateGauges();
      this.kick();
      if (this.hasRoom) this.release(this.roomWaiters);
    }
    this.settle();
  }

  private async deliver(): Promise<void> {
    let failures = 0;
    while (!this.abandoned) {
      const items = await this.buffer.read(this.opts.batchMaxEvents).catch((err: unknown) => {
        this.log.error({ sink: this.name, err: (err as Error).message }, 'cannot read the disk buffer');
        return [];
      });
      if (this.buffer.corruptRecords > 0) {
        this.metrics.diskBufferCorrupt.inc({ component: this.name }, this.buffer.corruptRecords);
        this.buffer.corruptRecords = 0;
      }
      if (items.length === 0) {
        this.settle();
        await new Promise<void>((r) => { this.wake = r; if (!this.buffer.hasUnread && !this.abandoned) return; this.wake = null; r(); });
        continue;
      }
      this.inFlight = true;
      try {
        await this.sink.write(items.map((i) => i.batch));
        failures = 0;
        await this.buffer.delivered(items.at(-1)!.next);
        this.freed();
      } catch (err) {
        failures++;
        this.buffer.rewind();
        this.metrics.sinkErrors.inc({ component: this.name });
        const ms = retryDelay(failures, err, this.opts.retryInitialMs, this.opts.retryMaxMs);
        this.log.warn({ sink: this.name, err: (err as Error).message, retryInMs: Math.round(ms) }, 'sink write failed; retrying from the disk buffer');
        // New batches must not cut the backoff short; only abandon() does.
        await new Promise<void>((r) => { const t = setTimeout(r, ms); this.onAbandon = () => { clearTimeout(t); r(); }; });
        this.onAbandon = null;
      } finally {
        this.inFlight = false;
      }
      this.updateGauges();
      if (this.hasRoom) this.release(this.roomWaiters);
    }
    this.settle();
  }

  private spaceFreed: (() => void) | null = null;

  private kick(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private freed(): void {
    const f = this.spaceFreed;
    this.spaceFreed = null;
    f?.();
  }

  private settle(): void {
    if (this.isIdle()) this.release(this.idleWaiters);
    if (this.abandoned) this.release(this.roomWaiters);
  }

  private updateGauges(): void {
    this.metrics.bufferBytes.set({ component: this.name }, this.pendingBytes);
    this.metrics.diskBufferBytes.set({ component: this.name }, this.buffer.sizeBytes);
  }

  private release(list: Array<() => void>): void {
    for (const w of list.splice(0)) w();
  }
}
