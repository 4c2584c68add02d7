/**
 * OTLP logs → Loggy: the one rule the agent's `otlp` source and the store's OTLP ingest both
 * follow (docs/server.md, "OTLP ingest"). It is the otlp sink's mapping read backwards, through
 * the same tables (semconv.ts), so what the sink sends arrives as it left.
 *
 *   labels   from resource attributes: k8s.namespace.name → namespace, k8s.pod.name → pod,
 *            k8s.pod.uid → pod_uid, k8s.container.name → container, k8s.node.name → node,
 *            container.id → container_id, service.name → service_name,
 *            k8s.container.restart_count → restart,
 *            container.image.name (+ the first of container.image.tags) → image = name[:tag],
 *            k8s.{deployment,statefulset,daemonset,cronjob,job,replicaset}.name → workload and
 *            workload_kind (the first of that order; the others stay attributes),
 *            k8s.workload.name → workload; service.namespace, service.instance.id,
 *            deployment.environment(.name), cloud.region, cloud.availability_zone,
 *            k8s.cluster.name, container.name, the options' `labelAttributes`, and attributes
 *            whose names have no dot (the labels Loggy's own otlp sink writes under their names:
 *            label_app, cluster...) under their names with characters other than letters, digits
 *            and `_` turned into `_` (deployment.environment → deployment_environment); empty
 *            values left out; none at all → service_name = "unknown_service"
 *   resource fields: every other resource attribute (process.pid, telemetry.sdk.*, host.*,
 *            os.*): a label would make a stream per process; they go with each record as
 *            structured metadata, under sanitized names
 *   line     the body: a string as it is; other kinds as text (numbers, booleans), base64
 *            (bytes) or JSON (arrays, maps); no body → ""
 *   time     timeUnixNano, else observedTimeUnixNano, else the time of arrival
 *   fields   (structured metadata) the resource fields, then the record's attributes (winning),
 *            names sanitized as labels are,
 *            values as text as the line is; then, winning over an attribute of the same name:
 *            level = severityText, else the level word of severityNumber (trace, debug, info,
 *            warn, error, fatal); trace_id and span_id in lower-case hex; event_name; scope_name
 *            and scope_version (not for the scope `loggy` of Loggy's own sink)
 *   stream   the attribute log.iostream when stdout or stderr (not a field)
 *   flags    the attribute loggy.flags, comma-separated (not a field)
 *
 * A record is refused alone when it is invalid (decode.ts) or its time does not fit int64
 * nanoseconds (after year 2262).
 */
import type { OtlpKeyValue, OtlpLogsRequest, OtlpValue } from './decode.js';
import {
  ATTRIBUTE_TO_LABEL, FLAGS_ATTRIBUTE, GENERIC_WORKLOAD, IMAGE_NAME_ATTRIBUTE, IMAGE_TAGS_ATTRIBUTE, IOSTREAM_ATTRIBUTE, LOGGY_SCOPE,
  LABEL_ATTRIBUTES, RESTART_ATTRIBUTE, severityLevel, WORKLOAD_KIND,
} from './semconv.js';

export interface OtlpLogLine {
  tsNs: bigint;
  line: string;
  /** From log.iostream; undefined when absent or another value. */
  stream?: 'stdout' | 'stderr';
  /** From loggy.flags: flag names as the sink wrote them. */
  flags: readonly string[];
  /** Structured metadata; a null-prototype object (an attribute may be named `__proto__`). */
  fields: Record<string, string>;
}

export interface OtlpLogStream {
  labels: Record<string, string>;
  lines: OtlpLogLine[];
}

export interface OtlpMapped {
  /** One per distinct label set, in order of first appearance. */
  streams: OtlpLogStream[];
  /** Records taken. */
  accepted: number;
  /** Records refused, and what to tell the sender about them (empty when none). */
  rejected: number;
  message: string;
}

export interface OtlpMapOptions {
  /** Time of arrival (records with neither time). */
  nowNs: bigint;
  /** Labels under every stream; resource attributes win over them. */
  baseLabels?: Readonly<Record<string, string>>;
  /** More resource attributes to keep as labels (e.g. host.name for VMs). */
  labelAttributes?: ReadonlySet<string>;
}

const MAX_TS_NS = (1n << 63n) - 1n;
/** Preferred first: a Deployment's pods also carry their ReplicaSet, a CronJob's their Job. */
const WORKLOAD_ORDER = ['k8s.deployment.name', 'k8s.statefulset.name', 'k8s.daemonset.name', 'k8s.cronjob.name', 'k8s.job.name', 'k8s.replicaset.name', GENERIC_WORKLOAD];

export function mapLogsRequest(req: OtlpLogsRequest, opts: OtlpMapOptions): OtlpMapped {
  const streams = new Map<string, OtlpLogStream>();
  let accepted = 0;
  let rejected = 0;
  const reasons: string[] = [];
  for (const rl of req.resourceLogs) {
    const resourceFields = Object.create(null) as Record<string, string>;
    const labels = resourceLabels(rl.attributes, opts.baseLabels, opts.labelAttributes, resourceFields);
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let stream = streams.get(key);
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        const ts = r.timeUnixNano > 0n ? r.timeUnixNano : r.observedTimeUnixNano > 0n ? r.observedTimeUnixNano : opts.nowNs;
        const invalid = r.invalid ?? (ts > MAX_TS_NS ? `time ${ts} is beyond int64 nanoseconds` : undefined);
        if (invalid !== undefined) {
          rejected++;
          if (reasons.length < 3) reasons.push(`${r.at}: ${invalid}`);
          continue;
        }
        const fields = Object.assign(Object.create(null) as Record<string, string>, resourceFields);
        let lineStream: OtlpLogLine['stream'];
        let flags: string[] = [];
        for (const { key: k, value } of r.attributes) {
          if (k === IOSTREAM_ATTRIBUTE && value.kind === 'string' && (value.value === 'stdout' || value.value === 'stderr')) lineStream = value.value;
          else if (k === FLAGS_ATTRIBUTE && value.kind === 'string') flags = value.value.split(',').filter(Boolean);
          else {
            const name = sanitizeName(k);
            if (name) fields[name] = valueText(value);
          }
        }
        const level = r.severityText || severityLevel(r.severityNumber);
        if (level) fields.level = level;
        if (r.traceId) fields.trace_id = r.traceId;
        if (r.spanId) fields.span_id = r.spanId;
        if (r.eventName) fields.event_name = r.eventName;
        if (sl.scopeName && sl.scopeName !== LOGGY_SCOPE) {
          fields.scope_name = sl.scopeName;
          if (sl.scopeVersion) fields.scope_version = sl.scopeVersion;
        }
        if (!stream) streams.set(key, (stream = { labels, lines: [] }));
        stream.lines.push({ tsNs: ts, line: valueText(r.body), stream: lineStream, flags, fields });
        accepted++;
      }
    }
  }
  let message = '';
  if (rejected > 0) {
    message = `${rejected} log record${rejected === 1 ? '' : 's'} refused: ${reasons.join('; ')}${rejected > reasons.length ? '; …' : ''}`;
  }
  return { streams: [...streams.values()], accepted, rejected, message };
}

/** Resource attributes → labels, per the rule above. */
export function resourceLabels(attributes: readonly OtlpKeyValue[], base: Readonly<Record<string, string>> = {}, extra?: ReadonlySet<string>, fields?: Record<string, string>): Record<string, string> {
  const labels = Object.assign(Object.create(null) as Record<string, string>, base);
  const byKey = new Map<string, OtlpValue>();
  for (const { key, value } of attributes) byKey.set(key, value);
  const workloadAttr = WORKLOAD_ORDER.find((a) => byKey.has(a) && valueText(byKey.get(a)!) !== '');
  let imageName = '';
  let imageTag = '';
  for (const [key, value] of byKey) {
    const text = valueText(value);
    if (key === IMAGE_TAGS_ATTRIBUTE) {
      const first = value.kind === 'array' ? value.values[0] : value;
      imageTag = first ? valueText(first) : '';
      continue;
    }
    if (text === '') continue;
    if (key === IMAGE_NAME_ATTRIBUTE) imageName = text;
    else if (key === RESTART_ATTRIBUTE) labels.restart = text;
    else if (key === workloadAttr) {
      labels.workload = text;
      const kind = Object.hasOwn(WORKLOAD_KIND, key) ? WORKLOAD_KIND[key] : undefined;
      if (kind) labels.workload_kind = kind;
    } else if (Object.hasOwn(ATTRIBUTE_TO_LABEL, key)) labels[ATTRIBUTE_TO_LABEL[key]!] = text;
    else {
      const name = sanitizeName(key);
      if (!name) continue;
      if (!key.includes('.') || LABEL_ATTRIBUTES.has(key) || extra?.has(key)) labels[name] = text;
      else if (fields) fields[name] = text;
    }
  }
  if (imageName) labels.image = imageTag ? `${imageName}:${imageTag}` : imageName;
  else if (imageTag) labels[sanitizeName(IMAGE_TAGS_ATTRIBUTE)] = imageTag;
  if (Object.keys(labels).length === 0) labels.service_name = 'unknown_service';
  return labels;
}

/** A label or field name: characters other than letters, digits and `_` become `_`; never starting with a digit. */
export function sanitizeName(k: string): string {
  if (k === '') return '';
  const s = k.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** An AnyValue as text: strings as they are, scalars printed, bytes in base64, arrays and maps as JSON. */
export function valueText(v: OtlpValue): string {
  switch (v.kind) {
    case 'empty': return '';
    case 'string': return v.value;
    case 'bool': return v.value ? 'true' : 'false';
    case 'int': return v.value.toString();
    case 'double': return String(v.value);
    case 'bytes': return v.value.toString('base64');
    case 'array':
    case 'kvlist': return JSON.stringify(plain(v));
  }
}

type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };

function plain(v: OtlpValue): Plain {
  switch (v.kind) {
    case 'empty': return null;
    case 'string': return v.value;
    case 'bool': return v.value;
    // Beyond 2^53 a JSON number would lose digits: such integers are written as strings.
    case 'int': return v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.value) : v.value.toString();
    case 'double': return Number.isFinite(v.value) ? v.value : String(v.value);
    case 'bytes': return v.value.toString('base64');
    case 'array': return v.values.map(plain);
    case 'kvlist': {
      const o = Object.create(null) as { [k: string]: Plain };
      for (const kv of v.values) o[kv.key] = plain(kv.value);
      return o;
    }
  }
}
