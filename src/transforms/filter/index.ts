import { z } from 'zod';
import { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Transform } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import { regexString as regex } from '../../config/schema-helpers.js';

export const filterTransformSchema = z.strictObject({
  type: z.literal('filter'),
  inputs: z.array(z.string().min(1)).min(1),
  /** Keep only lines matching at least one of these (when given). */
  include_lines: z.array(regex).default([]),
  /** Drop lines matching any of these. */
  exclude_lines: z.array(regex).default([]),
  streams: z.array(z.enum(['stdout', 'stderr'])).default(['stdout', 'stderr']),
});
export type FilterTransformConfig = z.infer<typeof filterTransformSchema>;

/** Drops events by line content or stream. Every drop is counted. */
export class FilterTransform implements Transform {
  private readonly include: RegExp | null;
  private readonly exclude: RegExp | null;
  private readonly stdout: boolean;
  private readonly stderr: boolean;

  constructor(cfg: FilterTransformConfig, private readonly ctx: ComponentContext) {
    // One alternation instead of a loop of regexes per line.
    this.include = cfg.include_lines.length ? new RegExp(cfg.include_lines.map((r) => `(?:${r})`).join('|')) : null;
    this.exclude = cfg.exclude_lines.length ? new RegExp(cfg.exclude_lines.map((r) => `(?:${r})`).join('|')) : null;
    this.stdout = cfg.streams.includes('stdout');
    this.stderr = cfg.streams.includes('stderr');
  }

  private keep(ev: LogEvent): boolean {
    if (ev.stream === 'stdout' ? !this.stdout : !this.stderr) return false;
    if (this.include && !this.include.test(ev.line)) return false;
    if (this.exclude && this.exclude.test(ev.line)) return false;
    return true;
  }

  process(batch: EventBatch): EventBatch | null {
    const kept = batch.events.filter((ev) => this.keep(ev));
    const dropped = batch.events.length - kept.length;
    if (dropped > 0) this.ctx.metrics.transformDropped.inc({ component: this.ctx.name }, dropped);
    if (kept.length === 0) return null;
    return dropped === 0 ? batch : new EventBatch(batch.source, kept);
  }
}
