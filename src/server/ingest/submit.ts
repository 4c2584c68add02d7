import type { ServerContext } from '../context.js';
import { withDetectedLevel } from './level.js';
import type { IngestResult, IngestStream, SubmitOptions } from './writer.js';

/**
 * Writes streams through the single writer and, when someone tails this tenant, publishes
 * them live. Every ingest route (Loki, native, Elasticsearch) goes through here.
 */
export async function ingest(ctx: ServerContext, tenant: string, streams: IngestStream[], opts: SubmitOptions = {}): Promise<IngestResult> {
  const result = await ctx.writer.submit(tenant, streams, opts);
  if (ctx.hub.hasSubscribers(tenant)) {
    // Live lines carry the metadata stored with them, so `| detected_level="error"` and
    // level colouring work the same live as in a query.
    const detect = ctx.config.ingest.detect_level;
    ctx.hub.publish(tenant, streams.flatMap((s) => s.entries.map((e) => ({
      tsNs: e.tsNs, labels: s.labels, line: e.line, metadata: detect ? withDetectedLevel(e.line, s.labels, e.metadata) : e.metadata,
    }))));
  }
  return result;
}
