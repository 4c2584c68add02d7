import { randomBytes } from 'node:crypto';
import { nowNs, parseRfc3339Nano } from '../../core/time.js';
import type { Labels } from '../../store/engine.js';
import { HttpError } from '../errors.js';
import type { IngestStream, RejectedEntry } from './writer.js';

/**
 * Elasticsearch's `_bulk` body (NDJSON: an action line, then for `index`/`create` a document
 * line) turned into Loggy streams. The mapping rule (docs/server.md, "Elasticsearch-compatible
 * ingest"):
 *
 *   labels   index     = the action's `_index`, else the index in the URL (`/<index>/_bulk`)
 *            namespace = kubernetes.namespace_name | kubernetes.namespace | kubernetes.pod_namespace
 *            pod       = kubernetes.pod_name       | kubernetes.pod.name
 *            container = kubernetes.container_name | kubernetes.container.name
 *            node      = kubernetes.host           | kubernetes.node.name | kubernetes.pod_node_name
 *            (Fluent Bit's kubernetes filter | Filebeat's add_kubernetes_metadata | Vector's
 *            kubernetes_logs; nested objects or dotted keys; string values only)
 *   line     `message`, else `log`, if a string; else the document line as received
 *   time     `@timestamp` (RFC3339 or epoch milliseconds; anything else refuses the document),
 *            else `timestamp` (Vector's) or `time` (Fluent Bit's parsers) if one parses so,
 *            else the time of arrival
 *   metadata when the line is `message`/`log`: the other top-level fields holding a string,
 *            number or boolean (not objects or arrays, not those made labels, not
 *            `@timestamp`/`timestamp`/`time`), at most 32,
 *            names with characters other than letters, digits and `_` turned into `_`
 *
 * Problems with one document are answered in its item (status 400) and the rest is written,
 * as Elasticsearch does; a body that cannot be split into actions is refused whole.
 */

export type BulkOp = 'index' | 'create';

export interface BulkItem {
  /** The action's key as sent (`index`, `create`, `update`, `delete`), used as the item's key. */
  op: string;
  index: string;
  id: string;
  /** Set when the item is refused before writing. */
  error?: { status: number; type: string; reason: string };
}

export interface ParsedBulk {
  items: BulkItem[];
  streams: IngestStream[];
  /** streams[s].entries[e] came from items[where[s][e]]. */
  where: number[][];
}

const MAX_METADATA = 32;
const TIME_KEYS = new Set(['@timestamp', 'timestamp', 'time']);
const SUPPORTED = new Set(['index', 'create']);
const KNOWN = new Set(['index', 'create', 'update', 'delete']);

export function parseBulk(body: Buffer, urlIndex: string | undefined, maxItems: number): ParsedBulk {
  const lines = body.toString('utf8').split('\n');
  const items: BulkItem[] = [];
  const byKey = new Map<string, number>();
  const streams: IngestStream[] = [];
  const where: number[][] = [];
  const now = nowNs();
  let i = 0;
  const next = (): { text: string; no: number } | null => {
    while (i < lines.length) {
      const text = lines[i++]!.replace(/\r$/, '');
      if (text.trim() !== '') return { text, no: i };
    }
    return null;
  };
  for (let action = next(); action; action = next()) {
    if (items.length >= maxItems) throw new HttpError(413, `more than ${maxItems} actions in one request`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(action.text);
    } catch (err) {
      throw new HttpError(400, `malformed action/metadata line [${action.no}]: ${(err as Error).message}`);
    }
    const keys = isObject(parsed) ? Object.keys(parsed) : [];
    const op = keys[0];
    if (keys.length !== 1 || op === undefined || !KNOWN.has(op) || !isObject((parsed as Record<string, unknown>)[op])) {
      throw new HttpError(400, `malformed action/metadata line [${action.no}]: expected one of [create, delete, index, update] with an object`);
    }
    const meta = (parsed as Record<string, Record<string, unknown>>)[op]!;
    const index = typeof meta._index === 'string' && meta._index !== '' ? meta._index : urlIndex ?? '';
    const id = typeof meta._id === 'string' && meta._id !== '' ? meta._id : typeof meta._id === 'number' ? String(meta._id) : generateId();
    const item: BulkItem = { op, index, id };
    items.push(item);
    // `delete` has no document line; `update` has one, which is skipped with the action.
    const doc = op === 'delete' ? null : next();
    if (op !== 'delete' && !doc) throw new HttpError(400, `the bulk request must be terminated by a newline: action on line [${action.no}] has no document`);
    if (!SUPPORTED.has(op)) {
      item.error = { status: 400, type: 'illegal_argument_exception', reason: `Loggy accepts only index and create actions, not ${op}` };
      continue;
    }
    if (index === '') {
      item.error = { status: 400, type: 'action_request_validation_exception', reason: 'Validation Failed: 1: index is missing;' };
      continue;
    }
    const mapped = mapDocument(doc!.text, index, now);
    if ('error' in mapped) {
      item.error = { status: 400, type: 'mapper_parsing_exception', reason: `failed to parse document on line [${doc!.no}]: ${mapped.error}` };
      continue;
    }
    const key = labelKey(mapped.labels);
    let s = byKey.get(key);
    if (s === undefined) {
      s = streams.length;
      byKey.set(key, s);
      streams.push({ labels: mapped.labels, entries: [] });
      where.push([]);
    }
    streams[s]!.entries.push({ tsNs: mapped.tsNs, line: mapped.line, metadata: mapped.metadata });
    where[s]!.push(items.length - 1);
  }
  return { items, streams, where };
}

/** Marks the items of entries the writer refused on their own (too old, too long…). */
export function markRejected(bulk: ParsedBulk, rejected: RejectedEntry[] | undefined): void {
  for (const r of rejected ?? []) {
    const item = bulk.items[bulk.where[r.stream]![r.entry]!]!;
    item.error = { status: 400, type: 'illegal_argument_exception', reason: r.reason };
  }
}

/**
 * The answer, with the key order Elasticsearch uses: clients such as Fluent Bit look for the
 * literal `"errors":false` near the start.
 */
export function bulkResponse(items: BulkItem[], tookMs: number): string {
  let seq = 0;
  const out = items.map((it) => ({
    [it.op]: it.error
      ? { _index: it.index, _id: it.id, status: it.error.status, error: { type: it.error.type, reason: it.error.reason } }
      : {
          _index: it.index, _id: it.id, _version: 1, result: 'created',
          _shards: { total: 1, successful: 1, failed: 0 }, _seq_no: seq++, _primary_term: 1,
          status: 201,
        },
  }));
  return JSON.stringify({ took: tookMs, errors: items.some((it) => it.error), items: out });
}

type Mapped = { labels: Labels; line: string; tsNs: bigint; metadata?: Labels } | { error: string };

export function mapDocument(text: string, index: string, now: bigint): Mapped {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { error: (err as Error).message };
  }
  if (!isObject(doc)) return { error: 'a document must be a JSON object' };

  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  labels.index = index;
  // Top-level dotted keys (`"kubernetes.pod_name": …`) made labels: not metadata too.
  const used = new Set<string>();
  const pick = (name: string, ...paths: string[]) => {
    for (const p of paths) {
      const v = lookup(doc, p);
      if (typeof v === 'string' && v !== '') {
        labels[name] = v;
        if (Object.hasOwn(doc, p)) used.add(p);
        return;
      }
    }
  };
  pick('namespace', 'kubernetes.namespace_name', 'kubernetes.namespace', 'kubernetes.pod_namespace');
  pick('pod', 'kubernetes.pod_name', 'kubernetes.pod.name');
  pick('container', 'kubernetes.container_name', 'kubernetes.container.name');
  pick('node', 'kubernetes.host', 'kubernetes.node.name', 'kubernetes.pod_node_name');

  let tsNs: bigint;
  if (doc['@timestamp'] !== undefined) {
    const t = parseTime(doc['@timestamp']);
    if (t === null) return { error: `field [@timestamp]: cannot parse ${JSON.stringify(doc['@timestamp'])} as a date (RFC3339 or epoch milliseconds)` };
    tsNs = t;
  } else {
    const t = parseTime(doc.timestamp);
    const u = t === null ? parseTime(doc.time) : null;
    tsNs = t ?? u ?? now;
  }

  const lineKey = typeof doc.message === 'string' ? 'message' : typeof doc.log === 'string' ? 'log' : null;
  if (lineKey === null) return { labels, line: text.trim(), tsNs };
  let metadata: Record<string, string> | undefined;
  let n = 0;
  for (const [k, v] of Object.entries(doc)) {
    if (k === lineKey || TIME_KEYS.has(k) || used.has(k)) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
    if (n++ >= MAX_METADATA) break;
    metadata ??= Object.create(null) as Record<string, string>;
    metadata[metadataName(k)] = String(v);
  }
  return { labels, line: doc[lineKey] as string, tsNs, metadata };
}

/** RFC3339 (any precision up to ns) or epoch milliseconds (a number or a string of digits). */
function parseTime(v: unknown): bigint | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? BigInt(Math.round(v * 1000)) * 1000n : null;
  if (typeof v !== 'string') return null;
  if (/^\d{1,16}$/.test(v)) return BigInt(v) * 1_000_000n;
  return parseRfc3339Nano(v);
}

/** `a.b.c` through nested objects, dotted keys, or a mix (`{"kubernetes":{"pod.name":…}}`). */
function lookup(obj: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(obj, path)) return obj[path];
  let dot = path.indexOf('.');
  while (dot > 0) {
    const head = path.slice(0, dot);
    const child = Object.hasOwn(obj, head) ? obj[head] : undefined;
    if (isObject(child)) {
      const v = lookup(child, path.slice(dot + 1));
      if (v !== undefined) return v;
    }
    dot = path.indexOf('.', dot + 1);
  }
  return undefined;
}

function metadataName(k: string): string {
  const s = k.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) || s === '' ? `_${s}` : s;
}

/** 20 URL-safe characters, the shape of Elasticsearch's generated ids. */
function generateId(): string {
  return randomBytes(15).toString('base64url');
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
