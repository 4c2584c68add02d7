import { describe, expect, it } from 'vitest';
import { EventBatch } from '../../src/core/batch.js';
import { RetryableError } from '../../src/core/errors.js';
import { EventFlags, makeSource, type LogEvent } from '../../src/core/event.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { OtlpSink, otlpSinkSchema, resourceAttributes, splitImage } from '../../src/sinks/otlp/index.js';
import { otlpLogsTypes } from '../../src/protocols/otlp/proto.js';
import { agentFixture, append, capturingLogger, cri, podLog, runAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/proc.js';
import { receivers, type ReceivedRequest } from '../helpers/receiver.js';

type Req = ReceivedRequest;
const recv = receivers();

function receiver(answer: (req: Req, n: number) => [number, Buffer | string, Record<string, string>?] = () => [200, '']): Promise<{ url: string; reqs: Req[] }> {
  return recv(answer, '/otlp/');
}

const labels = { namespace: 'shop', pod: 'web-1', pod_uid: 'uid-1', container: 'nginx', restart: '2', node: 'node-a', workload_kind: 'Deployment', workload: 'web', image: 'registry:5000/team/nginx:1.25', label_app: 'storefront' };
const source = makeSource('1:2:ab', 'node', labels);
const other = makeSource('1:3:cd', 'node', { namespace: 'pay', pod: 'api-0', container: 'app', workload_kind: 'StatefulSet', workload: 'api' });
const TS = '2026-11-22T10:00:00.123456789Z';
const TS_NS = 1795341600123456789n;
const TRACE = '5B8EFFF798038103D269B633813FC60C';
const SPAN = 'eee19b7ec3c1b174';

function events(): LogEvent[] {
  return [
    { ts: TS, stream: 'stderr', line: 'payment failed', flags: 0, offset: 10, fields: { level: 'ERROR', trace_id: TRACE, span_id: SPAN, order: '42' } },
    { ts: '2026-11-22T10:00:01.000000000Z', stream: 'stdout', line: 'plain line', flags: EventFlags.Truncated, offset: 20 },
  ];
}

function sinkFor(cfg: Record<string, unknown>, log: Logger = silentLogger) {
  const ctx = { name: 'otel', dataDir: '/nonexistent', log, metrics: new AgentMetrics(), shared: new Map<string, unknown>() };
  return { sink: new OtlpSink(otlpSinkSchema.parse({ type: 'otlp', inputs: ['node'], ...cfg }), ctx), ctx };
}

type Decoded = { resourceLogs: Array<{ resource: { attributes: Array<{ key: string; value: Record<string, unknown> }> }; scopeLogs: Array<{ scope: { name: string }; logRecords: Array<Record<string, unknown>> }> }> };
const attrs = (list: Array<{ key: string; value: Record<string, unknown> }>) => Object.fromEntries(list.map((a) => [a.key, a.value]));

describe('otlp sink', () => {
  it('POSTs protobuf to <endpoint>/v1/logs: one resource per source, semantic-convention attributes, the record fields', async () => {
    const rx = await receiver();
    const { sink, ctx } = sinkFor({ endpoint: rx.url, token: 't0k' });
    const before = BigInt(Date.now()) * 1_000_000n;
    await sink.write([new EventBatch(source, events()), new EventBatch(other, [{ ts: TS, stream: 'stdout', line: 'from api', flags: 0, offset: 5 }])]);
    const r = rx.reqs[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/otlp/v1/logs');
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers.authorization).toBe('Bearer t0k');

    const { request } = otlpLogsTypes();
    const msg = request.toObject(request.decode(r.body), { longs: String, bytes: String, defaults: false }) as Decoded;
    expect(msg.resourceLogs).toHaveLength(2);
    const [shop, api] = msg.resourceLogs;
    expect(attrs(shop!.resource.attributes)).toEqual({
      'k8s.namespace.name': { stringValue: 'shop' },
      'k8s.pod.name': { stringValue: 'web-1' },
      'k8s.pod.uid': { stringValue: 'uid-1' },
      'k8s.container.name': { stringValue: 'nginx' },
      'k8s.container.restart_count': { intValue: '2' },
      'k8s.node.name': { stringValue: 'node-a' },
      'k8s.deployment.name': { stringValue: 'web' },
      'container.image.name': { stringValue: 'registry:5000/team/nginx' },
      'container.image.tags': { arrayValue: { values: [{ stringValue: '1.25' }] } },
      label_app: { stringValue: 'storefront' },
      'service.name': { stringValue: 'storefront' },
    });
    expect(attrs(api!.resource.attributes)['k8s.statefulset.name']).toEqual({ stringValue: 'api' });
    expect(shop!.scopeLogs[0]!.scope.name).toBe('loggy');
    const [rec, plain] = shop!.scopeLogs[0]!.logRecords;
    expect(rec!.timeUnixNano).toBe(TS_NS.toString());
    expect(BigInt(rec!.observedTimeUnixNano as string)).toBeGreaterThanOrEqual(before);
    expect(rec!.severityNumber).toBe(17);
    expect(rec!.severityText).toBe('ERROR');
    expect(rec!.body).toEqual({ stringValue: 'payment failed' });
    expect(Buffer.from(rec!.traceId as string, 'base64').toString('hex')).toBe(TRACE.toLowerCase());
    expect(Buffer.from(rec!.spanId as string, 'base64').toString('hex')).toBe(SPAN);
    expect(attrs(rec!.attributes as never)).toEqual({ 'log.iostream': { stringValue: 'stderr' }, order: { stringValue: '42' } });
    expect(plain!.severityNumber).toBeUndefined();
    expect(attrs(plain!.attributes as never)).toEqual({ 'log.iostream': { stringValue: 'stdout' }, 'loggy.flags': { stringValue: 'truncated' } });
    expect(api!.scopeLogs[0]!.logRecords.map((l) => (l.body as { stringValue: string }).stringValue)).toEqual(['from api']);

    // Byte-level, independent of the descriptor: LogRecord.time_unix_nano is field 1, fixed64
    // (tag 0x09, 8 bytes little-endian); trace_id field 9, bytes (tag 0x4a, length 16); the
    // body is field 5 (tag 0x2a) holding AnyValue.string_value (tag 0x0a).
    const time = Buffer.alloc(9);
    time[0] = 0x09;
    time.writeBigUInt64LE(TS_NS, 1);
    expect(r.body.includes(time)).toBe(true);
    expect(r.body.includes(Buffer.concat([Buffer.from([0x4a, 0x10]), Buffer.from(TRACE, 'hex')]))).toBe(true);
    expect(r.body.includes(Buffer.concat([Buffer.from([0x2a, 16, 0x0a, 14]), Buffer.from('payment failed')]))).toBe(true);
    expect(r.body[0]).toBe(0x0a); // ExportLogsServiceRequest.resource_logs, field 1, length-delimited
    expect(await ctx.metrics.total('loggy_sink_events_total')).toBe(3);
  });

  it('json encoding follows the OTLP JSON mapping: camelCase, 64-bit integers as strings, ids as hex, enums as numbers', async () => {
    const rx = await receiver();
    const { sink } = sinkFor({ endpoint: rx.url.replace(/\/otlp\/$/, ''), encoding: 'json', compression: 'none' });
    await sink.write([new EventBatch(source, events().slice(0, 1))]);
    const r = rx.reqs[0]!;
    expect(r.url).toBe('/v1/logs');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['content-encoding']).toBeUndefined();
    const body = JSON.parse(r.body.toString('utf8')) as Decoded;
    const rec = body.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(rec).toEqual({
      timeUnixNano: '1795341600123456789',
      observedTimeUnixNano: expect.stringMatching(/^\d{19}$/) as unknown,
      severityNumber: 17,
      severityText: 'ERROR',
      body: { stringValue: 'payment failed' },
      attributes: [{ key: 'log.iostream', value: { stringValue: 'stderr' } }, { key: 'order', value: { stringValue: '42' } }],
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
    });
    expect(body.resourceLogs[0]!.resource.attributes[0]).toEqual({ key: 'k8s.namespace.name', value: { stringValue: 'shop' } });
    expect(attrs(body.resourceLogs[0]!.resource.attributes)['k8s.container.restart_count']).toEqual({ intValue: '2' });
    // The resources read back through the descriptor (ids are hex in JSON, base64 for protobufjs: left out).
    const { request } = otlpLogsTypes();
    expect(() => request.fromObject({ ...body, resourceLogs: body.resourceLogs.map((x) => ({ resource: x.resource })) })).not.toThrow();
  });

  it('counts and logs an OTLP partial success (protobuf and json answers)', async () => {
    const { response } = otlpLogsTypes();
    const pbAnswer = Buffer.from(response.encode(response.fromObject({ partialSuccess: { rejectedLogRecords: 1, errorMessage: 'record too large' } })).finish());
    for (const encoding of ['protobuf', 'json'] as const) {
      const rx = await receiver(() => (encoding === 'json'
        ? [200, JSON.stringify({ partialSuccess: { rejectedLogRecords: '1', errorMessage: 'record too large' } }), { 'content-type': 'application/json' }]
        : [200, pbAnswer, { 'content-type': 'application/x-protobuf' }]));
      const cap = capturingLogger();
      const { sink, ctx } = sinkFor({ endpoint: rx.url, encoding }, cap.log);
      await sink.write([new EventBatch(source, events())]);
      expect(await ctx.metrics.total('loggy_sink_rejected_events_total')).toBe(1);
      expect(await ctx.metrics.total('loggy_sink_events_total')).toBe(1);
      const warn = cap.records.find((l) => l.msg === 'OTLP receiver accepted the request partially');
      expect(warn).toMatchObject({ sink: 'otel', rejected: 1, events: 2, err: 'record too large' });
      expect(rx.reqs).toHaveLength(1);
    }
  });

  it('a 503 is retryable with Retry-After; a 400 is split down to single events and refused (the shared machinery)', async () => {
    const rx = await receiver((_, n) => (n === 1 ? [503, 'busy', { 'retry-after': '2' }] : [400, 'bad']));
    const { sink, ctx } = sinkFor({ endpoint: rx.url, dead_letter: { enabled: false } });
    const b = [new EventBatch(source, events())];
    const e = await sink.write(b).catch((x: unknown) => x);
    expect((e as RetryableError).retryAfterMs).toBe(2000);
    await sink.write(b);
    expect(rx.reqs).toHaveLength(4); // whole, then each event alone
    expect(await ctx.metrics.total('loggy_sink_rejected_events_total')).toBe(2);
  });

  it('maps labels and images as documented', () => {
    expect(splitImage('nginx')).toEqual({ name: 'nginx' });
    expect(splitImage('nginx:1.25@sha256:abc')).toEqual({ name: 'nginx', tag: '1.25' });
    expect(splitImage('localhost:5000/app')).toEqual({ name: 'localhost:5000/app' });
    const a = Object.fromEntries(resourceAttributes({ workload_kind: 'CronJob', workload: 'nightly', container: 'c', pod_uid: '' }).map((x) => [x.key, x.value]));
    expect(a).toEqual({ 'k8s.cronjob.name': { stringValue: 'nightly' }, 'k8s.container.name': { stringValue: 'c' }, 'service.name': { stringValue: 'nightly' } });
  });

  describe('through the agent', () => {
    const fx = agentFixture('loggy-otlp-sink-');
    it('delivers a real log file as OTLP protobuf', async () => {
      const rx = await receiver();
      append(podLog(fx.root, 'shop', 'web-1', 'nginx', 0, 'uid-9'), cri('first') + cri('second', 'stderr'));
      fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, sink: { type: 'otlp', endpoint: rx.url } });
      const { request } = otlpLogsTypes();
      const records = () => rx.reqs.flatMap((r) => (request.toObject(request.decode(r.body), { longs: String }) as Decoded).resourceLogs);
      await waitFor(() => records().flatMap((x) => x.scopeLogs[0]!.logRecords).length === 2, 5000, 'two records');
      const [res] = records();
      expect(attrs(res!.resource.attributes)).toMatchObject({ 'k8s.namespace.name': { stringValue: 'shop' }, 'k8s.pod.name': { stringValue: 'web-1' }, 'k8s.pod.uid': { stringValue: 'uid-9' }, 'k8s.container.name': { stringValue: 'nginx' } });
      const recs = records().flatMap((x) => x.scopeLogs[0]!.logRecords);
      expect(recs.map((l) => [(l.body as { stringValue: string }).stringValue, attrs(l.attributes as never)['log.iostream']])).toEqual([['first', { stringValue: 'stdout' }], ['second', { stringValue: 'stderr' }]]);
      expect(recs[0]!.timeUnixNano).toMatch(/^1795341600\d{9}$/);
    });
  });
});
