import type { Stream } from '../core/event.js';
import { cutUtf8, utf8 } from './bytes.js';

/**
 * Per-stream state: the logical line being reassembled from CRI P records / Docker
 * partials, and the multiline group being collected. Kept per stream so interleaved
 * stdout/stderr records never mix.
 */
export class StreamState {
  // --- reassembly (P…F / Docker partials) ---
  /** A logical line is open (a P record / partial was seen, its end not yet). */
  open = false;
  /** File offset of the first physical line of the open logical line. */
  start = 0;
  /** File offset just past the last physical line added to it. */
  last = 0;
  /** ts of its first record. */
  ts = '';
  flags = 0;
  /** Bytes beyond the cap (or a char that did not fit) were dropped. */
  private dropped = false;
  /** Message bytes so far, at most max + 1 (one extra byte shows where a cut must back off). */
  private acc: Buffer | null = null;
  private accLen = 0;

  // --- multiline group (managed by Multiline) ---
  group: string[] | null = null;
  groupTs = '';
  groupFlags = 0;
  /** File offset of the first physical line of the group. */
  groupStart = 0;
  /** Offset of its last line (the group's event offset). */
  groupEnd = 0;
  groupBytes = 0;
  /** When its last line was added (ms). */
  groupAt = 0;
  groupState = '';

  constructor(readonly stream: Stream) {}

  begin(ts: string, start: number): void {
    this.open = true;
    this.start = start;
    this.ts = ts;
    this.flags = 0;
    this.dropped = false;
    this.accLen = 0;
  }

  private ensure(n: number, cap: number): void {
    const acc = this.acc;
    if (acc !== null && acc.length >= n) return;
    let size = acc === null ? 1024 : acc.length * 2;
    if (size < n) size = n;
    if (size > cap) size = cap;
    // Not from Buffer's pool, where a small slice would pin a whole slab for as long as it lives.
    const next = Buffer.allocUnsafeSlow(size);
    if (acc !== null && this.accLen > 0) acc.copy(next, 0, 0, this.accLen);
    this.acc = next;
  }

  /** Copy message bytes src[s, e) (never keeps a reference to src). */
  appendBytes(src: Buffer, s: number, e: number, max: number): void {
    const cap = max + 1;
    const room = cap - this.accLen;
    let n = e - s;
    if (n > room) {
      n = room;
      this.dropped = true;
    }
    if (n <= 0) return;
    this.ensure(this.accLen + n, cap);
    src.copy(this.acc as Buffer, this.accLen, s, s + n);
    this.accLen += n;
  }

  appendString(str: string, max: number): void {
    const cap = max + 1;
    const room = cap - this.accLen;
    if (room <= 0) {
      if (str.length > 0) this.dropped = true;
      return;
    }
    const want = str.length * 3 < room ? str.length * 3 : room;
    this.ensure(this.accLen + want, cap);
    // write() never writes part of a character, so compare with the real length.
    const n = (this.acc as Buffer).write(str, this.accLen, room, 'utf8');
    if (n < Buffer.byteLength(str, 'utf8')) this.dropped = true;
    this.accLen += n;
  }

  /** The reassembled message (cut to max on a character boundary) and whether it was cut; closes the line. */
  take(max: number): { line: string; truncated: boolean } {
    const acc = this.acc;
    let line = '';
    let truncated = this.dropped;
    if (acc !== null && this.accLen > 0) {
      const end = cutUtf8(acc, 0, this.accLen, max);
      if (end < this.accLen) truncated = true;
      line = utf8(acc, 0, end);
    }
    this.open = false;
    this.accLen = 0;
    this.dropped = false;
    // Released, not kept for the next chain: a node holds thousands of files open through an
    // outage, and a kept buffer per stream was most of the agent's external memory then. A
    // chain is a long line; one allocation for it is nothing next to its bytes.
    this.acc = null;
    return { line, truncated };
  }

  /** Approximate bytes held: accumulator buffer plus the pending group's lines. */
  held(): number {
    return (this.acc?.length ?? 0) + (this.group !== null ? this.groupBytes : 0);
  }

  /** Forget everything (reset). */
  clear(): void {
    this.open = false;
    this.accLen = 0;
    this.dropped = false;
    this.acc = null;
    this.group = null;
    this.groupBytes = 0;
  }
}
