import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { SourceContext } from '../../core/component.js';
import { EventFlags, type LogEvent } from '../../core/event.js';
import { formatRfc3339Nano, nowNs } from '../../core/time.js';
import {
  decodeLogsRequest, encodeLogsResponse, encodeStatus, mapLogsRequest, OTLP_CONTENT_TYPE, OtlpDecodeError, otlpEncodingOf, type OtlpEncoding, type OtlpLogLine, type OtlpMapped,
} from '../../protocols/otlp/index.js';
import { readBody } from '../shared/body.js';
import { HttpPushSource, httpPushCommon } from '../shared/http-push-source.js';
import { capLine } from '../shared/line-cap.js';
import type { PushGroup } from '../shared/push-emitter.js';
import { closesConnection, Refusal, shuttingDown } from '../shared/refusal.js';
import { checkBearer, checkBodyHeaders } from '../shared/request-checks.js';

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a label name: letters, digits and "_", not starting with a digit');

export const otlpSourceSchema = z.strictObject({
  type: z.literal('otlp'),
  /**
   * host:port to listen on; OTLP/HTTP's port by default. Loopback: the endpoint accepts logs from
   * anyone who can reach it, so exposing it is a choice to make with `token` set.
   */
  address: z.string().regex(/^[^:]*:\d+$/, 'expected "host:port"').default('127.0.0.1:4318'),
  /** Added to every event; the resource's attributes override them. */
  labels: z.record(labelName, z.string()).default({}),
  /** Resource attributes to keep as labels besides the built-in list (e.g. host.name for VMs); the others become fields. */
  label_attributes: z.array(z.string().min(1)).default([]),
  /** max_body_bytes, max_line_bytes, token, ack (200 when acknowledged), ack_timeout, backpressure_wait. */
  ...httpPushCommon,
});
export type OtlpSourceConfig = z.infer<typeof otlpSourceSchema>;

const PATH = '/v1/logs';

/**
 * OTLP/HTTP logs receiver: what OpenTelemetry SDKs and Collectors export (`POST /v1/logs`,
 * protobuf or JSON, gzip or not) enters the pipeline as log events, mapped by the rule in
 * protocols/otlp/map.ts (resource attributes → labels, body → line, record attributes and
 * severity → fields).
 *
 * Answers follow the OTLP/HTTP spec, and the http source's guarantees: a request is answered
 * 200 (an ExportLogsServiceResponse in the request's encoding) only once every sink delivered
 * its records or wrote them to a disk buffer; invalid records are refused alone and reported in
 * `partial_success` (which the spec forbids clients to retry), an unreadable body gets 400,
 * and 429/503 carry Retry-After, which OTLP exporters honour. Errors are google.rpc.Status
 * bodies.
 */
export class OtlpSource extends HttpPushSource {
  private readonly labelAttributes: ReadonlySet<string>;

  constructor(private readonly cfg: OtlpSourceConfig, ctx: SourceContext) {
    super('otlp', cfg, ctx);
    this.labelAttributes = new Set(cfg.label_attributes);
  }

  protected path(): string {
    return PATH;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const encoding = otlpEncodingOf(req.headers['content-type']);
    try {
      const body = await this.accept(req, encoding);
      this.count('accepted');
      res.writeHead(200, { 'content-type': OTLP_CONTENT_TYPE[encoding!] }).end(body);
    } catch (err) {
      const r = err instanceof Refusal ? err : new Refusal(500, (err as Error).message, 'error');
      this.count(r.reason);
      if (r.status >= 500 && r.reason === 'error') this.ctx.log.warn({ err: r.message }, 'otlp source request failed');
      const enc = encoding ?? 'json';
      const close = closesConnection(r.status);
      res.writeHead(r.status, { 'content-type': OTLP_CONTENT_TYPE[enc], ...(close ? { connection: 'close' } : {}), ...r.headers }).end(encodeStatus(enc, r.status, r.message));
      if (close) res.once('finish', () => req.destroy());
      else req.resume();
    }
  }

  /** Takes a request and returns the success body, or throws a Refusal. */
  private async accept(req: IncomingMessage, encoding: OtlpEncoding | null): Promise<Buffer> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== PATH) throw new Refusal(404, `not found: this receiver takes logs at POST ${PATH}`, 'not_found');
    if (req.method !== 'POST') throw new Refusal(405, `method ${req.method} not allowed: POST`, 'method', { allow: 'POST' });
    checkBearer(req, this.token);
    if (this.stopping) throw shuttingDown();
    if (encoding === null) {
      throw new Refusal(415, `content-type ${JSON.stringify(req.headers['content-type'] ?? '')} not supported: application/x-protobuf or application/json`, 'content_type');
    }
    const { gzip } = checkBodyHeaders(req, this.cfg.max_body_bytes);

    // Room first, then read (see RoomGate).
    await this.room.wait();
    if (this.stopping) throw shuttingDown();

    const body = await readBody(req, gzip, this.cfg.max_body_bytes);
    let mapped: OtlpMapped;
    try {
      mapped = mapLogsRequest(decodeLogsRequest(body, encoding), { nowNs: nowNs(), baseLabels: this.cfg.labels, labelAttributes: this.labelAttributes });
    } catch (err) {
      if (err instanceof OtlpDecodeError) throw new Refusal(err.status, err.message, err.status === 413 ? 'too_large' : 'invalid');
      throw err;
    }
    if (this.stopping) throw shuttingDown();

    const groups: PushGroup[] = mapped.streams.map((s) => ({ labels: s.labels, events: s.lines.map((l) => this.event(l)) }));
    const { acks, events } = this.emitter.emit(groups);
    this.ctx.metrics.eventsIn.inc({ component: this.ctx.name }, events);
    this.ctx.metrics.bytesIn.inc({ component: this.ctx.name }, body.length);
    if (mapped.rejected > 0) {
      this.ctx.metrics.sourceRejected.inc({ component: this.ctx.name, reason: 'invalid' }, mapped.rejected);
      this.ctx.log.debug({ rejected: mapped.rejected, err: mapped.message }, 'otlp source refused log records');
    }
    if (this.cfg.ack) await this.acks.wait(acks);
    return encodeLogsResponse(encoding, mapped.rejected, mapped.message);
  }

  private event(l: OtlpLogLine): LogEvent {
    const { line, flags: cut } = capLine(l.line, this.cfg.max_line_bytes, this.ctx);
    const flags = flagBits(l.flags) | cut;
    const ev: LogEvent = { ts: formatRfc3339Nano(l.tsNs), stream: l.stream ?? 'stdout', line, flags, offset: 0 };
    // A plain object: fields travel through sinks that spread and serialize them.
    if (Object.keys(l.fields).length > 0) ev.fields = { ...l.fields };
    return ev;
  }

}

/** `loggy.flags` names (as the sinks write them: truncated, parse_failed, ...) back to EventFlags bits; unknown names are ignored. */
function flagBits(names: readonly string[]): number {
  let bits = 0;
  for (const n of names) {
    const key = n.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
    if (Object.hasOwn(EventFlags, key)) bits |= EventFlags[key as keyof typeof EventFlags];
  }
  return bits;
}
