import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { RetryableError } from '../../core/errors.js';
import type { LogEvent } from '../../core/event.js';
import { formatRfc3339Nano, nowNs, parseRfc3339Nano } from '../../core/time.js';
import { flagList } from '../shared/ndjson.js';
import { sinkCommon } from '../shared/common.js';
import { authHeaders, deliverBatches, httpSinkCommon, parseJson, post, refuse, type SinkItem } from '../shared/http.js';
import { DeadLetterFile } from '../shared/dead-letter.js';
import { tlsDispatcher, type TlsPool } from '../../core/tls.js';

// tenant (X-Scope-OrgID) means nothing to Elasticsearch: the other HTTP settings apply.
const { token, headers, timeout, compression, tls, dead_letter } = httpSinkCommon;

/** Characters Elasticsearch refuses in an index name (besides upper case). */
const BAD_INDEX_CHARS = /[\\/*?"<>|,# :]/;

export const elasticsearchSinkSchema = z.strictObject({
  type: z.literal('elasticsearch'),
  ...sinkCommon,
  /** Base URL of Elasticsearch or OpenSearch (a path prefix is kept: http://proxy/es → /es/_bulk). */
  endpoint: z.string().url(),
  /**
   * Index name; %Y %m %d %H are the event's date in UTC (`logs-%Y.%m.%d`). Default
   * `loggy-%Y.%m.%d`. Not with data_stream.
   */
  index: z.string().min(1).optional(),
  /**
   * Write to a data stream `<type>-<dataset>-<namespace>` (true: logs-generic-default); the
   * cluster needs a matching index template (the built-in `logs-*-*` one does).
   */
  data_stream: z.union([
    z.boolean(),
    z.strictObject({
      type: z.string().min(1).default('logs'),
      dataset: z.string().min(1).default('generic'),
      namespace: z.string().min(1).default('default'),
    }),
  ]).default(false),
  /** Ingest pipeline to run the documents through (the `pipeline` query parameter). */
  pipeline: z.string().min(1).optional(),
  /** Replace `.` with `_` in label and field names, so `app.kubernetes.io/name` is one field, not objects. */
  dedot_labels: z.boolean().default(true),
  /** basic (user, password) or api_key (`id:key` or the encoded key), sent as Authorization. */
  auth: z.discriminatedUnion('strategy', [
    z.strictObject({ strategy: z.literal('basic'), user: z.string().min(1), password: z.string() }),
    z.strictObject({ strategy: z.literal('api_key'), api_key: z.string().min(1) }),
  ]).optional(),
  token,
  headers,
  timeout,
  compression,
  tls,
  dead_letter,
}).superRefine((cfg, ctx) => {
  if (cfg.index !== undefined && cfg.data_stream !== false) {
    ctx.addIssue({ code: 'custom', path: ['data_stream'], message: 'set either index or data_stream, not both (a data stream is named by its type, dataset and namespace)' });
  }
  if (cfg.auth && cfg.token) ctx.addIssue({ code: 'custom', path: ['token'], message: 'set either auth or token (a bearer token), not both' });
  if (cfg.index !== undefined) {
    const bare = cfg.index.replace(/%[YmdH]/g, '');
    if (/%/.test(bare)) ctx.addIssue({ code: 'custom', path: ['index'], message: 'index: only %Y, %m, %d and %H can be used (the event\'s UTC date)' });
    if (bare !== bare.toLowerCase() || BAD_INDEX_CHARS.test(bare) || /^[-_+]/.test(cfg.index)) {
      ctx.addIssue({ code: 'custom', path: ['index'], message: 'index: Elasticsearch index names are lower case, without spaces or \\ / * ? " < > | , # :, and do not start with -, _ or +' });
    }
  }
  if (typeof cfg.data_stream === 'object') {
    for (const k of ['type', 'dataset', 'namespace'] as const) {
      const v = cfg.data_stream[k];
      // `-` separates the three parts of the name (Elastic's data stream naming scheme).
      if (v !== v.toLowerCase() || BAD_INDEX_CHARS.test(v) || v.includes('-')) {
        ctx.addIssue({ code: 'custom', path: ['data_stream', k], message: `data_stream.${k}: lower case, without spaces, - or special characters` });
      }
    }
  }
});
export type ElasticsearchSinkConfig = z.infer<typeof elasticsearchSinkSchema>;

/** One bulk item's answer: `{"create": {"status": 201}}` or with `error: {type, reason}`. */
interface BulkItem { status?: number; error?: { type?: string; reason?: string } }

/** Re-sends of the items Elasticsearch answered 429/5xx, within one write, before the runner retries it all. */
const ITEM_RETRIES = 3;
const ITEM_BACKOFF_MS = 100;

/**
 * Indexes events with the `_bulk` API. Every event gets a deterministic `_id` and goes in with
 * the `create` op: a write the runner retries (or an agent restart replays) finds the documents
 * already indexed answered 409, which counts as delivered — no duplicates.
 */
export class ElasticsearchSink implements Sink {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly deadLetter: DeadLetterFile | null;
  /** The index name, fixed (data stream) or per day/hour from the event's date. */
  private readonly indexFor: (ns: bigint) => string;

  /** The sink's own connection pool when it has TLS settings. */
  private readonly dispatcher: TlsPool | undefined;

  constructor(private readonly cfg: ElasticsearchSinkConfig, private readonly ctx: ComponentContext) {
    this.dispatcher = tlsDispatcher(cfg.tls, `sinks.${ctx.name}`, (msg) => ctx.log.warn({ sink: ctx.name }, msg));
    const base = cfg.endpoint.endsWith('/') ? cfg.endpoint : `${cfg.endpoint}/`;
    const url = new URL('_bulk', base);
    // Only the statuses and errors of the items are read: ES leaves the rest out of the answer.
    url.searchParams.set('filter_path', 'errors,items.*.status,items.*.error.type,items.*.error.reason');
    if (cfg.pipeline) url.searchParams.set('pipeline', cfg.pipeline);
    this.url = url.toString();
    this.headers = { ...authHeaders(cfg), ...esAuth(cfg.auth), 'content-type': 'application/x-ndjson', ...(cfg.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}) };
    this.deadLetter = cfg.dead_letter.enabled ? new DeadLetterFile(ctx, cfg.dead_letter.max_bytes) : null;
    if (cfg.data_stream !== false) {
      const ds = cfg.data_stream === true ? { type: 'logs', dataset: 'generic', namespace: 'default' } : cfg.data_stream;
      const name = `${ds.type}-${ds.dataset}-${ds.namespace}`;
      this.indexFor = () => name;
    } else {
      this.indexFor = indexPattern(cfg.index ?? 'loggy-%Y.%m.%d');
    }
  }

  write(batches: EventBatch[]): Promise<void> {
    return deliverBatches(this.ctx, this.deadLetter, batches, (items) => this.send(items));
  }

  /** The action line and the document of one event, each ending with a newline. */
  encode({ b, ev }: SinkItem): string {
    const ns = parseRfc3339Nano(ev.ts) ?? nowNs();
    const action = { create: { _index: this.indexFor(ns), _id: eventId(b.source.id, ev) } };
    const doc: Record<string, unknown> = {
      '@timestamp': formatRfc3339Nano(ns),
      message: ev.line,
      stream: ev.stream,
      kubernetes: kubernetesObject(b.source.labels, this.cfg.dedot_labels),
    };
    if (ev.fields) doc.fields = this.cfg.dedot_labels ? dedotKeys(ev.fields) : ev.fields;
    if (ev.flags !== 0) doc.flags = flagList(ev.flags);
    return `${JSON.stringify(action)}\n${JSON.stringify(doc)}\n`;
  }

  /**
   * One write's events: sent, then those Elasticsearch answered 429/5xx alone are sent again
   * (with backoff) until none are left; still failing, the write throws to be retried whole
   * (the ids make that safe). Refused items and the delivered count are recorded only once
   * the write completes, so a retried write counts each event once.
   */
  private async send(items: SinkItem[]): Promise<void> {
    let pending = items.map((item) => ({ item, text: this.encode(item) }));
    const refused: Array<{ item: SinkItem; status: number; reason: string }> = [];
    for (let attempt = 0; ; attempt++) {
      const answer = await this.bulk(pending.map((p) => p.text));
      const again: typeof pending = [];
      let lastReason = '';
      if (answer.errors === true) {
        for (let i = 0; i < pending.length; i++) {
          const r = answer.items[i]!;
          const status = r.status ?? 0;
          if ((status >= 200 && status < 300) || status === 409) continue; // 409: already indexed (a re-send)
          const reason = `${r.error?.type ?? 'error'}: ${r.error?.reason ?? `status ${status}`}`;
          if (status === 429 || status >= 500) {
            again.push(pending[i]!);
            lastReason = `${status} ${reason}`;
          } else refused.push({ item: pending[i]!.item, status, reason });
        }
      }
      if (again.length === 0) break;
      if (attempt + 1 >= ITEM_RETRIES) {
        throw new RetryableError(`POST ${this.url}: ${again.length} of ${items.length} documents not indexed after ${ITEM_RETRIES} attempts (last: ${lastReason})`);
      }
      await new Promise((r) => setTimeout(r, ITEM_BACKOFF_MS * 2 ** attempt));
      pending = again;
    }
    for (const { item, status, reason } of refused) {
      await refuse(this.ctx, this.deadLetter, [{ labels: item.b.source.labels, event: item.ev }], status, `document refused by Elasticsearch: ${reason}`);
    }
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, items.length - refused.length);
  }

  /** One `_bulk` request; whole-request failures are sorted by `post` (retryable or refused). */
  private async bulk(texts: string[]): Promise<{ errors: boolean; items: BulkItem[] }> {
    const ndjson = Buffer.from(texts.join(''));
    const body = this.cfg.compression === 'gzip' ? gzipSync(ndjson, { level: 1 }) : ndjson;
    const res = await post(this.url, body, this.headers, this.cfg.timeout, 'POST', this.dispatcher?.current());
    this.ctx.metrics.sinkBytes.inc({ component: this.ctx.name }, body.length);
    const parsed = parseJson(res.text) as { errors?: unknown; items?: unknown } | null;
    if (parsed?.errors === false) return { errors: false, items: [] };
    const items = Array.isArray(parsed?.items) ? (parsed.items as Array<Record<string, BulkItem>>).map((i) => Object.values(i ?? {})[0] ?? {}) : [];
    if (parsed?.errors !== true || items.length !== texts.length) {
      throw new RetryableError(`POST ${this.url}: ${res.status} with an answer that is not a bulk response for ${texts.length} items: ${res.text.slice(0, 200)}`);
    }
    return { errors: true, items };
  }

  async stop(): Promise<void> {
    await this.dispatcher?.close();
  }
}

function esAuth(auth: ElasticsearchSinkConfig['auth']): Record<string, string> {
  if (!auth) return {};
  if (auth.strategy === 'basic') return { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` };
  // `id:key` as the API returns them, or already encoded (what Kibana shows).
  const key = auth.api_key.includes(':') ? Buffer.from(auth.api_key).toString('base64') : auth.api_key;
  return { authorization: `ApiKey ${key}` };
}

/**
 * The document id: a hash of what identifies the event (its file, stream and offset) and of
 * its content, as the offset alone is shared by a rate-limit summary and the line before it.
 * The same event read again (a retry, a replay after a restart) gets the same id.
 */
export function eventId(sourceId: string, ev: LogEvent): string {
  return createHash('sha256').update(`${sourceId}\0${ev.stream}\0${ev.offset}\0${ev.ts}\0${ev.flags}\0${ev.line}`).digest('base64url').slice(0, 27);
}

/** `logs-%Y.%m.%d` → a function of the event's time (ns) giving `logs-2026.11.22`, in UTC. */
export function indexPattern(pattern: string): (ns: bigint) => string {
  if (!pattern.includes('%')) return () => pattern;
  return (ns) => {
    const iso = new Date(Number(ns / 1_000_000n)).toISOString();
    return pattern.replace(/%([YmdH])/g, (_, c: string) => (c === 'Y' ? iso.slice(0, 4) : c === 'm' ? iso.slice(5, 7) : c === 'd' ? iso.slice(8, 10) : iso.slice(11, 13)));
  };
}

const dedot = (k: string): string => k.replaceAll('.', '_');

function dedotKeys(o: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) out[dedot(k)] = v;
  return out;
}

/**
 * The source's labels as the `kubernetes` object: namespace, pod, container, node... as they
 * are; kube_metadata's `label_*`, `annotation_*` and `namespace_label_*` nested under
 * `labels`, `annotations` and `namespace_labels`.
 */
export function kubernetesObject(labels: Readonly<Record<string, string>>, dedotKeys: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const nest = (group: string, key: string, v: string) => {
    let g = out[group];
    if (typeof g !== 'object' || g === null) out[group] = g = {};
    (g as Record<string, string>)[dedotKeys ? dedot(key) : key] = v;
  };
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith('namespace_label_')) nest('namespace_labels', k.slice(16), v);
    else if (k.startsWith('label_')) nest('labels', k.slice(6), v);
    else if (k.startsWith('annotation_')) nest('annotations', k.slice(11), v);
    else {
      const key = dedotKeys ? dedot(k) : k;
      if (typeof out[key] !== 'object') out[key] = v; // a plain `labels` label does not replace the label_* group
    }
  }
  return out;
}
