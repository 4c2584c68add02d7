/** How a frame ended: whole, cut to the maximum size, or cut short by the connection's end. */
export type FrameEnd = 'whole' | 'truncated' | 'partial';

/** Receives each frame (a view of a buffer valid only during the call). */
export type FrameSink = (buf: Buffer, start: number, end: number, how: FrameEnd) => void;

const SP = 0x20;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a TCP syslog stream into messages (RFC 6587). The framing is recognised at the start
 * of every frame, as rsyslog does: a non-zero digit starts an octet count (`LEN SP MSG`),
 * anything else is a message ending at LF (non-transparent framing). Frames longer than
 * `maxBytes` are delivered cut to it and the rest is skipped, so memory per connection is
 * bounded by one maximum-size frame whatever a sender writes.
 */
export class SyslogFramer {
  private carry: Buffer | null = null;
  /** Bytes of an oversized octet-counted frame still to skip. */
  private skip = 0;
  /** Skipping the rest of an oversized LF-terminated frame. */
  private skipLine = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer, out: FrameSink): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let pos = 0;
    const n = buf.length;
    while (pos < n) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - pos);
        this.skip -= k;
        pos += k;
        continue;
      }
      if (this.skipLine) {
        const lf = buf.indexOf(LF, pos);
        if (lf < 0) return;
        this.skipLine = false;
        pos = lf + 1;
        continue;
      }
      const c = buf[pos]!;
      // Separators some senders put between frames (LF after an octet-counted frame, NUL).
      if (c === LF || c === CR || c === 0 || c === SP) {
        pos++;
        continue;
      }
      if (c >= 0x31 && c <= 0x39) {
        const r = this.octetCounted(buf, pos, out);
        if (r === -1) {
          this.keep(buf, pos);
          return;
        }
        if (r >= 0) {
          pos = r;
          continue;
        }
        // -2: digits not followed by SP: not a count; read as an LF-terminated frame.
      }
      const lf = buf.indexOf(LF, pos);
      if (lf < 0) {
        if (n - pos > this.maxBytes) {
          out(buf, pos, pos + this.maxBytes, 'truncated');
          this.skipLine = true;
          return;
        }
        this.keep(buf, pos);
        return;
      }
      let end = lf;
      if (end > pos && buf[end - 1] === CR) end--;
      if (end - pos > this.maxBytes) out(buf, pos, pos + this.maxBytes, 'truncated');
      else out(buf, pos, end, 'whole');
      pos = lf + 1;
    }
  }

  /** The connection ended: what is left is a last message without its LF, or a frame cut short. */
  end(out: FrameSink): void {
    const rest = this.carry;
    this.carry = null;
    if (!rest || rest.length === 0) return;
    const sp = rest.indexOf(SP);
    const count = sp > 0 && sp <= 10 && /^[1-9][0-9]*$/.test(rest.toString('latin1', 0, sp));
    if (count) {
      if (rest.length > sp + 1) out(rest, sp + 1, rest.length, 'partial');
      return;
    }
    let end = rest.length;
    if (rest[end - 1] === CR) end--;
    if (end > 0) out(rest, 0, end, 'whole');
  }

  /** Pending bytes held for the next chunk (bounded: at most one frame under the maximum). */
  get pending(): number {
    return this.carry?.length ?? 0;
  }

  /** Position after the frame; -1 when more bytes are needed; -2 when this is not a count. */
  private octetCounted(buf: Buffer, pos: number, out: FrameSink): number {
    let len = 0;
    let i = pos;
    for (; i < buf.length && i - pos < 10; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      len = len * 10 + d;
    }
    if (i === buf.length) return i - pos < 10 ? -1 : -2;
    if (buf[i] !== SP) return -2;
    const start = i + 1;
    const avail = buf.length - start;
    if (len > this.maxBytes) {
      if (avail < this.maxBytes) return -1;
      out(buf, start, start + this.maxBytes, 'truncated');
      const taken = Math.min(avail, len);
      this.skip = len - taken;
      return start + taken;
    }
    if (avail < len) return -1;
    out(buf, start, start + len, 'whole');
    return start + len;
  }

  private keep(buf: Buffer, pos: number): void {
    // A copy: `buf` may be a pooled chunk of the socket, reused once this returns.
    this.carry = Buffer.from(buf.subarray(pos));
  }
}
