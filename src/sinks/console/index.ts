import picomatch from 'picomatch';
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
  /** text: `namespace/pod/container [stream]: line`, as the seed's Loggy printed; json: NDJSON; line: the line alone (a streaming sidecar). */
  format: z.enum(['text', 'json', 'line']).default('text'),
  target: z.enum(['stdout', 'stderr']).default('stdout'),
  /** With format line: put `<file>: ` before each line. */
  prefix_file: z.boolean().default(false),
  /** Lines from files matching these globs go to stderr instead (e.g. an error log next to an access log). */
  stderr_files: z.array(z.string().min(1)).default([]),
});
export type ConsoleSinkConfig = z.infer<typeof consoleSinkSchema>;

function textLine(ev: LogEvent, source: EventSource): string {
  const l = source.labels;
  const who = l.namespace !== undefined ? `${l.namespace}/${l.pod}/${l.container}` : (l.file ?? source.id);
  return `${who} [${ev.stream}]: ${ev.line}`;
}

function bareLine(ev: LogEvent): string {
  return ev.line;
}

function fileLine(ev: LogEvent, source: EventSource): string {
  return `${source.labels.file ?? source.id}: ${ev.line}`;
}

function write(to: Writable, parts: string[]): Promise<void> {
  if (parts.length === 0) return Promise.resolve();
  parts.push('');
  const text = parts.join('\n');
  return new Promise<void>((resolve, reject) => {
    to.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** Prints events; honours the stream's backpressure so a slow terminal pauses the tailers. */
export class ConsoleSink implements Sink {
  private readonly out: Writable;

  private readonly err: Writable;
  private readonly toStderr: ((file: string) => boolean) | null;

  constructor(private readonly cfg: ConsoleSinkConfig, private readonly ctx: ComponentContext, out?: Writable, err?: Writable) {
    this.out = out ?? (cfg.target === 'stderr' ? process.stderr : process.stdout);
    this.err = err ?? process.stderr;
    this.toStderr = cfg.stderr_files.length ? picomatch(cfg.stderr_files, { dot: true }) : null;
  }

  async write(batches: EventBatch[]): Promise<void> {
    const fmt = this.cfg.format === 'json' ? eventToJson : this.cfg.format === 'line' ? (this.cfg.prefix_file ? fileLine : bareLine) : textLine;
    const parts: string[] = [];
    const errParts: string[] = [];
    let n = 0;
    for (const b of batches) {
      const file = b.source.labels.file;
      const into = this.toStderr && file !== undefined && this.toStderr(file) ? errParts : parts;
      for (const ev of b.events) into.push(fmt(ev, b.source));
      n += b.events.length;
    }
    if (n === 0) return;
    await Promise.all([write(this.out, parts), write(this.err, errParts)]);
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, n);
  }

  async stop(): Promise<void> {}
}
