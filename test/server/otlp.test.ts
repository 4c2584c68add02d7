import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { otlpLogsTypes } from '../../src/protocols/otlp/index.js';
import type { RunningServer } from '../../src/server/run.js';
import { append, podLog } from '../helpers/agent.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { getJson, nsNow, startTestServer } from '../helpers/server.js';

const servers: RunningServer[] = [];
let agent: RunningAgent | null = null;
afterEach(async () => {
  await agent?.stop();
  agent = null;
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
async function store(config: Record<string, unknown> = {}): Promise<RunningServer> {
  const s = await startTestServer(config);
  servers.push(s);
  return s;
}

const PB = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };
const s = (key: string, v: string) => ({ key, value: { stringValue: v } });
const T0 = nsNow() - 60_000_000_000n;
const at = (ms: number) => (T0 + BigInt(ms) * 1_000_000n).toString();

function protobuf(req: Record<string, unknown>): Buffer {
  const { request } = otlpLogsTypes();
  return Buffer.from(request.encode(request.fromObject(req)).finish());
}
const statusOf = (body: Buffer | string, pb: boolean) => {
  const { status } = otlpLogsTypes();
  return pb ? status.toObject(status.decode(Buffer.from(body as Buffer))) as { code: number; message: string } : JSON.parse(String(body)) as { code: number; message: string };
};

async function post(url: string, body: string | Buffer, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

interface Stream { stream: Record<string, string>; values: Array<[string, string]> }
async function query(url: string, q: string, headers: Record<string, string> = {}): Promise<Stream[]> {
  const start = (nsNow() - 3_600_000_000_000n).toString();
  const end = (nsNow() + 60_000_000_000n).toString();
  const r = await getJson<{ data: { result: Stream[] } }>(`${url}/loki/api/v1/query_range?query=${encodeURIComponent(q)}&start=${start}&end=${end}&limit=1000&direction=forward`, headers);
  expect(r.status, r.text).toBe(200);
  return r.body.data.result;
}

/** An OTel Collector's otlphttp export of two container lines (filelog + k8sattributes). */
function collectorRequest(): Buffer {
  return protobuf({ resourceLogs: [{
    resource: { attributes: [s('k8s.namespace.name', 'shop'), s('k8s.pod.name', 'web-1'), s('k8s.container.name', 'nginx'), s('k8s.node.name', 'node-a'), s('k8s.deployment.name', 'web')] },
    scopeLogs: [{ scope: {}, logRecords: [
      { timeUnixNano: at(1), observedTimeUnixNano: at(2), body: { stringValue: 'GET / 200' }, attributes: [s('log.iostream', 'stdout'), s('logtag', 'F')] },
      { timeUnixNano: at(3), observedTimeUnixNano: at(4), body: { stringValue: 'upstream timed out' }, attributes: [s('log.iostream', 'stderr'), s('logtag', 'F')] },
    ] }],
  }] });
}

/** The OTel JS SDK's JSON export: SDK resource, severity, trace context. */
function jsSdkRequest(): string {
  return JSON.stringify({ resourceLogs: [{
    resource: { attributes: [s('service.name', 'checkout'), s('telemetry.sdk.language', 'nodejs'), s('deployment.environment', 'prod')], droppedAttributesCount: 0 },
    scopeLogs: [{ scope: { name: 'checkout-logger', version: '1.0.0' }, logRecords: [
      { timeUnixNano: at(10), observedTimeUnixNano: at(10), severityNumber: 17, severityText: 'ERROR', body: { stringValue: 'payment declined' },
        attributes: [s('order.id', 'A-17')], droppedAttributesCount: 0, flags: 1, traceId: 'af5ce23816c4feabb713ee1dc84ef4d3', spanId: '5f50e181ec7bc621' },
      { timeUnixNano: at(11), severityNumber: 9, body: { stringValue: 'cart loaded' } },
    ] }],
  }] });
}

describe('OTLP/HTTP logs ingest', () => {
  it("stores a Collector's otlphttp export at /otlp/v1/logs: pod labels, stream label, attributes as metadata", async () => {
    const st = await store();
    const r = await post(`${st.url}/otlp/v1/logs`, gzipSync(collectorRequest()), { ...PB, 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    expect(r.body.length).toBe(0);
    const got = await query(st.url, '{namespace="shop"}');
    // Query results show structured metadata merged with the labels, as Loki's do.
    expect(got.map((x) => x.stream)).toEqual([
      { namespace: 'shop', pod: 'web-1', container: 'nginx', node: 'node-a', workload: 'web', workload_kind: 'Deployment', stream: 'stderr', logtag: 'F' },
      { namespace: 'shop', pod: 'web-1', container: 'nginx', node: 'node-a', workload: 'web', workload_kind: 'Deployment', stream: 'stdout', logtag: 'F' },
    ]);
    expect(got.flatMap((x) => x.values).sort()).toEqual([[at(1), 'GET / 200'], [at(3), 'upstream timed out']]);
  });

  it("stores the JS SDK's JSON export at /v1/logs: service_name label, level, trace ids queryable", async () => {
    const st = await store();
    const r = await post(`${st.url}/v1/logs`, jsSdkRequest(), JSON_CT);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(r.body.toString())).toEqual({});
    const errors = await query(st.url, '{service_name="checkout"} | detected_level="error"');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.values.map((v) => v[1])).toEqual(['payment declined']);
    expect(errors[0]!.stream).toEqual({
      service_name: 'checkout', telemetry_sdk_language: 'nodejs', deployment_environment: 'prod',
      order_id: 'A-17', level: 'ERROR', trace_id: 'af5ce23816c4feabb713ee1dc84ef4d3', span_id: '5f50e181ec7bc621', scope_name: 'checkout-logger', scope_version: '1.0.0', detected_level: 'error',
    });
    const byTrace = await query(st.url, '{service_name="checkout"} | trace_id="af5ce23816c4feabb713ee1dc84ef4d3"');
    expect(byTrace.flatMap((x) => x.values.map((v) => v[1]))).toEqual(['payment declined']);
    expect((await query(st.url, '{deployment_environment="prod"} | level="info"')).flatMap((x) => x.values.map((v) => v[1]))).toEqual(['cart loaded']);
  });

  it('refuses invalid records and records over a limit alone, with a partial success in the request encoding', async () => {
    const st = await store({ limits: { max_line_bytes: 16 } });
    const old = (nsNow() - 30n * 24n * 3_600_000_000_000n).toString();
    const records = [
      { timeUnixNano: at(1), body: { stringValue: 'kept' } },
      { timeUnixNano: at(2), spanId: 'xyz', body: { stringValue: 'bad span id' } },
      { timeUnixNano: old, body: { stringValue: 'a month old' } },
      { timeUnixNano: at(3), body: { stringValue: 'a line longer than sixteen bytes' } },
      { timeUnixNano: at(4), body: { stringValue: 'kept too' } },
    ];
    const j = await post(`${st.url}/otlp/v1/logs`, JSON.stringify({ resourceLogs: [{ resource: { attributes: [s('service.name', 'p')] }, scopeLogs: [{ logRecords: records }] }] }), JSON_CT);
    expect(j.status).toBe(200);
    const partial = (JSON.parse(j.body.toString()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } }).partialSuccess;
    expect(partial.rejectedLogRecords).toBe('3');
    expect(partial.errorMessage).toMatch(/^1 log record refused: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[1\]: spanId must be hex; 2 log records refused by the store's limits: timestamp \d+ is older than/);
    expect((await query(st.url, '{service_name="p"}')).flatMap((x) => x.values.map((v) => v[1]))).toEqual(['kept', 'kept too']);
    const p = await post(`${st.url}/otlp/v1/logs`, protobuf({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: at(5), traceId: Buffer.alloc(4), body: { stringValue: 'x' } }] }] }] }), PB);
    const { response } = otlpLogsTypes();
    expect(response.toObject(response.decode(p.body), { longs: String })).toMatchObject({ partialSuccess: { rejectedLogRecords: '1' } });
  });

  it('uses the ingest tokens and tenants; errors are Status bodies in the request encoding', async () => {
    const st = await store({ limits: { max_body_bytes: 64 * 1024, max_entries_per_push: 2 }, auth: { enabled: true, tokens: [
      { token: 'writer-aaaaaaaaaaaaaaaa', tenants: ['team-a', 'team-b'], read: true, write: true },
      { token: 'reader-aaaaaaaaaaaaaaaa', tenants: ['team-a'], read: true },
    ] } });
    const url = `${st.url}/otlp/v1/logs`;
    const w = { authorization: 'Bearer writer-aaaaaaaaaaaaaaaa' };
    const none = await post(url, collectorRequest(), PB);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.headers.get('content-type')).toBe('application/x-protobuf');
    expect(statusOf(none.body, true)).toMatchObject({ code: 16 });
    expect((await post(url, jsSdkRequest(), { ...JSON_CT, authorization: 'Bearer reader-aaaaaaaaaaaaaaaa' })).status).toBe(403);
    const noOrg = await post(url, jsSdkRequest(), { ...JSON_CT, ...w });
    expect(noOrg.status).toBe(400);
    expect(statusOf(noOrg.body, false).message).toContain('X-Scope-OrgID is required');
    expect((await post(url, collectorRequest(), { ...PB, ...w, 'x-scope-orgid': 'team-b' })).status).toBe(200);
    expect(await query(st.url, '{namespace="shop"}', { ...w, 'x-scope-orgid': 'team-a' })).toEqual([]);
    expect(await query(st.url, '{namespace="shop"}', { ...w, 'x-scope-orgid': 'team-b' })).toHaveLength(2);

    const auth = { ...w, 'x-scope-orgid': 'team-a' };
    const bad = await post(url, Buffer.from([0x0a, 0xff, 0xff, 0x01]), { ...PB, ...auth });
    expect(bad.status).toBe(400);
    expect(statusOf(bad.body, true)).toMatchObject({ code: 3, message: expect.stringMatching(/^body is not a protobuf/) as unknown });
    const badJson = await post(url, '{"resourceLogs":', { ...JSON_CT, ...auth });
    expect(badJson.status).toBe(400);
    expect(statusOf(badJson.body, false).message).toMatch(/^body is not JSON/);
    const text = await post(url, 'hello', { 'content-type': 'text/plain', ...auth });
    expect(text.status).toBe(415);
    expect(text.headers.get('content-type')).toBe('application/json');
    const big = await post(url, Buffer.alloc(70_000, 0x20), { ...JSON_CT, ...auth });
    expect(big.status).toBe(413);
    expect(statusOf(big.body, false)).toEqual({ code: 8, message: 'request body over 65536 bytes' });
    expect((await post(url, gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20)), { ...JSON_CT, ...auth, 'content-encoding': 'gzip' })).status).toBe(413);
    const many = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{}, {}, {}] }] }] });
    expect((await post(url, many, { ...JSON_CT, ...auth })).status).toBe(413);
    // Garbage never gets a 500.
    let seed = 3;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 40; i++) {
      const b = Buffer.from(i % 2 ? jsSdkRequest() : collectorRequest());
      for (let k = 0; k < 4; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const r = await post(url, b.subarray(0, Math.floor(rnd() * b.length)), { ...(i % 2 ? JSON_CT : PB), ...auth });
      expect([200, 400]).toContain(r.status);
    }
    // Not a page of the UI either.
    expect((await fetch(`${st.url}/otlp/v1/logs`, { headers: { accept: 'text/html' } })).status).toBe(404);
  });

  it('end to end: the agent\'s otlp sink into the store gives the labels and metadata the loggy sink gives', async () => {
    const viaOtlp = await store();
    const viaLoggy = await store();
    const tmp = tempDir('loggy-otlp-ingest-');
    try {
      const root = join(tmp.dir, 'node');
      // CRI lines stamped now (the store refuses lines older than a week), nanoseconds kept.
      let seq = 0;
      const line = (l: string, stream = 'stdout') => `${new Date().toISOString().slice(0, 23)}${String(++seq).padStart(6, '0')}Z ${stream} F ${l}\n`;
      append(podLog(root, 'shop', 'web-1', 'nginx', 0, 'uid-9'), line('{"level":"warn","msg":"slow","user":"u1"}') + line('plain', 'stderr'));
      agent = await startAgent(agentConfigSchema.parse({
        data_dir: join(tmp.dir, 'data'), shutdown_grace: 500,
        sources: { node: { type: 'kubernetes_logs', root, poll_interval: 50, rescan_interval: 500 } },
        transforms: { parse: { type: 'parse', inputs: ['node'], format: 'json' } },
        sinks: {
          otlp: { type: 'otlp', inputs: ['parse'], endpoint: `${viaOtlp.url}/otlp` },
          loggy: { type: 'loggy', inputs: ['parse'], endpoint: viaLoggy.url },
        },
      }), { log: silentLogger });
      const both = async () => [await query(viaOtlp.url, '{namespace="shop"}'), await query(viaLoggy.url, '{namespace="shop"}')];
      await waitFor(async () => (await both()).every((r) => r.flatMap((x) => x.values).length === 2), 10_000, 'two lines in each store');
      const [otlp, loggy] = await both();
      const norm = (r: Stream[]) => r.flatMap((x) => x.values.map((v) => ({ ts: v[0], line: v[1], stream: x.stream }))).sort((a, b) => a.line.localeCompare(b.line));
      // The same lines, times, labels and metadata; OTLP adds service_name, which the sink derives.
      expect(norm(otlp!)).toEqual(norm(loggy!).map((e) => ({ ...e, stream: { ...e.stream, service_name: 'nginx' } })));
      expect(norm(otlp!).find((e) => e.stream.stream === 'stdout')!.stream).toMatchObject({ namespace: 'shop', pod: 'web-1', container: 'nginx', stream: 'stdout', level: 'warn', msg: 'slow', user: 'u1', detected_level: 'warn' });
    } finally {
      await agent?.stop();
      agent = null;
      tmp.cleanup();
    }
  });
});
