import { describe, expect, it } from 'vitest';
import {
  decodePushRequest,
  encodePushRequest,
  PushDecodeError,
  pushRequestType,
  type PushStream,
} from '../../../src/protocols/loki/index.js';
import { bigStreams, refDecode, refEncode, sampleStreams } from './helpers.js';

function decodeError(buf: Buffer, limits = {}): PushDecodeError {
  try {
    decodePushRequest(buf, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(PushDecodeError);
    return err as PushDecodeError;
  }
  throw new Error('decoded');
}

describe('protobuf PushRequest codec', () => {
  it('round-trips streams, metadata, unicode, 0 and int64-max timestamps', () => {
    const streams = sampleStreams();
    expect(decodePushRequest(encodePushRequest(streams))).toEqual(streams);
  });

  it('round-trips 20k entries', () => {
    const streams = bigStreams(20_000, 7);
    expect(decodePushRequest(encodePushRequest(streams))).toEqual(streams);
  });

  it('decodes a request encoded independently with protobufjs from the .proto text', () => {
    const buf = refEncode({
      format: 'loki',
      future_req: 7,
      streams: [
        {
          labels: '{namespace="shop", app="web", empty=""}',
          hash: '18446744073709551615',
          future_stream: 99,
          entries: [
            {
              timestamp: { seconds: 1_700_000_000, nanos: 123_456_789 },
              line: 'first',
              structuredMetadata: [
                { name: 'trace_id', value: 'abc' },
                { name: 'dropped', value: '' },
                { name: 'trace_id', value: 'last-wins' },
              ],
              parsed: [{ name: 'ignored', value: 'x' }],
              future_entry: new Uint8Array([1, 2, 3]),
            },
            { timestamp: { seconds: 0, nanos: 1 }, line: '' },
            { timestamp: { seconds: '9223372035', nanos: 999_999_999 }, line: 'late ✓' },
            { timestamp: { seconds: 0, nanos: 0 }, line: 'epoch' },
          ],
        },
        { labels: '{app="db"}', entries: [] },
      ],
    });
    const decoded = decodePushRequest(buf);
    expect(decoded).toEqual([
      {
        labels: { namespace: 'shop', app: 'web' },
        entries: [
          { tsNs: 1_700_000_000_123_456_789n, line: 'first', metadata: { trace_id: 'last-wins' } },
          { tsNs: 1n, line: '' },
          { tsNs: 9_223_372_035_999_999_999n, line: 'late ✓' },
          { tsNs: 0n, line: 'epoch' },
        ],
      },
      { labels: { app: 'db' }, entries: [] },
    ] satisfies PushStream[]);
    expect(decoded[0]!.entries[1]).not.toHaveProperty('metadata');
  });

  it('encodes what protobufjs reads back (canonical proto3, matching the reference encoding)', () => {
    const streams = sampleStreams();
    const buf = encodePushRequest(streams);
    const ref = refDecode(buf);
    expect(ref.streams).toHaveLength(3);
    expect(ref.streams![0]!.labels).toBe('{app="web", namespace="shop"}');
    expect(ref.streams![0]!.entries![0]!.timestamp).toEqual({ seconds: '1700000000', nanos: 123456789 });
    expect(ref.streams![0]!.entries![1]!.structuredMetadata).toEqual([
      { name: 'trace_id', value: 'abc123' },
      { name: 'user', value: 'u-1' },
    ]);
    expect(ref.streams![0]!.entries![2]!.timestamp).toEqual({});
    expect(ref.streams![1]!.entries![0]!.timestamp).toEqual({ seconds: '9223372036', nanos: 854775807 });
    // Same bytes as protobufjs produces from the equivalent message.
    const again = refEncode(ref);
    expect(again.equals(buf)).toBe(true);
    // And src's own reflection schema agrees.
    const T = pushRequestType();
    expect(T.decode(buf).toJSON()).toEqual(T.decode(again).toJSON());
  });

  it('refuses to encode what cannot be decoded', () => {
    expect(() => encodePushRequest([{ labels: { a: 'b' }, entries: [{ tsNs: -1n, line: '' }] }])).toThrow(
      'streams[0].entries[0].tsNs -1 is outside [0, 2^63) nanoseconds',
    );
    expect(() => encodePushRequest([{ labels: { a: 'b' }, entries: [{ tsNs: 1n << 63n, line: '' }] }])).toThrow(RangeError);
    for (const tsNs of [-1_000_000_000n, -2_500_000_000n, -(1n << 63n), 1n << 64n, 9_223_372_037_000_000_000n]) {
      expect(() => encodePushRequest([{ labels: { a: 'b' }, entries: [{ tsNs, line: '' }] }])).toThrow(RangeError);
    }
    const max = [{ labels: { a: 'b' }, entries: [{ tsNs: (1n << 63n) - 1n, line: '' }, { tsNs: 9_223_372_036_000_000_000n, line: '' }] }];
    expect(decodePushRequest(encodePushRequest(max))).toEqual(max);
    expect(() => encodePushRequest([{ labels: { 'bad-name': 'b' }, entries: [] }])).toThrow('invalid label name "bad-name"');
    expect(() =>
      encodePushRequest([{ labels: { a: 'b' }, entries: [{ tsNs: 1n, line: '', metadata: { 'k.8s': 'v' } }] }]),
    ).toThrow('invalid structured metadata name "k.8s"');
  });

  it('skips unknown fields of every wire type, groups included', () => {
    const stream = refEncode({ streams: [{ labels: '{a="b"}', entries: [{ timestamp: { seconds: 1, nanos: 2 }, line: 'x' }] }] });
    // Unknown field 9 as a group holding a varint and a nested group, then unknown fixed32/fixed64.
    const extra = Buffer.from([0x4b, 0x08, 0x01, 0x53, 0x10, 0x05, 0x54, 0x4c, 0x4d, 1, 2, 3, 4, 0x49, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decodePushRequest(Buffer.concat([extra, stream, extra]))).toEqual([
      { labels: { a: 'b' }, entries: [{ tsNs: 1_000_000_002n, line: 'x' }] },
    ]);
  });

  it('merges a repeated timestamp field and accepts labels after entries', () => {
    // entries (field 2) before labels (field 1); timestamp sent twice: seconds, then nanos.
    const entry = Buffer.from([0x0a, 0x02, 0x08, 0x05, 0x0a, 0x02, 0x10, 0x07, 0x12, 0x01, 0x7a]);
    const labels = Buffer.from('{a="b"}');
    const stream = Buffer.concat([Buffer.from([0x12, entry.length]), entry, Buffer.from([0x0a, labels.length]), labels]);
    const req = Buffer.concat([Buffer.from([0x0a, stream.length]), stream]);
    expect(decodePushRequest(req)).toEqual([{ labels: { a: 'b' }, entries: [{ tsNs: 5_000_000_007n, line: 'z' }] }]);
  });

  it('decodes an empty body as no streams', () => {
    expect(decodePushRequest(Buffer.alloc(0))).toEqual([]);
  });

  const ts = (seconds: number | string, nanos = 0) => ({ timestamp: { seconds, nanos }, line: 'l' });
  it.each([
    ['no labels field', { streams: [{ entries: [ts(1)] }] }, 'streams[0]: stream has no labels'],
    ['empty label set', { streams: [{ labels: '{}' }] }, 'streams[0]: stream has no labels'],
    ['only empty values', { streams: [{ labels: '{a="1"}' }, { labels: '{a=""}' }] }, 'streams[1]: stream has no labels'],
    ['bad labels', { streams: [{ labels: '{app web}' }] }, "streams[0].labels: expected '=' after label name at position 5, found 'w'"],
    ['missing timestamp', { streams: [{ labels: '{a="b"}', entries: [ts(1), { line: 'x' }] }] }, 'streams[0].entries[1].timestamp: missing'],
    ['negative seconds', { streams: [{ labels: '{a="b"}', entries: [ts(-5)] }] }, 'streams[0].entries[0].timestamp: seconds must be ≥ 0, got -5'],
    ['negative nanos', { streams: [{ labels: '{a="b"}', entries: [ts(5, -1)] }] }, 'streams[0].entries[0].timestamp: nanos must be in [0, 999999999], got -1'],
    ['nanos too big', { streams: [{ labels: '{a="b"}', entries: [ts(5, 1_000_000_000)] }] }, 'streams[0].entries[0].timestamp: nanos must be in [0, 999999999], got 1000000000'],
    ['seconds too big', { streams: [{ labels: '{a="b"}', entries: [ts('9223372037')] }] }, 'streams[0].entries[0].timestamp: 9223372037 seconds is past the int64 nanosecond range'],
    ['last second overflow', { streams: [{ labels: '{a="b"}', entries: [ts('9223372036', 900_000_000)] }] }, 'streams[0].entries[0].timestamp: 9223372036.900000000 s is past the int64 nanosecond range'],
    [
      'bad metadata name',
      { streams: [{ labels: '{a="b"}', entries: [{ ...ts(1), structuredMetadata: [{ name: 'ok', value: '1' }, { name: 'k8s.pod', value: 'p' }] }] }] },
      'streams[0].entries[0].structuredMetadata[1].name: invalid structured metadata name "k8s.pod": must match [a-zA-Z_][a-zA-Z0-9_]*',
    ],
  ])('rejects %s', (_name, req, message) => {
    const err = decodeError(refEncode(req));
    expect(err.message).toBe(message);
    expect(err.status).toBe(400);
  });

  it.each([
    ['varint where streams needs a message', [0x08, 0x01], 'PushRequest.streams: wire type 0 (varint) where field 1 needs 2 (length-delimited) at byte 0'],
    ['fixed64 as labels', [0x0a, 0x09, 0x09, 1, 2, 3, 4, 5, 6, 7, 8], 'streams[0].labels: wire type 1 (64-bit) where field 1 needs 2 (length-delimited) at byte 2'],
    ['string as hash', [0x0a, 0x03, 0x1a, 0x01, 0x41], 'streams[0].hash: wire type 2 (length-delimited) where field 3 needs 0 (varint) at byte 2'],
    ['varint as entry', [0x0a, 0x02, 0x10, 0x01], 'streams[0].entries: wire type 0 (varint) where field 2 needs 2 (length-delimited) at byte 2'],
    ['varint as timestamp', [0x0a, 0x04, 0x12, 0x02, 0x08, 0x01], 'streams[0].entries[0].timestamp: wire type 0 (varint) where field 1 needs 2 (length-delimited) at byte 4'],
    ['fixed32 as seconds', [0x0a, 0x0a, 0x12, 0x08, 0x0a, 0x06, 0x0d, 1, 2, 3, 4, 0], 'streams[0].entries[0].timestamp.seconds: wire type 5 (32-bit) where field 1 needs 0 (varint) at byte 6'],
    ['varint as metadata name', [0x0a, 0x06, 0x12, 0x04, 0x1a, 0x02, 0x08, 0x01], 'streams[0].entries[0].structuredMetadata[0].name: wire type 0 (varint) where field 1 needs 2 (length-delimited) at byte 6'],
    ['varint as format', [0x10, 0x01], 'PushRequest.format: wire type 0 (varint) where field 2 needs 2 (length-delimited) at byte 0'],
    ['length past the end', [0x0a, 0x05, 0x0a], 'streams[0]: length 5 at byte 1 runs past the end of the enclosing message (1 bytes left)'],
    ['inner length past its message', [0x0a, 0x03, 0x0a, 0x05, 0x41, 0x41, 0x41], 'streams[0].labels: length 5 at byte 3 runs past the end of the enclosing message (1 bytes left)'],
    ['truncated varint', [0x0a, 0x02, 0x18, 0x80], 'streams[0].hash: truncated varint at byte 3'],
    ['varint over 64 bits', [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'PushRequest: varint longer than 64 bits at byte 1'],
    ['field number 0', [0x00], 'PushRequest: invalid field number 0 at byte 0'],
    ['wire type 7 on a known field', [0x0f], 'PushRequest.streams: wire type 7 (invalid) where field 1 needs 2 (length-delimited) at byte 0'],
    ['wire type 7', [0x4f], 'PushRequest: invalid wire type 7 (field 9) at byte 0'],
    ['wire type 6', [0xf6, 0x01], 'PushRequest: invalid wire type 6 (field 30) at byte 0'],
    ['stray end-group', [0x4c], 'PushRequest: unexpected end-group (field 9) at byte 0'],
    ['unterminated group', [0x4b, 0x08, 0x01], 'PushRequest: unterminated group (field 9) starting at byte 0'],
    ['mismatched end-group', [0x4b, 0x54], 'PushRequest: end-group for field 10 inside group 9 at byte 1'],
    ['truncated fixed64', [0x49, 1, 2, 3], 'PushRequest: truncated 64-bit field 9 at byte 0'],
    ['tag over 32 bits', [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'PushRequest: field tag over 32 bits at byte 0'],
  ])('rejects %s', (_name, bytes, message) => {
    const err = decodeError(Buffer.from(bytes));
    expect(err.message).toBe(message);
    expect(err.status).toBe(400);
  });

  it('enforces maxEntries (413) and maxLineBytes (400)', () => {
    const buf = encodePushRequest(bigStreams(100, 3));
    expect(decodePushRequest(buf, { maxEntries: 100 })).toHaveLength(3);
    const tooMany = decodeError(buf, { maxEntries: 99 });
    expect(tooMany.status).toBe(413);
    expect(tooMany.message).toBe('too many entries: the request has more than 99 (maxEntries)');

    const lines = encodePushRequest([
      { labels: { a: 'b' }, entries: [{ tsNs: 1n, line: 'é'.repeat(5) }, { tsNs: 2n, line: 'é'.repeat(6) }] },
    ]);
    expect(decodePushRequest(lines, { maxLineBytes: 12 })[0]!.entries).toHaveLength(2);
    const tooLong = decodeError(lines, { maxLineBytes: 11 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.message).toBe('streams[0].entries[1].line: line is 12 bytes, more than maxLineBytes 11');
  });
});
