import { gzipSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import type { EventSource, LogEvent } from '../../core/event.js';
import { nowNs, parseRfc3339Nano } from '../../core/time.js';
import { flagList } from '../shared/ndjson.js';
import { sinkCommon } from '../shared/common.js';
import { authHeaders, deliverBatches, httpSinkCommon, post, type SinkItem } from '../shared/http.js';
import { DeadLetterFile } from '../shared/dead-letter.js';
import { tlsDispatcher } from '../shared/tls.js';
import { otlpLogsTypes } from './proto.js';

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

/** The OTLP JSON shapes built here (also the object protobufjs encodes, after `toWire`). */
export interface AnyValue { stringValue?: string; intValue?: string; arrayValue?: { values: AnyValue[] } }
export interface KeyValue { key: string; value: AnyValue }
export interface LogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber?: number;
  severityText?: string;
  body: AnyValue;
  attributes: KeyValue[];
  traceId?: string;
  spanId?: string;
}
export interface ResourceLogs { resource: { attributes: KeyValue[] }; scopeLogs: Array<{ scope: { name: string }; logRecords: LogRecord[] }> }

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** Loggy labels with an OpenTelemetry semantic-convention name. */
const SEMCONV: Record<string, string> = {
  namespace: 'k8s.namespace.name',
  pod: 'k8s.pod.name',
  pod_uid: 'k8s.pod.uid',
  container: 'k8s.container.name',
  container_id: 'container.id',
  node: 'k8s.node.name',
};
/** workload_kind → the attribute naming the workload. */
const WORKLOAD: Record<string, string> = {
  Deployment: 'k8s.deployment.name',
  StatefulSet: 'k8s.statefulset.name',
  DaemonSet: 'k8s.daemonset.name',
  ReplicaSet: 'k8s.replicaset.name',
  Job: 'k8s.job.name',
  CronJob: 'k8s.cronjob.name',
};

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
    if (SEMCONV[k]) out.push(str(SEMCONV[k], v));
    else if (k === 'restart') out.push({ key: 'k8s.container.restart_count', value: { intValue: String(Number.parseInt(v, 10) || 0) } });
    else if (k === 'workload_kind') continue;
    else if (k === 'workload') out.push(str(WORKLOAD[labels.workload_kind ?? ''] ?? 'k8s.workload.name', v));
    else if (k === 'image') {
      const { name, tag } = splitImage(v);
      out.push(str('container.image.name', name));
      if (tag) out.push({ key: 'container.image.tags', value: { arrayValue: { values: [{ stringValue: tag }] } } });
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

/** OpenTelemetry's SeverityNumber for common level words (the first of each range). */
const SEVERITY: Record<string, number> = {
  trace: 1, debug: 5, dbug: 5, info: 9, information: 9, informational: 9, notice: 10,
  warn: 13, warning: 13, error: 17, err: 17, eror: 17, critical: 21, crit: 21, fatal: 21, panic: 21, emerg: 21, emergency: 21, alert: 21,
};

const HEX32 = /^[0-9a-f]{32}$/i;
const HEX16 = /^[0-9a-f]{16}$/i;

export function logRecord(ev: LogEvent, observedNs: bigint): LogRecord {
  const attributes: KeyValue[] = [str('log.iostream', ev.stream)];
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
      const n = SEVERITY[level.trim().toLowerCase()];
      if (n) rec.severityNumber = n;
    }
    for (const [k, v] of Object.entries(f)) {
      // A W3C trace context in the fields goes where OTLP keeps it.
      if ((k === 'trace_id' || k === 'traceId') && HEX32.test(v)) rec.traceId = v.toLowerCase();
      else if ((k === 'span_id' || k === 'spanId') && HEX16.test(v)) rec.spanId = v.toLowerCase();
      else if (k !== 'level') attributes.push(str(k, v));
    }
  }
  if (ev.flags !== 0) attributes.push(str('loggy.flags', flagList(ev.flags).join(',')));
  return rec;
}

/** Events grouped into one ResourceLogs per source, in order. */
export function exportRequest(items: readonly SinkItem[], observedNs: bigint): { resourceLogs: ResourceLogs[] } {
  const bySource = new Map<EventSource, LogRecord[]>();
  const resourceLogs: ResourceLogs[] = [];
  for (const { b, ev } of items) {
    let records = bySource.get(b.source);
    if (!records) {
      records = [];
      bySource.set(b.source, records);
      resourceLogs.push({ resource: { attributes: resourceAttributes(b.source.labels) }, scopeLogs: [{ scope: { name: 'loggy' }, logRecords: records }] });
    }
    records.push(logRecord(ev, observedNs));
  }
  return { resourceLogs };
}

/** The JSON shape → protobufjs message: ids from hex to bytes (64-bit decimal strings are read by protobufjs with long). */
function toWire(req: { resourceLogs: ResourceLogs[] }): unknown {
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
  private readonly dispatcher: Dispatcher | undefined;

  constructor(private readonly cfg: OtlpSinkConfig, private readonly ctx: ComponentContext) {
    this.dispatcher = tlsDispatcher(cfg.tls, `sinks.${ctx.name}`);
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

  private encode(req: { resourceLogs: ResourceLogs[] }): Buffer {
    if (this.cfg.encoding === 'json') return Buffer.from(JSON.stringify(req));
    const { request } = otlpLogsTypes();
    return Buffer.from(request.encode(request.fromObject(toWire(req) as Record<string, unknown>)).finish());
  }

  private async send(items: SinkItem[]): Promise<void> {
    const raw = this.encode(exportRequest(items, nowNs()));
    const body = this.cfg.compression === 'gzip' ? gzipSync(raw, { level: 1 }) : raw;
    const res = await post(this.url, body, this.headers, this.cfg.timeout, 'POST', this.dispatcher);
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
