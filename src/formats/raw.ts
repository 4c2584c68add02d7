import type { LogEvent } from '../core/event.js';
import { EventFlags } from '../core/event.js';
import { cutUtf8, nowTs, utf8 } from './bytes.js';
import { makeEvent } from './record.js';
import type { FramerStats } from './types.js';

/**
 * Plain text lines (an application's own log file, not a container runtime's): one event per
 * line, on stdout, stamped with the time it was read. Same contract as Framer — offsets are
 * the end of each line, a line without its newline waits (bounded) until the newline comes or
 * the file is closed, longer lines are cut to maxLineBytes and flagged.
 */
export class RawFramer {
  readonly stats: FramerStats = { events: 0, truncated: 0, malformed: 0, partialFlushed: 0, multilineGroups: 0 };
  readonly format = 'raw' as const;
  private end = 0;
  /** Start offset of a line still waiting for its newline, or -1. */
  private pendingStart = -1;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private pendingCut = false;

  constructor(private readonly max: number) {}

  push(chunk: Buffer, offset: number, out: LogEvent[]): void {
    if (offset !== this.end) this.reset(offset);
    const ts = nowTs(); // one read, one time: a line's time is when it was read
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) break;
      const lineEnd = offset + nl + 1;
      if (this.pendingStart >= 0) {
        this.hold(chunk, pos, nl, offset + pos);
        this.emitPending(ts, lineEnd, 0, out);
      } else {
        this.emit(chunk, pos, nl, ts, lineEnd, 0, out);
      }
      pos = nl + 1;
    }
    if (pos < chunk.length) this.hold(chunk, pos, chunk.length, offset + pos);
    this.end = offset + chunk.length;
  }

  /** At the end of what is written: a pending line goes out (flagged partial) only when forced (file closed). */
  flush(out: LogEvent[], _nowMs: number, force = false): void {
    if (force && this.pendingStart >= 0) this.emitPending(nowTs(), this.end, EventFlags.Partial, out);
  }

  nextFlushDue(): number | null {
    return null;
  }

  resumeOffset(): number {
    return this.pendingStart >= 0 ? this.pendingStart : this.end;
  }

  get bufferedBytes(): number {
    return this.pendingLen;
  }

  reset(offset: number): void {
    this.pending = [];
    this.pendingLen = 0;
    this.pendingStart = -1;
    this.pendingCut = false;
    this.end = offset;
  }

  /** Keep at most max + 1 bytes of an unfinished line (enough to know it must be cut). */
  private hold(buf: Buffer, s: number, e: number, at: number): void {
    if (this.pendingStart < 0) this.pendingStart = at;
    const room = this.max + 1 - this.pendingLen;
    if (e - s > room) {
      e = s + Math.max(0, room);
      this.pendingCut = true;
    }
    if (e > s) {
      this.pending.push(Buffer.from(buf.subarray(s, e))); // copied: the read buffer is reused
      this.pendingLen += e - s;
    }
  }

  private emitPending(ts: string, end: number, flags: number, out: LogEvent[]): void {
    const b = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLen);
    const cut = this.pendingCut;
    this.reset(this.end);
    this.emit(b, 0, b.length, ts, end, flags | (cut ? EventFlags.Truncated : 0), out);
    if (flags & EventFlags.Partial) this.stats.partialFlushed++;
  }

  private emit(buf: Buffer, s: number, e: number, ts: string, end: number, flags: number, out: LogEvent[]): void {
    if (e > s && buf[e - 1] === 13) e--; // CRLF
    if (e - s > this.max) {
      e = cutUtf8(buf, s, e, this.max);
      flags |= EventFlags.Truncated;
    }
    if (flags & EventFlags.Truncated) this.stats.truncated++;
    out.push(makeEvent(ts, 'stdout', utf8(buf, s, e), flags, end));
    this.stats.events++;
  }
}
