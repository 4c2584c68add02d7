import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { EventBatch } from '../../src/core/batch.js';
import { RetryableError } from '../../src/core/errors.js';
import { EventFlags, makeSource, type LogEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { ElasticsearchSink, elasticsearchSinkSchema } from '../../src/sinks/elasticsearch/index.js';
import { sinkSchema } from '../../src/sinks/index.js';
import { append, cri, podLog } from '../helpers/agent.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const tmp = tempDir('loggy-es-');
afterAll(() => tmp.cleanup());

interface Action { _index: string; _id: string }
interface Req { url: URL; headers: IncomingHttpHeaders; actions: Action[]; docs: Array<Record<string, unknown>> }
/** What the fake cluster answers for one document: a status and an error, or undefined for the normal outcome. */
type ItemHook = (doc: Record<string, unknown>, a: Action, seen: number) => { status: number; type: string; reason: string } | undefined;

/**
 * A fake Elasticsearch: checks each request the way the bulk API documentation specifies
 * (POST /_bulk, content-type application/x-ndjson, action and source lines in pairs, the last
 * line ending with a newline) and answers like Elasticsearch: per-item statuses, 201 created,
 * 409 for an id already in the index, `errors: true` as soon as one item failed.
 */
class FakeEs {
  server: Server | null = null;
  url = '';
  readonly indices = new Map<string, Map<string, Record<string, unknown>>>();
  readonly requests: Req[] = [];
  /** Answers for whole requests, taken in order before the normal handling (e.g. 503, 400). */
  whole: number[] = [];
  item: ItemHook = () => undefined;
  /** How many times each id was sent. */
  readonly seen = new Map<string, number>();
  auth: string | undefined;
  problems: string[] = [];

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        const bad = (why: string) => {
          this.problems.push(why);
          reply(400, { error: { type: 'illegal_argument_exception', reason: why }, status: 400 });
        };
        const url = new URL(req.url!, 'http://x');
        if (req.method !== 'POST' || url.pathname !== '/_bulk') return bad(`${req.method} ${url.pathname}`);
        if (this.auth !== undefined && req.headers.authorization !== this.auth) {
          return reply(401, { error: { type: 'security_exception', reason: 'missing authentication credentials' }, status: 401 });
        }
        if (req.headers['content-type'] !== 'application/x-ndjson') return bad(`content-type ${req.headers['content-type']}`);
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        else if (req.headers['content-encoding']) return bad(`content-encoding ${req.headers['content-encoding']}`);
        const text = raw.toString('utf8');
        if (!text.endsWith('\n')) return bad('The bulk request must be terminated by a newline [\\n]');
        const lines = text.slice(0, -1).split('\n');
        if (lines.length % 2 !== 0) return bad('odd number of lines: an action without its source');
        const r: Req = { url, headers: req.headers, actions: [], docs: [] };
        for (let i = 0; i < lines.length; i += 2) {
          const action = JSON.parse(lines[i]!) as Record<string, Action>;
          const keys = Object.keys(action);
          if (keys.length !== 1 || keys[0] !== 'create') return bad(`action ${lines[i]}`);
          const a = action.create!;
          if (typeof a._index !== 'string' || typeof a._id !== 'string') return bad(`action without _index or _id: ${lines[i]}`);
          const doc = JSON.parse(lines[i + 1]!) as Record<string, unknown>;
          if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || 'create' in doc) return bad(`source line is not a document: ${lines[i + 1]}`);
          r.actions.push(a);
          r.docs.push(doc);
        }
        this.requests.push(r);
        const w = this.whole.shift();
        if (w !== undefined) return reply(w, { error: { type: w >= 500 ? 'unavailable_shards_exception' : 'parse_exception', reason: 'scripted' }, status: w });
        let errors = false;
        const items = r.actions.map((a, i) => {
          const doc = r.docs[i]!;
          const n = (this.seen.get(a._id) ?? 0) + 1;
          this.seen.set(a._id, n);
          const base = { _index: a._index, _id: a._id };
          const hook = this.item(doc, a, n);
          if (!hook && a._index.startsWith('logs-') && a._index.split('-').length === 3 && typeof doc['@timestamp'] !== 'string') {
            errors = true;
            return { create: { ...base, status: 400, error: { type: 'document_parsing_exception', reason: 'data stream timestamp field [@timestamp] is missing' } } };
          }
          if (hook) {
            errors = true;
            return { create: { ...base, status: hook.status, error: { type: hook.type, reason: hook.reason } } };
          }
          let idx = this.indices.get(a._index);
          if (!idx) this.indices.set(a._index, (idx = new Map()));
          if (idx.has(a._id)) {
            errors = true;
            return { create: { ...base, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${a._id}]: version conflict, document already exists (current version [1])` } } };
          }
          idx.set(a._id, doc);
          return { create: { ...base, _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: idx.size - 1, _primary_term: 1, status: 201 } };
        });
        reply(200, { took: 3, errors, items });
      });
    });
    this.server.keepAliveTimeout = 100;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  docs(index: string): Array<Record<string, unknown>> {
    return [...(this.indices.get(index)?.values() ?? [])];
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

let es: FakeEs | null = null;
let agent: RunningAgent | null = null;
afterEach(async () => {
  await agent?.stop();
  await es?.stop();
  agent = null;
  es = null;
});

let n = 0;
function sinkOf(extra: Record<string, unknown>): { sink: ElasticsearchSink; metrics: AgentMetrics; dataDir: string } {
  const metrics = new AgentMetrics();
  const dataDir = join(tmp.dir, `sink-${n++}`);
  const cfg = elasticsearchSinkSchema.parse({ type: 'elasticsearch', inputs: ['node'], endpoint: es!.url, ...extra });
  return { sink: new ElasticsearchSink(cfg, { name: 'es', dataDir, log: silentLogger, metrics, shared: new Map() }), metrics, dataDir };
}

const source = makeSource('2049:77:abcd', 'node', { namespace: 'shop', pod: 'web-1', container: 'nginx', node: 'node-1', label_app: 'web', 'app.kubernetes.io/name': 'web' });
function ev(line: string, offset: number, ts = `2026-11-22T23:59:59.${String(offset).padStart(9, '0')}Z`, extra: Partial<LogEvent> = {}): LogEvent {
  return { ts, stream: 'stdout', line, flags: 0, offset, ...extra };
}
const batchOf = (...events: LogEvent[]) => new EventBatch(source, events);

describe('elasticsearch sink', () => {
  it('sends one _bulk request of create actions and documents; index from the event date in UTC', async () => {
    es = await new FakeEs().start();
    const { sink, metrics } = sinkOf({ index: 'logs-%Y.%m.%d', compression: 'none' });
    await sink.write([batchOf(
      ev('GET / 200', 10),
      // 01:30 at +02:00 is the 22nd at 23:30 UTC: the index is the UTC day's.
      ev('{"status":503}', 20, '2026-11-23T01:30:00.123456789+02:00', { stream: 'stderr', flags: EventFlags.Truncated, fields: { status: '503', 'http.path': '/pay' } }),
      ev('after midnight', 30, '2026-11-23T00:00:00.000000001Z'),
    )]);
    expect(es.problems).toEqual([]);
    expect(es.requests).toHaveLength(1);
    const req = es.requests[0]!;
    expect(req.headers['content-encoding']).toBeUndefined();
    expect(req.url.searchParams.get('filter_path')).toContain('items.*.status');
    expect(req.actions.map((a) => a._index)).toEqual(['logs-2026.11.22', 'logs-2026.11.22', 'logs-2026.11.23']);
    expect(new Set(req.actions.map((a) => a._id)).size).toBe(3);
    const [a, b] = es.docs('logs-2026.11.22');
    expect(a).toEqual({
      '@timestamp': '2026-11-22T23:59:59.000000010Z', message: 'GET / 200', stream: 'stdout',
      kubernetes: { namespace: 'shop', pod: 'web-1', container: 'nginx', node: 'node-1', labels: { app: 'web' }, 'app_kubernetes_io/name': 'web' },
    });
    // Nanoseconds kept; the offset normalised to UTC; fields dedotted; flags by name.
    expect(b).toMatchObject({ '@timestamp': '2026-11-22T23:30:00.123456789Z', message: '{"status":503}', stream: 'stderr', fields: { status: '503', http_path: '/pay' }, flags: ['truncated'] });
    expect(es.docs('logs-2026.11.23').map((d) => d.message)).toEqual(['after midnight']);
    expect(await metrics.total('loggy_sink_events_total')).toBe(3);
    expect(await metrics.total('loggy_sink_bytes_total')).toBeGreaterThan(300);
  });

  it('keeps dots in label names with dedot_labels: false, and passes the ingest pipeline', async () => {
    es = await new FakeEs().start();
    const { sink } = sinkOf({ index: 'k8s', dedot_labels: false, pipeline: 'parse-nginx' });
    await sink.write([batchOf(ev('x', 1))]);
    expect(es.requests[0]!.url.searchParams.get('pipeline')).toBe('parse-nginx');
    expect(es.docs('k8s')[0]!.kubernetes).toMatchObject({ 'app.kubernetes.io/name': 'web' });
  });

  it('writes to a data stream with create and @timestamp', async () => {
    es = await new FakeEs().start();
    const { sink } = sinkOf({ data_stream: { dataset: 'nginx', namespace: 'prod' } });
    await sink.write([batchOf(ev('a', 1), ev('b', 2))]);
    expect(es.problems).toEqual([]);
    expect(es.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(es.docs('logs-nginx-prod').map((d) => [d.message, d['@timestamp']])).toEqual([['a', '2026-11-22T23:59:59.000000001Z'], ['b', '2026-11-22T23:59:59.000000002Z']]);
    const { sink: plain } = sinkOf({ data_stream: true });
    await plain.write([batchOf(ev('c', 3))]);
    expect(es.docs('logs-generic-default').map((d) => d.message)).toEqual(['c']);
  });

  it('ids are deterministic: the same write again is all 409s, counted delivered, indexed once', async () => {
    es = await new FakeEs().start();
    const { sink, metrics } = sinkOf({ index: 'logs' });
    const events = [ev('a', 1), ev('b', 2), ev('a', 1, undefined, { flags: EventFlags.RateLimitSummary, line: '5 lines dropped' })];
    await sink.write([batchOf(...events)]);
    await sink.write([batchOf(...events)]);
    expect(es.requests).toHaveLength(2);
    expect(es.requests[1]!.actions.map((a) => a._id)).toEqual(es.requests[0]!.actions.map((a) => a._id));
    // A rate-limit summary shares its offset with the line before it, but not its id.
    expect(es.docs('logs').map((d) => d.message)).toEqual(['a', 'b', '5 lines dropped']);
    expect(await metrics.total('loggy_sink_events_total')).toBe(6);
    expect(await metrics.total('loggy_sink_rejected_events_total')).toBe(0);
  });

  it('re-sends only the items answered 429, then they are indexed once', async () => {
    es = await new FakeEs().start();
    es.item = (doc, _a, seen) => (doc.message === 'busy' && seen <= 2 ? { status: 429, type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' } : undefined);
    const { sink, metrics } = sinkOf({ index: 'logs' });
    await sink.write([batchOf(ev('ok', 1), ev('busy', 2), ev('ok too', 3))]);
    expect(es.requests.map((r) => r.docs.map((d) => d.message))).toEqual([['ok', 'busy', 'ok too'], ['busy'], ['busy']]);
    expect(es.docs('logs').map((d) => d.message).sort()).toEqual(['busy', 'ok', 'ok too']);
    expect(await metrics.total('loggy_sink_events_total')).toBe(3);
  });

  it('items still failing with 5xx make the write throw RetryableError; the runner\'s retry of the whole write duplicates nothing', async () => {
    es = await new FakeEs().start();
    let down = true;
    es.item = (doc) => (down && doc.message === 'b' ? { status: 503, type: 'unavailable_shards_exception', reason: 'primary shard is not active' } : undefined);
    const { sink, metrics } = sinkOf({ index: 'logs' });
    const batch = batchOf(ev('a', 1), ev('b', 2));
    const err = await sink.write([batch]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(String((err as Error).message)).toContain('unavailable_shards_exception: primary shard is not active');
    expect(es.requests).toHaveLength(3);
    expect(await metrics.total('loggy_sink_events_total')).toBe(0);
    down = false;
    await sink.write([batch]);
    expect(es.docs('logs').map((d) => d.message)).toEqual(['a', 'b']);
    expect(await metrics.total('loggy_sink_events_total')).toBe(2);
  });

  it('dead-letters documents refused with a mapping error, with the reason; the others are indexed', async () => {
    es = await new FakeEs().start();
    es.item = (doc) => (doc.message === 'bad' ? { status: 400, type: 'document_parsing_exception', reason: '[1:84] failed to parse field [fields.status] of type [long]' } : undefined);
    const { sink, metrics, dataDir } = sinkOf({ index: 'logs' });
    await sink.write([batchOf(ev('good', 1), ev('bad', 2), ev('fine', 3))]);
    expect(es.requests).toHaveLength(1);
    expect(es.docs('logs').map((d) => d.message)).toEqual(['good', 'fine']);
    expect(await metrics.total('loggy_sink_events_total')).toBe(2);
    expect(await metrics.total('loggy_sink_rejected_events_total')).toBe(1);
    const [record] = readFileSync(join(dataDir, 'dead-letter', 'es.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(record).toMatchObject({ sink: 'es', status: 400, line: 'bad', offset: 2, labels: { namespace: 'shop', pod: 'web-1' } });
    expect(record!.reason).toBe('document refused by Elasticsearch: document_parsing_exception: [1:84] failed to parse field [fields.status] of type [long]');
  });

  it('a whole-request 5xx is retryable; a 400 is split down to the documents and dead-lettered', async () => {
    es = await new FakeEs().start();
    es.whole = [503];
    const { sink, metrics, dataDir } = sinkOf({ index: 'logs' });
    const err = await sink.write([batchOf(ev('a', 1))]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(String((err as Error).message)).toContain('503');
    es.whole = [400, 400, 400];
    await sink.write([batchOf(ev('x', 5), ev('y', 6))]);
    // Whole, then each half alone: both refused.
    expect(es.requests.slice(1).map((r) => r.docs.map((d) => d.message))).toEqual([['x', 'y'], ['x'], ['y']]);
    expect(await metrics.total('loggy_sink_rejected_events_total')).toBe(2);
    expect(readFileSync(join(dataDir, 'dead-letter', 'es.ndjson'), 'utf8')).toContain('parse_exception');
    expect(es.docs('logs')).toEqual([]);
  });

  it('sends basic and API key credentials', async () => {
    es = await new FakeEs().start();
    es.auth = `Basic ${Buffer.from('elastic:s3cret').toString('base64')}`;
    await sinkOf({ index: 'logs', auth: { strategy: 'basic', user: 'elastic', password: 's3cret' } }).sink.write([batchOf(ev('basic', 1))]);
    es.auth = `ApiKey ${Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').toString('base64')}`;
    await sinkOf({ index: 'logs', auth: { strategy: 'api_key', api_key: 'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw' } }).sink.write([batchOf(ev('id:key', 2))]);
    const encoded = Buffer.from('id2:key2').toString('base64');
    es.auth = `ApiKey ${encoded}`;
    await sinkOf({ index: 'logs', auth: { strategy: 'api_key', api_key: encoded } }).sink.write([batchOf(ev('encoded', 3))]);
    expect(es.docs('logs').map((d) => d.message)).toEqual(['basic', 'id:key', 'encoded']);
    // Wrong credentials: 401 is retried (a config to fix), not given up.
    es.auth = 'ApiKey nope';
    const err = await sinkOf({ index: 'logs', auth: { strategy: 'basic', user: 'elastic', password: 'wrong' } }).sink.write([batchOf(ev('x', 4))]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
  });

  it('refuses configurations it cannot honour, saying why', () => {
    const parse = (extra: Record<string, unknown>) => sinkSchema.safeParse({ type: 'elasticsearch', inputs: ['node'], endpoint: 'http://es:9200', ...extra });
    const messages = (extra: Record<string, unknown>) => parse(extra).error?.issues.map((i) => i.message).join('; ') ?? '';
    expect(messages({ index: 'logs-%Y', data_stream: true })).toContain('either index or data_stream');
    expect(messages({ index: 'Logs-%Y' })).toContain('lower case');
    expect(messages({ index: 'logs-%j' })).toContain('only %Y, %m, %d and %H');
    expect(messages({ token: 't', auth: { strategy: 'api_key', api_key: 'k' } })).toContain('either auth or token');
    expect(messages({ data_stream: { dataset: 'my-app' } })).toContain('data_stream.dataset');
    expect(parse({ tenant: 'a' }).success).toBe(false);
    expect(parse({ auth: { strategy: 'basic', user: 'u' } }).success).toBe(false);
    expect(parse({ index: 'logs-%Y.%m.%d', auth: { strategy: 'basic', user: 'u', password: 'p' } }).success).toBe(true);
  });

  it('end to end: an agent reading a container log file indexes every line once, with its pod', async () => {
    es = await new FakeEs().start();
    es.auth = `ApiKey ${Buffer.from('id:key').toString('base64')}`;
    // The first request of the write fails whole: the runner retries it.
    es.whole = [503];
    const dir = join(tmp.dir, `agent-${n++}`);
    const root = join(dir, 'node');
    const p = podLog(root, 'shop', 'web-1', 'nginx', 0, 'uid-1');
    append(p, ['GET / 200', 'oops', 'GET /cart 200'].map((l, i) => cri(l, i === 1 ? 'stderr' : 'stdout')).join(''));
    const cfg = agentConfigSchema.parse({
      data_dir: join(dir, 'data'), shutdown_grace: 500,
      sources: { node: { type: 'kubernetes_logs', root } },
      sinks: { es: { type: 'elasticsearch', inputs: ['node'], endpoint: es.url, index: 'logs-%Y.%m.%d', auth: { strategy: 'api_key', api_key: 'id:key' } } },
    });
    agent = await startAgent(cfg, { log: silentLogger });
    await waitFor(async () => (await agent!.metrics.total('loggy_sink_events_total')) === 3, 10_000, 'three events delivered');
    expect(es.problems).toEqual([]);
    expect(await agent.metrics.total('loggy_sink_errors_total')).toBe(1);
    // The CRI timestamps of the helper are on 2026-11-22.
    const docs = es.docs('logs-2026.11.22');
    expect(docs.map((d) => d.message)).toEqual(['GET / 200', 'oops', 'GET /cart 200']);
    expect(docs[1]).toMatchObject({ stream: 'stderr', kubernetes: { namespace: 'shop', pod: 'web-1', container: 'nginx', pod_uid: 'uid-1', restart: '0' } });
    expect(String(docs[0]!['@timestamp'])).toMatch(/^2026-11-22T10:00:00\.\d{9}Z$/);
    expect([...es.seen.values()].every((k) => k <= 2)).toBe(true);
  });
});
