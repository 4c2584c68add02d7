import type { Stream } from '../core/event.js';
import type { LogicalMessage } from './messages.js';

/** On-disk format of one container's log, as written by containerd/CRI-O or dockerd. */
export type LogFormat = 'cri' | 'docker';

/**
 * Both containerd (max_container_log_line_size) and dockerd (its 16K copy buffer) cut
 * a line longer than this into several records.
 */
export const MAX_RECORD_BYTES = 16 * 1024;

let cachedSecond = -1n;
let cachedPrefix = '';

/** `2024-06-12T10:00:00` for an epoch second; cached since consecutive records share it. */
function secondPrefix(sec: bigint): string {
  if (sec !== cachedSecond) {
    cachedSecond = sec;
    cachedPrefix = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  }
  return cachedPrefix;
}

/** containerd's RFC3339NanoFixed: always 9 fraction digits, UTC. */
export function formatCriTime(ns: bigint): string {
  return `${secondPrefix(ns / 1_000_000_000n)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}

/** Go's RFC3339Nano as dockerd writes it: trailing zeros of the fraction are dropped. */
export function formatDockerTime(ns: bigint): string {
  const frac = String(ns % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return `${secondPrefix(ns / 1_000_000_000n)}${frac ? `.${frac}` : ''}Z`;
}

/**
 * CRI records for one physical line: `<time> <stream> <P|F> <content>\n`. Like containerd,
 * the cut is byte-exact (it may split a multi-byte character; readers join bytes, not
 * strings), every record but the last is tagged P.
 */
export function encodeCri(time: string, stream: Stream, line: string, out: Buffer[]): void {
  // Fast path: even at 3 bytes per UTF-16 unit the line fits in one record.
  if (line.length * 3 <= MAX_RECORD_BYTES || Buffer.byteLength(line) <= MAX_RECORD_BYTES) {
    out.push(Buffer.from(`${time} ${stream} F ${line}\n`));
    return;
  }
  const bytes = Buffer.from(line);
  for (let at = 0; at < bytes.length; at += MAX_RECORD_BYTES) {
    const end = Math.min(at + MAX_RECORD_BYTES, bytes.length);
    const tag = end === bytes.length ? 'F' : 'P';
    out.push(Buffer.from(`${time} ${stream} ${tag} `), bytes.subarray(at, end), NEWLINE);
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * Docker json-file records for one physical line. Partial records carry no trailing `\n`
 * in `log`; the last one does. Unlike containerd the cut backs off to a UTF-8 character
 * boundary: dockerd's JSON encoder would otherwise turn the halves into U+FFFD and the
 * content could no longer be checked.
 */
export function encodeDocker(time: string, stream: Stream, line: string, out: Buffer[]): void {
  if (line.length * 3 <= MAX_RECORD_BYTES || Buffer.byteLength(line) <= MAX_RECORD_BYTES) {
    out.push(Buffer.from(dockerRecord(`${line}\n`, stream, time)));
    return;
  }
  const bytes = Buffer.from(line);
  let at = 0;
  while (at < bytes.length) {
    let end = Math.min(at + MAX_RECORD_BYTES, bytes.length);
    // 10xxxxxx is a continuation byte: move the cut back to the character's start.
    while (end < bytes.length && (bytes[end] & 0xc0) === 0x80) end--;
    const piece = bytes.toString('utf8', at, end);
    out.push(Buffer.from(dockerRecord(end === bytes.length ? `${piece}\n` : piece, stream, time)));
    at = end;
  }
}

/** Field order and escaping as dockerd's jsonlog writer: log, stream, time; <>& as \u00XX. */
function dockerRecord(log: string, stream: Stream, time: string): string {
  return `{"log":${goJsonString(log)},"stream":"${stream}","time":"${time}"}\n`;
}

/** JSON string the way Go's encoder escapes it (HTML-safe, and U+2028/U+2029). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** All records of one logical message, every physical line stamped with the same time. */
export function encodeMessage(format: LogFormat, ns: bigint, msg: LogicalMessage): Buffer {
  const out: Buffer[] = [];
  if (format === 'cri') {
    const time = formatCriTime(ns);
    for (const line of msg.lines) encodeCri(time, msg.stream, line, out);
  } else {
    const time = formatDockerTime(ns);
    for (const line of msg.lines) encodeDocker(time, msg.stream, line, out);
  }
  return out.length === 1 ? out[0] : Buffer.concat(out);
}
