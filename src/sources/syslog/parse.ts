import { formatRfc3339Nano, parseRfc3339Nano } from '../../core/time.js';

/** RFC 5424 §6.2.1 names, by code. */
export const FACILITY_NAMES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'] as const;
export const SEVERITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

/** One syslog message, as far as it could be read. Absent fields were absent or NILVALUE. */
export interface SyslogMessage {
  /** rfc5424, rfc3164 (BSD, and its variants with an ISO timestamp), or malformed (delivered raw). */
  format: 'rfc5424' | 'rfc3164' | 'malformed';
  /** -1 when there is no valid PRI. */
  facility: number;
  severity: number;
  /** RFC3339 in UTC with 9 fractional digits, or null when the message has none. */
  ts: string | null;
  hostname?: string;
  appName?: string;
  procid?: string;
  msgid?: string;
  /** SD params as `<SD-ID>_<PARAM-NAME>` (sanitized to field names) → value, unescaped. */
  sd?: Record<string, string>;
  msg: string;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/**
 * Parses one message (framing already removed). Never throws: what cannot be read as RFC 5424
 * or RFC 3164 comes back `malformed` with the whole text as `msg`.
 */
export function parseSyslog(text: string, now: Date = new Date()): SyslogMessage {
  const pri = readPri(text);
  if (pri < 0) return malformed(text, -1);
  let i = text.indexOf('>') + 1;
  if (text.charCodeAt(i) === 49 && text.charCodeAt(i + 1) === 32) return parse5424(text, i + 2, pri) ?? malformed(text, pri);
  // RFC 3164 §4.3.2: with a valid PRI, whatever does not follow the format is content.
  const m: SyslogMessage = { format: 'rfc3164', facility: pri >> 3, severity: pri & 7, ts: null, msg: '' };
  const bsd = bsdTimestamp(text, i, now);
  if (bsd) {
    m.ts = bsd.ts;
    i = bsd.end;
  } else {
    const sp = text.indexOf(' ', i);
    const ns = sp > i ? parseRfc3339Nano(text.slice(i, sp)) : null;
    if (ns === null) {
      m.msg = text.slice(i);
      return m;
    }
    m.ts = formatRfc3339Nano(ns);
    i = sp + 1;
  }
  // HOSTNAME, then TAG[PID]: — the hostname is left out by local senders, so a first word
  // that already looks like a tag is the tag.
  const word = nextWord(text, i);
  if (word !== null && !looksLikeTag(word) && text.charCodeAt(i + word.length) === 32) {
    m.hostname = word;
    i += word.length + 1;
  }
  const tag = readTag(text, i);
  if (tag) {
    m.appName = tag.app;
    if (tag.pid !== undefined) m.procid = tag.pid;
    i = tag.end;
  }
  m.msg = text.slice(i);
  return m;
}

function malformed(text: string, pri: number): SyslogMessage {
  return { format: 'malformed', facility: pri < 0 ? -1 : pri >> 3, severity: pri < 0 ? -1 : pri & 7, ts: null, msg: text };
}

/** `<PRIVAL>` at the start: 0–191, 1–3 digits; -1 when there is none. */
function readPri(s: string): number {
  if (s.charCodeAt(0) !== 60) return -1;
  let v = 0;
  let i = 1;
  for (; i < 5 && i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  if (i === 1 || i > 4 || s.charCodeAt(i) !== 62 || v > 191) return -1;
  return v;
}

/** HEADER after `<PRI>1 `: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG]; null when it is not. */
function parse5424(s: string, i: number, pri: number): SyslogMessage | null {
  const fields: string[] = [];
  for (let k = 0; k < 5; k++) {
    const sp = s.indexOf(' ', i);
    if (sp <= i) return null;
    fields.push(s.slice(i, sp));
    i = sp + 1;
  }
  const [tsText, hostname, appName, procid, msgid] = fields as [string, string, string, string, string];
  let ts: string | null = null;
  if (tsText !== '-') {
    const ns = parseRfc3339Nano(tsText);
    if (ns === null) return null;
    ts = formatRfc3339Nano(ns);
  }
  const m: SyslogMessage = { format: 'rfc5424', facility: pri >> 3, severity: pri & 7, ts, msg: '' };
  if (hostname !== '-') m.hostname = hostname;
  if (appName !== '-') m.appName = appName;
  if (procid !== '-') m.procid = procid;
  if (msgid !== '-') m.msgid = msgid;
  if (s.charCodeAt(i) === 45) { // -
    i++;
  } else {
    const sd = readSd(s, i);
    if (!sd) return null;
    if (Object.keys(sd.params).length > 0) m.sd = sd.params;
    i = sd.end;
  }
  if (i < s.length) {
    if (s.charCodeAt(i) !== 32) return null;
    i++;
    if (s.charCodeAt(i) === 0xfeff) i++; // the BOM of MSG-UTF8, decoded
  }
  m.msg = s.slice(i);
  return m;
}

/** One or more `[SD-ID *(SP PARAM="VALUE")]`, values unescaped; null when malformed. */
function readSd(s: string, i: number): { params: Record<string, string>; end: number } | null {
  const params: Record<string, string> = {};
  if (s.charCodeAt(i) !== 91) return null;
  while (s.charCodeAt(i) === 91) {
    i++;
    const idEnd = nameEnd(s, i);
    if (idEnd === i) return null;
    const id = s.slice(i, idEnd);
    i = idEnd;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 93) { // ]
        i++;
        break;
      }
      if (c !== 32) return null;
      i++;
      const pEnd = nameEnd(s, i);
      if (pEnd === i || s.charCodeAt(pEnd) !== 61 || s.charCodeAt(pEnd + 1) !== 34) return null;
      const name = s.slice(i, pEnd);
      i = pEnd + 2;
      let value = '';
      let from = i;
      for (;;) {
        if (i >= s.length) return null;
        const v = s.charCodeAt(i);
        if (v === 34) break;
        if (v === 92 && i + 1 < s.length) {
          const n = s.charCodeAt(i + 1);
          // §6.3.3: only \" \\ \] are escapes; a backslash before anything else is itself.
          if (n === 34 || n === 92 || n === 93) {
            value += s.slice(from, i);
            from = i + 1;
            i += 2;
            continue;
          }
        }
        i++;
      }
      value += s.slice(from, i);
      i++;
      params[fieldName(`${id}_${name}`)] = value;
    }
  }
  return { params, end: i };
}

/** End of an SD-NAME: PRINTUSASCII except `=`, SP, `]`, `"`. */
function nameEnd(s: string, i: number): number {
  let j = i;
  for (; j < s.length && j - i < 32; j++) {
    const c = s.charCodeAt(j);
    if (c < 33 || c > 126 || c === 61 || c === 93 || c === 34) break;
  }
  return j;
}

/** A field name LogQL accepts: `exampleSDID@32473_eventID` → `exampleSDID_32473_eventID`. */
export function fieldName(k: string): string {
  const s = k.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/**
 * `Mmm dd hh:mm:ss` (day padded with a space or a zero, optional fraction). It has no year and
 * no zone: read as UTC in the year that puts it closest to `now`, so a December message read
 * in January is last year's, and a January one read on December 31st next year's.
 */
function bsdTimestamp(s: string, i: number, now: Date): { ts: string; end: number } | null {
  if (s.length < i + 15 || s.charCodeAt(i + 3) !== 32 || s.charCodeAt(i + 9) !== 58 || s.charCodeAt(i + 12) !== 58) return null;
  const month = MONTHS[s.slice(i, i + 3)];
  if (month === undefined) return null;
  const d1 = s.charCodeAt(i + 4);
  const day = (d1 === 32 ? 0 : d1 - 48) * 10 + s.charCodeAt(i + 5) - 48;
  const hour = num2(s, i + 7);
  const min = num2(s, i + 10);
  const sec = num2(s, i + 13);
  if (!(day >= 1 && day <= 31) || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60 || (d1 !== 32 && (d1 < 48 || d1 > 57))) return null;
  let end = i + 15;
  let frac = '';
  if (s.charCodeAt(end) === 46) {
    let j = end + 1;
    while (j < s.length && j - end <= 9 && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j === end + 1) return null;
    frac = s.slice(end + 1, j);
    end = j;
  }
  if (end < s.length && s.charCodeAt(end) !== 32) return null;
  const y = now.getUTCFullYear();
  let best = NaN;
  for (const year of [y - 1, y, y + 1]) {
    const t = Date.UTC(year, month, day, hour, min, sec);
    // Feb 30 and the like roll over into the next month: not a date.
    if (new Date(t).getUTCDate() !== day) continue;
    if (Number.isNaN(best) || Math.abs(t - now.getTime()) < Math.abs(best - now.getTime())) best = t;
  }
  if (Number.isNaN(best)) return null;
  const ns = BigInt(best) * 1_000_000n + BigInt((frac + '000000000').slice(0, 9));
  return { ts: formatRfc3339Nano(ns), end: end < s.length ? end + 1 : end };
}

function num2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a < 0 || a > 9 || b < 0 || b > 9 ? -1 : a * 10 + b;
}

function nextWord(s: string, i: number): string | null {
  const sp = s.indexOf(' ', i);
  if (sp <= i) return null;
  return s.slice(i, sp);
}

function looksLikeTag(word: string): boolean {
  return word.endsWith(':') || word.includes('[');
}

/** `TAG:` or `TAG[PID]:` then one optional space. */
function readTag(s: string, i: number): { app: string; pid?: string; end: number } | null {
  let j = i;
  while (j < s.length && j - i <= 48) {
    const c = s.charCodeAt(j);
    if (c === 58 || c === 91 || c === 32) break;
    j++;
  }
  if (j === i || j - i > 48) return null;
  const app = s.slice(i, j);
  let pid: string | undefined;
  if (s.charCodeAt(j) === 91) {
    const close = s.indexOf(']', j);
    if (close < 0 || close - j > 129) return null;
    pid = s.slice(j + 1, close);
    j = close + 1;
  }
  if (s.charCodeAt(j) !== 58) return null;
  j++;
  if (s.charCodeAt(j) === 32) j++;
  return { app, pid, end: j };
}
