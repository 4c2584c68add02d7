import type { FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.js';
import type { StoreEngine } from '../store/engine.js';
import type { Authenticator, Right } from './auth.js';
import type { ServerConfig } from './config.js';
import type { IngestWriter } from './ingest/writer.js';
import type { ServerMetrics } from './metrics.js';
import type { TailHub } from './tail-hub.js';

/** What every route gets: the engine, the writer in front of it, auth and limits. */
export interface ServerContext {
  readonly config: ServerConfig;
  readonly engine: StoreEngine;
  readonly writer: IngestWriter;
  readonly auth: Authenticator;
  readonly hub: TailHub;
  readonly log: Logger;
  readonly metrics: ServerMetrics;
}

/** `fallbackAuthorization` is used only when the request has no Authorization header. */
export function tenantOf(ctx: ServerContext, req: FastifyRequest, right: Right, fallbackAuthorization?: string): string {
  const org = req.headers['x-scope-orgid'];
  return ctx.auth.tenantFor(req.headers.authorization ?? fallbackAuthorization, Array.isArray(org) ? org[0] : org, right);
}
