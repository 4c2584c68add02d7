/**
 * Agent side: request bodies for a Loki push endpoint (the `loki` sink).
 *
 * - protobuf: snappy block of a PushRequest, `Content-Type: application/x-protobuf` and no
 *   Content-Encoding (what Promtail/Alloy send). `compress: 'gzip'` additionally gzips it
 *   (`Content-Encoding: gzip`; Loki un-gzips, then un-snappies). `compress: 'none'` is refused:
 *   Loki cannot read an uncompressed protobuf body.
 * - json: `Content-Type: application/json`, uncompressed by default or `compress: 'gzip'`.
 *   `compress: 'snappy'` is refused: Loki does not snappy-decode JSON.
 * Label names (and metadata names) must be valid label names; timestamps in [0, 2^63) ns;
 * otherwise RangeError. Use `checkEncodeOptions` at configuration time.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { compress as snappyCompress, compressSync as snappyCompressSync } from 'snappy';
import { encodeJsonPush } from './json.js';
import { encodePushRequest } from './proto-encode.js';
import type { PushStream } from './types.js';

const gzipAsync = promisify(zlib.gzip);

export type LokiPushFormat = 'protobuf' | 'json';
export type LokiPushCompression = 'snappy' | 'gzip' | 'none';

export interface EncodePushOptions {
  format: LokiPushFormat;
  /** Default: 'snappy' for protobuf, 'none' for json. */
  compress?: LokiPushCompression;
  /** zlib level for gzip, 1 (fast) … 9 (small). Default 1: an agent should spend little CPU. */
  gzipLevel?: number;
}

export interface EncodedPush {
  body: Buffer;
  /** Content-Type, and Content-Encoding when gzip is used. */
  headers: Record<string, string>;
}

const PROTOBUF_TYPE = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** Why an option combination cannot be sent to Loki, or null when it is fine. */
export function checkEncodeOptions(opts: EncodePushOptions): string | null {
  if (opts.format !== 'protobuf' && opts.format !== 'json') return `unknown format "${String(opts.format)}": expected protobuf or json`;
  const c = opts.compress;
  if (c !== undefined && c !== 'snappy' && c !== 'gzip' && c !== 'none') {
    return `unknown compression "${String(c)}": expected snappy, gzip or none`;
  }
  if (opts.format === 'protobuf' && c === 'none') return 'protobuf push bodies must be snappy-compressed (Loki requires it); use snappy or gzip';
  if (opts.format === 'json' && c === 'snappy') return 'Loki does not accept snappy-compressed JSON; use gzip or none';
  const l = opts.gzipLevel;
  if (l !== undefined && !(Number.isInteger(l) && l >= 1 && l <= 9)) return `gzipLevel must be an integer 1…9, got ${l}`;
  return null;
}

function plan(opts: EncodePushOptions): { gzip: boolean; level: number } {
  const problem = checkEncodeOptions(opts);
  if (problem) throw new RangeError(problem);
  const compress = opts.compress ?? (opts.format === 'protobuf' ? 'snappy' : 'none');
  return { gzip: compress === 'gzip', level: opts.gzipLevel ?? 1 };
}

function headersFor(format: LokiPushFormat, gzip: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': format === 'protobuf' ? PROTOBUF_TYPE : JSON_TYPE };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  return headers;
}

/** Encodes synchronously (blocks for compression; see `encodePushAsync`). */
export function encodePush(streams: readonly PushStream[], opts: EncodePushOptions): EncodedPush {
  const { gzip, level } = plan(opts);
  let body: Buffer =
    opts.format === 'protobuf' ? snappyCompressSync(encodePushRequest(streams)) : encodeJsonPush(streams);
  if (gzip) body = zlib.gzipSync(body, { level });
  return { body, headers: headersFor(opts.format, gzip) };
}

/** As `encodePush`, with snappy/gzip compression off the event loop (libuv thread pool). */
export async function encodePushAsync(streams: readonly PushStream[], opts: EncodePushOptions): Promise<EncodedPush> {
  const { gzip, level } = plan(opts);
  let body: Buffer =
    opts.format === 'protobuf' ? await snappyCompress(encodePushRequest(streams)) : encodeJsonPush(streams);
  if (gzip) body = await gzipAsync(body, { level });
  return { body, headers: headersFor(opts.format, gzip) };
}
