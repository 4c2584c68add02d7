import { NEEDS_ESCAPE } from '../shared/ndjson.js';

/**
 * Writes JSONEachRow rows straight into one growing Buffer. Hand-written for the reason the
 * NDJSON encoder is: building a string per member, joining them per row and encoding the joined
 * rows allocated several times the output, and the garbage collector's share of the sink's CPU
 * was as large as the encoding's. Lines without characters to escape are copied as they are.
 */
export class RowWriter {
  private buf: Buffer;
  private pos = 0;
  private first = true;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  reset(): void {
    this.pos = 0;
  }

  begin(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0x7b; // {
    this.first = true;
  }

  end(): void {
    this.ensure(2);
    this.buf[this.pos++] = 0x7d; // }
    this.buf[this.pos++] = 0x0a; // \n
  }

  /** Starts a member: `"name":` (given already quoted), after a comma unless it is the first. */
  key(quotedWithColon: string): void {
    this.ensure(quotedWithColon.length * 3 + 1);
    if (!this.first) this.buf[this.pos++] = 0x2c; // ,
    this.first = false;
    this.pos += this.buf.write(quotedWithColon, this.pos, 'utf8');
  }

  /** Whole members written elsewhere (`"a":1,"b":2`), e.g. a source's cached part. */
  members(text: string): void {
    if (text === '') return;
    this.key(text);
  }

  /** JSON text as it is: numbers, objects already serialized. */
  raw(text: string): void {
    this.ensure(text.length * 3);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  /** A JSON string. */
  str(s: string): void {
    if (NEEDS_ESCAPE.test(s)) return this.raw(JSON.stringify(s));
    // Worst case 3 bytes per UTF-16 unit, plus the quotes.
    this.ensure(s.length * 3 + 2);
    const b = this.buf;
    b[this.pos++] = 0x22;
    this.pos += b.write(s, this.pos, 'utf8');
    b[this.pos++] = 0x22;
  }

  /** The rows written since reset; valid until the next write after reset. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
