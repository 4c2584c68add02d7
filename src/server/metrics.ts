import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IngestWriter } from './ingest/writer.js';

/**
 * The store's own metrics at GET /metrics (Prometheus text format): ingest outcomes, the
 * writer's queue and commits, HTTP requests by route and status, live-tail clients. Counts
 * only, never tenant names or log content, so it is served without a token (as Loki's is);
 * `metrics.enabled: false` turns it off.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'loggy_server_http_requests_total', help: 'HTTP requests by route (the pattern, not the URL), method and status', labelNames: ['route', 'method', 'status'], registers: [this.registry] });
  readonly duration = new Histogram({
    name: 'loggy_server_http_request_duration_seconds', help: 'Time to answer, by route; a tail socket counts until it is accepted', labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  readonly tailClients = new Gauge({ name: 'loggy_server_tail_clients', help: 'Open live-tail WebSockets', registers: [this.registry] });

  /** `processMetrics`: the process's own figures (once per process: not for in-process test servers). */
  constructor(writer: IngestWriter, processMetrics: boolean) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    // Read from the writer's own counters when scraped: no second count to keep in step.
    new Counter({
      name: 'loggy_server_ingest_entries_total', help: 'Log entries pushed: accepted (stored), duplicate (a replay already stored), rejected (refused on their own: too old, too long, invalid OTLP record)',
      labelNames: ['result'], registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ result: 'accepted' }, writer.accepted);
        this.inc({ result: 'duplicate' }, writer.duplicates);
        this.inc({ result: 'rejected' }, writer.rejected);
      },
    });
    const total = (name: string, help: string, read: () => number) => new Counter({
      name, help, registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
    total('loggy_server_ingest_refused_requests_total', 'Push requests answered 429 because the ingest queue was full', () => writer.refusedFull);
    total('loggy_server_ingest_commits_total', 'Engine transactions committed by the ingest writer (requests per commit = grouped / commits)', () => writer.commits);
    total('loggy_server_ingest_grouped_requests_total', 'Push requests those commits held', () => writer.grouped);
    new Gauge({
      name: 'loggy_server_ingest_queue_requests', help: 'Push requests waiting for the engine', registers: [this.registry],
      collect() {
        this.set(writer.queued);
      },
    });
  }

  /** Counts every answer by its route pattern; GET /metrics itself included. */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
      this.duration.observe({ route }, reply.elapsedTime / 1000);
    });
    app.get('/metrics', async (_req, reply) => reply.type(this.registry.contentType).send(await this.registry.metrics()));
  }
}
