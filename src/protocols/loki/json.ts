/**
 * Loki's JSON push body:
 *   {"streams":[{"stream":{"app":"web"},"values":[["<unix ns>","<line>"],["<ns>","<line>",{"k":"v"}]]}]}
 * Timestamps are strings of decimal unix nanoseconds; the optional third element of a value is
 * structured metadata (an object of string values, `null` accepted as none).
 */
import { PushDecodeError } from './errors.js';
import { MAX_TS_NS, type PushDecodeLimits, type PushEntry, type PushStream } from './types.js';
import { finishStreamLabels, isValidLabelName, LABEL_NAME_PATTERN, quoteForError, setLabel } from './validate.js';
import { utf8Write } from './buffer-write.js';

const DIGITS_RE = /^[0-9]+$/;
const IDENT_RE = /^[a-zA-Z_$][a-zA-Z0-9_$]*$/;

function fail(message: string): never {
  throw new PushDecodeError(message, 400);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function prop(path: string, key: string): string {
  return IDENT_RE.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** Decodes a JSON push body (already decompressed). Throws only `PushDecodeError`. */
export function decodeJsonPush(body: string | Buffer, limits: PushDecodeLimits = {}): PushStream[] {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const maxEntries = limits.maxEntries ?? Infinity;
  const maxLineBytes = limits.maxLineBytes ?? Infinity;
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    fail(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(doc)) fail(`body: expected a JSON object with a "streams" array, got ${typeName(doc)}`);
  const streamsVal = own(doc, 'streams');
  if (!Array.isArray(streamsVal)) fail(`streams: expected an array, got ${typeName(streamsVal)}`);

  const out: PushStream[] = [];
  const timestamps = new TimestampParser();
  let entryCount = 0;
  for (let i = 0; i < streamsVal.length; i++) {
    const path = `streams[${i}]`;
    const s: unknown = streamsVal[i];
    if (!isObject(s)) fail(`${path}: expected an object with "stream" and "values", got ${typeName(s)}`);

    const st = own(s, 'stream');
    if (st === undefined || st === null) fail(`${path}: stream has no labels`);
    if (!isObject(st)) fail(`${path}.stream: expected an object of label names to string values, got ${typeName(st)}`);
    const raw: Record<string, string> = {};
    for (const name of Object.keys(st)) {
      const v = st[name];
      if (!isValidLabelName(name)) {
        fail(`${path}.stream: invalid label name ${quoteForError(name)}: must match ${LABEL_NAME_PATTERN}`);
      }
      if (typeof v !== 'string') fail(`${prop(`${path}.stream`, name)}: label value must be a string, got ${typeName(v)}`);
      setLabel(raw, name, v);
    }
    const labels = finishStreamLabels(raw, path, fail);

    const values = own(s, 'values');
    if (!Array.isArray(values)) fail(`${path}.values: expected an array of [timestamp, line] arrays, got ${typeName(values)}`);
    const entries: PushEntry[] = new Array<PushEntry>(values.length);
    for (let j = 0; j < values.length; j++) {
      // Paths are built only on failure: this loop runs once per line.
      const v: unknown = values[j];
      if (!Array.isArray(v) || v.length < 2 || v.length > 3) {
        const got = Array.isArray(v) ? `an array of ${v.length}` : typeName(v);
        fail(`${path}.values[${j}]: expected [timestamp, line] or [timestamp, line, metadata], got ${got}`);
      }
      if (++entryCount > maxEntries) {
        throw new PushDecodeError(`too many entries: the request has more than ${maxEntries} (maxEntries)`, 413);
      }
      const tsNs = timestamps.parse(v[0], path, j);
      const line: unknown = v[1];
      if (typeof line !== 'string') fail(`${path}.values[${j}][1]: line must be a string, got ${typeName(line)}`);
      if (line.length > maxLineBytes || (line.length * 3 > maxLineBytes && Buffer.byteLength(line) > maxLineBytes)) {
        fail(`${path}.values[${j}][1]: line is ${Buffer.byteLength(line)} bytes, more than maxLineBytes ${maxLineBytes}`);
      }
      const mdVal: unknown = v[2];
      if (mdVal === undefined || mdVal === null) {
        entries[j] = { tsNs, line };
        continue;
      }
      const mdPath = `${path}.values[${j}][2]`;
      if (!isObject(mdVal)) fail(`${mdPath}: structured metadata must be an object of string values, got ${typeName(mdVal)}`);
      let metadata: Record<string, string> | undefined;
      for (const name of Object.keys(mdVal)) {
        const mv = mdVal[name];
        if (!isValidLabelName(name)) {
          fail(`${mdPath}: invalid structured metadata name ${quoteForError(name)}: must match ${LABEL_NAME_PATTERN}`);
        }
        if (typeof mv !== 'string') {
          fail(`${prop(mdPath, name)}: structured metadata value must be a string, got ${typeName(mv)}`);
        }
        if (mv !== '') setLabel((metadata ??= {}), name, mv);
      }
      entries[j] = metadata ? { tsNs, line, metadata } : { tsNs, line };
    }
    out.push({ labels, entries });
  }
  return out;
}

const NS_PER_S = 1_000_000_000n;
const MAX_SECONDS = 9_223_372_036;

/**
 * Parses decimal-nanosecond strings without a regex or BigInt(string) per line: the digits are
 * read as seconds and nanoseconds numbers, and the BigInt of the second is reused while
 * consecutive lines share it.
 */
class TimestampParser {
  private lastSeconds = -1;
  private lastBaseNs = 0n;

  parse(ts: unknown, streamPath: string, j: number): bigint {
    if (typeof ts !== 'string') {
      const got = typeof ts === 'number' ? `the number ${ts}` : typeName(ts);
      fail(`${streamPath}.values[${j}][0]: timestamp must be a string of unix nanoseconds, got ${got}`);
    }
    const n = ts.length;
    if (n === 0 || n > 19) return this.slow(ts, streamPath, j);
    const split = n - 9;
    let seconds = 0;
    let nanos = 0;
    for (let i = 0; i < n; i++) {
      const d = ts.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return this.slow(ts, streamPath, j);
      if (i < split) seconds = seconds * 10 + d;
      else nanos = nanos * 10 + d;
    }
    if (seconds >= MAX_SECONDS) return this.slow(ts, streamPath, j);
    if (seconds !== this.lastSeconds) {
      this.lastSeconds = seconds;
      this.lastBaseNs = BigInt(seconds) * NS_PER_S;
    }
    return this.lastBaseNs + BigInt(nanos);
  }

  /** Rare shapes: errors, leading zeros past 19 digits, the last second of the int64 range. */
  private slow(ts: string, streamPath: string, j: number): bigint {
    if (!DIGITS_RE.test(ts)) {
      fail(`${streamPath}.values[${j}][0]: timestamp must be a string of unix nanoseconds, got ${quoteForError(ts, 32)}`);
    }
    const digits = ts.replace(/^0+(?=.)/, '');
    const v = digits.length > 19 ? MAX_TS_NS + 1n : BigInt(digits);
    if (v > MAX_TS_NS) {
      fail(`${streamPath}.values[${j}][0]: timestamp ${quoteForError(ts, 32)} is past the int64 nanosecond range`);
    }
    return v;
  }
}

/** Lines without these need no JSON escaping and are copied as they are. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE_RE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A growable output buffer (JSON text is written straight to bytes: no string joins). */
class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Writes a string as UTF-8; the caller has ensured room for `s.length * 3` bytes. */
  raw(s: string): void {
    this.pos += utf8Write.call(this.buf, s, this.pos, this.buf.length - this.pos);
  }

  text(s: string): void {
    this.ensure(s.length * 3);
    this.raw(s);
  }
}

/**
 * Encodes streams as a Loki JSON push body (UTF-8). Throws RangeError for a timestamp outside
 * [0, 2^63) ns. Metadata is written as given (empty values included).
 */
export function encodeJsonPush(streams: readonly PushStream[]): Buffer {
  let capacity = 64;
  for (const s of streams) {
    capacity += 256;
    for (const e of s.entries) capacity += e.line.length + 32;
  }
  const w = new ByteWriter(capacity);
  w.text('{"streams":[');
  for (let si = 0; si < streams.length; si++) {
    const s = streams[si]!;
    w.text(`${si > 0 ? ',' : ''}{"stream":${JSON.stringify(s.labels)},"values":[`);
    const entries = s.entries;
    for (let ei = 0; ei < entries.length; ei++) {
      const e = entries[ei]!;
      const ts = e.tsNs;
      if (ts < 0n || ts > MAX_TS_NS) {
        throw new RangeError(`streams[${si}].entries[${ei}].tsNs ${ts} is outside [0, 2^63) nanoseconds`);
      }
      const line = e.line;
      const quoted = NEEDS_ESCAPE_RE.test(line) ? JSON.stringify(line) : null;
      w.ensure(32 + (quoted === null ? line.length + 2 : quoted.length) * 3);
      if (ei > 0) w.byte(0x2c); // ,
      w.byte(0x5b); // [
      w.byte(0x22); // "
      w.raw(ts.toString());
      w.byte(0x22);
      w.byte(0x2c);
      if (quoted === null) {
        w.byte(0x22);
        w.raw(line);
        w.byte(0x22);
      } else {
        w.raw(quoted);
      }
      if (e.metadata !== undefined && Object.keys(e.metadata).length > 0) w.text(`,${JSON.stringify(e.metadata)}`);
      w.byte(0x5d); // ]
    }
    w.text(']}');
  }
  w.text(']}');
  return w.buf.subarray(0, w.pos);
}
