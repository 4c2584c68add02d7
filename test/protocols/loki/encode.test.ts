import { gunzipSync } from 'node:zlib';
import { uncompressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import {
  checkEncodeOptions,
  decodePush,
  decodePushRequest,
  encodePush,
  encodePushAsync,
  type EncodePushOptions,
  type PushStream,
} from '../../../src/protocols/loki/index.js';
import { bigStreams, sampleStreams } from './helpers.js';

const headersOf = (h: Record<string, string>) => ({ contentType: h['Content-Type'], contentEncoding: h['Content-Encoding'] });

describe('encodePush', () => {
  const streams = sampleStreams();

  it('protobuf: a snappy block, no Content-Encoding (what Loki expects)', async () => {
    const { body, headers } = encodePush(streams, { format: 'protobuf' });
    expect(headers).toEqual({ 'Content-Type': 'application/x-protobuf' });
    expect(decodePushRequest(uncompressSync(body, { asBuffer: true }) as Buffer)).toEqual(streams);
    expect(await decodePush(body, headersOf(headers))).toEqual(streams);
    expect(encodePush(streams, { format: 'protobuf', compress: 'snappy' }).body.equals(body)).toBe(true);
  });

  it('protobuf + gzip: gzip over snappy, Content-Encoding gzip', async () => {
    const { body, headers } = encodePush(streams, { format: 'protobuf', compress: 'gzip' });
    expect(headers).toEqual({ 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip' });
    expect(decodePushRequest(uncompressSync(gunzipSync(body), { asBuffer: true }) as Buffer)).toEqual(streams);
    expect(await decodePush(body, headersOf(headers))).toEqual(streams);
  });

  it('json: the Loki JSON shape, plain or gzip', async () => {
    const { body, headers } = encodePush(streams, { format: 'json' });
    expect(headers).toEqual({ 'Content-Type': 'application/json' });
    const doc = JSON.parse(body.toString('utf8')) as { streams: Array<{ stream: unknown; values: unknown[] }> };
    expect(doc.streams[0]).toEqual({
      stream: { app: 'web', namespace: 'shop' },
      values: [
        ['1700000000123456789', 'GET /cart 200'],
        ['1700000001000000000', 'ünïcødé ✓ 日本語 🎉', { trace_id: 'abc123', user: 'u-1' }],
        ['0', ''],
      ],
    });
    expect(await decodePush(body, headersOf(headers))).toEqual(streams);

    const gz = encodePush(streams, { format: 'json', compress: 'gzip', gzipLevel: 9 });
    expect(gz.headers).toEqual({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    expect(gunzipSync(gz.body).equals(body)).toBe(true);
    expect(await decodePush(gz.body, headersOf(gz.headers))).toEqual(streams);
  });

  it('json: escapes quotes, control characters and lone surrogates', async () => {
    const tricky: PushStream[] = [
      {
        labels: { a: 'x"y' },
        entries: [
          { tsNs: 1n, line: '{"msg":"quoted \\"inner\\""}' },
          { tsNs: 2n, line: 'ctl \u0000\u0001\u001f\n\t end' },
          { tsNs: 3n, line: 'lone \ud800 surrogate \udc00' },
          { tsNs: 4n, line: 'x'.repeat(100_000) },
        ],
      },
    ];
    const { body, headers } = encodePush(tricky, { format: 'json' });
    expect(await decodePush(body, headersOf(headers))).toEqual(tricky);
  });

  it('async variant produces the same bodies', async () => {
    for (const opts of [
      { format: 'protobuf' },
      { format: 'protobuf', compress: 'gzip' },
      { format: 'json' },
      { format: 'json', compress: 'gzip' },
    ] satisfies EncodePushOptions[]) {
      const a = await encodePushAsync(streams, opts);
      const s = encodePush(streams, opts);
      expect(a.headers).toEqual(s.headers);
      expect(a.body.equals(s.body)).toBe(true);
    }
  });

  it('refuses combinations Loki cannot read', () => {
    expect(checkEncodeOptions({ format: 'protobuf' })).toBeNull();
    expect(checkEncodeOptions({ format: 'json', compress: 'gzip', gzipLevel: 6 })).toBeNull();
    expect(checkEncodeOptions({ format: 'protobuf', compress: 'none' })).toBe(
      'protobuf push bodies must be snappy-compressed (Loki requires it); use snappy or gzip',
    );
    expect(checkEncodeOptions({ format: 'json', compress: 'snappy' })).toBe('Loki does not accept snappy-compressed JSON; use gzip or none');
    expect(checkEncodeOptions({ format: 'json', gzipLevel: 0 })).toBe('gzipLevel must be an integer 1…9, got 0');
    expect(() => encodePush(streams, { format: 'protobuf', compress: 'none' })).toThrow(RangeError);
    expect(() => encodePush(streams, { format: 'json', compress: 'snappy' })).toThrow('Loki does not accept snappy-compressed JSON');
    expect(() => encodePush([{ labels: { a: 'b' }, entries: [{ tsNs: -5n, line: 'x' }] }], { format: 'json' })).toThrow(
      'streams[0].entries[0].tsNs -5 is outside [0, 2^63) nanoseconds',
    );
  });

  it('round-trips 100k entries in 20 streams in both formats', async () => {
    const big = bigStreams(100_000, 20);
    for (const format of ['protobuf', 'json'] as const) {
      const started = performance.now();
      const { body, headers } = encodePush(big, { format });
      const ms = performance.now() - started;
      // A loose bound against pathological regressions only; bench/loki-codec.mjs measures.
      expect(ms).toBeLessThan(2000);
      expect(await decodePush(body, headersOf(headers))).toEqual(big);
    }
  });
});
