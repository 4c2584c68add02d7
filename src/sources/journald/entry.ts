import { isUtf8 } from 'node:buffer';
import { EventFlags, type Labels, type LogEvent } from '../../core/event.js';

/** syslog priority → level name (sd-journal's PRIORITY is the syslog severity). */
export const PRIORITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

/** Journal fields always carried as event fields, and their names there. */
const FIELD_NAMES: ReadonlyArray<[string, string]> = [
  ['SYSLOG_IDENTIFIER', 'syslog_identifier'],
  ['_PID', 'pid'],
  ['_COMM', 'comm'],
  ['_TRANSPORT', 'transport'],
  ['_BOOT_ID', 'boot_id'],
];

/** One journal entry as the source emits it, with where it stands in the journal. */
export interface JournalEntry {
  event: LogEvent;
  /** Labels of the event: the source's own plus `unit` and `host`. */
  labels: Labels;
  /** The journal's own cursor: what `--after-cursor` resumes after. */
  cursor: string;
  /** The seqnum_id of the journal the entry was written to (see JournaldSource's ids). */
  seqnumId: string;
  seqnum: number;
  /** The message was not valid UTF-8 (decoded with replacement characters). */
  invalidUtf8: boolean;
  /** The message was cut to max_line_bytes. */
  truncated: boolean;
}

/** journalctl's JSON value of a field: a string, bytes (not printable / not UTF-8), or several values. */
type JsonValue = string | number[] | Array<string | number[]> | null;

export interface EntryOptions {
  labels: Labels;
  /** More journal fields to carry as event fields (named in lower case, leading `_` dropped). */
  fields: readonly string[];
  maxLineBytes: number;
}

/**
 * One line of `journalctl --output=json` → an event, or null when the line is not an entry
 * (no cursor: there is nowhere to resume from, so it cannot be acknowledged; the caller counts it).
 */
export function parseEntry(line: string, o: EntryOptions): JournalEntry | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const rec = raw as Record<string, JsonValue>;
  const cursor = text(rec.__CURSOR);
  if (cursor === undefined) return null;
  const pos = cursorPosition(cursor, rec);
  if (!pos) return null;

  let invalidUtf8 = false;
  let message = '';
  const m = first(rec.MESSAGE);
  if (typeof m === 'string') message = m;
  else if (Array.isArray(m)) {
    const bytes = toBytes(m);
    invalidUtf8 = !isUtf8(bytes);
    message = bytes.toString('utf8'); // invalid sequences become U+FFFD
  }
  let truncated = false;
  if (message.length > o.maxLineBytes / 3 && Buffer.byteLength(message) > o.maxLineBytes) {
    message = Buffer.from(message).subarray(0, o.maxLineBytes).toString('utf8').replace(/\uFFFD$/, '');
    truncated = true;
  }

  const prio = Number(text(rec.PRIORITY));
  const level = Number.isInteger(prio) && prio >= 0 && prio <= 7 ? PRIORITY_NAMES[prio] : undefined;
  const fields: Record<string, string> = {};
  if (level) fields.level = level;
  for (const [k, name] of FIELD_NAMES) {
    const v = text(rec[k]);
    if (v !== undefined) fields[name] = v;
  }
  for (const k of o.fields) {
    const v = text(rec[k]);
    if (v !== undefined) fields[k.replace(/^_+/, '').toLowerCase()] = v;
  }

  const labels: Record<string, string> = { ...o.labels };
  const unit = text(rec._SYSTEMD_UNIT);
  if (unit !== undefined) labels.unit = unit;
  const host = text(rec._HOSTNAME);
  if (host !== undefined) labels.host = host;

  const ts = realtimeToRfc3339(text(rec.__REALTIME_TIMESTAMP));
  let flags = 0;
  if (invalidUtf8 || ts === null) flags |= EventFlags.Malformed;
  if (truncated) flags |= EventFlags.Truncated;
  const event: LogEvent = {
    ts: ts ?? new Date().toISOString(),
    // Priorities emerg..err are what a container would have written to stderr.
    stream: level !== undefined && prio <= 3 ? 'stderr' : 'stdout',
    line: message,
    flags,
    offset: pos.seqnum,
    fields,
  };
  return { event, labels, cursor, seqnumId: pos.seqnumId, seqnum: pos.seqnum, invalidUtf8, truncated };
}

/**
 * The cursor reads `s=<seqnum_id>;i=<seqnum, hex>;b=<boot_id>;m=<monotonic, hex>;t=<realtime,
 * hex>;x=<xor hash>`. journalctl 254+ also prints __SEQNUM and __SEQNUM_ID, older ones
 * (Debian 12's 252) only the cursor, so the cursor is what is read.
 */
export function cursorPosition(cursor: string, rec?: Record<string, JsonValue>): { seqnumId: string; seqnum: number } | null {
  let seqnumId: string | undefined;
  let seqnum: number | undefined;
  for (const part of cursor.split(';')) {
    if (part.startsWith('s=')) seqnumId = part.slice(2);
    else if (part.startsWith('i=')) seqnum = parseInt(part.slice(2), 16);
  }
  if (rec) {
    seqnumId ??= text(rec.__SEQNUM_ID);
    if (seqnum === undefined || Number.isNaN(seqnum)) seqnum = Number(text(rec.__SEQNUM));
  }
  if (!seqnumId || seqnum === undefined || !Number.isSafeInteger(seqnum) || seqnum < 0) return null;
  return { seqnumId, seqnum };
}

/** Microseconds since the epoch (a decimal string) → RFC3339 with the microseconds kept. */
export function realtimeToRfc3339(us: string | undefined): string | null {
  if (us === undefined || !/^\d{1,17}$/.test(us)) return null;
  const n = Number(us);
  const secs = Math.floor(n / 1e6);
  const d = new Date(secs * 1000);
  if (Number.isNaN(d.getTime())) return null;
  return `${d.toISOString().slice(0, 19)}.${String(n % 1e6).padStart(6, '0')}Z`;
}

/** A field with several values (the same key more than once in an entry) is taken by its first. */
function first(v: JsonValue | undefined): string | number[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v.length > 0 && (typeof v[0] === 'string' || Array.isArray(v[0]))) return v[0] as string | number[];
  return v as number[];
}

/** A field as text: bytes decoded as UTF-8 (with replacement). */
function text(v: JsonValue | undefined): string | undefined {
  const f = first(v);
  if (f === undefined) return undefined;
  return typeof f === 'string' ? f : toBytes(f).toString('utf8');
}

function toBytes(arr: readonly unknown[]): Buffer {
  const b = Buffer.allocUnsafe(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    b[i] = typeof x === 'number' && x >= 0 && x <= 255 ? x : 0x3f;
  }
  return b;
}
