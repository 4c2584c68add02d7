import type { LogEvent, Stream } from '../core/event.js';

/** The message is UTF-8 bytes buf[msgStart, msgEnd), the ts ASCII bytes buf[tsStart, tsEnd). */
export const RAW = 0;
/** The message and ts were decoded already (JSON.parse fallback): msgStr, tsStr. */
export const STR = 1;

const EMPTY = Buffer.alloc(0);

/**
 * One parsed physical record. A single instance is reused for every line (no per-line
 * allocation); parsers only record byte ranges, the framer decides what to decode.
 *
 * Layout invariant for RAW: every byte of buf[lo, hi) outside the message range is
 * ASCII, so one UTF-8 decode of [lo, hi) can be sliced into ts and message by counting
 * from the front (before the message) or the back (after it).
 */
export class Rec {
  kind = RAW;
  /** The buffer the ranges refer to: the line's, or a scratch buffer with the unescaped message. */
  buf: Buffer = EMPTY;
  /** stderr (else stdout). */
  err = false;
  /** The logical line continues in the next record of this stream (CRI P, Docker log without \n). */
  partial = false;
  lo = 0;
  hi = 0;
  tsStart = 0;
  tsEnd = 0;
  msgStart = 0;
  msgEnd = 0;
  msgStr = '';
  tsStr = '';

  /** Point the record at byte ranges of `buf` (the RAW layout). */
  setRaw(buf: Buffer, err: boolean, partial: boolean, lo: number, hi: number, tsStart: number, tsEnd: number, msgStart: number, msgEnd: number): void {
    this.kind = RAW;
    this.buf = buf;
    this.err = err;
    this.partial = partial;
    this.lo = lo;
    this.hi = hi;
    this.tsStart = tsStart;
    this.tsEnd = tsEnd;
    this.msgStart = msgStart;
    this.msgEnd = msgEnd;
  }
}

/** Every event is created here so they all share one object shape. */
export function makeEvent(ts: string, stream: Stream, line: string, flags: number, offset: number): LogEvent {
  return { ts, stream, line, flags, offset };
}
