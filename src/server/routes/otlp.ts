import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { nowNs } from '../../core/time.js';
import {
  decodeLogsRequest, encodeLogsResponse, encodeStatus, mapLogsRequest, OTLP_CONTENT_TYPE, OtlpDecodeError, otlpEncodingOf, type OtlpEncoding, type OtlpLogStream, type OtlpMapped,
} from '../../protocols/otlp/index.js';
import { tenantOf, type ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { decodeBody } from '../ingest/body.js';
import { ingest } from '../ingest/submit.js';
import type { IngestStream } from '../ingest/writer.js';

/**
 * OTLP/HTTP logs ingest: `POST /otlp/v1/logs` (where Grafana Loki serves it, so an OTel
 * Collector's `otlphttp` exporter with `endpoint: http://loggy:3100/otlp` works unchanged) and
 * `POST /v1/logs` (an exporter pointed at the store's root). Protobuf or JSON by Content-Type,
 * gzip/deflate/br by Content-Encoding, within `limits.max_body_bytes` and
 * `limits.max_entries_per_push`; the same tokens and X-Scope-OrgID as the other ingest APIs.
 *
 * Records are mapped by the rule in protocols/otlp/map.ts, shared with the agent's otlp
 * source. Invalid records, and records breaking a limit (too old, too long), are refused alone:
 * 200 with `partial_success` saying how many and why, which OTLP clients must not retry. Other
 * errors answer a google.rpc.Status in the request's encoding (JSON when it has none), as the
 * OTLP/HTTP spec requires; a full ingest queue answers 429 with Retry-After.
 */
export async function registerOtlpRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { limits } = ctx.config;
  const labelAttributes: ReadonlySet<string> = new Set(ctx.config.ingest.otlp_label_attributes);
  await app.register(async (otlp) => {
    otlp.setErrorHandler((e, req, reply) => {
      const err = e instanceof Error ? e : new Error(String(e));
      const status = err instanceof HttpError ? err.status : ((err as { statusCode?: number }).statusCode ?? 500);
      if (status >= 500) ctx.log.error({ err: err.message, stack: err.stack }, 'otlp request failed');
      const message = status === 413 && !(err instanceof HttpError) ? `request body over ${limits.max_body_bytes} bytes` : err.message;
      const enc = otlpEncodingOf(req.headers['content-type']) ?? 'json';
      return reply.code(status).headers(err instanceof HttpError ? err.headers : {}).type(OTLP_CONTENT_TYPE[enc]).send(encodeStatus(enc, status, message));
    });

    const logs = async (req: FastifyRequest, reply: FastifyReply) => {
      const tenant = tenantOf(ctx, req, 'write');
      const encoding = otlpEncodingOf(req.headers['content-type']);
      if (encoding === null) {
        throw new HttpError(415, `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: application/x-protobuf or application/json`);
      }
      if (!Buffer.isBuffer(req.body)) throw new HttpError(400, 'request body is required');
      const enc = req.headers['content-encoding'];
      const body = decodeBody(req.body, Array.isArray(enc) ? enc[0] : enc, limits.max_body_bytes);
      let mapped: OtlpMapped;
      try {
        mapped = mapLogsRequest(decodeLogsRequest(body, encoding, { maxRecords: limits.max_entries_per_push }), { nowNs: nowNs(), labelAttributes });
      } catch (err) {
        if (err instanceof OtlpDecodeError) throw new HttpError(err.status, err.message);
        throw err;
      }
      const streams = toStreams(mapped.streams);
      let rejected = mapped.rejected;
      const reasons = mapped.message ? [mapped.message] : [];
      if (rejected > 0) ctx.writer.countRefused(rejected);
      if (streams.length > 0) {
        const result = await ingest(ctx, tenant, streams, { partial: true });
        const limited = result.rejected ?? [];
        if (limited.length > 0) {
          rejected += limited.length;
          reasons.push(`${limited.length} log record${limited.length === 1 ? '' : 's'} refused by the store's limits: ${limited[0]!.reason}`);
        }
      }
      return answer(reply, encoding, rejected, reasons.join('; '));
    };
    otlp.post('/otlp/v1/logs', logs);
    otlp.post('/v1/logs', logs);
  });
}

function answer(reply: FastifyReply, encoding: OtlpEncoding, rejected: number, message: string): FastifyReply {
  return reply.code(200).type(OTLP_CONTENT_TYPE[encoding]).send(encodeLogsResponse(encoding, rejected, message));
}

/**
 * Mapped streams as the writer takes them. The record's stream (log.iostream) becomes the
 * `stream` label, as the native push's agent sends it, so one file's lines carry the same
 * labels whichever way they came; flags become `loggy_flags` metadata, as there.
 */
function toStreams(mapped: readonly OtlpLogStream[]): IngestStream[] {
  const out: IngestStream[] = [];
  for (const s of mapped) {
    const byStream = new Map<string, IngestStream>();
    for (const l of s.lines) {
      const key = l.stream ?? '';
      let st = byStream.get(key);
      if (!st) {
        const labels = l.stream ? Object.assign(Object.create(null) as Record<string, string>, s.labels, { stream: l.stream }) : s.labels;
        byStream.set(key, (st = { labels, entries: [] }));
        out.push(st);
      }
      let metadata: Record<string, string> | undefined = l.fields;
      if (l.flags.length > 0) metadata = Object.assign(Object.create(null) as Record<string, string>, l.fields, { loggy_flags: l.flags.join(',') });
      st.entries.push({ tsNs: l.tsNs, line: l.line, metadata: Object.keys(metadata).length > 0 ? metadata : undefined });
    }
  }
  return out;
}
