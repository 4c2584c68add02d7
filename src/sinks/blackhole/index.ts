import { z } from 'zod';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { sinkCommon } from '../shared/common.js';

export const blackholeSinkSchema = z.strictObject({
  type: z.literal('blackhole'),
  ...sinkCommon,
});
export type BlackholeSinkConfig = z.infer<typeof blackholeSinkSchema>;

/** Discards and acknowledges everything: measures the pipeline without output cost. */
export class BlackholeSink implements Sink {
  constructor(_cfg: BlackholeSinkConfig, private readonly ctx: ComponentContext) {}

  async write(batches: EventBatch[]): Promise<void> {
    let n = 0;
    for (const b of batches) n += b.events.length;
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, n);
  }

  async stop(): Promise<void> {}
}
