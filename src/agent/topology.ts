import { EventBatch } from '../core/batch.js';
import type { Source, SourceContext, Transform } from '../core/component.js';
import type { Logger } from '../core/logger.js';
import type { AgentMetrics } from '../core/metrics.js';
import { createSink } from '../sinks/index.js';
import { createSource } from '../sources/index.js';
import { createTransform } from '../transforms/index.js';
import type { AgentConfig } from './config.js';
import { join } from 'node:path';
import { DiskBuffer } from './disk-buffer.js';
import { DiskSinkRunner } from './disk-sink-runner.js';
import { SinkRunner, type SinkBuffer } from './sink-runner.js';

type Consumer = { kind: 'sink'; runner: SinkBuffer } | { kind: 'transform'; name: string; transform: Transform };

export interface TopologyOptions {
  log: Logger;
  metrics: AgentMetrics;
  exitWhenDrained?: boolean;
}

/**
 * Builds the pipeline from a validated config and moves batches through it. It knows
 * components only through the registries: sources → transforms → sinks, wired by `inputs`.
 * A batch fanned out to several consumers is acknowledged upstream once all of them did.
 */
export class Topology {
  private readonly sources = new Map<string, Source>();
  private readonly sinks = new Map<string, SinkBuffer>();
  private readonly consumers = new Map<string, Consumer[]>();
  /** Sink runners reachable from each component: whose room a source waits for. */
  private readonly reach = new Map<string, SinkBuffer[]>();

  constructor(private readonly config: AgentConfig, private readonly opts: TopologyOptions) {}

  async build(): Promise<void> {
    const { log, metrics } = this.opts;
    const shared = new Map<string, unknown>();
    const base = (name: string) => ({ name, dataDir: this.config.data_dir, log: log.child({ component: name }), metrics, shared });
    for (const [name, cfg] of Object.entries(this.config.sinks)) {
      const sink = createSink(cfg, base(name));
      const disk = cfg.disk_buffer;
      if (disk) {
        const buffer = await DiskBuffer.open({
          dir: join(this.config.data_dir, 'buffer', name), maxBytes: disk.max_bytes, segmentBytes: disk.segment_bytes,
          fsync: disk.fsync, fsyncIntervalMs: disk.fsync_interval,
        });
        this.sinks.set(name, new DiskSinkRunner(name, sink, buffer, { memoryBytes: cfg.buffer_max_bytes, batchMaxEvents: cfg.batch_max_events, whenFull: disk.when_full, retryMaxMs: cfg.retry_max_backoff }, log, metrics));
      } else {
        this.sinks.set(name, new SinkRunner(name, sink, { maxBytes: cfg.buffer_max_bytes, batchMaxEvents: cfg.batch_max_events, whenFull: cfg.when_full, retryMaxMs: cfg.retry_max_backoff }, log, metrics));
      }
      for (const input of cfg.inputs) this.addConsumer(input, { kind: 'sink', runner: this.sinks.get(name)! });
    }
    for (const [name, cfg] of Object.entries(this.config.transforms)) {
      const transform = createTransform(cfg, base(name));
      this.transforms.push(transform);
      for (const input of cfg.inputs) this.addConsumer(input, { kind: 'transform', name, transform });
    }
    for (const [name, cfg] of Object.entries(this.config.sources)) {
      const ctx: SourceContext = {
        ...base(name),
        exitWhenDrained: this.opts.exitWhenDrained ?? false,
        emit: (batch) => this.route(name, batch),
        waitForRoom: () => this.waitForRoom(name),
      };
      this.sources.set(name, await createSource(cfg, ctx));
    }
  }

  private addConsumer(input: string, c: Consumer): void {
    const list = this.consumers.get(input) ?? [];
    list.push(c);
    this.consumers.set(input, list);
  }

  private reachable(name: string, seen = new Set<string>()): SinkBuffer[] {
    const cached = this.reach.get(name);
    if (cached) return cached;
    const out = new Set<SinkBuffer>();
    seen.add(name);
    for (const c of this.consumers.get(name) ?? []) {
      if (c.kind === 'sink') out.add(c.runner);
      else if (!seen.has(c.name)) for (const r of this.reachable(c.name, seen)) out.add(r);
    }
    const list = [...out];
    this.reach.set(name, list);
    return list;
  }

  private route(from: string, batch: EventBatch): void {
    const consumers = this.consumers.get(from) ?? [];
    batch.expect(consumers.length);
    for (const c of consumers) {
      if (c.kind === 'sink') {
        c.runner.enqueue(batch);
        continue;
      }
      const out = c.transform.process(batch);
      if (out === null) batch.ack();
      // The transform's output waits for the transform's own consumers, then acks the input.
      else this.route(c.name, new EventBatch(out.source, out.events, () => batch.ack()));
    }
  }

  private async waitForRoom(source: string): Promise<void> {
    // A stop must not wait for room that a dead receiver will never make.
    for (const r of this.reachable(source)) while (!r.hasRoom && !this.stopping) await Promise.race([r.waitRoom(), this.stopped]);
  }

  private stopping = false;
  private signalStop: () => void = () => undefined;
  private readonly stopped = new Promise<void>((r) => { this.signalStop = r; });

  private readonly transforms: Transform[] = [];

  async start(): Promise<void> {
    for (const t of this.transforms) await t.start?.();
    // Together: a source's start includes its first scan, which takes seconds on a busy node.
    // One after another, a second source (in-pod files, a second log root) would not look at
    // its files meanwhile, and files rotated and deleted then would be lost without a report.
    await Promise.all([...this.sources.values()].map((s) => s.start()));
  }

  /** Resolves when every source read all its inputs to the end and every sink delivered it. */
  async drained(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.drained()));
    await Promise.all([...this.sinks.values()].map((r) => r.idle()));
  }

  /**
   * Graceful stop: stop reading, let sinks deliver what is buffered within the grace period,
   * then persist checkpoints (which cover only what was acknowledged).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.signalStop();
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
    const idle = Promise.all([...this.sinks.values()].map((r) => r.idle()));
    let timer: NodeJS.Timeout | undefined;
    const expired = await Promise.race([
      idle.then(() => false),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(true), graceMs); }),
    ]);
    clearTimeout(timer);
    if (expired) {
      this.opts.log.warn({ graceMs }, 'shutdown grace expired with undelivered events; they will be re-read after restart');
      for (const r of this.sinks.values()) r.abandon();
    }
    await Promise.all([...this.sources.values()].map((s) => s.close()));
    for (const r of this.sinks.values()) {
      await r.idle();
      await r.stop();
    }
    for (const t of this.transforms) await t.stop?.();
  }
}
