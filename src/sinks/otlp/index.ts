import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import type { EventSource, LogEvent } from '../../core/event.js';
import { nowNs, parseRfc3339Nano } from '../../core/time.js';
import { flagList } from '../shared/ndjson.js';
import { sinkCommon } from '../shared/common.js';
import { authHeaders, deliverBatches, httpSinkCommon, post, type SinkItem } from '../shared/http.js';
import { DeadLetterFile } from '../shared/dead-letter.js';
import { tlsDispatcher, type TlsPool } from '../../core/tls.js';
import type { ExportLogsRequest, KeyValue, LogRecord, ResourceLogs } from '../../protocols/otlp/json-types.js';
import { otlpLogsTypes } from '../../protocols/otlp/proto.js';
import {
  FLAGS_ATTRIBUTE, GENERIC_WORKLOAD, IMAGE_NAME_ATTRIBUTE, IMAGE_TAGS_ATTRIBUTE, IOSTREAM_ATTRIBUTE, LABEL_TO_ATTRIBUTE, LOGGY_SCOPE,
  RESTART_ATTRIBUTE, SEVERITY_NUMBER, WORKLOAD_ATTRIBUTE,
} from '../../protocols/otlp/semconv.js';

export const otlpSinkSchema = z.strictObject({
  type: z.literal('otlp'),
  ...sinkCommon,
  ...httpSinkCommon,
  /** Base URL of an OTLP/HTTP receiver (port 4318 by convention); `/v1/logs` is appended. */
  endpoint: z.string().url(),
  /** protobuf (application/x-protobuf, the OTLP default) | json (OTLP's JSON mapping). */
  encoding: z.enum(['protobuf', 'json']).default('protobuf'),
});
export type OtlpSinkConfig = z.infer<typeof otlpSinkSchema>;

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/**
 * A source's labels as resource attributes: Kubernetes labels under their semantic-convention
 * names, the image split into `container.image.name` and `container.image.tags`, `service.name`
 * from the app labels or the workload; other labels (pod labels, annotations, file sources'
 * labels) kept under their own names.
 */
export function resourceAttributes(labels: Readonly<Record<string, string>>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (v === '') continue;
    const attr = Object.hasOwn(LABEL_TO_ATTRIBUTE, k) ? LABEL_TO_ATTRIBUTE[k] : undefined;
    if (attr) out.push(str(attr, v));
    else if (k === 'restart') out.push({ key: RESTART_ATTRIBUTE, value: { intValue: String(Number.parseInt(v, 10) || 0) } });
    else if (k === 'workload_kind') continue;
    else if (k === 'workload') out.push(str(WORKLOAD_ATTRIBUTE[labels.workload_kind ?? ''] ?? GENERIC_WORKLOAD, v));
    else if (k === 'image') {
      const { name, tag } = splitImage(v);
      out.push(str(IMAGE_NAME_ATTRIBUTE, name));
      if (tag) out.push({ key: IMAGE_TAGS_ATTRIBUTE, value: { arrayValue: { values: [{ stringValue: tag }] } } });
    } else out.push(str(k, v));
  }
  const service = labels.label_app_kubernetes_io_name || labels.label_app || labels.workload || labels.container;
  if (service) out.push(str('service.name', service));
  return out;
}

/** `registry:5000/team/app:1.2@sha256:…` → name `registry:5000/team/app`, tag `1.2`. */
export function splitImage(image: string): { name: string; tag?: string } {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref };
}

const HEX32 = /^[0-9a-f]{32}$/i;
const HEX16 = /^[0-9a-f]{16}$/i;

export function logRecord(ev: LogEvent, observedNs: bigint): LogRecord {
  const attributes: KeyValue[] = [str(IOSTREAM_ATTRIBUTE, ev.stream)];
  const rec: LogRecord = {
    timeUnixNano: (parseRfc3339Nano(ev.ts) ?? observedNs).toString(),
    observedTimeUnixNano: observedNs.toString(),
    body: { stringValue: ev.line },
    attributes,
  };
  const f = ev.fields;
  if (f) {
    const level = f.level;
    if (level !== undefined) {
      rec.severityText = level;
      const n = SEVERITY_NUMBER[level.trim().toLowerCase()];
      if (n) rec.severityNumber = n;
    }
    for (const [k, v] of Object.entries(f)) {
      // A W3C trace context in the fields goes where OTLP keeps it.
      if ((k === 'trace_id' || k === 'traceId') && HEX32.test(v)) rec.traceId = v.toLowerCase();
      else if ((k === 'span_id' || k === 'spanId') && HEX16.test(v)) rec.spanId = v.toLowerCase();
      else if (k !== 'level') attributes.push(str(k, v));
    }
  }
  if (ev.flags !== 0) attributes.push(str(FLAGS_ATTRIBUTE, flagList(ev.flags).join(',')));
  return rec;
}

/** Events grouped into one ResourceLogs per source, in order. */
export function exportRequest(items: readonly SinkItem[], observedNs: bigint): ExportLogsRequest {
  const bySource = new Map<EventSource, LogRecord[]>();
  const resourceLogs: ResourceLogs[] = [];
  for (const { b, ev } of items) {
    let records = bySource.get(b.source);
    if (!records) {
      records = [];
      bySource.set(b.source, records);
      resourceLogs.push({ resource: { attributes: resourceAttributes(b.source.labels) }, scopeLogs: [{ scope: { name: LOGGY_SCOPE }, logRecords: records }] });
    }
    records.push(logRecord(ev, observedNs));
  }
  return { resourceLogs };
}

/** The JSON shape → protobufjs message: ids from hex to bytes (64-bit decimal strings are read by protobufjs with long). */
function toWire(req: ExportLogsRequest): unknown {
  return {
    resourceLogs: req.resourceLogs.map((r) => ({
      ...r,
      scopeLogs: r.scopeLogs.map((s) => ({
        ...s,
        logRecords: s.logRecords.map((l) => (l.traceId || l.spanId
          ? { ...l, traceId: l.traceId ? Buffer.from(l.traceId, 'hex') : undefined, spanId: l.spanId ? Buffer.from(l.spanId, 'hex') : undefined }
          : l)),
      })),
    })),
  };
}

/**
 * OTLP/HTTP logs exporter: POST <endpoint>/v1/logs, protobuf or JSON. One resource per
 * source (Kubernetes labels as semantic-convention attributes), the line as the body, the
 * stream and parsed fields as attributes, severity from a `level` field.
 */
export class OtlpSink implements Sink {
  private readonly url: string;
  private readonly deadLetter: DeadLetterFile | null;
  private readonly headers: Record<string, string>;

  /** The sink's own connection pool when it has TLS settings. */
  private readonly dispatcher: TlsPool | undefined;

  constructor(private readonly cfg: OtlpSinkConfig, private readonly ctx: ComponentContext) {
    this.dispatcher = tlsDispatcher(cfg.tls, `sinks.${ctx.name}`, (msg) => ctx.log.warn({ sink: ctx.name }, msg));
    this.url = `${cfg.endpoint.replace(/\/+$/, '')}/v1/logs`;
    this.deadLetter = cfg.dead_letter.enabled ? new DeadLetterFile(ctx, cfg.dead_letter.max_bytes) : null;
    this.headers = {
      ...authHeaders(cfg),
      'content-type': cfg.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      ...(cfg.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
  }

  write(batches: EventBatch[]): Promise<void> {
    return deliverBatches(this.ctx, this.deadLetter, batches, (items) => this.send(items));
  }

  private encode(req: ExportLogsRequest): Buffer {
    if (this.cfg.encoding === 'json') return Buffer.from(JSON.stringify(req));
    const { request } = otlpLogsTypes();
    return Buffer.from(request.encode(request.fromObject(toWire(req) as Record<string, unknown>)).finish());
  }

  private async send(items: SinkItem[]): Promise<void> {
    const raw = this.encode(exportRequest(items, nowNs()));
    const body = this.cfg.compression === 'gzip' ? gzipSync(raw, { level: 1 }) : raw;
    const res = await post(this.url, body, this.headers, this.cfg.timeout, 'POST', this.dispatcher?.current());
    // Partial success: the receiver took the request but dropped some records, without
    // saying which; not retryable (the spec says so), so counted and logged.
    const partial = this.partialSuccess(res.body);
    let rejected = 0;
    if (partial && (partial.rejected > 0 || partial.message)) {
      rejected = Math.min(partial.rejected, items.length);
      if (rejected > 0) this.ctx.metrics.sinkRejected.inc({ component: this.ctx.name }, rejected);
      this.ctx.log.warn({ sink: this.ctx.name, rejected, events: items.length, err: partial.message }, 'OTLP receiver accepted the request partially');
    }
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, items.length - rejected);
    this.ctx.metrics.sinkBytes.inc({ component: this.ctx.name }, body.length);
  }

  private partialSuccess(body: Buffer): { rejected: number; message: string } | null {
    if (body.length === 0) return null;
    try {
      let p: { rejectedLogRecords?: unknown; errorMessage?: unknown } | undefined;
      if (this.cfg.encoding === 'json') {
        p = (JSON.parse(body.toString('utf8')) as { partialSuccess?: typeof p }).partialSuccess;
      } else {
        const { response } = otlpLogsTypes();
        p = (response.toObject(response.decode(body), { longs: String }) as { partialSuccess?: typeof p }).partialSuccess;
      }
      if (!p) return null;
      return { rejected: Number(p.rejectedLogRecords ?? 0) || 0, message: typeof p.errorMessage === 'string' ? p.errorMessage : '' };
    } catch {
      return null;
    }
  }

  async stop(): Promise<void> {
    await this.dispatcher?.close();
  }
}
