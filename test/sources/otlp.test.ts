import { createServer, type Server } from 'node:http';
import { createServer as netServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { otlpLogsTypes } from '../../src/protocols/otlp/index.js';
import { append, cri, podLog, readOut } from '../helpers/agent.js';
import { sleep, tempDir, waitFor } from '../helpers/proc.js';

async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A receiver that answers only when released: a sink that is slow to confirm. */
async function heldReceiver(): Promise<{ url: string; hits: () => number; release: () => void; server: Server }> {
  let hits = 0;
  let held: Array<() => void> = [];
  let open = false;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (open) answer();
      else held.push(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    hits: () => hits,
    release: () => {
      open = true;
      for (const a of held) a();
      held = [];
    },
    server,
  };
}

const PB = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };
const s = (key: string, v: string) => ({ key, value: { stringValue: v } });

function protobuf(req: Record<string, unknown>): Buffer {
  const { request } = otlpLogsTypes();
  return Buffer.from(request.encode(request.fromObject(req)).finish());
}

/**
 * What an OpenTelemetry Collector's `otlphttp` exporter POSTs after a `filelog` receiver with the
 * `container` operator and the `k8sattributes` processor: protobuf, gzip (its default), resource
 * attributes of the pod, records with the CRI time, the file path and stream as attributes and
 * no severity.
 */
function collectorRequest(): Buffer {
  return protobuf({
    resourceLogs: [{
      resource: { attributes: [
        s('k8s.namespace.name', 'shop'), s('k8s.pod.name', 'web-7d9f-abcde'), s('k8s.pod.uid', '5a9c-uid'), s('k8s.container.name', 'nginx'),
        s('k8s.container.restart_count', '0'), s('k8s.node.name', 'node-a'), s('k8s.deployment.name', 'web'), s('k8s.replicaset.name', 'web-7d9f'),
        s('container.image.name', 'nginx'), { key: 'container.image.tags', value: { arrayValue: { values: [{ stringValue: '1.25' }] } } },
        s('k8s.cluster.name', 'prod-eu'),
      ] },
      scopeLogs: [{
        scope: {},
        logRecords: [
          { timeUnixNano: '1795341600123456789', observedTimeUnixNano: '1795341600200000000', body: { stringValue: 'GET / 200' },
            attributes: [s('log.iostream', 'stdout'), s('logtag', 'F'), s('log.file.path', '/var/log/pods/shop_web-7d9f-abcde_5a9c-uid/nginx/0.log')] },
          { timeUnixNano: '1795341600223456789', observedTimeUnixNano: '1795341600300000000', body: { stringValue: 'upstream timed out' },
            attributes: [s('log.iostream', 'stderr'), s('logtag', 'F')] },
        ],
      }],
    }],
  });
}

/**
 * The OpenTelemetry JS SDK's OTLP/HTTP JSON log exporter (@opentelemetry/exporter-logs-otlp-http):
 * the SDK's default resource, one scope per logger, times as decimal strings, hex ids, flags,
 * `droppedAttributesCount` written out, an object body as a kvlist.
 */
function jsSdkRequest(): string {
  return JSON.stringify({
    resourceLogs: [{
      resource: {
        attributes: [
          s('service.name', 'checkout'), s('telemetry.sdk.language', 'nodejs'), s('telemetry.sdk.name', 'opentelemetry'), s('telemetry.sdk.version', '1.30.0'),
          { key: 'process.pid', value: { intValue: 4242 } }, s('deployment.environment', 'prod'),
        ],
        droppedAttributesCount: 0,
      },
      scopeLogs: [{
        scope: { name: 'checkout-logger', version: '1.0.0' },
        logRecords: [
          { timeUnixNano: '1795341600123000000', observedTimeUnixNano: '1795341600124000000', severityNumber: 17, severityText: 'ERROR',
            body: { stringValue: 'payment declined' }, attributes: [s('order.id', 'A-17'), { key: 'amount', value: { doubleValue: 12.5 } }],
            droppedAttributesCount: 0, flags: 1, traceId: 'af5ce23816c4feabb713ee1dc84ef4d3', spanId: '5f50e181ec7bc621' },
          { timeUnixNano: '1795341600125000000', observedTimeUnixNano: '1795341600125000000', severityNumber: 9,
            body: { kvlistValue: { values: [s('msg', 'cart loaded'), { key: 'items', value: { intValue: '3' } }] } }, attributes: [], droppedAttributesCount: 0 },
        ],
      }],
    }],
  });
}

/**
 * The OpenTelemetry Java SDK's OtlpHttpLogRecordExporter: protobuf without compression (its
 * default), the logger name (a Logback/Log4j appender's class) as the scope, observed time always
 * set, `event_name` for events.
 */
function javaSdkRequest(): Buffer {
  return protobuf({
    resourceLogs: [{
      resource: { attributes: [s('service.name', 'orders'), s('telemetry.sdk.language', 'java'), s('telemetry.sdk.name', 'opentelemetry'), s('telemetry.sdk.version', '1.45.0')] },
      scopeLogs: [{
        scope: { name: 'com.example.OrderService' },
        logRecords: [{
          timeUnixNano: '1795341600500000000', observedTimeUnixNano: '1795341600500000123', severityNumber: 13, severityText: 'WARN',
          body: { stringValue: 'retrying order 17' }, attributes: [s('thread.name', 'main'), { key: 'thread.id', value: { intValue: '1' } }],
          traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'), spanId: Buffer.from('b7ad6b7169203331', 'hex'), flags: 1, eventName: 'order.retry',
        }],
        schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
      }],
    }],
  });
}

describe('otlp source', () => {
  const tmp = tempDir('loggy-otlpsrc-');
  let agent: RunningAgent | null = null;
  let receiver: Awaited<ReturnType<typeof heldReceiver>> | null = null;
  let n = 0;
  afterEach(async () => {
    receiver?.release();
    await agent?.stop();
    agent = null;
    if (receiver) {
      receiver.server.closeAllConnections();
      await new Promise<void>((r) => receiver!.server.close(() => r()));
      receiver = null;
    }
  });

  /** An agent with one otlp source into a file sink (or `sink`); returns the logs URL and the output file. */
  async function run(source: Record<string, unknown> = {}, sink?: Record<string, unknown>) {
    const dir = join(tmp.dir, `run-${n++}`);
    const port = await freePort();
    const out = join(dir, 'out.ndjson');
    agent = await startAgent(agentConfigSchema.parse({
      data_dir: join(dir, 'data'), shutdown_grace: 500,
      sources: { otel: { type: 'otlp', address: `127.0.0.1:${port}`, ...source } },
      sinks: { out: sink ? { inputs: ['otel'], ...sink } : { type: 'file', inputs: ['otel'], path: out } },
    }), { log: silentLogger });
    return { url: `http://127.0.0.1:${port}/v1/logs`, out };
  }

  const post = async (url: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  };
  const statusOf = (body: Buffer, pb: boolean) => {
    const { status } = otlpLogsTypes();
    return pb ? status.toObject(status.decode(body)) as { code: number; message: string } : JSON.parse(body.toString()) as { code: number; message: string };
  };
  const results = async () => {
    const m = await agent!.metrics.registry.getSingleMetric('loggy_http_source_requests_total')!.get();
    return Object.fromEntries(m.values.map((v) => [v.labels.result, v.value]));
  };

  it("takes a Collector's otlphttp export (protobuf, gzip): pod attributes → labels, CRI stream, attributes → fields", async () => {
    const { url, out } = await run({ labels: { cluster: 'from-config', region: 'eu' } });
    const res = await post(url, gzipSync(collectorRequest()), { ...PB, 'content-encoding': 'gzip', 'user-agent': 'OpenTelemetry Collector Contrib/0.116.0 (linux/amd64)' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(res.body.length).toBe(0); // an ExportLogsServiceResponse with nothing set
    const got = readOut(out);
    expect(got.map((e) => [e.ts, e.stream, e.line])).toEqual([
      ['2026-11-22T10:00:00.123456789Z', 'stdout', 'GET / 200'],
      ['2026-11-22T10:00:00.223456789Z', 'stderr', 'upstream timed out'],
    ]);
    expect(got[0]!.labels).toEqual({
      cluster: 'from-config', region: 'eu', namespace: 'shop', pod: 'web-7d9f-abcde', pod_uid: '5a9c-uid', container: 'nginx', restart: '0', node: 'node-a',
      workload: 'web', workload_kind: 'Deployment', image: 'nginx:1.25', k8s_cluster_name: 'prod-eu',
    });
    expect(got[0]!.fields).toEqual({ k8s_replicaset_name: 'web-7d9f', logtag: 'F', log_file_path: '/var/log/pods/shop_web-7d9f-abcde_5a9c-uid/nginx/0.log' });
    expect(await agent!.metrics.total('loggy_source_events_total')).toBe(2);
    expect(await results()).toEqual({ accepted: 1 });
  });

  it("takes the JS SDK's JSON export and the Java SDK's protobuf export: severity → level, ids, scope, event name", async () => {
    const { url, out } = await run();
    const js = await post(url, jsSdkRequest(), JSON_CT);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(js.body.toString())).toEqual({});
    expect((await post(url, javaSdkRequest(), PB)).status).toBe(200);
    const got = readOut(out);
    expect(got.map((e) => e.line)).toEqual(['payment declined', '{"msg":"cart loaded","items":3}', 'retrying order 17']);
    expect(got[0]!.labels).toEqual({ service_name: 'checkout', deployment_environment: 'prod' });
    expect(got[0]!.fields).toEqual({ telemetry_sdk_language: 'nodejs', telemetry_sdk_name: 'opentelemetry', telemetry_sdk_version: '1.30.0', process_pid: '4242', order_id: 'A-17', amount: '12.5', level: 'ERROR', trace_id: 'af5ce23816c4feabb713ee1dc84ef4d3', span_id: '5f50e181ec7bc621', scope_name: 'checkout-logger', scope_version: '1.0.0' });
    expect(got[1]!.fields).toMatchObject({ level: 'info' });
    expect(got[1]!.ts).toBe('2026-11-22T10:00:00.125000000Z');
    expect(got[2]!.labels.service_name).toBe('orders');
    expect(got[2]!.fields).toEqual({
      telemetry_sdk_language: 'java', telemetry_sdk_name: 'opentelemetry', telemetry_sdk_version: '1.45.0', thread_name: 'main', thread_id: '1', level: 'WARN', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', event_name: 'order.retry', scope_name: 'com.example.OrderService',
    });
  });

  it('takes the spec\'s own JSON example (times as JSON numbers, upper-case hex ids)', async () => {
    const { url, out } = await run();
    const example = JSON.stringify({ resourceLogs: [{ resource: { attributes: [s('service.name', 'my.service')] }, scopeLogs: [{ scope: { name: 'my.library', version: '1.0.0', attributes: [s('my.scope.attribute', 'x')] }, logRecords: [{
      timeUnixNano: 1544712660300000000, observedTimeUnixNano: 1544712660300000000, severityText: 'Information', traceId: '5B8EFFF798038103D269B633813FC60C', spanId: 'EEE19B7EC3C1B174',
      body: { stringValue: 'Example log record' }, attributes: [s('string.attribute', 'some string'), { key: 'boolean.attribute', value: { boolValue: true } }, { key: 'int.attribute', value: { intValue: 10 } },
        { key: 'double.attribute', value: { doubleValue: 637.704 } }, { key: 'array.attribute', value: { arrayValue: { values: [{ stringValue: 'many' }, { stringValue: 'values' }] } } },
        { key: 'map.attribute', value: { kvlistValue: { values: [s('some.map.key', 'some value')] } } }],
    }] }] }] });
    expect((await post(url, example, JSON_CT)).status).toBe(200);
    const [ev] = readOut(out);
    expect(ev).toMatchObject({ ts: '2018-12-13T14:51:00.300000000Z', line: 'Example log record', labels: { service_name: 'my.service' } });
    expect(ev!.fields).toEqual({
      string_attribute: 'some string', boolean_attribute: 'true', int_attribute: '10', double_attribute: '637.704', array_attribute: '["many","values"]',
      map_attribute: '{"some.map.key":"some value"}', level: 'Information', trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174',
      scope_name: 'my.library', scope_version: '1.0.0',
    });
  });

  it('refuses invalid records alone with a partial success in the request encoding, and counts them', async () => {
    const { url, out } = await run({ max_line_bytes: 8 });
    const records = [{ body: { stringValue: 'fine' } }, { traceId: 'abc', body: { stringValue: 'bad trace id' } }, { body: { stringValue: 'a long line here' } }];
    const j = await post(url, JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] }), JSON_CT);
    expect(j.status).toBe(200);
    const partial = JSON.parse(j.body.toString()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(partial.partialSuccess.rejectedLogRecords).toBe('1');
    expect(partial.partialSuccess.errorMessage).toMatch(/^1 log record refused: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[1\]: traceId must be 16 bytes/);
    const p = await post(url, protobuf({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: Buffer.alloc(3), body: { stringValue: 'x' } }, { body: { stringValue: 'ok' } }] }] }] }), PB);
    const { response } = otlpLogsTypes();
    expect(response.toObject(response.decode(p.body), { longs: String })).toMatchObject({ partialSuccess: { rejectedLogRecords: '1' } });
    const got = readOut(out);
    expect(got.map((e) => e.line)).toEqual(['fine', 'a long l', 'ok']);
    expect(got[1]!.flags).toEqual(['truncated']);
    expect(got[0]!.labels).toEqual({ service_name: 'unknown_service' });
    expect(await agent!.metrics.total('loggy_source_rejected_events_total')).toBe(2);
    expect(await agent!.metrics.total('loggy_lines_truncated_total')).toBe(1);
  });

  it('answers errors as the spec says: Status bodies in the request encoding, 400/401/404/405/413/415, and survives garbage', async () => {
    const { url, out } = await run({ max_body_bytes: '64KiB', token: 's3cret' });
    const auth = { authorization: 'Bearer s3cret' };
    const badPb = await post(url, Buffer.from([0x0a, 0xff, 0xff, 0x01]), { ...PB, ...auth });
    expect(badPb.status).toBe(400);
    expect(badPb.headers.get('content-type')).toBe('application/x-protobuf');
    expect(statusOf(badPb.body, true)).toMatchObject({ code: 3, message: expect.stringMatching(/^body is not a protobuf ExportLogsServiceRequest/) as unknown });
    const badJson = await post(url, '{"resourceLogs": {}}', { ...JSON_CT, ...auth });
    expect(badJson.status).toBe(400);
    expect(statusOf(badJson.body, false)).toEqual({ code: 3, message: 'resourceLogs: expected an array' });
    const text = await post(url, 'hello', { 'content-type': 'text/plain', ...auth });
    expect(text.status).toBe(415);
    expect(statusOf(text.body, false).message).toContain('application/x-protobuf or application/json');
    expect((await post(url, 'x', { ...JSON_CT, ...auth, 'content-encoding': 'br' })).status).toBe(415);
    const unauth = await post(url, jsSdkRequest(), { ...JSON_CT, authorization: 'Bearer nope' });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('www-authenticate')).toBe('Bearer');
    expect(statusOf(unauth.body, false).code).toBe(16);
    expect((await post(url.replace('/v1/logs', '/v1/traces'), '{}', { ...JSON_CT, ...auth })).status).toBe(404);
    expect((await fetch(url, { headers: auth })).status).toBe(405);
    expect((await post(url, Buffer.alloc(70_000, 0x20), { ...JSON_CT, ...auth })).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect((await post(url, bomb, { ...JSON_CT, ...auth, 'content-encoding': 'gzip' })).status).toBe(413);
    expect((await post(url, Buffer.from('not gzip'), { ...JSON_CT, ...auth, 'content-encoding': 'gzip' })).status).toBe(400);

    // Garbage of every kind: only 200 or 400, never a crash or a 500.
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const valid = [collectorRequest(), Buffer.from(jsSdkRequest())];
    for (let i = 0; i < 60; i++) {
      const pb = i % 2 === 0;
      const b = Buffer.from(valid[i % 2]!);
      for (let k = 0; k < 4; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const res = await post(url, b.subarray(0, Math.floor(rnd() * b.length)), { ...(pb ? PB : JSON_CT), ...auth });
      expect([200, 400]).toContain(res.status);
    }
    const before = readOut(out).length;
    expect((await post(url, jsSdkRequest(), { ...JSON_CT, ...auth })).status).toBe(200);
    expect(readOut(out).length).toBe(before + 2);
    const r = await results();
    expect(r).toMatchObject({ unauthorized: 1, not_found: 1, method: 1, too_large: 2, content_type: 1, encoding: 1 });
    expect(r.error).toBeUndefined();
  });

  it('with ack, answers 200 only once the sink confirmed delivery; without, at once', async () => {
    receiver = await heldReceiver();
    const { url } = await run({}, { type: 'loggy', endpoint: receiver.url });
    let answered: number | null = null;
    const pending = post(url, jsSdkRequest(), JSON_CT).then((r) => { answered = r.status; });
    await waitFor(() => receiver!.hits() >= 1, 5000, 'the sink sent the batch');
    await sleep(300);
    expect(answered).toBeNull();
    receiver.release();
    await pending;
    expect(answered).toBe(200);
    await agent!.stop();

    receiver.server.closeAllConnections();
    await new Promise<void>((r) => receiver!.server.close(() => r()));
    receiver = await heldReceiver();
    const r2 = await run({ ack: false }, { type: 'loggy', endpoint: receiver.url });
    const t0 = Date.now();
    expect((await post(r2.url, jsSdkRequest(), JSON_CT)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1000);
    await waitFor(() => receiver!.hits() >= 1, 5000, 'sent anyway');
  });

  it('answers 429 with Retry-After when the pipeline stays full, and 503 to waiting requests on stop', async () => {
    receiver = await heldReceiver();
    const { url } = await run({ ack: false, backpressure_wait: '200ms' }, { type: 'loggy', endpoint: receiver.url, buffer_max_bytes: 1 });
    expect((await post(url, jsSdkRequest(), JSON_CT)).status).toBe(200);
    const full = await post(url, javaSdkRequest(), PB);
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('1');
    expect(statusOf(full.body, true)).toMatchObject({ code: 8, message: expect.stringContaining('full') as unknown });
    receiver.release();
    await waitFor(async () => (await post(url, jsSdkRequest(), JSON_CT)).status === 200, 5000, 'accepted once the sink caught up');
    await agent!.stop();

    receiver.server.closeAllConnections();
    await new Promise<void>((r) => receiver!.server.close(() => r()));
    receiver = await heldReceiver();
    const r2 = await run({}, { type: 'loggy', endpoint: receiver.url });
    const pending = post(r2.url, javaSdkRequest(), PB);
    await waitFor(() => receiver!.hits() >= 1, 5000, 'sent');
    const stopping = agent!.stop();
    const late = await post(r2.url, jsSdkRequest(), JSON_CT);
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('1');
    const res = await pending;
    expect(res.status).toBe(503);
    expect(statusOf(res.body, true)).toMatchObject({ code: 14, message: expect.stringContaining('shut down before the events were delivered') as unknown });
    await stopping;
    agent = null;
  });

  it('round trip: a pod log file read by the agent, sent by the otlp sink, received by the otlp source arrives as it left', async () => {
    const dir = join(tmp.dir, `run-${n++}`);
    const port = await freePort();
    const out = join(dir, 'out.ndjson');
    const root = join(dir, 'node');
    append(podLog(root, 'shop', 'web-1', 'nginx', 0, 'uid-9'), cri('{"level":"error","msg":"boom"}') + cri('second', 'stderr') + cri('part one ', 'stdout', 'P') + cri('and two'));
    agent = await startAgent(agentConfigSchema.parse({
      data_dir: join(dir, 'data'), shutdown_grace: 500,
      sources: {
        node: { type: 'kubernetes_logs', root, poll_interval: 50, rescan_interval: 500 },
        otel: { type: 'otlp', address: `127.0.0.1:${port}` },
      },
      transforms: { parse: { type: 'parse', inputs: ['node'], format: 'json' } },
      sinks: {
        // Both sinks of the loop: straight to a file, and through OTLP back into the agent.
        direct: { type: 'file', inputs: ['parse'], path: join(dir, 'direct.ndjson') },
        export: { type: 'otlp', inputs: ['parse'], endpoint: `http://127.0.0.1:${port}` },
        out: { type: 'file', inputs: ['otel'], path: out },
      },
    }), { log: silentLogger });
    await waitFor(() => readOut(out).length === 3, 10_000, 'three lines back through OTLP');
    const direct = readOut(join(dir, 'direct.ndjson'));
    const back = readOut(out);
    expect(back.map((e) => [e.ts, e.stream, e.line, e.fields, e.flags])).toEqual(direct.map((e) => [e.ts, e.stream, e.line, e.fields, e.flags]));
    // The labels come back, plus service_name, which the sink derives from them.
    for (const [i, e] of back.entries()) expect(e.labels).toEqual({ ...direct[i]!.labels, service_name: 'nginx' });
    expect(back[0]!.fields).toMatchObject({ level: 'error', msg: 'boom' });
  });
});
