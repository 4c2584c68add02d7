import { z } from 'zod';
import type { Writable } from 'node:stream';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import type { EventSource, LogEvent } from '../../core/event.js';
import { sinkCommon } from '../shared/common.js';
import { eventToJson } from '../shared/ndjson.js';

export const consoleSinkSchema = z.strictObject({
  type: z.literal('console'),
  ...sinkCommon,
  /** text: `namespace/pod/container [stream]: line`, as the seed's Loggy printed; json: NDJSON. */
  format: z.enum(['text', 'json']).default('text'),
  target: z.enum(['stdout', 'stderr']).default('stdout'),
});
export type ConsoleSinkConfig = z.infer<typeof consoleSinkSchema>;

function textLine(ev: LogEvent, source: EventSource): string {
  const l = source.labels;
  const who = l.namespace !== undefined ? `${l.namespace}/${l.pod}/${l.container}` : (l.file ?? source.id);
  return `${who} [${ev.stream}]: ${ev.line}`;
}

/** Prints events; honours the stream's backpressure so a slow terminal pauses the tailers. */
export class ConsoleSink implements Sink {
  private readonly out: Writable;

  constructor(private readonly cfg: ConsoleSinkConfig, private readonly ctx: ComponentContext, out?: Writable) {
    this.out = out ?? (cfg.target === 'stderr' ? process.stderr : process.stdout);
  }

  async write(batches: EventBatch[]): Promise<void> {
    const fmt = this.cfg.format === 'json' ? eventToJson : textLine;
    const parts: string[] = [];
    let n = 0;
    for (const b of batches) {
      for (const ev of b.events) parts.push(fmt(ev, b.source));
      n += b.events.length;
    }
    if (n === 0) return;
    parts.push('');
    const text = parts.join('\n');
    await new Promise<void>((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve()));
    });
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, n);
  }

  async stop(): Promise<void> {}
}
