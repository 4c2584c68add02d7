/**
 * Hand-written encoder of `logproto.PushRequest` (schema in push-proto.ts). Two passes: sizes
 * first (kept in typed arrays), then one exact-size buffer is filled, so no intermediate
 * message objects and no copying. See push-proto.ts for why protobufjs reflection is not used.
 *
 * Output is canonical proto3: fields in number order, zero/empty scalars omitted (an entry at
 * 0 ns still carries an empty Timestamp), `hash` and `format` not written (Loki computes the
 * hash itself). Structured-metadata pairs with an empty value are left out.
 */
import type { Labels } from '../../store/engine.js';
import { formatLabelSet } from './labels-string.js';
import type { PushStream } from './types.js';
import { isValidLabelName, LABEL_NAME_PATTERN } from './validate.js';
import { asciiWrite, utf8Write } from './buffer-write.js';

const NS_PER_S = 1_000_000_000n;
/** 2^63 - 1 ns = 9223372036 s + 854775807 ns. */
const MAX_SECONDS = 9_223_372_036;
const MAX_LAST_NANOS = 854_775_807;

function varintLen(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  if (v < 0x40000000000) return 6;
  if (v < 0x2000000000000) return 7;
  return 8; // < 2^56: enough for every value written here (≤ 2^53)
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  while (v > 0x7fffffff) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Size of a length-delimited field (tag + length + payload) with a 1-byte tag. */
function fieldLen(payload: number): number {
  return 1 + varintLen(payload) + payload;
}

function metadataSize(md: Labels): number {
  let size = 0;
  for (const name in md) {
    const value = md[name]!;
    if (value === '' || !Object.prototype.hasOwnProperty.call(md, name)) continue;
    if (!isValidLabelName(name)) {
      throw new RangeError(`invalid structured metadata name ${JSON.stringify(name)}: must match ${LABEL_NAME_PATTERN}`);
    }
    const pair = fieldLen(Buffer.byteLength(name)) + fieldLen(Buffer.byteLength(value));
    size += fieldLen(pair);
  }
  return size;
}

function writeMetadata(buf: Buffer, p: number, md: Labels): number {
  for (const name in md) {
    const value = md[name]!;
    if (value === '' || !Object.prototype.hasOwnProperty.call(md, name)) continue;
    const nl = Buffer.byteLength(name);
    const vl = Buffer.byteLength(value);
    buf[p++] = 0x1a;
    p = writeVarint(buf, p, fieldLen(nl) + fieldLen(vl));
    buf[p++] = 0x0a;
    p = writeVarint(buf, p, nl);
    p += utf8Write.call(buf, name, p, nl);
    buf[p++] = 0x12;
    p = writeVarint(buf, p, vl);
    p += utf8Write.call(buf, value, p, vl);
  }
  return p;
}

/**
 * Encodes streams as an uncompressed protobuf PushRequest. Throws RangeError for a timestamp
 * outside [0, 2^63) ns or an invalid label/metadata name.
 */
export function encodePushRequest(streams: readonly PushStream[]): Buffer {
  let n = 0;
  for (const s of streams) n += s.entries.length;
  const secs = new Float64Array(n);
  const nanos = new Int32Array(n);
  const lineLens = new Int32Array(n);
  const entrySizes = new Int32Array(n);
  const mdSizes = new Int32Array(n);
  const labelTexts: string[] = new Array<string>(streams.length);
  const labelLens = new Int32Array(streams.length);
  const streamSizes = new Float64Array(streams.length);

  let total = 0;
  let k = 0;
  for (let si = 0; si < streams.length; si++) {
    const s = streams[si]!;
    const text = formatLabelSet(s.labels);
    labelTexts[si] = text;
    const ll = Buffer.byteLength(text);
    labelLens[si] = ll;
    let size = ll > 0 ? fieldLen(ll) : 0;
    const entries = s.entries;
    for (let ei = 0; ei < entries.length; ei++, k++) {
      const e = entries[ei]!;
      const ts = e.tsNs;
      const sec = Number(ts / NS_PER_S);
      const ns = Number(ts % NS_PER_S); // sign of ts (BigInt division truncates)
      // Range check on the numbers: cheaper than two BigInt comparisons per entry.
      if (sec < 0 || ns < 0 || sec > MAX_SECONDS || (sec === MAX_SECONDS && ns > MAX_LAST_NANOS)) {
        throw new RangeError(`streams[${si}].entries[${ei}].tsNs ${ts} is outside [0, 2^63) nanoseconds`);
      }
      secs[k] = sec;
      nanos[k] = ns;
      const tsSize = (sec !== 0 ? 1 + varintLen(sec) : 0) + (ns !== 0 ? 1 + varintLen(ns) : 0);
      const lineLen = Buffer.byteLength(e.line);
      lineLens[k] = lineLen;
      let esize = 2 + tsSize + (lineLen > 0 ? fieldLen(lineLen) : 0); // tsSize < 128: 1-byte length
      if (e.metadata !== undefined) {
        const md = metadataSize(e.metadata);
        mdSizes[k] = md;
        esize += md;
      }
      entrySizes[k] = esize;
      size += fieldLen(esize);
    }
    streamSizes[si] = size;
    total += fieldLen(size);
  }

  const buf = Buffer.allocUnsafe(total);
  let p = 0;
  k = 0;
  for (let si = 0; si < streams.length; si++) {
    const s = streams[si]!;
    buf[p++] = 0x0a;
    p = writeVarint(buf, p, streamSizes[si]!);
    const ll = labelLens[si]!;
    if (ll > 0) {
      buf[p++] = 0x0a;
      p = writeVarint(buf, p, ll);
      p += utf8Write.call(buf, labelTexts[si]!, p, ll);
    }
    const entries = s.entries;
    for (let ei = 0; ei < entries.length; ei++, k++) {
      const e = entries[ei]!;
      buf[p++] = 0x12;
      p = writeVarint(buf, p, entrySizes[k]!);
      const sec = secs[k]!;
      const ns = nanos[k]!;
      buf[p++] = 0x0a;
      const lenAt = p++;
      if (sec !== 0) {
        buf[p++] = 0x08;
        p = writeVarint(buf, p, sec);
      }
      if (ns !== 0) {
        buf[p++] = 0x10;
        p = writeVarint(buf, p, ns);
      }
      buf[lenAt] = p - lenAt - 1;
      const lineLen = lineLens[k]!;
      if (lineLen > 0) {
        buf[p++] = 0x12;
        p = writeVarint(buf, p, lineLen);
        // UTF-8 length == UTF-16 length only for pure ASCII, where latin1 bytes are the same
        // bytes and the copy is ~40% cheaper than the UTF-8 transcoder.
        const line = e.line;
        p += lineLen === line.length ? asciiWrite.call(buf, line, p, lineLen) : utf8Write.call(buf, line, p, lineLen);
      }
      if (mdSizes[k]! > 0) p = writeMetadata(buf, p, e.metadata!);
    }
  }
  if (p !== total) throw new Error(`internal error: encoded ${p} bytes, sized ${total}`);
  return buf;
}
