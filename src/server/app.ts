import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { Logger } from '../core/logger.js';
import type { StoreEngine } from '../store/engine.js';
import { Authenticator } from './auth.js';
import type { ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { IngestWriter } from './ingest/writer.js';
import { esRoot, registerElasticsearchRoutes, wantsPage } from './routes/elasticsearch.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerOtlpRoutes } from './routes/otlp.js';
import { registerPushRoutes } from './routes/push.js';
import { registerQueryRoutes } from './routes/query.js';
import { registerTailRoute } from './routes/tail.js';
import { registerUiRoutes } from './routes/ui.js';
import { TailHub } from './tail-hub.js';
import { ServerMetrics } from './metrics.js';

export const VERSION = '0.1.0';

/**
 * The store's HTTP application: Loki-compatible ingest and query API, Loggy's native push,
 * an Elasticsearch-compatible `_bulk` ingest and OTLP/HTTP logs. Request bodies arrive as raw
 * Buffers (push decoders handle encodings themselves) with the configured size limit; errors
 * answer in plain text with the status they carry (JSON in Elasticsearch's shape on its API,
 * google.rpc.Status on OTLP's).
 */
export async function buildServer(config: ServerConfig, engine: StoreEngine, log: Logger, opts: { processMetrics?: boolean } = {}): Promise<{ app: FastifyInstance; ctx: ServerContext }> {
  const app = Fastify({ logger: false, bodyLimit: config.limits.max_body_bytes });
  await app.register(websocket);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const writer = new IngestWriter(engine, {
    maxLineBytes: config.limits.max_line_bytes,
    rejectOlderThanMs: config.limits.reject_older_than,
    rejectNewerThanMs: config.limits.reject_newer_than,
    maxPending: config.limits.max_pending_pushes,
    detectLevel: config.ingest.detect_level,
  });
  const ctx: ServerContext = {
    config,
    engine,
    log,
    auth: new Authenticator(config.auth),
    hub: new TailHub(),
    writer,
    metrics: new ServerMetrics(writer, opts.processMetrics ?? false),
  };
  if (config.metrics.enabled) ctx.metrics.instrument(app);

  app.setErrorHandler((e, _req, reply) => {
    const err = e instanceof Error ? e : new Error(String(e));
    if (err instanceof HttpError) {
      return reply.code(err.status).headers(err.headers).type('text/plain; charset=utf-8').send(err.message + '\n');
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      const msg = status === 413 ? `request body over ${config.limits.max_body_bytes} bytes` : err.message;
      return reply.code(status).type('text/plain; charset=utf-8').send(msg + '\n');
    }
    log.error({ err: err.message, stack: err.stack }, 'request failed');
    return reply.code(500).type('text/plain; charset=utf-8').send(`internal error: ${err.message}\n`);
  });
  // The path only: a query string may hold a token (the tail socket's ?token=).
  app.setNotFoundHandler((req, reply) => reply.code(404).type('text/plain').send(`not found: ${req.method} ${req.url.split('?')[0]}\n`));

  registerPushRoutes(app, ctx);
  await registerOtlpRoutes(app, ctx);
  registerQueryRoutes(app, ctx);
  registerMetaRoutes(app, ctx);
  registerTailRoute(app, ctx);
  const rootOwnedByUi = await registerUiRoutes(app, ctx, { wantsPage, handler: esRoot });
  await registerElasticsearchRoutes(app, ctx, { rootOwnedByUi });

  app.get('/ready', async (_req, reply) => reply.type('text/plain').send('ready\n'));
  app.get('/loki/api/v1/status/buildinfo', async () => ({
    version: VERSION, revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '', loggy: true,
  }));
  return { app, ctx };
}
