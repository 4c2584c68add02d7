import { deflateRawSync, deflateSync, gzipSync, brotliCompressSync } from 'node:zlib';
import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import {
  decodePush,
  encodePushRequest,
  PushDecodeError,
  type PushDecodeLimits,
  type PushHeaders,
} from '../../../src/protocols/loki/index.js';
import { refEncode, sampleStreams } from './helpers.js';

const PB = 'application/x-protobuf';
const JSON_CT = 'application/json';

async function pushError(body: Buffer | string, headers: PushHeaders, limits: PushDecodeLimits = {}): Promise<PushDecodeError> {
  try {
    await decodePush(typeof body === 'string' ? Buffer.from(body) : body, headers, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(PushDecodeError);
    return err as PushDecodeError;
  }
  throw new Error('decoded');
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('decodePush: protobuf', () => {
  const streams = sampleStreams();
  const raw = encodePushRequest(streams);
  const snappy = compressSync(raw);

  it('decodes snappy protobuf (the Loki wire format)', async () => {
    expect(await decodePush(snappy, { contentType: PB })).toEqual(streams);
    expect(await decodePush(snappy, { contentType: 'Application/X-Protobuf; charset=binary' })).toEqual(streams);
    expect(await decodePush(snappy, { contentType: 'application/protobuf' })).toEqual(streams);
    expect(await decodePush(snappy, { contentType: PB, contentEncoding: 'snappy' })).toEqual(streams);
  });

  it('treats a missing Content-Type as protobuf, as Loki does', async () => {
    expect(await decodePush(snappy, {})).toEqual(streams);
  });

  it('accepts an uncompressed protobuf body leniently', async () => {
    expect(await decodePush(raw, { contentType: PB })).toEqual(streams);
  });

  it('decodes an independently encoded request with structured metadata', async () => {
    const body = compressSync(
      refEncode({
        streams: [
          {
            labels: '{app="web"}',
            entries: [{ timestamp: { seconds: 1_700_000_000, nanos: 5 }, line: 'l', structuredMetadata: [{ name: 'trace_id', value: 't' }] }],
          },
        ],
      }),
    );
    expect(await decodePush(body, { contentType: PB })).toEqual([
      { labels: { app: 'web' }, entries: [{ tsNs: 1_700_000_000_000_000_005n, line: 'l', metadata: { trace_id: 't' } }] },
    ]);
  });

  it('undoes gzip, deflate (zlib and raw) and br over snappy or raw protobuf', async () => {
    for (const body of [snappy, raw]) {
      expect(await decodePush(gzipSync(body), { contentType: PB, contentEncoding: 'gzip' })).toEqual(streams);
      expect(await decodePush(gzipSync(body), { contentType: PB, contentEncoding: 'x-gzip' })).toEqual(streams);
      expect(await decodePush(deflateSync(body), { contentType: PB, contentEncoding: 'deflate' })).toEqual(streams);
      expect(await decodePush(deflateRawSync(body), { contentType: PB, contentEncoding: 'deflate' })).toEqual(streams);
      expect(await decodePush(brotliCompressSync(body), { contentType: PB, contentEncoding: 'br' })).toEqual(streams);
      expect(await decodePush(gzipSync(body), { contentType: PB, contentEncoding: 'identity, gzip' })).toEqual(streams);
    }
  });

  it('reports a body that is neither snappy nor protobuf', async () => {
    const err = await pushError(Buffer.from('hello world'), { contentType: PB });
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^invalid snappy block: corrupt input .*; the body is not an uncompressed PushRequest either \(PushRequest: .* at byte \d+\)$/);
  });

  it('reports protobuf errors found inside a valid snappy block', async () => {
    const bad = compressSync(refEncode({ streams: [{ labels: '{app web}' }] }));
    const err = await pushError(bad, { contentType: PB });
    expect(err.message).toBe("streams[0].labels: expected '=' after label name at position 5, found 'w'");
  });

  it('checks the declared snappy length against maxBytes before decompressing', async () => {
    // Header claims 4 GiB - 1.
    const bomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    const err = await pushError(bomb, { contentType: PB });
    expect(err.status).toBe(413);
    expect(err.message).toBe('snappy block declares 4294967295 bytes uncompressed, more than maxBytes 104857600');
    expect(raw.length).toBeGreaterThan(snappy.length);
    const small = await pushError(snappy, { contentType: PB }, { maxBytes: snappy.length });
    expect(small.status).toBe(413);
    expect(small.message).toBe(`snappy block declares ${raw.length} bytes uncompressed, more than maxBytes ${snappy.length}`);
  });

  it('caps gzip output at maxBytes (413)', async () => {
    const bomb = gzipSync(Buffer.alloc(10_000_000));
    const err = await pushError(bomb, { contentType: PB, contentEncoding: 'gzip' }, { maxBytes: 1_000_000 });
    expect(err.status).toBe(413);
    expect(err.message).toBe('gzip body is over 1000000 bytes once decompressed (maxBytes)');
    const plain = await pushError(raw, { contentType: PB }, { maxBytes: 10 });
    expect(plain.status).toBe(413);
    expect(plain.message).toBe(`body is ${raw.length} bytes, more than maxBytes 10`);
  });

  it('enforces maxEntries (413) and maxLineBytes (400)', async () => {
    const tooMany = await pushError(snappy, { contentType: PB }, { maxEntries: 3 });
    expect([tooMany.status, tooMany.message]).toEqual([413, 'too many entries: the request has more than 3 (maxEntries)']);
    const tooLong = await pushError(snappy, { contentType: PB }, { maxLineBytes: 299 });
    expect([tooLong.status, tooLong.message]).toEqual([400, 'streams[1].entries[0].line: line is 300 bytes, more than maxLineBytes 299']);
    expect(await decodePush(snappy, { contentType: PB }, { maxEntries: 4, maxLineBytes: 300 })).toEqual(streams);
  });
});

describe('decodePush: JSON', () => {
  it('decodes the Loki JSON format with structured metadata', async () => {
    const body = json({
      streams: [
        {
          stream: { app: 'web', namespace: 'shop', empty: '' },
          values: [
            ['1700000000000000000', 'line one'],
            ['1700000000000000001', 'line two', { trace_id: 'abc', dropped: '' }],
            ['0', '', {}],
            ['9223372036854775807', 'max', null],
            ['00000000000000000000042', 'leading zeros'],
          ],
        },
        { stream: { app: 'db' }, values: [] },
      ],
    });
    expect(await decodePush(body, { contentType: 'application/json; charset=utf-8' })).toEqual([
      {
        labels: { app: 'web', namespace: 'shop' },
        entries: [
          { tsNs: 1_700_000_000_000_000_000n, line: 'line one' },
          { tsNs: 1_700_000_000_000_000_001n, line: 'line two', metadata: { trace_id: 'abc' } },
          { tsNs: 0n, line: '' },
          { tsNs: 9_223_372_036_854_775_807n, line: 'max' },
          { tsNs: 42n, line: 'leading zeros' },
        ],
      },
      { labels: { app: 'db' }, entries: [] },
    ]);
  });

  it('round-trips the sample streams through gzip and a BOM', async () => {
    const streams = sampleStreams();
    const body = Buffer.from(
      `\ufeff${JSON.stringify({
        streams: streams.map((s) => ({
          stream: s.labels,
          values: s.entries.map((e) => (e.metadata ? [String(e.tsNs), e.line, e.metadata] : [String(e.tsNs), e.line])),
        })),
      })}`,
    );
    expect(await decodePush(body, { contentType: JSON_CT })).toEqual(streams);
    expect(await decodePush(gzipSync(body), { contentType: JSON_CT, contentEncoding: 'GZIP' })).toEqual(streams);
    expect(await decodePush(compressSync(body), { contentType: JSON_CT, contentEncoding: 'snappy' })).toEqual(streams);
  });

  it('keeps __proto__ as a plain label', async () => {
    const [s] = await decodePush(Buffer.from('{"streams":[{"stream":{"__proto__":"x"},"values":[["1","l",{"__proto__":"m"}]]}]}'), {
      contentType: JSON_CT,
    });
    expect(Object.keys(s!.labels)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(s!.labels)).toBe(Object.prototype);
    expect(Object.keys(s!.entries[0]!.metadata!)).toEqual(['__proto__']);
  });

  const stream = (values: unknown[], labels: unknown = { app: 'web' }) => ({ streams: [{ stream: labels, values }] });
  it.each([
    ['not JSON', '{"streams": [', /^invalid JSON: /],
    ['not an object', '[1]', 'body: expected a JSON object with a "streams" array, got array'],
    ['no streams', '{}', 'streams: expected an array, got undefined'],
    ['streams not an array', '{"streams":{}}', 'streams: expected an array, got object'],
    ['stream not an object', '{"streams":[1]}', 'streams[0]: expected an object with "stream" and "values", got number'],
    ['missing stream labels', '{"streams":[{"values":[]}]}', 'streams[0]: stream has no labels'],
    ['empty stream labels', json(stream([], {})), 'streams[0]: stream has no labels'],
    ['only empty label values', json(stream([], { a: '' })), 'streams[0]: stream has no labels'],
    ['labels not an object', json(stream([], '{app="web"}')), 'streams[0].stream: expected an object of label names to string values, got string'],
    ['bad label name', json(stream([], { 'app-name': 'x' })), 'streams[0].stream: invalid label name "app-name": must match [a-zA-Z_][a-zA-Z0-9_]*'],
    ['non-string label value', json(stream([], { app: 1 })), 'streams[0].stream.app: label value must be a string, got number'],
    ['values missing', '{"streams":[{"stream":{"a":"b"}}]}', 'streams[0].values: expected an array of [timestamp, line] arrays, got undefined'],
    ['value not an array', json(stream(['x'])), 'streams[0].values[0]: expected [timestamp, line] or [timestamp, line, metadata], got string'],
    ['value too short', json(stream([['1']])), 'streams[0].values[0]: expected [timestamp, line] or [timestamp, line, metadata], got an array of 1'],
    ['value too long', json(stream([['1', 'a', {}, 4]])), 'streams[0].values[0]: expected [timestamp, line] or [timestamp, line, metadata], got an array of 4'],
    ['numeric timestamp', json(stream([['1', 'a'], ['2', 'b'], [1700000000, 'c']])), 'streams[0].values[2][0]: timestamp must be a string of unix nanoseconds, got the number 1700000000'],
    ['null timestamp', json(stream([[null, 'c']])), 'streams[0].values[0][0]: timestamp must be a string of unix nanoseconds, got null'],
    ['RFC3339 timestamp', json(stream([['2024-01-01T00:00:00Z', 'c']])), 'streams[0].values[0][0]: timestamp must be a string of unix nanoseconds, got "2024-01-01T00:00:00Z"'],
    ['negative timestamp', json(stream([['-1', 'c']])), 'streams[0].values[0][0]: timestamp must be a string of unix nanoseconds, got "-1"'],
    ['empty timestamp', json(stream([['', 'c']])), 'streams[0].values[0][0]: timestamp must be a string of unix nanoseconds, got ""'],
    ['fractional timestamp', json(stream([['1.5', 'c']])), 'streams[0].values[0][0]: timestamp must be a string of unix nanoseconds, got "1.5"'],
    ['timestamp past int64', json(stream([['9223372036854775808', 'c']])), 'streams[0].values[0][0]: timestamp "9223372036854775808" is past the int64 nanosecond range'],
    ['timestamp of 20 digits', json(stream([['10000000000000000000', 'c']])), 'streams[0].values[0][0]: timestamp "10000000000000000000" is past the int64 nanosecond range'],
    ['non-string line', json(stream([['1', 42]])), 'streams[0].values[0][1]: line must be a string, got number'],
    ['metadata not an object', json(stream([['1', 'a', ['x']]])), 'streams[0].values[0][2]: structured metadata must be an object of string values, got array'],
    ['bad metadata name', json(stream([['1', 'a', { 'k8s.pod': 'p' }]])), 'streams[0].values[0][2]: invalid structured metadata name "k8s.pod": must match [a-zA-Z_][a-zA-Z0-9_]*'],
    ['non-string metadata value', json(stream([['1', 'a', { n: 1 }]])), 'streams[0].values[0][2].n: structured metadata value must be a string, got number'],
  ])('rejects %s', async (_name, body, message) => {
    const err = await pushError(body, { contentType: JSON_CT });
    expect(err.status).toBe(400);
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });

  it('locates errors in later streams', async () => {
    const body = json({
      streams: [
        { stream: { a: '1' }, values: [['1', 'x']] },
        { stream: { a: '2' }, values: [['1', 'x']] },
        { stream: { a: '3' }, values: [['1', 'x'], ['2', 'x'], ['3', 'x'], ['4', 'x'], ['5', 'x'], [6, 'x']] },
      ],
    });
    const err = await pushError(body, { contentType: JSON_CT });
    expect(err.message).toBe('streams[2].values[5][0]: timestamp must be a string of unix nanoseconds, got the number 6');
  });

  it('enforces maxEntries (413) and maxLineBytes in UTF-8 bytes (400)', async () => {
    const body = json(stream([['1', 'ééé'], ['2', 'abcdef'], ['3', 'abcdefg']]));
    const tooMany = await pushError(body, { contentType: JSON_CT }, { maxEntries: 2 });
    expect([tooMany.status, tooMany.message]).toEqual([413, 'too many entries: the request has more than 2 (maxEntries)']);
    const tooLong = await pushError(body, { contentType: JSON_CT }, { maxLineBytes: 6 });
    expect([tooLong.status, tooLong.message]).toEqual([400, 'streams[0].values[2][1]: line is 7 bytes, more than maxLineBytes 6']);
    const utf8 = await pushError(body, { contentType: JSON_CT }, { maxLineBytes: 5 });
    expect(utf8.message).toBe('streams[0].values[0][1]: line is 6 bytes, more than maxLineBytes 5');
    expect(await decodePush(body, { contentType: JSON_CT }, { maxEntries: 3, maxLineBytes: 7 })).toHaveLength(1);
  });
});

describe('decodePush: headers', () => {
  it.each([
    [{ contentType: 'text/plain' }, 415, 'unsupported Content-Type "text/plain": expected application/json or application/x-protobuf'],
    [{ contentType: 'application/x-www-form-urlencoded' }, 415, 'unsupported Content-Type "application/x-www-form-urlencoded": expected application/json or application/x-protobuf'],
    [{ contentType: JSON_CT, contentEncoding: 'zstd' }, 415, 'unsupported Content-Encoding "zstd": expected gzip, deflate, br, snappy or identity'],
    [{ contentType: JSON_CT, contentEncoding: 'gzip, br' }, 415, 'unsupported Content-Encoding "gzip, br": expected a single coding'],
  ])('rejects %j', async (headers, status, message) => {
    const err = await pushError('{"streams":[]}', headers);
    expect([err.status, err.message]).toEqual([status, message]);
  });

  it('reports corrupt compressed bodies', async () => {
    const gz = await pushError('not gzip', { contentType: JSON_CT, contentEncoding: 'gzip' });
    expect([gz.status, gz.message]).toEqual([400, 'invalid gzip body: incorrect header check']);
    const truncated = await pushError(gzipSync(Buffer.from('{"streams":[]}')).subarray(0, 12), { contentType: JSON_CT, contentEncoding: 'gzip' });
    expect(truncated.message).toBe('invalid gzip body: unexpected end of file');
    const sn = await pushError('xx', { contentType: JSON_CT, contentEncoding: 'snappy' });
    expect(sn.message).toMatch(/^invalid snappy block: /);
  });
});
