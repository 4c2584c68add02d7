import { appendFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEvent } from '../../core/event.js';
import type { ComponentContext } from '../../core/component.js';

/** An event a receiver refused, with what it came from. */
export interface DeadEvent {
  labels: Readonly<Record<string, string>>;
  event: LogEvent;
}

/**
 * Events a receiver refused for good (a 4xx no retry can fix) are kept here with the reason,
 * one JSON object per line, so they can be inspected and replayed by hand, instead of being
 * retried forever (which would stall every file behind them) or vanishing.
 *
 * The file is capped: past `maxBytes`, further refusals are counted
 * (`loggy_dead_letter_dropped_events_total`) and logged, and the oldest evidence is kept.
 */
export class DeadLetterFile {
  readonly path: string;
  private size: number | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: ComponentContext, private readonly maxBytes: number) {
    this.path = join(ctx.dataDir, 'dead-letter', `${ctx.name}.ndjson`);
  }

  /** Appends the events with the receiver's status and reason. Never throws. */
  write(events: readonly DeadEvent[], status: number, reason: string): Promise<void> {
    this.chain = this.chain.then(() => this.append(events, status, reason));
    return this.chain;
  }

  private async append(events: readonly DeadEvent[], status: number, reason: string): Promise<void> {
    const { metrics, log, name } = this.ctx;
    const time = new Date().toISOString();
    const text = events.map(({ labels, event }) =>
      JSON.stringify({ time, sink: name, status, reason, labels, ts: event.ts, stream: event.stream, line: event.line, offset: event.offset })).join('\n') + '\n';
    const bytes = Buffer.byteLength(text);
    try {
      if (this.size === null) {
        await mkdir(join(this.ctx.dataDir, 'dead-letter'), { recursive: true });
        this.size = (await stat(this.path).catch(() => null))?.size ?? 0;
      }
      if (this.size + bytes > this.maxBytes) {
        metrics.deadLetterDropped.inc({ component: name }, events.length);
        log.error({ sink: name, events: events.length, status, reason, file: this.path, maxBytes: this.maxBytes }, 'dead-letter file is full; refused events dropped');
        return;
      }
      await appendFile(this.path, text);
      this.size += bytes;
      metrics.deadLettered.inc({ component: name }, events.length);
      log.error({ sink: name, events: events.length, status, reason, file: this.path }, 'batch refused by the receiver; events written to the dead-letter file');
    } catch (err) {
      metrics.deadLetterDropped.inc({ component: name }, events.length);
      log.error({ sink: name, events: events.length, status, reason, err: (err as Error).message }, 'cannot write the dead-letter file; refused events dropped');
    }
  }
}
