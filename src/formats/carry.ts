/** Bytes of an oversized physical line kept from its end (Docker's stream/time live there). */
export const TAIL_BYTES = 1024;

/**
 * The unterminated physical line at the end of the last chunk, copied out of the
 * caller's read buffer (which is reused). Holds at most `cap` bytes: past that the
 * line is "oversized" and only its head (first cap bytes) and a small tail window are
 * kept until its '\n' arrives, so a gigantic line without newline stays bounded.
 */
export class LineCarry {
  active = false;
  /** File offset of the line's first byte. */
  start = 0;
  /** The head overflowed: bytes after the first `cap` were dropped (but the tail window). */
  overflow = false;
  len = 0;
  private buf: Buffer | null = null;
  private tail: Buffer | null = null;
  private tailLen = 0;

  constructor(private readonly cap: number) {}

  begin(src: Buffer, s: number, e: number, fileOffset: number): void {
    this.active = true;
    this.start = fileOffset;
    this.len = 0;
    this.overflow = false;
    this.tailLen = 0;
    this.add(src, s, e);
  }

  add(src: Buffer, s: number, e: number): void {
    if (!this.overflow) {
      const room = this.cap - this.len;
      const n = e - s;
      if (n <= room) {
        this.ensure(this.len + n);
        src.copy(this.buf as Buffer, this.len, s, e);
        this.len += n;
        return;
      }
      this.ensure(this.cap);
      src.copy(this.buf as Buffer, this.len, s, s + room);
      this.len = this.cap;
      this.overflow = true;
      s += room;
    }
    this.addTail(src, s, e);
  }

  private addTail(src: Buffer, s: number, e: number): void {
    const n = e - s;
    if (n <= 0) return;
    if (this.tail === null) this.tail = Buffer.allocUnsafeSlow(TAIL_BYTES);
    const tail = this.tail;
    if (n >= TAIL_BYTES) {
      src.copy(tail, 0, e - TAIL_BYTES, e);
      this.tailLen = TAIL_BYTES;
      return;
    }
    const keep = Math.min(this.tailLen, TAIL_BYTES - n);
    tail.copyWithin(0, this.tailLen - keep, this.tailLen);
    src.copy(tail, keep, s, e);
    this.tailLen = keep + n;
  }

  private ensure(n: number): void {
    const buf = this.buf;
    if (buf !== null && buf.length >= n) return;
    let size = buf === null ? 512 : buf.length * 2;
    if (size < n) size = n;
    if (size > this.cap) size = this.cap;
    // Not from Buffer's pool, where a small slice would pin a whole slab for as long as it lives.
    const next = Buffer.allocUnsafeSlow(size);
    if (buf !== null && this.len > 0) buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** The kept head (a view: valid until the next add/begin/clear). */
  head(): Buffer {
    return (this.buf ?? Buffer.alloc(0)).subarray(0, this.len);
  }

  /** The tail window of an oversized line. */
  tailBytes(): Buffer {
    return (this.tail ?? Buffer.alloc(0)).subarray(0, this.tailLen);
  }

  /** Bytes of memory held (allocated buffers). */
  held(): number {
    return (this.buf?.length ?? 0) + (this.tail?.length ?? 0);
  }

  clear(): void {
    this.active = false;
    this.len = 0;
    this.overflow = false;
    this.tailLen = 0;
    // Released, for the same reason as StreamState's accumulator (thousands of files held open
    // through an outage); the next carry allocates anew, once per chunk at most.
    this.buf = null;
    this.tail = null;
  }
}
