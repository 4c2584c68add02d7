import protobuf from 'protobufjs';
import { makeRng } from '../../../src/sim/random.js';
import type { PushStream } from '../../../src/protocols/loki/index.js';

/** Deterministic PRNG: the simulator's, one implementation for all test data. */
export const rng = makeRng;

export function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

/**
 * The push messages written out independently of src/ (from grafana/loki pkg/push/push.proto),
 * plus an extra field per message to exercise unknown-field skipping. Timestamp comes from
 * protobufjs' bundled google/protobuf/timestamp.proto.
 */
const TEST_PROTO = `
syntax = "proto3";
package logproto;
import "google/protobuf/timestamp.proto";

message PushRequest {
  repeated StreamAdapter streams = 1;
  string format = 2;
  int32 future_req = 20;
}
message StreamAdapter {
  string labels = 1;
  repeated EntryAdapter entries = 2;
  uint64 hash = 3;
  fixed64 future_stream = 21;
}
message LabelPairAdapter {
  string name = 1;
  string value = 2;
  fixed32 future_pair = 22;
}
message EntryAdapter {
  google.protobuf.Timestamp timestamp = 1;
  string line = 2;
  repeated LabelPairAdapter structuredMetadata = 3;
  repeated LabelPairAdapter parsed = 4;
  bytes future_entry = 23;
}
`;

let root: protobuf.Root | undefined;
export function testPushRequestType(): protobuf.Type {
  if (!root) {
    root = new protobuf.Root();
    root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')!.nested!);
    protobuf.parse(TEST_PROTO, root, { keepCase: true });
    root.resolveAll();
  }
  return root.lookupType('logproto.PushRequest');
}

export interface RefEntry {
  timestamp?: { seconds: number | string; nanos: number };
  line?: string;
  structuredMetadata?: Array<{ name: string; value: string }>;
  parsed?: Array<{ name: string; value: string }>;
  future_entry?: Uint8Array;
}
export interface RefStream {
  labels?: string;
  entries?: RefEntry[];
  hash?: number | string;
  future_stream?: number;
}
export interface RefRequest {
  streams?: RefStream[];
  format?: string;
  future_req?: number;
}

/** Encodes with protobufjs reflection from TEST_PROTO. */
export function refEncode(req: RefRequest): Buffer {
  const T = testPushRequestType();
  const msg = T.fromObject(req as Record<string, unknown>);
  const err = T.verify(msg);
  if (err) throw new Error(`test request does not verify: ${err}`);
  return Buffer.from(T.encode(msg).finish());
}

/** Decodes with protobufjs reflection to plain objects (int64 as strings). */
export function refDecode(buf: Buffer): RefRequest {
  const T = testPushRequestType();
  return T.toObject(T.decode(buf), { longs: String, defaults: false, arrays: true }) as RefRequest;
}

export function sampleStreams(): PushStream[] {
  return [
    {
      labels: { app: 'web', namespace: 'shop' },
      entries: [
        { tsNs: 1_700_000_000_123_456_789n, line: 'GET /cart 200' },
        { tsNs: 1_700_000_001_000_000_000n, line: 'ünïcødé ✓ 日本語 🎉', metadata: { trace_id: 'abc123', user: 'u-1' } },
        { tsNs: 0n, line: '' },
      ],
    },
    {
      labels: { app: 'db', note: 'quote " backslash \\ newline \n tab \t' },
      entries: [{ tsNs: 9_223_372_036_854_775_807n, line: 'x'.repeat(300) }],
    },
    { labels: { job: 'empty' }, entries: [] },
  ];
}

/** Builds `n` entries over `streams` streams, ~100-byte lines, 10% with metadata. */
export function bigStreams(n: number, streams: number, seed = 1): PushStream[] {
  const r = rng(seed);
  const out: PushStream[] = [];
  for (let s = 0; s < streams; s++) out.push({ labels: { app: `app-${s}`, namespace: 'shop' }, entries: [] });
  let ts = 1_700_000_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    ts += BigInt(1 + Math.floor(r() * 1e6));
    const line = `level=info msg="request served" n=${i} latency=${(r() * 100).toFixed(3)}ms path=/api/v1/items/${i % 97}`;
    out[i % streams]!.entries.push(r() < 0.1 ? { tsNs: ts, line, metadata: { trace_id: i.toString(16) } } : { tsNs: ts, line });
  }
  return out;
}
