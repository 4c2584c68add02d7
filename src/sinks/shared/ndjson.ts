import { EventFlags, type LogEvent, type EventSource } from '../../core/event.js';

const flagNames: Array<[number, string]> = [
  [EventFlags.Truncated, 'truncated'],
  [EventFlags.Partial, 'partial'],
  [EventFlags.Malformed, 'malformed'],
  [EventFlags.Multiline, 'multiline'],
  [EventFlags.RateLimitSummary, 'rate_limit_summary'],
  [EventFlags.ParseFailed, 'parse_failed'],
];

export function flagList(flags: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of flagNames) if (flags & bit) out.push(name);
  return out;
}

/**
 * An event's own structured metadata for a push API: its parsed fields and, when flagged,
 * `loggy_flags`; undefined when it has neither (most events).
 */
export function entryMetadata(ev: LogEvent): Record<string, string> | undefined {
  if (ev.flags === 0) return ev.fields as Record<string, string> | undefined;
  const flags = flagList(ev.flags).join(',');
  return ev.fields ? { ...ev.fields, loggy_flags: flags } : { loggy_flags: flags };
}

/** One event as a line of Loggy's NDJSON: {"ts","stream","line","labels",["flags"],["fields"]}. */
export function eventToJson(ev: LogEvent, source: EventSource): string {
  const flags = ev.flags === 0 ? '' : `,"flags":${JSON.stringify(flagList(ev.flags))}`;
  const fields = ev.fields === undefined ? '' : `,"fields":${JSON.stringify(ev.fields)}`;
  return `{"ts":${JSON.stringify(ev.ts)},"stream":"${ev.stream}","line":${JSON.stringify(ev.line)},"labels":${source.labelsJson}${flags}${fields}}`;
}

/**
 * Characters a JSON string must escape, plus surrogates (a lone one must become \udXXX, as
 * JSON.stringify writes it, not U+FFFD). Most log lines have none and are copied as they are.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
export const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const HEAD = Buffer.from('{"ts":');
const STDOUT = Buffer.from(',"stream":"stdout","line":');
const STDERR = Buffer.from(',"stream":"stderr","line":');
const QUOTE = 0x22;

/**
 * Writes events as NDJSON straight into one reusable Buffer, the same bytes as
 * `eventToJson`. Hand-written because it is the file sink's whole cost: building a string
 * per event, joining them and encoding the result allocated ~3 times the output and spent
 * more time in the garbage collector than in writing. Here an event is a few copies into
 * the buffer; only lines that need escaping go through JSON.stringify.
 */
export class NdjsonEncoder {
  private buf: Buffer;
  private pos = 0;
  private readonly tails = new WeakMap<EventSource, Buffer>();

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  /** `,"labels":{...}`: the same for every event of a source, encoded once. */
  private tail(source: EventSource): Buffer {
    let t = this.tails.get(source);
    if (!t) {
      t = Buffer.from(`,"labels":${source.labelsJson}`);
      this.tails.set(source, t);
    }
    return t;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private str(s: string): void {
    const b = this.buf;
    if (NEEDS_ESCAPE.test(s)) {
      this.pos += b.write(JSON.stringify(s), this.pos, 'utf8');
      return;
    }
    b[this.pos++] = QUOTE;
    this.pos += b.write(s, this.pos, 'utf8');
    b[this.pos++] = QUOTE;
  }

  add(ev: LogEvent, source: EventSource): void {
    const tail = this.tail(source);
    // Worst case: every UTF-16 unit becomes 6 bytes (\u00XX), plus the fixed parts.
    this.ensure((ev.line.length + ev.ts.length) * 6 + tail.length + 128);
    const b = this.buf;
    this.pos += HEAD.copy(b, this.pos);
    this.str(ev.ts);
    this.pos += (ev.stream === 'stdout' ? STDOUT : STDERR).copy(b, this.pos);
    this.str(ev.line);
    this.pos += tail.copy(b, this.pos);
    if (ev.flags !== 0) this.pos += b.write(`,"flags":${JSON.stringify(flagList(ev.flags))}`, this.pos, 'utf8');
    if (ev.fields !== undefined) {
      const f = `,"fields":${JSON.stringify(ev.fields)}`;
      this.ensure(Buffer.byteLength(f) + 2);
      this.pos += this.buf.write(f, this.pos, 'utf8');
    }
    const e = this.buf; // ensure() may have grown it
    e[this.pos++] = 0x7d; // }
    e[this.pos++] = 0x0a; // \n
  }

  /** The bytes encoded so far; valid until the next `add` after `reset`. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}
