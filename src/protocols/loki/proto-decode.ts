/**
 * Strict hand-written decoder of `logproto.PushRequest` (see push-proto.ts for the schema and
 * why it is not protobufjs). Known fields must carry their declared wire type; unknown fields
 * are skipped as protobuf requires (groups included); every length is checked against the
 * enclosing message. Errors are `PushDecodeError`s naming the field path and byte offset.
 *
 * Semantics beyond the wire:
 * - a stream without labels, or whose label set is empty once empty values are dropped, is
 *   "stream has no labels"; the labels string is parsed by `parseLabelSet`;
 * - an entry must have a timestamp with seconds ≥ 0, nanos in [0, 1e9), and fit int64 ns;
 * - structured metadata names must be valid label names; pairs with an empty value are dropped;
 *   a repeated name keeps the last value;
 * - `hash`, `format` and `parsed` are read and ignored; strings are decoded as UTF-8 with
 *   invalid sequences replaced by U+FFFD.
 */
import { LabelSetSyntaxError, PushDecodeError } from './errors.js';
import { parseLabelSet } from './labels-string.js';
import { MAX_TS_NS, type PushDecodeLimits, type PushEntry, type PushStream } from './types.js';
import { finishStreamLabels, isValidLabelName, LABEL_NAME_PATTERN, quoteForError, setLabel } from './validate.js';

const NS_PER_S = 1_000_000_000n;
/** Largest whole second whose start fits int64 nanoseconds. */
const MAX_SECONDS = 9_223_372_036;
const MAX_GROUP_DEPTH = 64;

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'start-group', 'end-group', '32-bit', 'invalid', 'invalid'];

// Full tags (field << 3 | wire) of the fields this decoder reads.
const T_REQ_STREAMS = 0x0a;
const T_REQ_FORMAT = 0x12;
const T_STREAM_LABELS = 0x0a;
const T_STREAM_ENTRIES = 0x12;
const T_STREAM_HASH = 0x18;
const T_ENTRY_TS = 0x0a;
const T_ENTRY_LINE = 0x12;
const T_ENTRY_MD = 0x1a;
const T_ENTRY_PARSED = 0x22;
const T_TS_SECONDS = 0x08;
const T_TS_NANOS = 0x10;
const T_PAIR_NAME = 0x0a;
const T_PAIR_VALUE = 0x12;

/** Expected wire type of known fields, per message, indexed by field number. */
const REQ_WIRES = [-1, 2, 2];
const STREAM_WIRES = [-1, 2, 2, 0];
const ENTRY_WIRES = [-1, 2, 2, 2, 2];
const TS_WIRES = [-1, 0, 0];
const PAIR_WIRES = [-1, 2, 2];
const FIELD_NAMES: Record<string, string[]> = {
  req: ['', 'streams', 'format'],
  stream: ['', 'labels', 'entries', 'hash'],
  entry: ['', 'timestamp', 'line', 'structuredMetadata', 'parsed'],
  ts: ['', 'seconds', 'nanos'],
  pair: ['', 'name', 'value'],
};

/**
 * Decodes an uncompressed protobuf PushRequest. Throws only `PushDecodeError` (400, or 413 when
 * `limits.maxEntries` is exceeded).
 */
export function decodePushRequest(buf: Buffer, limits: PushDecodeLimits = {}): PushStream[] {
  return new PushRequestReader(buf, limits).read();
}

/**
 * `Buffer.prototype.utf8Slice(start, end)`: Node's internal fast path behind `toString('utf8')`,
 * skipping its argument normalisation (measurable for 100k short lines). Falls back if absent.
 */
type Utf8Slice = (this: Buffer, start: number, end: number) => string;
const nativeUtf8Slice = (Buffer.prototype as unknown as { utf8Slice?: Utf8Slice }).utf8Slice;
const utf8Slice: Utf8Slice =
  typeof nativeUtf8Slice === 'function'
    ? nativeUtf8Slice
    : function (this: Buffer, start: number, end: number): string {
        return this.toString('utf8', start, end);
      };

/**
 * The reader keeps the indices of the stream / entry / metadata pair being read and builds the
 * field path only when it reports an error: the hot path passes constant suffix strings.
 */
class PushRequestReader {
  private pos = 0;
  private end: number;
  /** Result of the last varint read: low and high 32 bits, unsigned. */
  private lo = 0;
  private hi = 0;
  private si = -1;
  private ei = -1;
  private mi = -1;
  private entryCount = 0;
  /** Cache for timestamps: entries in a stream mostly share their second with the previous one. */
  private lastSeconds = -1;
  private lastBaseNs = 0n;
  private readonly maxEntries: number;
  private readonly maxLineBytes: number;

  constructor(
    private readonly buf: Buffer,
    limits: PushDecodeLimits,
  ) {
    this.end = buf.length;
    this.maxEntries = limits.maxEntries ?? Infinity;
    this.maxLineBytes = limits.maxLineBytes ?? Infinity;
  }

  /** The path of the current position plus `suffix`, e.g. `streams[1].entries[4].timestamp`. */
  private where(suffix: string): string {
    let p = this.si < 0 ? 'PushRequest' : `streams[${this.si}]`;
    if (this.ei >= 0) p += `.entries[${this.ei}]`;
    if (this.mi >= 0) p += `.structuredMetadata[${this.mi}]`;
    return p + suffix;
  }

  private fail(suffix: string, message: string): never {
    throw new PushDecodeError(`${this.where(suffix)}: ${message}`, 400);
  }

  read(): PushStream[] {
    const streams: PushStream[] = [];
    while (this.pos < this.end) {
      const at = this.pos;
      const tag = this.tag('');
      if (tag === T_REQ_STREAMS) {
        this.si = streams.length;
        const end = this.lengthEnd('');
        streams.push(this.stream(end));
        this.si = -1;
      } else {
        this.unknownOrMismatch(tag, at, 'req', REQ_WIRES, T_REQ_FORMAT);
      }
    }
    return streams;
  }

  private stream(end: number): PushStream {
    const outerEnd = this.end;
    this.end = end;
    let labelsText: string | undefined;
    const entries: PushEntry[] = [];
    while (this.pos < end) {
      const at = this.pos;
      const tag = this.tag('');
      if (tag === T_STREAM_ENTRIES) {
        this.ei = entries.length;
        entries.push(this.entry());
        this.ei = -1;
      } else if (tag === T_STREAM_LABELS) {
        labelsText = this.string('.labels');
      } else if (tag === T_STREAM_HASH) {
        this.varint('.hash');
      } else {
        this.unknownOrMismatch(tag, at, 'stream', STREAM_WIRES, -1);
      }
    }
    this.end = outerEnd;
    if (labelsText === undefined || labelsText.trim() === '') this.fail('', 'stream has no labels');
    let raw: Record<string, string>;
    try {
      raw = parseLabelSet(labelsText) as Record<string, string>;
    } catch (err) {
      if (err instanceof LabelSetSyntaxError) this.fail('.labels', err.message);
      throw err;
    }
    const labels = finishStreamLabels(raw, this.where(''), (msg) => {
      throw new PushDecodeError(msg, 400);
    });
    return { labels, entries };
  }

  private entry(): PushEntry {
    if (++this.entryCount > this.maxEntries) {
      throw new PushDecodeError(`too many entries: the request has more than ${this.maxEntries} (maxEntries)`, 413);
    }
    const end = this.lengthEnd('');
    const outerEnd = this.end;
    this.end = end;
    let hasTs = false;
    let secLo = 0;
    let secHi = 0;
    let nanos = 0;
    let line = '';
    let metadata: Record<string, string> | undefined;
    let mdCount = 0;
    while (this.pos < end) {
      const at = this.pos;
      const tag = this.tag('');
      if (tag === T_ENTRY_TS) {
        // A repeated message field merges: later seconds/nanos override earlier ones.
        hasTs = true;
        const tsEnd = this.lengthEnd('.timestamp');
        this.end = tsEnd;
        while (this.pos < tsEnd) {
          const tat = this.pos;
          const t = this.tag('.timestamp');
          if (t === T_TS_SECONDS) {
            this.varint('.timestamp.seconds');
            secLo = this.lo;
            secHi = this.hi;
          } else if (t === T_TS_NANOS) {
            this.varint('.timestamp.nanos');
            nanos = this.lo | 0; // int32: the low 32 bits, two's complement
          } else {
            this.unknownOrMismatch(t, tat, 'ts', TS_WIRES, -1);
          }
        }
        this.end = end;
      } else if (tag === T_ENTRY_LINE) {
        const len = this.length('.line');
        if (len > this.maxLineBytes) this.fail('.line', `line is ${len} bytes, more than maxLineBytes ${this.maxLineBytes}`);
        line = utf8Slice.call(this.buf, this.pos, this.pos + len);
        this.pos += len;
      } else if (tag === T_ENTRY_MD) {
        this.mi = mdCount++;
        const name = this.pair();
        if (!isValidLabelName(name)) {
          this.fail('.name', `invalid structured metadata name ${quoteForError(name)}: must match ${LABEL_NAME_PATTERN}`);
        }
        this.mi = -1;
        if (this.pairValue !== '') setLabel((metadata ??= {}), name, this.pairValue);
      } else if (tag === T_ENTRY_PARSED) {
        this.pos = this.lengthEnd('.parsed');
      } else {
        this.unknownOrMismatch(tag, at, 'entry', ENTRY_WIRES, -1);
      }
    }
    this.end = outerEnd;
    if (!hasTs) this.fail('.timestamp', 'missing');
    if (secHi & 0x80000000) {
      const s = BigInt.asIntN(64, (BigInt(secHi) << 32n) | BigInt(secLo));
      this.fail('.timestamp', `seconds must be ≥ 0, got ${s}`);
    }
    if (nanos < 0 || nanos > 999_999_999) this.fail('.timestamp', `nanos must be in [0, 999999999], got ${nanos}`);
    const seconds = secHi * 4294967296 + secLo;
    if (seconds > MAX_SECONDS) {
      this.fail('.timestamp', `${(BigInt(secHi) << 32n) | BigInt(secLo)} seconds is past the int64 nanosecond range`);
    }
    if (seconds !== this.lastSeconds) {
      this.lastSeconds = seconds;
      this.lastBaseNs = BigInt(seconds) * NS_PER_S;
    }
    const tsNs = this.lastBaseNs + BigInt(nanos);
    if (tsNs > MAX_TS_NS) {
      this.fail('.timestamp', `${seconds}.${String(nanos).padStart(9, '0')} s is past the int64 nanosecond range`);
    }
    return metadata ? { tsNs, line, metadata } : { tsNs, line };
  }

  /** Value of the pair last read by `pair()`. */
  private pairValue = '';

  /** Reads a LabelPairAdapter; returns the name, leaves the value in `pairValue`. */
  private pair(): string {
    const end = this.lengthEnd('');
    const outerEnd = this.end;
    this.end = end;
    let name = '';
    let value = '';
    while (this.pos < end) {
      const at = this.pos;
      const tag = this.tag('');
      if (tag === T_PAIR_NAME) name = this.string('.name');
      else if (tag === T_PAIR_VALUE) value = this.string('.value');
      else this.unknownOrMismatch(tag, at, 'pair', PAIR_WIRES, -1);
    }
    this.end = outerEnd;
    this.pairValue = value;
    return name;
  }

  // ---- wire primitives; `suffix` completes the error path ----

  /** Reads a varint of up to 10 bytes into lo/hi (unsigned 32-bit halves). */
  private varint(suffix: string): void {
    const buf = this.buf;
    const end = this.end;
    const start = this.pos;
    let p = start;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) this.fail(suffix, `truncated varint at byte ${start}`);
      b = buf[p++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = p;
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    if (p >= end) this.fail(suffix, `truncated varint at byte ${start}`);
    b = buf[p++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      let done = false;
      for (let shift = 3; shift < 31; shift += 7) {
        if (p >= end) this.fail(suffix, `truncated varint at byte ${start}`);
        b = buf[p++]!;
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) {
          done = true;
          break;
        }
      }
      if (!done) {
        if (p >= end) this.fail(suffix, `truncated varint at byte ${start}`);
        b = buf[p++]!;
        if (b > 1) this.fail(suffix, `varint longer than 64 bits at byte ${start}`);
        hi |= b << 31;
      }
    }
    this.pos = p;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  private tag(suffix: string): number {
    const b = this.buf[this.pos]!;
    if (b < 0x80) {
      if (b < 8) this.fail(suffix, `invalid field number 0 at byte ${this.pos}`);
      this.pos++;
      return b;
    }
    const at = this.pos;
    this.varint(suffix);
    if (this.hi !== 0) this.fail(suffix, `field tag over 32 bits at byte ${at}`);
    if (this.lo >>> 3 === 0) this.fail(suffix, `invalid field number 0 at byte ${at}`);
    return this.lo;
  }

  /** Reads a length prefix and checks it against the enclosing message; returns the length. */
  private length(suffix: string): number {
    const at = this.pos;
    this.varint(suffix);
    const left = this.end - this.pos;
    if (this.hi !== 0 || this.lo > left) {
      const len = this.hi !== 0 ? (BigInt(this.hi) << 32n) | BigInt(this.lo) : this.lo;
      this.fail(suffix, `length ${len} at byte ${at} runs past the end of the enclosing message (${left} bytes left)`);
    }
    return this.lo;
  }

  /** Reads a length prefix; returns the end offset of the delimited bytes. */
  private lengthEnd(suffix: string): number {
    const len = this.length(suffix);
    return this.pos + len;
  }

  private string(suffix: string): string {
    const len = this.length(suffix);
    const start = this.pos;
    this.pos += len;
    return utf8Slice.call(this.buf, start, start + len);
  }

  /** Handles a tag that is not one of the expected (field, wire) pairs of a message. */
  private unknownOrMismatch(tag: number, at: number, msg: string, wires: number[], ignoredTag: number): void {
    const field = tag >>> 3;
    const wire = tag & 7;
    const suffix = msg === 'ts' ? '.timestamp' : '';
    if (tag !== ignoredTag && field < wires.length) {
      const want = wires[field]!;
      if (want !== wire) {
        const name = FIELD_NAMES[msg]![field];
        this.fail(
          `${suffix}.${name}`,
          `wire type ${wire} (${WIRE_NAMES[wire]}) where field ${field} needs ${want} (${WIRE_NAMES[want]}) at byte ${at}`,
        );
      }
    }
    this.skip(wire, field, at, suffix, 0);
  }

  /** Skips the value of an unknown field. */
  private skip(wire: number, field: number, at: number, suffix: string, depth: number): void {
    switch (wire) {
      case 0:
        this.varint(suffix);
        return;
      case 1:
      case 5: {
        const n = wire === 1 ? 8 : 4;
        if (this.end - this.pos < n) this.fail(suffix, `truncated ${n * 8}-bit field ${field} at byte ${at}`);
        this.pos += n;
        return;
      }
      case 2:
        this.pos = this.lengthEnd(suffix);
        return;
      case 3: {
        if (depth >= MAX_GROUP_DEPTH) this.fail(suffix, `groups nested too deep at byte ${at}`);
        for (;;) {
          if (this.pos >= this.end) this.fail(suffix, `unterminated group (field ${field}) starting at byte ${at}`);
          const tat = this.pos;
          const t = this.tag(suffix);
          if ((t & 7) === 4) {
            if (t >>> 3 !== field) this.fail(suffix, `end-group for field ${t >>> 3} inside group ${field} at byte ${tat}`);
            return;
          }
          this.skip(t & 7, t >>> 3, tat, suffix, depth + 1);
        }
      }
      case 4:
        this.fail(suffix, `unexpected end-group (field ${field}) at byte ${at}`);
      // eslint-disable-next-line no-fallthrough
      default:
        this.fail(suffix, `invalid wire type ${wire} (field ${field}) at byte ${at}`);
    }
  }
}
