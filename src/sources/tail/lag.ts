import type { SourceContext } from '../../core/component.js';
import type { Tailer } from './tailer.js';

/** Sets the source's checkpoint lag gauges from its open tailers (called on each rescan). */
export function reportLag(ctx: SourceContext, tailers: Iterable<Tailer>, now = Date.now()): void {
  let bytes = 0;
  let oldest: number | null = null;
  for (const t of tailers) {
    const l = t.lag();
    bytes += l.bytes;
    if (l.since !== null && (oldest === null || l.since < oldest)) oldest = l.since;
  }
  ctx.metrics.checkpointLagBytes.set({ component: ctx.name }, bytes);
  ctx.metrics.checkpointLagSeconds.set({ component: ctx.name }, oldest === null ? 0 : (now - oldest) / 1000);
}
