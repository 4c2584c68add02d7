/**
 * Loki's push message, `logproto.PushRequest` (grafana/loki pkg/push/push.proto), and its codec.
 *
 * Wire layout (proto3), as far as pushes are concerned:
 *   PushRequest      { repeated StreamAdapter streams = 1; string format = 2; }
 *   StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
 *   EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
 *                      repeated LabelPairAdapter structuredMetadata = 3;
 *                      repeated LabelPairAdapter parsed = 4; }   // parsed: read path only
 *   LabelPairAdapter { string name = 1; string value = 2; }
 *   Timestamp        { int64 seconds = 1; int32 nanos = 2; }
 *
 * The schema is kept here as protobufjs reflection (`pushRequestType()`), which tests and
 * tools use as the reference codec. The hot paths do not use it:
 * - encoding (the agent's loki sink) is hand-written: protobufjs needs an intermediate object
 *   tree (Timestamp objects per entry, label-pair objects) and measured 35–100 ms per 100k
 *   entries, GC-dependent; the direct two-pass writer below does the same in a fraction.
 * - decoding (the server) is hand-written too: protobufjs' generated decoder does not check
 *   wire types of known fields (a varint where a message is expected is read as garbage),
 *   returns Long objects for int64/uint64, and its errors carry no field path. The strict
 *   decoder reports `streams[i].entries[j].timestamp: … at byte N` and builds the result rows
 *   directly.
 */
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';

export { encodePushRequest } from './proto-encode.js';
export { decodePushRequest } from './proto-decode.js';

/** google/protobuf/timestamp.proto, the part used here. */
export const TIMESTAMP_PROTO = `syntax = "proto3";
package google.protobuf;
message Timestamp {
  int64 seconds = 1;
  int32 nanos = 2;
}
`;

/** The push messages of logproto (gogoproto options dropped: they do not change the wire). */
export const PUSH_PROTO = `syntax = "proto3";
package logproto;
import "google/protobuf/timestamp.proto";
message PushRequest {
  repeated StreamAdapter streams = 1;
  string format = 2;
}
message PushResponse {}
message StreamAdapter {
  string labels = 1;
  repeated EntryAdapter entries = 2;
  uint64 hash = 3;
}
message LabelPairAdapter {
  string name = 1;
  string value = 2;
}
message EntryAdapter {
  google.protobuf.Timestamp timestamp = 1;
  string line = 2;
  repeated LabelPairAdapter structuredMetadata = 3;
  repeated LabelPairAdapter parsed = 4;
}
`;

let cachedRoot: Protobuf.Root | undefined;

/**
 * A protobufjs Root holding `logproto.*` and `google.protobuf.Timestamp`, resolved. protobufjs
 * is loaded on first use only (≈80 ms cold here): the codec itself does not need it.
 */
export function pushProtoRoot(): Protobuf.Root {
  if (!cachedRoot) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
    const root = new protobuf.Root();
    protobuf.parse(TIMESTAMP_PROTO, root, { keepCase: true });
    protobuf.parse(PUSH_PROTO, root, { keepCase: true });
    root.resolveAll();
    cachedRoot = root;
  }
  return cachedRoot;
}

/** The reflected `logproto.PushRequest` type. */
export function pushRequestType(): Protobuf.Type {
  return pushProtoRoot().lookupType('logproto.PushRequest');
}
