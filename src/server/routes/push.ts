import type { FastifyInstance } from 'fastify';
import { decodePush, PushDecodeError } from '../../protocols/loki/index.js';
import { tenantOf, type ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { decodeBody } from '../ingest/body.js';
import { parseNativePush } from '../ingest/native.js';
import { ingest } from '../ingest/submit.js';
import type { IngestStream } from '../ingest/writer.js';

/** Ingest: Loki's push API (JSON and snappy protobuf) and Loggy's native push. */
export function registerPushRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { limits } = ctx.config;

  app.post('/loki/api/v1/push', async (req, reply) => {
    const tenant = tenantOf(ctx, req, 'write');
    const body = asBuffer(req.body);
    let streams: IngestStream[];
    try {
      const decoded = await decodePush(body, {
        contentType: req.headers['content-type'],
        contentEncoding: header(req.headers['content-encoding']),
      }, { maxEntries: limits.max_entries_per_push, maxLineBytes: limits.max_line_bytes, maxBytes: limits.max_body_bytes });
      streams = decoded.map((s) => ({ labels: s.labels, entries: s.entries }));
    } catch (err) {
      if (err instanceof PushDecodeError) throw new HttpError(err.status, err.message);
      throw err;
    }
    await ingest(ctx, tenant, streams);
    return reply.code(204).send();
  });

  app.post('/api/v1/push', async (req, reply) => {
    const tenant = tenantOf(ctx, req, 'write');
    const body = decodeBody(asBuffer(req.body), header(req.headers['content-encoding']), limits.max_body_bytes);
    const streams = parseNativePush(body, limits.max_entries_per_push);
    // Entries breaking a limit are refused one by one: the rest is written, and the answer
    // says which were refused and why, so the agent dead-letters exactly those.
    const result = await ingest(ctx, tenant, streams, { partial: true });
    return reply.code(200).send(result);
  });
}

function asBuffer(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  throw new HttpError(400, 'request body is missing');
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
