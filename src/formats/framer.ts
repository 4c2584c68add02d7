import type { LogEvent } from '../core/event.js';
import { EventFlags } from '../core/event.js';
import { cutUtf8, latin1, nowTs, truncateString, utf8 } from './bytes.js';
import { LineCarry } from './carry.js';
import { parseCri } from './cri.js';
import { RawFramer } from './raw.js';
import { detectFormat } from './detect.js';
import { DockerParser, parseOversized } from './docker-json.js';
import { Multiline } from './multiline.js';
import { makeEvent, Rec, STR } from './record.js';
import { StreamState } from './stream-state.js';
import type { FramerOptions, FramerStats, LogFormat, MultilineOptions } from './types.js';

/** Slack above maxLineBytes for a physical line's framing (ts, stream, JSON keys, escapes). */
const CAP_SLACK = 64 * 1024;

const TRUNCATED = EventFlags.Truncated;
const PARTIAL = EventFlags.Partial;
const MALFORMED = EventFlags.Malformed;

/**
 * Turns the raw bytes of one container log file into LogEvents: splits physical lines,
 * parses CRI or Docker json-file records, reassembles P…F chains / Docker partials per
 * stream, applies maxLineBytes, and feeds logical lines through the optional multiline
 * stage. Synchronous and allocation-light: the common line costs one indexOf, a few
 * byte compares, one UTF-8 decode and the event object.
 */
export class Framer {
  readonly stats: FramerStats = { events: 0, truncated: 0, malformed: 0, partialFlushed: 0, multilineGroups: 0 };

  private readonly fixed: LogFormat | null;
  private fmt: LogFormat | null;
  private docker: boolean;
  private readonly max: number;
  private readonly carry: LineCarry;
  private readonly rec = new Rec();
  private readonly dockerParser = new DockerParser();
  private readonly so = new StreamState('stdout');
  private readonly se = new StreamState('stderr');
  private ml: Multiline | null;
  /** File offset just past the input consumed so far. */
  private end = 0;
  /** Clock for multiline groups: Date.now() at push, nowMs at flush. */
  private now = 0;
  /** Inside flush(force): a malformed stdout line must not overtake the stdout chain being closed. */
  private forcing = false;

  constructor(opts: FramerOptions) {
    const max = Math.floor(opts.maxLineBytes);
    this.max = max >= 1 ? max : 1;
    this.fixed = opts.format === 'cri' || opts.format === 'docker' ? opts.format : null;
    this.fmt = this.fixed;
    this.docker = this.fmt === 'docker';
    this.carry = new LineCarry(this.max + CAP_SLACK);
    this.ml = opts.multiline ? new Multiline(opts.multiline, this.max, this.stats) : null;
  }

  get format(): LogFormat | null {
    return this.fmt;
  }

  /**
   * Another multiline rule from now on (a pod's annotation changed). Groups open under the old
   * rule are emitted into `out` first: a rule never sees lines grouped by another.
   */
  setMultiline(opts: MultilineOptions | null, out: LogEvent[]): void {
    if (this.ml !== null) {
      this.ml.emit(this.so, out);
      this.ml.emit(this.se, out);
    }
    this.ml = opts ? new Multiline(opts, this.max, this.stats) : null;
  }

  push(chunk: Buffer, offset: number, out: LogEvent[]): void {
    if (offset !== this.end) this.discontinuity(offset, out);
    const n = chunk.length;
    if (n === 0) return;
    if (this.ml !== null) this.now = Date.now();
    if (this.fmt === null) this.setFormat(detectFormat(chunk));
    let pos = 0;
    const carry = this.carry;
    if (carry.active) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        carry.add(chunk, 0, n);
        this.end = offset + n;
        return;
      }
      carry.add(chunk, 0, nl);
      this.endCarry(offset + nl + 1, 0, out);
      pos = nl + 1;
    }
    this.dockerParser.reset();
    let nl: number;
    while ((nl = chunk.indexOf(10, pos)) >= 0) {
      this.line(chunk, pos, nl, offset + pos, offset + nl + 1, 0, out);
      pos = nl + 1;
    }
    // Skip a NUL hole (copytruncate under a writer without O_APPEND); keep the rest.
    while (pos < n && chunk[pos] === 0) pos++;
    if (pos < n) carry.begin(chunk, pos, n, offset + pos);
    this.end = offset + n;
  }

  flush(out: LogEvent[], nowMs: number, force = false): void {
    this.now = nowMs;
    if (force) {
      this.forcing = true;
      if (this.carry.active) this.endCarry(this.end, PARTIAL, out);
      if (this.so.open) this.finish(this.so, this.so.last, PARTIAL, out);
      if (this.se.open) this.finish(this.se, this.se.last, PARTIAL, out);
      this.forcing = false;
    }
    const ml = this.ml;
    if (ml === null) return;
    if (this.so.group !== null && (force || nowMs - this.so.groupAt >= ml.flushMs)) ml.emit(this.so, out);
    if (this.se.group !== null && (force || nowMs - this.se.groupAt >= ml.flushMs)) ml.emit(this.se, out);
  }

  nextFlushDue(): number | null {
    const ml = this.ml;
    if (ml === null) return null;
    const a = ml.due(this.so);
    const b = ml.due(this.se);
    if (a === null) return b;
    if (b === null) return a;
    return a < b ? a : b;
  }

  resumeOffset(): number {
    let r = this.end;
    if (this.carry.active && this.carry.start < r) r = this.carry.start;
    for (const st of [this.so, this.se]) {
      if (st.open && st.start < r) r = st.start;
      if (st.group !== null && st.groupStart < r) r = st.groupStart;
    }
    return r;
  }

  /** Bytes currently held for pending input (carry, reassembly, multiline groups): for memory checks and metrics. */
  get bufferedBytes(): number {
    return this.carry.held() + this.so.held() + this.se.held();
  }

  reset(offset: number): void {
    this.carry.clear();
    this.so.clear();
    this.se.clear();
    this.end = offset;
    this.setFormat(this.fixed);
  }

  // ---------------------------------------------------------------------------------

  private setFormat(f: LogFormat | null): void {
    this.fmt = f;
    this.docker = f === 'docker';
  }

  /** The caller skipped or re-read bytes: an unterminated line can no longer be completed. */
  private discontinuity(offset: number, out: LogEvent[]): void {
    if (this.carry.active) this.endCarry(this.end, PARTIAL, out);
    this.end = offset;
  }

  /** The carried line got its end (or is flushed without one): process it. */
  private endCarry(fileEnd: number, extra: number, out: LogEvent[]): void {
    const c = this.carry;
    const head = c.head();
    this.dockerParser.reset();
    if (!c.overflow) {
      this.line(head, 0, head.length, c.start, fileEnd, extra, out);
    } else if (this.docker) {
      // Oversized Docker record: message from the head, stream/time from the tail.
      const rec = this.rec;
      if (parseOversized(head, c.tailBytes(), this.max, rec)) this.record(rec, c.start, fileEnd, extra | TRUNCATED, out);
      else this.malformed(head, 0, head.length, fileEnd, extra | TRUNCATED, out);
    } else {
      // Oversized CRI record: the head has the whole header and more than max message bytes.
      this.line(head, 0, head.length, c.start, fileEnd, extra | TRUNCATED, out);
    }
    c.clear();
  }

  /** One physical line buf[s, e) spanning file offsets [fs, fe). */
  private line(buf: Buffer, s: number, e: number, fs: number, fe: number, extra: number, out: LogEvent[]): void {
    if (buf[s] === 0) {
      const s0 = s;
      while (s < e && buf[s] === 0) s++;
      fs += s - s0;
    }
    const rec = this.rec;
    let ok: boolean;
    if (this.docker) ok = this.dockerParser.parse(buf, s, e, rec);
    else if (this.fmt !== null) ok = parseCri(buf, s, e, rec);
    else ok = false;
    if (ok) this.record(rec, fs, fe, extra, out);
    else this.malformed(buf, s, e, fe, extra, out);
  }

  /** A parsed record: either a whole logical line (fast path) or a piece of one. */
  private record(rec: Rec, fs: number, fe: number, extra: number, out: LogEvent[]): void {
    const st = rec.err ? this.se : this.so;
    const max = this.max;
    if (!st.open && !rec.partial) {
      let ts: string;
      let line: string;
      let flags = extra;
      if (rec.kind === STR) {
        ts = rec.tsStr;
        line = rec.msgStr;
        const cut = truncateString(line, max);
        if (cut !== null) {
          line = cut;
          flags |= TRUNCATED;
        }
      } else if (rec.msgEnd - rec.msgStart <= max) {
        // One UTF-8 decode of the record, sliced into ts and message (V8 makes slices
        // of a string without copying): half the native calls of decoding each field.
        // Everything outside the message is ASCII (see Rec), so fields before it are
        // located from the front and fields after it from the back.
        const lo = rec.lo;
        const hi = rec.hi;
        const str = utf8(rec.buf, lo, hi);
        const len = str.length;
        ts = rec.tsStart < rec.msgStart
          ? str.slice(rec.tsStart - lo, rec.tsEnd - lo)
          : str.slice(len - (hi - rec.tsStart), len - (hi - rec.tsEnd));
        line = str.slice(rec.msgStart - lo, len - (hi - rec.msgEnd));
      } else {
        const buf = rec.buf;
        line = utf8(buf, rec.msgStart, cutUtf8(buf, rec.msgStart, rec.msgEnd, max));
        ts = latin1(buf, rec.tsStart, rec.tsEnd);
        flags |= TRUNCATED;
      }
      this.logical(st, ts, line, flags, fs, fe, out);
      return;
    }

    // A piece of a longer logical line: copy its bytes into the stream's accumulator.
    if (rec.kind === STR) {
      if (!st.open) st.begin(rec.tsStr, fs);
      st.appendString(rec.msgStr, max);
    } else {
      if (!st.open) st.begin(latin1(rec.buf, rec.tsStart, rec.tsEnd), fs);
      st.appendBytes(rec.buf, rec.msgStart, rec.msgEnd, max);
    }
    st.flags |= extra;
    st.last = fe;
    if (!rec.partial) this.finish(st, fe, 0, out);
  }

  /** Close the stream's open logical line. */
  private finish(st: StreamState, end: number, extra: number, out: LogEvent[]): void {
    const r = st.take(this.max);
    let flags = st.flags | extra;
    if (r.truncated) flags |= TRUNCATED;
    this.logical(st, st.ts, r.line, flags, st.start, end, out);
  }

  /** A complete logical line: to the multiline stage, or out. */
  private logical(st: StreamState, ts: string, line: string, flags: number, start: number, end: number, out: LogEvent[]): void {
    if (flags !== 0) this.count(flags);
    if (this.ml === null) {
      out.push(makeEvent(ts, st.stream, line, flags, end));
      this.stats.events++;
    } else {
      this.ml.add(st, ts, line, flags, start, end, this.now, out);
    }
  }

  private count(flags: number): void {
    if ((flags & TRUNCATED) !== 0) this.stats.truncated++;
    if ((flags & PARTIAL) !== 0) this.stats.partialFlushed++;
  }

  /** Deliver a line that does not match the format as is, on stdout, flagged Malformed. */
  private malformed(buf: Buffer, s: number, e: number, fe: number, extra: number, out: LogEvent[]): void {
    this.stats.malformed++;
    let flags = extra | MALFORMED;
    const c = cutUtf8(buf, s, e, this.max);
    if (c < e) flags |= TRUNCATED;
    this.count(flags);
    // Keep stdout's events in offset order: what is pending on stdout goes first.
    const so = this.so;
    if (this.forcing && so.open) this.finish(so, so.last, PARTIAL, out);
    if (this.ml !== null) this.ml.emit(so, out);
    out.push(makeEvent(nowTs(), 'stdout', utf8(buf, s, c), flags, fe));
    this.stats.events++;
  }
}

/** What a tailer needs of a framer: the container-log Framer, or RawFramer for plain files. */
export interface LineFramer extends Pick<Framer, 'push' | 'flush' | 'nextFlushDue' | 'resumeOffset' | 'reset' | 'stats' | 'bufferedBytes'> {
  readonly format: LogFormat | 'raw' | null;
  /** Container logs only: plain files take no multiline rule. */
  setMultiline?(opts: MultilineOptions | null, out: LogEvent[]): void;
}

export function createFramer(opts: FramerOptions & { format?: LogFormat | 'auto' }): Framer;
export function createFramer(opts: FramerOptions): LineFramer;
export function createFramer(opts: FramerOptions): LineFramer {
  if (opts.format === 'raw') return new RawFramer(Math.max(1, Math.floor(opts.maxLineBytes)));
  return new Framer(opts);
}
