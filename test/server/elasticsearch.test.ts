import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearerFromElasticAuth } from '../../src/server/auth.js';
import { mapDocument } from '../../src/server/ingest/elasticsearch.js';
import type { RunningServer } from '../../src/server/run.js';
import { getJson, nsNow, postBody, startTestServer } from '../helpers/server.js';

let server: RunningServer | null = null;
let uiDir: string;
beforeAll(() => {
  uiDir = mkdtempSync(join(tmpdir(), 'loggy-es-ui-'));
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>Loggy</title>');
});
afterAll(() => rmSync(uiDir, { recursive: true, force: true }));
afterEach(async () => {
  await server?.stop();
  server = null;
});

const ndjson = (...lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const NDJSON = { 'content-type': 'application/x-ndjson' };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

interface Stream { stream: Record<string, string>; values: Array<[string, string, Record<string, string>?]> }
async function streams(url: string, query: string, headers: Record<string, string> = {}): Promise<Stream[]> {
  const start = (nsNow() - 3_600_000_000_000n * 24n * 400n).toString();
  const end = (nsNow() + 60_000_000_000n).toString();
  const r = await getJson<{ data: { result: Stream[] } }>(
    `${url}/loki/api/v1/query_range?query=${encodeURIComponent(query)}&start=${start}&end=${end}&limit=1000&direction=forward`, headers);
  expect(r.status, r.text).toBe(200);
  return r.body.data.result;
}

/** GET with exactly these headers (fetch would add `Accept: * / *`). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Elasticsearch-compatible ingest', () => {
  it('answers the probes Filebeat and Vector make: GET / with a version, _license, templates, health', async () => {
    server = await startTestServer({ ui: { dir: uiDir } });
    const u = server.url;
    // Filebeat/libbeat sends Accept: application/json; Vector sends no Accept.
    for (const headers of [{ accept: 'application/json' }, {}] as Array<Record<string, string>>) {
      const r = await rawGet(`${u}/`, headers);
      expect(r.status).toBe(200);
      expect(r.headers['x-elastic-product']).toBe('Elasticsearch');
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      const info = JSON.parse(r.text) as { version: { number: string }; tagline: string };
      expect(info.version.number).toBe('8.11.0');
      expect(info.tagline).toBe('You Know, for Search');
    }
    // A browser (and curl, fetch: Accept */*) still gets the web page at /.
    const page = await fetch(`${u}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(await page.text()).toMatch(/<title>Loggy/);
    expect(await (await fetch(`${u}/`)).text()).toMatch(/<title>Loggy/);
    // Under /es everything is Elasticsearch.
    const es = await fetch(`${u}/es`, { headers: { accept: 'text/html' } });
    expect(((await es.json()) as { version: { number: string } }).version.number).toBe('8.11.0');
    expect((await fetch(`${u}/`, { method: 'HEAD', headers: { accept: 'application/json' } })).status).toBe(200);

    const lic = await fetch(`${u}/_license`);
    expect(lic.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(((await lic.json()) as { license: { status: string; type: string } }).license).toMatchObject({ status: 'active', type: 'basic' });
    for (const path of ['/_index_template/filebeat-8.11.0', '/_template/vector', '/es/_index_template/x', '/_ilm/policy/filebeat']) {
      expect((await fetch(`${u}${path}`, { method: 'HEAD' })).status, path).toBe(200);
      expect((await fetch(`${u}${path}`)).status, path).toBe(200);
      const put = await fetch(`${u}${path}`, { method: 'PUT', body: '{"index_patterns":["x-*"]}', headers: { 'content-type': 'application/json' } });
      expect(await put.json(), path).toEqual({ acknowledged: true });
    }
    const health = await getJson<{ status: string }>(`${u}/_cluster/health`);
    expect(health.body.status).toBe('green');
    // Unknown Elasticsearch paths are 404s, not the UI's page.
    expect((await fetch(`${u}/_nodes/http`, { headers: { accept: 'text/html' } })).status).toBe(404);
  });

  it('stores what Fluent Bit\'s es output sends (gzip NDJSON, kubernetes filter fields) and answers "errors":false byte-exact', async () => {
    server = await startTestServer();
    const k8s = { pod_name: 'web-1', namespace_name: 'shop', container_name: 'app', host: 'node-a', labels: { app: 'web' } };
    const body = ndjson(
      { create: { _index: 'fluent-bit' } },
      { '@timestamp': '2026-11-23T10:00:00.123456789Z', log: 'GET / 200', stream: 'stdout', time: '2026-11-23T10:00:00.123456789Z', kubernetes: k8s },
      { create: { _index: 'fluent-bit' } },
      { '@timestamp': '2026-11-23T10:00:01.000Z', log: 'GET /cart 500', stream: 'stderr', kubernetes: k8s },
    );
    const r = await postBody(`${server.url}/_bulk`, gzipSync(body), { ...NDJSON, 'content-encoding': 'gzip', 'user-agent': 'Fluent-Bit' });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(r.text).toMatch(/^\{"took":\d+,"errors":false,"items":\[\{"create":\{"_index":"fluent-bit","_id":"[\w-]{20}","_version":1,"result":"created",/);
    const answer = JSON.parse(r.text) as { items: Array<{ create: { status: number; _id: string } }> };
    expect(answer.items.map((i) => i.create.status)).toEqual([201, 201]);
    expect(new Set(answer.items.map((i) => i.create._id)).size).toBe(2);

    const got = await streams(server.url, '{index="fluent-bit"}');
    // Query results show structured metadata (here `stream`) with the labels.
    expect(got.map((s) => s.stream)).toEqual([
      { index: 'fluent-bit', namespace: 'shop', pod: 'web-1', container: 'app', node: 'node-a', stream: 'stderr' },
      { index: 'fluent-bit', namespace: 'shop', pod: 'web-1', container: 'app', node: 'node-a', stream: 'stdout' },
    ]);
    expect(got.flatMap((s) => s.values.map((v) => [v[0], v[1]])).sort()).toEqual([
      ['1795428000123456789', 'GET / 200'],
      ['1795428001000000000', 'GET /cart 500'],
    ]);
    const meta = await streams(server.url, '{index="fluent-bit"} | stream="stderr"');
    expect(meta.flatMap((s) => s.values.map((v) => v[1]))).toEqual(['GET /cart 500']);
  });

  it('stores what Filebeat (add_kubernetes_metadata, data stream create) and Vector (index, /<index>/_bulk) send', async () => {
    server = await startTestServer();
    const now = Date.now();
    const filebeat = ndjson(
      { create: { _index: 'filebeat-8.11.0' } },
      {
        '@timestamp': new Date(now).toISOString(), message: 'order 42 paid',
        kubernetes: { namespace: 'shop', pod: { name: 'api-7', uid: 'u1' }, container: { name: 'api' }, node: { name: 'node-b' } },
        agent: { type: 'filebeat', version: '8.11.0' }, input: { type: 'container' }, stream: 'stdout', log: { offset: 10, file: { path: '/var/log/containers/x.log' } },
      },
    );
    let r = await postBody(`${server.url}/_bulk`, filebeat, { 'content-type': 'application/json; charset=UTF-8', authorization: 'ApiKey aWQ6a2V5' });
    expect(r.text).toMatch(/^\{"took":\d+,"errors":false,"items":\[\{"create":/);

    // Vector: index actions with an _id, the index also in the URL; dotted keys, epoch millis.
    const vector = ndjson(
      { index: { _index: 'vector-2026.11.23', _id: 'v-1' } },
      { message: 'vector says hi', '@timestamp': now, 'kubernetes.pod_name': 'edge-1', 'kubernetes.namespace_name': 'net', host: 'h1' },
      { index: { _id: 'v-2' } },
      { msg: 'no message field', level: 'info' },
    );
    r = await postBody(`${server.url}/vector-default/_bulk`, vector, NDJSON);
    expect(r.text).toMatch(/^\{"took":\d+,"errors":false,"items":\[\{"index":\{"_index":"vector-2026.11.23","_id":"v-1","_version":1,"result":"created",/);
    expect((JSON.parse(r.text) as { items: Array<{ index: { _index: string; status: number } }> }).items.map((i) => [i.index._index, i.index.status]))
      .toEqual([['vector-2026.11.23', 201], ['vector-default', 201]]);

    const fb = await streams(server.url, '{index="filebeat-8.11.0"}');
    expect(fb.map((s) => s.stream)).toEqual([{ index: 'filebeat-8.11.0', namespace: 'shop', pod: 'api-7', container: 'api', node: 'node-b', stream: 'stdout' }]);
    expect(fb[0]!.values.map((v) => [v[0], v[1]])).toEqual([[(BigInt(now) * 1_000_000n).toString(), 'order 42 paid']]);
    expect((await streams(server.url, '{index="vector-2026.11.23"}')).map((s) => [s.stream, s.values.map((v) => v[1])]))
      .toEqual([[{ index: 'vector-2026.11.23', namespace: 'net', pod: 'edge-1', host: 'h1' }, ['vector says hi']]]);
    // No message/log: the whole document is the line.
    expect((await streams(server.url, '{index="vector-default"}')).flatMap((s) => s.values.map((v) => v[1])))
      .toEqual(['{"msg":"no message field","level":"info"}']);
  });

  it('answers bad documents and unsupported actions in their items with "errors":true and writes the rest', async () => {
    server = await startTestServer();
    const body = ndjson(
      { index: { _index: 'app' } },
      { message: 'good 1' },
      { index: { _index: 'app' } },
      '{"message": "broken',
      { delete: { _index: 'app', _id: 'x' } },
      { update: { _index: 'app', _id: 'y' } },
      { doc: { a: 1 } },
      { create: { _index: 'app' } },
      { message: 'bad time', '@timestamp': 'yesterday' },
      { create: {} },
      { message: 'no index' },
      { create: { _index: 'app' } },
      { message: 'good 2' },
    );
    const r = await postBody(`${server.url}/_bulk`, body, NDJSON);
    expect(r.status, r.text).toBe(200);
    expect(r.text).toMatch(/^\{"took":\d+,"errors":true,"items":\[/);
    const items = (JSON.parse(r.text) as { items: Array<Record<string, { status: number; error?: { type: string; reason: string } }>> }).items;
    expect(items.map((i) => [Object.keys(i)[0], Object.values(i)[0]!.status, Object.values(i)[0]!.error?.type])).toEqual([
      ['index', 201, undefined],
      ['index', 400, 'mapper_parsing_exception'],
      ['delete', 400, 'illegal_argument_exception'],
      ['update', 400, 'illegal_argument_exception'],
      ['create', 400, 'mapper_parsing_exception'],
      ['create', 400, 'action_request_validation_exception'],
      ['create', 201, undefined],
    ]);
    expect(Object.values(items[4]!)[0]!.error!.reason).toMatch(/@timestamp/);
    expect((await streams(server.url, '{index="app"}')).flatMap((s) => s.values.map((v) => v[1]))).toEqual(['good 1', 'good 2']);
  });

  it('refuses an entry breaking a store limit in its item; a malformed action line refuses the request in JSON', async () => {
    server = await startTestServer({ limits: { max_line_bytes: 50 } });
    const r = await postBody(`${server.url}/_bulk`, ndjson(
      { index: { _index: 'lim' } }, { message: 'x'.repeat(100) },
      { index: { _index: 'lim' } }, { message: 'short' },
      { index: { _index: 'lim' } }, { message: 'ancient', '@timestamp': '2001-01-01T00:00:00Z' },
    ), NDJSON);
    const items = (JSON.parse(r.text) as { errors: boolean; items: Array<{ index: { status: number; error?: { reason: string } } }> });
    expect(items.errors).toBe(true);
    expect(items.items.map((i) => i.index.status)).toEqual([400, 201, 400]);
    expect(items.items[0]!.index.error!.reason).toMatch(/longer than 50 bytes/);
    expect(items.items[2]!.index.error!.reason).toMatch(/older than/);
    expect((await streams(server.url, '{index="lim"}')).flatMap((s) => s.values.map((v) => v[1]))).toEqual(['short']);

    const bad = await postBody(`${server.url}/_bulk`, '{"index":\n{"message":"x"}\n', NDJSON);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect((JSON.parse(bad.text) as { error: { type: string; reason: string }; status: number })).toMatchObject({ status: 400, error: { reason: expect.stringMatching(/malformed action\/metadata line \[1\]/) } });
    const unknown = await postBody(`${server.url}/_bulk`, ndjson({ upsert: { _index: 'a' } }, { message: 'x' }), NDJSON);
    expect(unknown.status).toBe(400);
  });

  it('refuses a body over the size limit with 413, compressed or once decompressed', async () => {
    server = await startTestServer({ limits: { max_body_bytes: 2048 } });
    const big = ndjson({ index: { _index: 'big' } }, { message: 'y'.repeat(5000) });
    expect((await postBody(`${server.url}/_bulk`, big, NDJSON)).status).toBe(413);
    const r = await postBody(`${server.url}/_bulk`, gzipSync(big), { ...NDJSON, 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(r.text).toMatch(/over 2048 bytes once decompressed/);
  });

  it('with auth on, needs a write token, given as Basic password, ApiKey or Bearer; probes need none', async () => {
    server = await startTestServer({ auth: { enabled: true, tokens: [
      { token: 'writer-aaaaaaaaaaaaaaaa', tenants: ['team-a'], read: true, write: true },
      { token: 'reader-aaaaaaaaaaaaaaaa', tenants: ['team-a'], read: true },
    ] } });
    const u = server.url;
    const body = (m: string) => ndjson({ create: { _index: 'auth' } }, { message: m });
    const none = await postBody(`${u}/_bulk`, body('none'), NDJSON);
    expect(none.status).toBe(401);
    expect(none.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect((JSON.parse(none.text) as { error: { type: string } }).error.type).toBe('security_exception');
    expect((await postBody(`${u}/_bulk`, body('wrong'), { ...NDJSON, authorization: basic('elastic', 'nope-nope-nope') })).status).toBe(401);
    expect((await postBody(`${u}/_bulk`, body('reader'), { ...NDJSON, authorization: basic('elastic', 'reader-aaaaaaaaaaaaaaaa') })).status).toBe(403);
    for (const [m, authorization] of [
      ['basic', basic('elastic', 'writer-aaaaaaaaaaaaaaaa')],
      ['apikey-raw', 'ApiKey writer-aaaaaaaaaaaaaaaa'],
      ['apikey-id', `ApiKey ${Buffer.from('loggy:writer-aaaaaaaaaaaaaaaa').toString('base64')}`],
      ['bearer', 'Bearer writer-aaaaaaaaaaaaaaaa'],
    ] as const) {
      const r = await postBody(`${u}/_bulk`, body(m), { ...NDJSON, authorization });
      expect(r.status, `${m}: ${r.text}`).toBe(200);
    }
    expect((await fetch(`${u}/_license`)).status).toBe(200);
    expect((await fetch(`${u}/`, { headers: { accept: 'application/json' } })).status).toBe(200);
    const got = await streams(u, '{index="auth"}', { authorization: 'Bearer reader-aaaaaaaaaaaaaaaa' });
    expect(got.flatMap((s) => s.values.map((v) => v[1])).sort()).toEqual(['apikey-id', 'apikey-raw', 'basic', 'bearer']);
    // Basic is accepted on the Elasticsearch API only.
    const loki = await postBody(`${u}/loki/api/v1/push`, JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [[nsNow().toString(), 'x']] }] }),
      { 'content-type': 'application/json', authorization: basic('elastic', 'writer-aaaaaaaaaaaaaaaa') });
    expect(loki.status).toBe(401);
  });
});

describe('bearerFromElasticAuth', () => {
  it('takes the token from a Basic password, an ApiKey (raw or base64 id:key), and leaves the rest alone', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(bearerFromElasticAuth(`Basic ${b64('elastic:tok-123')}`)).toBe('Bearer tok-123');
    expect(bearerFromElasticAuth(`Basic ${b64('user:pa:ss')}`)).toBe('Bearer pa:ss');
    expect(bearerFromElasticAuth(`ApiKey ${b64('id:tok-123')}`)).toBe('Bearer tok-123');
    expect(bearerFromElasticAuth('ApiKey tok-123')).toBe('Bearer tok-123');
    expect(bearerFromElasticAuth('Bearer tok-123')).toBe('Bearer tok-123');
    expect(bearerFromElasticAuth(undefined)).toBeUndefined();
    // A Basic credential without a password stays as it is (and is refused by the authenticator).
    expect(bearerFromElasticAuth(`Basic ${b64('elastic:')}`)).toBe(`Basic ${b64('elastic:')}`);
  });
});

describe('document mapping', () => {
  it('keeps top-level scalar fields as metadata when the line is message/log, with safe names', () => {
    const m = mapDocument(JSON.stringify({ log: 'x', stream: 'stdout', 'log.level': 'warn', n: 3, ok: true, nested: { a: 1 }, arr: [1] }), 'i', 0n);
    expect(m).toEqual({ labels: { index: 'i' }, line: 'x', tsNs: 0n, metadata: { stream: 'stdout', log_level: 'warn', n: '3', ok: 'true' } });
    // Vector's kubernetes_logs fields and its `timestamp`.
    expect(mapDocument(JSON.stringify({
      message: 'v', timestamp: '2026-11-23T10:00:00Z', kubernetes: { pod_namespace: 'ns', pod_name: 'p', container_name: 'c', pod_node_name: 'n' },
    }), 'i', 0n)).toEqual({ labels: { index: 'i', namespace: 'ns', pod: 'p', container: 'c', node: 'n' }, line: 'v', tsNs: 1795428000000000000n });
    expect(mapDocument('[1,2]', 'i', 0n)).toEqual({ error: 'a document must be a JSON object' });
    expect(mapDocument('{"message":"m","time":"garbage"}', 'i', 7n)).toMatchObject({ tsNs: 7n });
    expect(mapDocument('{"message":"m","@timestamp":"1795341600123"}', 'i', 7n)).toMatchObject({ tsNs: 1795341600123000000n });
  });
});
