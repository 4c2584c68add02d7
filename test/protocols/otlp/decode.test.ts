import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventBatch } from '../../../src/core/batch.js';
import { EventFlags, makeSource } from '../../../src/core/event.js';
import { silentLogger } from '../../../src/core/logger.js';
import { AgentMetrics } from '../../../src/core/metrics.js';
import {
  decodeLogsRequest, encodeLogsResponse, encodeStatus, mapLogsRequest, otlpEncodingOf, OtlpDecodeError, otlpLogsTypes, type OtlpEncoding,
} from '../../../src/protocols/otlp/index.js';
import { OtlpSink, otlpSinkSchema } from '../../../src/sinks/otlp/index.js';
import { receivers } from '../../helpers/receiver.js';

const NOW = 1_800_000_000_000_000_000n;
const decodeMap = (body: Buffer | string, enc: OtlpEncoding = 'json') => mapLogsRequest(decodeLogsRequest(Buffer.from(body), enc), { nowNs: NOW });
const json = (o: unknown) => JSON.stringify(o);
const one = (record: Record<string, unknown>, resource: Array<Record<string, unknown>> = [{ key: 'service.name', value: { stringValue: 'svc' } }]) =>
  json({ resourceLogs: [{ resource: { attributes: resource }, scopeLogs: [{ scope: { name: 'lib', version: '1.0' }, logRecords: [record] }] }] });

describe('OTLP logs decoding and mapping', () => {
  const recv = receivers();

  it('round-trips what the otlp sink sends, protobuf and JSON: labels, line, time, stream, flags, fields', async () => {
    const labels = { namespace: 'shop', pod: 'web-1', pod_uid: 'uid-1', container: 'nginx', container_id: 'containerd://abc', restart: '2', node: 'node-a', workload_kind: 'Deployment', workload: 'web', image: 'registry:5000/team/nginx:1.25', label_app: 'storefront' };
    const events = [
      { ts: '2026-11-22T10:00:00.123456789Z', stream: 'stderr' as const, line: 'payment failed', flags: 0, offset: 10, fields: { level: 'ERROR', trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174', order: '42' } },
      { ts: '2026-11-22T10:00:01.000000000Z', stream: 'stdout' as const, line: 'plain line', flags: EventFlags.Truncated | EventFlags.Partial, offset: 20 },
    ];
    for (const encoding of ['protobuf', 'json'] as const) {
      const rx = await recv();
      const ctx = { name: 'otel', dataDir: '/nonexistent', log: silentLogger, metrics: new AgentMetrics(), shared: new Map<string, unknown>() };
      const sink = new OtlpSink(otlpSinkSchema.parse({ type: 'otlp', inputs: ['x'], endpoint: rx.url, encoding }), ctx);
      await sink.write([new EventBatch(makeSource('a', 'node', labels), events)]);
      const req = rx.reqs[0]!;
      const enc = otlpEncodingOf(req.headers['content-type']);
      expect(enc).toBe(encoding);
      const m = mapLogsRequest(decodeLogsRequest(req.body, enc!), { nowNs: NOW });
      expect(m).toMatchObject({ accepted: 2, rejected: 0, message: '' });
      expect(m.streams).toHaveLength(1);
      // Every label comes back; service.name, which the sink derives, arrives as service_name.
      expect({ ...m.streams[0]!.labels }).toEqual({ ...labels, service_name: 'storefront' });
      const [a, b] = m.streams[0]!.lines;
      expect(a).toMatchObject({ tsNs: 1795341600123456789n, line: 'payment failed', stream: 'stderr', flags: [] });
      expect({ ...a!.fields }).toEqual(events[0]!.fields);
      expect(b).toMatchObject({ tsNs: 1795341601000000000n, line: 'plain line', stream: 'stdout', flags: ['truncated', 'partial'] });
      expect({ ...b!.fields }).toEqual({});
    }
  });

  it('reads the JSON mapping: int64 as strings or numbers, hex ids in any case, enum numbers or names, snake_case names too', () => {
    const m = decodeMap(one({
      time_unix_nano: 1795341600123456000,
      observedTimeUnixNano: '1795341600999999999',
      severityNumber: 'SEVERITY_NUMBER_WARN',
      traceId: '5B8EFFF798038103D269B633813FC60C',
      span_id: 'EEE19B7EC3C1B174',
      body: { string_value: 'hello' },
      attributes: [{ key: 'http.status_code', value: { intValue: 503 } }, { key: 'user.id', value: { int_value: '-9007199254740993' } }],
      event_name: 'checkout.failed',
      unknownField: { ignored: true },
    }));
    expect(m.rejected).toBe(0);
    const l = m.streams[0]!.lines[0]!;
    expect(l.tsNs).toBe(1795341600123456000n);
    expect({ ...l.fields }).toEqual({
      http_status_code: '503', user_id: '-9007199254740993', level: 'warn', trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174',
      event_name: 'checkout.failed', scope_name: 'lib', scope_version: '1.0',
    });
  });

  it('turns every body kind into a line, and takes the time from observedTimeUnixNano or the arrival', () => {
    const bodies: Array<[unknown, string]> = [
      [{ stringValue: 'as is' }, 'as is'],
      [{ intValue: '12345678901234567890'.slice(0, 19) }, '1234567890123456789'],
      [{ doubleValue: 1.5 }, '1.5'],
      [{ doubleValue: 'NaN' }, 'NaN'],
      [{ boolValue: false }, 'false'],
      [{ bytesValue: Buffer.from('hi').toString('base64') }, 'aGk='],
      [{ arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }, {}] } }, '["a",1,null]'],
      [{ kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'x' } }, { key: 'n', value: { intValue: '99999999999999999' } }, { key: 'd', value: { doubleValue: 'Infinity' } }] } }, '{"msg":"x","n":"99999999999999999","d":"Infinity"}'],
      [undefined, ''],
      [{}, ''],
    ];
    for (const [body, line] of bodies) {
      const m = decodeMap(one(body === undefined ? { timeUnixNano: '5' } : { timeUnixNano: '5', body }));
      expect(m.streams[0]!.lines[0]!.line).toBe(line);
    }
    expect(decodeMap(one({ observedTimeUnixNano: '7' })).streams[0]!.lines[0]!.tsNs).toBe(7n);
    expect(decodeMap(one({ timeUnixNano: '0' })).streams[0]!.lines[0]!.tsNs).toBe(NOW);
  });

  it('maps resource attributes to labels: semantic conventions, workload precedence, images, sanitized names', () => {
    const s = (key: string, v: string) => ({ key, value: { stringValue: v } });
    const m = decodeMap(one({ body: { stringValue: 'x' } }, [
      s('k8s.replicaset.name', 'web-5d8f'), s('k8s.deployment.name', 'web'), s('k8s.namespace.name', 'shop'),
      s('container.image.name', 'nginx'), { key: 'container.image.tags', value: { arrayValue: { values: [{ stringValue: '1.25' }, { stringValue: 'latest' }] } } },
      s('deployment.environment', 'prod'), s('9lives', 'cat'), s('empty', ''), { key: 'process.pid', value: { intValue: '42' } },
      { key: 'process.command_args', value: { arrayValue: { values: [{ stringValue: 'node' }, { stringValue: 'app.js' }] } } },
    ]));
    expect({ ...m.streams[0]!.labels }).toEqual({
      workload: 'web', workload_kind: 'Deployment', namespace: 'shop', image: 'nginx:1.25', deployment_environment: 'prod', _9lives: 'cat',
    });
    // Dotted attributes outside the label list go with every record as structured metadata:
    // as labels they would make a stream per process (pid) or per rollout (replicaset).
    expect({ ...m.streams[0]!.lines[0]!.fields }).toEqual({ k8s_replicaset_name: 'web-5d8f', process_pid: '42', process_command_args: '["node","app.js"]', scope_name: 'lib', scope_version: '1.0' });
    const withHost = mapLogsRequest(decodeLogsRequest(Buffer.from(JSON.stringify({ resourceLogs: [{ resource: { attributes: [s('host.name', 'vm-1'), s('service.name', 'a')] }, scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' } }] }] }] })), 'json'), { nowNs: NOW, labelAttributes: new Set(['host.name']) });
    expect({ ...withHost.streams[0]!.labels }).toEqual({ host_name: 'vm-1', service_name: 'a' });
    // No attributes at all: the OpenTelemetry SDKs' own default name, so a stream always has a label.
    expect({ ...decodeMap(one({}, [])).streams[0]!.labels }).toEqual({ service_name: 'unknown_service' });
    // Same labels from two resources: one stream.
    const two = json({ resourceLogs: [0, 1].map((i) => ({ resource: { attributes: [s('service.name', 'a')] }, scopeLogs: [{ logRecords: [{ body: { stringValue: `r${i}` } }] }] })) });
    expect(decodeMap(two).streams.map((x) => x.lines.map((l) => l.line))).toEqual([['r0', 'r1']]);
  });

  it('refuses bad records alone (partial success) and unreadable envelopes whole (400)', () => {
    const body = json({ resourceLogs: [{ scopeLogs: [{ logRecords: [
      { body: { stringValue: 'good' } },
      { traceId: 'abcd', body: { stringValue: 'short trace id' } },
      { spanId: 'zz'.repeat(8) },
      { timeUnixNano: 'yesterday' },
      { body: { stringValue: 7 } },
      'not an object',
      { timeUnixNano: '18446744073709551615' },
      { severityNumber: 'LOUD' },
      { body: { stringValue: 'also good' }, traceId: '00000000000000000000000000000000' },
    ] }] }] });
    const m = decodeMap(body);
    expect(m.accepted).toBe(2);
    expect(m.rejected).toBe(7);
    expect(m.message).toMatch(/^7 log records refused: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[1\]: traceId must be 16 bytes/);
    expect(m.streams[0]!.lines.map((l) => l.line)).toEqual(['good', 'also good']);
    expect(m.streams[0]!.lines[1]!.fields.trace_id).toBeUndefined();

    const refused = (b: string | Buffer, enc: OtlpEncoding = 'json') => {
      try {
        decodeMap(b, enc);
      } catch (err) {
        expect(err).toBeInstanceOf(OtlpDecodeError);
        return (err as OtlpDecodeError).message;
      }
      return 'accepted';
    };
    expect(refused('{"resourceLogs":')).toMatch(/^body is not JSON/);
    expect(refused('[]')).toBe('expected an ExportLogsServiceRequest object');
    expect(refused('{"resourceLogs":{}}')).toBe('resourceLogs: expected an array');
    expect(refused('{"resourceLogs":[{"resource":{"attributes":[{"key":"a","value":{"intValue":"x"}}]}}]}')).toMatch(/resource\.attributes\[0\]\.value\.intValue/);
    expect(refused('{"resourceLogs":[{"scopeLogs":[{"scope":{"name":5}}]}]}')).toMatch(/scope: name and version must be strings/);
    expect(refused(Buffer.from([0x0a, 0x05, 0x01]), 'protobuf')).toMatch(/^body is not a protobuf ExportLogsServiceRequest/);
    expect(refused('{}')).toBe('accepted');
    expect(refused('', 'protobuf')).toBe('accepted');
    const many = json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{}, {}, {}] }] }] });
    expect(() => decodeLogsRequest(Buffer.from(many), 'json', { maxRecords: 2 })).toThrow(expect.objectContaining({ status: 413 }) as Error);
  });

  it('never throws anything but OtlpDecodeError on garbage: random bytes, mutated protobuf and JSON, deep nesting', () => {
    const { request } = otlpLogsTypes();
    const valid = Buffer.from(request.encode(request.fromObject({ resourceLogs: [{ resource: { attributes: [{ key: 'k', value: { stringValue: 'v' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: '1', body: { kvlistValue: { values: [{ key: 'a', value: { intValue: '1' } }] } }, traceId: Buffer.alloc(16, 1) }] }] }] })).finish());
    const validJson = Buffer.from(one({ timeUnixNano: '1', body: { arrayValue: { values: [{ stringValue: 'x' }] } }, attributes: [{ key: 'a', value: { boolValue: true } }] }));
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const inputs: Array<[Buffer, OtlpEncoding]> = [];
    for (let i = 0; i < 300; i++) {
      inputs.push([randomBytes(Math.floor(rnd() * 200)), rnd() < 0.5 ? 'protobuf' : 'json']);
      for (const [base, enc] of [[valid, 'protobuf'], [validJson, 'json']] as const) {
        const b = Buffer.from(base);
        for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        inputs.push([b.subarray(0, Math.floor(rnd() * (b.length + 1))), enc]);
      }
    }
    // 10,000 nested arrays: too deep for a record (JSON), or for the stack (protobuf).
    inputs.push([Buffer.from(one({ body: 'BODY' }).replace('"BODY"', '{"arrayValue":{"values":['.repeat(10_000) + '{}' + ']}}'.repeat(10_000))), 'json']);
    const ld = (tag: number, b: Buffer) => Buffer.concat([Buffer.from([tag]), varint(b.length), b]);
    let deep = Buffer.alloc(0);
    for (let i = 0; i < 3000; i++) deep = ld(0x2a, ld(0x0a, deep)); // AnyValue.array_value → ArrayValue.values → ...
    const nested = ld(0x0a, ld(0x12, ld(0x12, ld(0x2a, deep)))); // request → resource_logs → scope_logs → log_records → body
    inputs.push([nested, 'protobuf']);
    for (const [b, enc] of inputs) {
      try {
        const m = decodeMap(b, enc);
        expect(m.accepted + m.rejected).toBeGreaterThanOrEqual(0);
      } catch (err) {
        expect(err).toBeInstanceOf(OtlpDecodeError);
      }
    }
  });

  it('answers in the request encoding: empty success, partial success, Status', () => {
    const { response, status } = otlpLogsTypes();
    expect(encodeLogsResponse('protobuf').length).toBe(0);
    expect(encodeLogsResponse('json').toString()).toBe('{}');
    expect(response.toObject(response.decode(encodeLogsResponse('protobuf', 2, 'bad')), { longs: String })).toEqual({ partialSuccess: { rejectedLogRecords: '2', errorMessage: 'bad' } });
    expect(JSON.parse(encodeLogsResponse('json', 2, 'bad').toString())).toEqual({ partialSuccess: { rejectedLogRecords: '2', errorMessage: 'bad' } });
    expect(status.toObject(status.decode(encodeStatus('protobuf', 400, 'nope')))).toEqual({ code: 3, message: 'nope' });
    expect(JSON.parse(encodeStatus('json', 503, 'later').toString())).toEqual({ code: 14, message: 'later' });
    expect(otlpEncodingOf('application/json; charset=utf-8')).toBe('json');
    expect(otlpEncodingOf('Application/X-Protobuf')).toBe('protobuf');
    expect(otlpEncodingOf('text/plain')).toBeNull();
    expect(otlpEncodingOf(undefined)).toBeNull();
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
