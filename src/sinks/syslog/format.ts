import type { EventSource, Labels, LogEvent } from '../../core/event.js';

/** RFC 5424 §6.2.1 facilities, by the names syslog.conf uses. */
export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, audit: 13, alert: 14, clock: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
export type FacilityName = keyof typeof FACILITIES;

/** RFC 5424 §6.2.1 severities, most severe first (the index is the code). */
export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type SeverityName = (typeof SEVERITIES)[number];

/**
 * Level words as applications and the parse transform write them → a syslog severity code.
 * The server's detected_level vocabulary plus the syslog names themselves, so a level read
 * from a syslog source comes back out unchanged.
 */
const LEVEL_WORDS: Record<string, number> = {
  emerg: 0, emergency: 0, panic: 0,
  alert: 1,
  crit: 2, critical: 2, fatal: 2, ftl: 2,
  err: 3, error: 3, eror: 3,
  warn: 4, warning: 4, wrn: 4,
  notice: 5,
  info: 6, inf: 6, information: 6, informational: 6,
  debug: 7, dbg: 7, trace: 7, trc: 7,
};

/** A level word or a digit 0–7 → the severity code, or -1. */
export function severityOf(word: string): number {
  if (word.length === 1) {
    const d = word.charCodeAt(0) - 48;
    return d >= 0 && d <= 7 ? d : -1;
  }
  return LEVEL_WORDS[word.toLowerCase()] ?? LEVEL_WORDS[word.trim().toLowerCase()] ?? -1;
}

/** RFC 5424 field limits (§6): PRINTUSASCII only, at most this many characters. */
export const LIMITS = { hostname: 255, app_name: 48, procid: 128, msgid: 32, sd_name: 32 } as const;

/**
 * A header field as RFC 5424 allows it: printable US-ASCII (33–126) only, every other
 * character replaced by `_` (a space would shift every field after it), cut at `max`, and the
 * NILVALUE `-` when nothing is left.
 */
export function headerField(value: string, max: number): string {
  let out = '';
  for (let i = 0; i < value.length && out.length < max; i++) {
    const c = value.charCodeAt(i);
    // A surrogate pair is one character: one `_`.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) i++;
    out += c >= 33 && c <= 126 ? value[i] : '_';
  }
  return out === '' ? '-' : out;
}

/** An SD-NAME (SD-ID or PARAM-NAME): PRINTUSASCII except `=`, SP, `]`, `"`; at most 32. */
export function sdName(value: string): string {
  let out = '';
  for (let i = 0; i < value.length && out.length < LIMITS.sd_name; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) i++;
    out += c >= 33 && c <= 126 && c !== 61 && c !== 93 && c !== 34 ? value[i] : '_';
  }
  return out;
}

/** A PARAM-VALUE: any UTF-8, with `"`, `\` and `]` escaped by a backslash (§6.3.3). */
export function sdValue(value: string): string {
  return /["\\\]]/.test(value) ? value.replace(/["\\\]]/g, '\\$&') : value;
}

/**
 * `[id name="value" ...]` for the labels `keep` accepts, in their order, or `-` when none.
 * Names are cut to 32 characters; a label whose cut name repeats an earlier one is left out
 * (RFC 5424: a PARAM-NAME may repeat, but receivers that map params to fields keep one).
 */
export function sdElement(id: string, labels: Labels, keep: (name: string) => boolean): string {
  let params = '';
  const seen = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (!keep(k)) continue;
    const name = sdName(k);
    if (name === '' || seen.has(name)) continue;
    seen.add(name);
    params += ` ${name}="${sdValue(v)}"`;
  }
  return params === '' ? '-' : `[${id}${params}]`;
}

/** `{label}` placeholders, `{a|b}` for the first non-empty one; text outside braces as it is. */
export type Template = (labels: Labels) => string;

export function compileTemplate(spec: string): Template {
  const parts: Array<string | string[]> = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(spec); m; m = re.exec(spec)) {
    if (m.index > last) parts.push(spec.slice(last, m.index));
    parts.push(m[1]!.split('|').map((s) => s.trim()).filter(Boolean));
    last = m.index + m[0].length;
  }
  if (last < spec.length) parts.push(spec.slice(last));
  return (labels) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else for (const name of p) {
        const v = Object.hasOwn(labels, name) ? labels[name] : undefined;
        if (v) {
          out += v;
          break;
        }
      }
    }
    return out;
  };
}

/** Globs on names (`*`, `?`), as the other components take them; an empty list matches nothing. */
export function nameMatcher(globs: readonly string[]): (name: string) => boolean {
  if (globs.length === 0) return () => false;
  const alt = globs.map((g) => g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')).join('|');
  const re = new RegExp(`^(?:${alt})$`);
  return (name) => re.test(name);
}

export interface FormatOptions {
  facility: number;
  hostname: string;
  app_name: string;
  procid: string;
  msgid: string;
  /** SD-ID of the element holding the labels; '' for none. */
  sd_id: string;
  sd_labels: readonly string[];
  /** Event fields, then labels, whose value is a level word. */
  severity_keys: readonly string[];
  /** Severity codes when no key gives one. */
  severity_stderr: number;
  severity_default: number;
  bom: boolean;
  /** The whole message (header, SD and MSG, without framing) is cut to this many bytes. */
  max_message_bytes: number;
  /** LF framing cannot carry a LF inside a message: each becomes a space. */
  no_lf: boolean;
}

/** What the formatter keeps per source: everything of the header that only depends on labels. */
interface SourceHeader {
  /** ` HOSTNAME APP-NAME PROCID MSGID SD`, as bytes. */
  tail: Buffer;
  /** The same without the SD (`-`), for a message the SD alone would not fit. */
  bare: Buffer;
  /** Severity from a label, or -1. */
  severity: number;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NIL_TS = Buffer.from('-');

/**
 * Builds RFC 5424 messages straight into one growing Buffer, optionally each preceded by
 * its octet count (RFC 6587 §3.4.1) or followed by LF. The header is per source (labels live
 * on the batch), computed once and cached; per event only PRI, timestamp and MSG are written.
 */
export class Rfc5424Encoder {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;
  /** End offsets of each message (framing included), for one datagram each. */
  readonly ends: number[] = [];
  /** Messages cut to max_message_bytes by the last adds (reset by reset()). */
  truncated = 0;
  private readonly pri: Buffer[];
  private readonly headers = new WeakMap<EventSource, SourceHeader>();
  private readonly templates: { hostname: Template; app_name: Template; procid: Template; msgid: Template };
  private readonly keepLabel: (name: string) => boolean;

  constructor(private readonly o: FormatOptions) {
    this.pri = SEVERITIES.map((_, sev) => Buffer.from(`<${o.facility * 8 + sev}>1 `));
    this.templates = { hostname: compileTemplate(o.hostname), app_name: compileTemplate(o.app_name), procid: compileTemplate(o.procid), msgid: compileTemplate(o.msgid) };
    this.keepLabel = nameMatcher(o.sd_labels);
  }

  reset(): void {
    this.pos = 0;
    this.ends.length = 0;
    this.truncated = 0;
  }

  get length(): number {
    return this.pos;
  }

  /** The messages added since reset(); valid until the next add or reset. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** The parts of a source's header that depend only on its labels. */
  header(source: EventSource): SourceHeader {
    let h = this.headers.get(source);
    if (h) return h;
    const l = source.labels;
    const t = this.templates;
    const fields = `${headerField(t.hostname(l), LIMITS.hostname)} ${headerField(t.app_name(l), LIMITS.app_name)} ${headerField(t.procid(l), LIMITS.procid)} ${headerField(t.msgid(l), LIMITS.msgid)}`;
    const sd = this.o.sd_id ? sdElement(this.o.sd_id, l, this.keepLabel) : '-';
    let severity = -1;
    for (const k of this.o.severity_keys) {
      const v = Object.hasOwn(l, k) ? l[k] : undefined;
      if (v !== undefined && (severity = severityOf(v)) >= 0) break;
    }
    h = { tail: Buffer.from(` ${fields} ${sd}`), bare: Buffer.from(` ${fields} -`), severity };
    this.headers.set(source, h);
    return h;
  }

  /** The severity code of an event: a level field, a level label, its stream, the default. */
  severity(ev: LogEvent, h: SourceHeader): number {
    const f = ev.fields;
    if (f) {
      for (const k of this.o.severity_keys) {
        const v = Object.hasOwn(f, k) ? f[k] : undefined;
        if (v !== undefined) {
          const s = severityOf(v);
          if (s >= 0) return s;
        }
      }
    }
    if (h.severity >= 0) return h.severity;
    return ev.stream === 'stderr' ? this.o.severity_stderr : this.o.severity_default;
  }

  /** Appends one event's message, framed as asked. */
  add(ev: LogEvent, source: EventSource, framing: 'octet_counting' | 'lf' | 'none'): void {
    const h = this.header(source);
    const pri = this.pri[this.severity(ev, h)]!;
    const max = this.o.max_message_bytes;
    let line = ev.line;
    if (this.o.no_lf && line.includes('\n')) line = line.replaceAll('\n', ' ');
    // Room for the frame prefix (digits and SP), the whole message, and LF.
    const need = 12 + Math.min(max, pri.length + 32 + h.tail.length + 1 + BOM.length + line.length * 3) + 1;
    this.ensure(need);
    const buf = this.buf;
    const start = this.pos;
    // Octet counting: the count comes first but is known last. Guess its digits from an
    // all-ASCII line (nearly always right) and move the message when the guess was wrong.
    let guess = 0;
    if (framing === 'octet_counting') {
      guess = digitCount(Math.min(max, pri.length + 27 + h.tail.length + 1 + (this.o.bom ? 3 : 0) + line.length)) + 1;
    }
    let p = start + guess;
    const msgStart = p;
    p += pri.copy(buf, p);
    p = writeTimestamp(buf, p, ev.ts);
    let tail = h.tail;
    // Header and SD must leave room for something of the line: without the SD when they don't.
    if (p - msgStart + tail.length > max - 16 && tail !== h.bare) tail = h.bare;
    p += tail.copy(buf, p, 0, Math.max(0, Math.min(tail.length, max - (p - msgStart))));
    let cut = false;
    if (line.length > 0 || this.o.bom) {
      const room = max - (p - msgStart) - 1 - (this.o.bom ? 3 : 0);
      if (room > 0) {
        buf[p++] = 0x20;
        if (this.o.bom) p += BOM.copy(buf, p);
        // Buffer#write never writes part of a character: a cut lands on a boundary.
        const n = buf.write(line, p, room, 'utf8');
        if (n >= room - 3 && Buffer.byteLength(line, 'utf8') > n) cut = true;
        p += n;
      } else if (line.length > 0) cut = true;
    }
    if (cut) this.truncated++;
    const len = p - msgStart;
    if (framing === 'octet_counting') {
      const prefix = `${len} `;
      if (prefix.length !== guess) {
        buf.copyWithin(start + prefix.length, msgStart, p);
        p += prefix.length - guess;
      }
      buf.write(prefix, start, 'latin1');
    } else if (framing === 'lf') {
      buf[p++] = 0x0a;
    }
    this.pos = p;
    this.ends.push(p);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

function digitCount(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : n < 1_000_000 ? 6 : String(n).length;
}

/**
 * The event's time as RFC 5424 wants it: at most 6 fractional digits (TIME-SECFRAC), so the
 * runtime's nanoseconds are cut to microseconds (rsyslog misreads more than 6). A UTC
 * `...sssssssssZ` (what the sources write) is copied; any other offset is kept as written
 * with its fraction cut; an unreadable one becomes the NILVALUE (the receiver stamps it).
 */
function writeTimestamp(buf: Buffer, p: number, ts: string): number {
  const n = ts.length;
  if (n >= 20 && ts.charCodeAt(4) === 45 && ts.charCodeAt(10) === 84 && ts.charCodeAt(19) === 46) {
    // 2026-11-22T10:00:00.123456789Z → 2026-11-22T10:00:00.123456Z
    let i = 20;
    while (i < n && ts.charCodeAt(i) >= 48 && ts.charCodeAt(i) <= 57) i++;
    if (i > 20 && i < n && isOffset(ts, i)) {
      p += buf.write(ts.slice(0, Math.min(i, 26)), p, 'latin1');
      return p + buf.write(ts.slice(i), p, 'latin1');
    }
  } else if (n >= 20 && ts.charCodeAt(4) === 45 && ts.charCodeAt(10) === 84 && isOffset(ts, 19)) {
    return p + buf.write(ts, p, 'latin1');
  }
  return p + NIL_TS.copy(buf, p);
}

function isOffset(ts: string, i: number): boolean {
  const c = ts.charCodeAt(i);
  if (c === 90) return i + 1 === ts.length;
  return (c === 43 || c === 45) && i + 6 === ts.length && ts.charCodeAt(i + 3) === 58;
}
