import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EventBatch } from '../core/batch.js';
import { makeSource, type LogEvent, type Stream } from '../core/event.js';

/**
 * A sink's disk buffer: batches appended to segment files (`seg-<n>.ndjson`, one JSON
 * object per batch), read back in order by the delivery loop. What is in a segment has been
 * acknowledged to its source (the source's checkpoint moves on), so after a crash the buffer,
 * not the log file, is where those events are: the reader position (`reader.json`) says
 * where delivery stopped. The position is saved after deliveries without fsync: after a
 * crash it may lag, and the lag is re-sent (the store drops it by source offset).
 *
 * Memory stays bounded whatever the backlog: the reader holds one read chunk and the
 * records of one delivery, never a whole segment.
 */

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface DiskBufferOptions {
  dir: string;
  /** Cap on the bytes of all segments. */
  maxBytes: number;
  segmentBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
}

interface Segment {
  n: number;
  bytes: number;
}

/** Serialized batch: source id, component, labels, and events as [ts, stream, line, flags, offset]. */
interface Record_ {
  i: string;
  c: string;
  l: Record<string, string>;
  /** [ts, stream, line, flags, offset] and, when the event has parsed fields, the fields. */
  e: Array<[string, Stream, string, number, number] | [string, Stream, string, number, number, Record<string, string>]>;
}

export interface ReadBatch {
  batch: EventBatch;
  /** Position just past this record: where the reader stands once it is delivered. */
  next: { seg: number; pos: number };
}

const READ_CHUNK = 1024 * 1024;

export class DiskBuffer {
  private segments: Segment[] = [];
  private writer: FileHandle | null = null;
  private writerSeg = -1;
  private reader = { seg: 0, pos: 0 };
  private bytes = 0;
  private syncTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  /** Records read ahead of delivery: [start, end) of what was handed out last. */
  private readCursor = { seg: 0, pos: 0 };
  private carry: Buffer = Buffer.alloc(0);
  corruptRecords = 0;

  private constructor(private readonly o: DiskBufferOptions) {}

  static async open(o: DiskBufferOptions): Promise<DiskBuffer> {
    const b = new DiskBuffer(o);
    await mkdir(o.dir, { recursive: true });
    const names = (await readdir(o.dir)).map((f) => /^seg-(\d+)\.ndjson$/.exec(f)).filter((m): m is RegExpExecArray => m !== null);
    for (const m of names.sort((x, y) => Number(x[1]) - Number(y[1]))) {
      const bytes = (await stat(join(o.dir, m[0]))).size;
      b.segments.push({ n: Number(m[1]), bytes });
      b.bytes += bytes;
    }
    try {
      const saved = JSON.parse(await readFile(join(o.dir, 'reader.json'), 'utf8')) as { seg: number; pos: number };
      if (Number.isSafeInteger(saved.seg) && Number.isSafeInteger(saved.pos)) b.reader = saved;
    } catch {
      // No position yet (or unreadable): start at the oldest segment.
    }
    const first = b.segments[0];
    if (first && b.reader.seg < first.n) b.reader = { seg: first.n, pos: 0 };
    b.readCursor = { ...b.reader };
    if (o.fsync === 'interval') {
      b.syncTimer = setInterval(() => void b.sync(), o.fsyncIntervalMs);
      b.syncTimer.unref();
    }
    return b;
  }

  /** Bytes on disk not yet delivered. */
  get sizeBytes(): number {
    const readerSeg = this.segments.find((s) => s.n === this.reader.seg);
    return this.bytes - (readerSeg ? Math.min(this.reader.pos, readerSeg.bytes) : 0);
  }

  get full(): boolean {
    return this.sizeBytes >= this.o.maxBytes;
  }

  /** Whether anything is waiting to be read. */
  get hasUnread(): boolean {
    const last = this.segments.at(-1);
    if (!last) return false;
    return this.readCursor.seg < last.n || (this.readCursor.seg === last.n && this.readCursor.pos < last.bytes) || this.carry.length > 0;
  }

  /** Appends one batch; resolves once written (and fsynced with `always`). */
  async append(batch: EventBatch): Promise<void> {
    const rec: Record_ = { i: batch.source.id, c: batch.source.component, l: { ...batch.source.labels }, e: batch.events.map((e) => (e.fields ? [e.ts, e.stream, e.line, e.flags, e.offset, { ...e.fields }] : [e.ts, e.stream, e.line, e.flags, e.offset])) };
    const data = Buffer.from(`${JSON.stringify(rec)}\n`);
    let seg = this.segments.at(-1);
    if (!seg || !this.writer || seg.bytes >= this.o.segmentBytes) seg = await this.newSegment();
    await this.writer!.write(data, 0, data.length, seg.bytes);
    seg.bytes += data.length;
    this.bytes += data.length;
    if (this.o.fsync === 'always') await this.writer!.sync();
    else this.dirty = true;
  }

  /** Drops the oldest segment (when_full: drop_oldest); returns the events it held. */
  async dropOldest(): Promise<number> {
    const oldest = this.segments[0];
    if (!oldest) return 0;
    let events = 0;
    const text = await readFile(this.path(oldest.n), 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        events += (JSON.parse(line) as Record_).e.length;
      } catch {
        // torn record: nothing countable
      }
    }
    await this.removeSegment(oldest);
    if (this.reader.seg <= oldest.n) this.reader = { seg: oldest.n + 1, pos: 0 };
    if (this.readCursor.seg <= oldest.n) {
      this.readCursor = { seg: oldest.n + 1, pos: 0 };
      this.carry = Buffer.alloc(0);
    }
    return events;
  }

  /**
   * Reads the next records after the read cursor, up to about `maxEvents` events. Records
   * torn by a crash (invalid JSON) are skipped and counted.
   */
  async read(maxEvents: number): Promise<ReadBatch[]> {
    const out: ReadBatch[] = [];
    let events = 0;
    while (events < maxEvents) {
      const seg = this.segments.find((s) => s.n >= this.readCursor.seg);
      if (!seg) break;
      if (seg.n !== this.readCursor.seg) this.readCursor = { seg: seg.n, pos: 0 };
      const nl = this.carry.indexOf(10);
      if (nl < 0) {
        const start = this.readCursor.pos + this.carry.length;
        if (start >= seg.bytes) {
          // End of this segment. The one being written may still grow: wait for it. Any other
          // ends here for good; bytes left without a newline are a record torn by a crash.
          if (seg.n === this.writerSeg || (seg === this.segments.at(-1) && this.carry.length === 0)) break;
          if (this.carry.length > 0) this.corruptRecords++;
          this.carry = Buffer.alloc(0);
          this.readCursor = { seg: seg.n + 1, pos: 0 };
          if (seg === this.segments.at(-1)) break;
          continue;
        }
        const len = Math.min(READ_CHUNK, seg.bytes - start);
        const buf = Buffer.allocUnsafe(len);
        const fh = await open(this.path(seg.n), 'r');
        try {
          await fh.read(buf, 0, len, start);
        } finally {
          await fh.close();
        }
        this.carry = this.carry.length ? Buffer.concat([this.carry, buf]) : buf;
        continue;
      }
      const line = this.carry.subarray(0, nl).toString('utf8');
      this.carry = this.carry.subarray(nl + 1);
      this.readCursor = { seg: seg.n, pos: this.readCursor.pos + nl + 1 };
      let rec: Record_;
      try {
        rec = JSON.parse(line) as Record_;
      } catch {
        this.corruptRecords++;
        continue;
      }
      const source = makeSource(rec.i, rec.c, rec.l);
      const evs: LogEvent[] = rec.e.map(([ts, stream, l, flags, offset, fields]) => (fields ? { ts, stream, line: l, flags, offset, fields } : { ts, stream, line: l, flags, offset }));
      out.push({ batch: new EventBatch(source, evs), next: { ...this.readCursor } });
      events += evs.length;
    }
    return out;
  }

  /** Delivered up to `pos`: remember it, and delete segments wholly behind it. */
  async delivered(pos: { seg: number; pos: number }): Promise<void> {
    this.reader = pos;
    for (const s of [...this.segments]) {
      if (s.n < pos.seg || (s.n === pos.seg && pos.pos >= s.bytes && s !== this.segments.at(-1))) await this.removeSegment(s);
    }
    const tmp = join(this.o.dir, 'reader.json.tmp');
    await writeFile(tmp, JSON.stringify(pos));
    await rename(tmp, join(this.o.dir, 'reader.json'));
  }

  /** Re-read from the last delivered position (after a failed delivery). */
  rewind(): void {
    this.readCursor = { ...this.reader };
    this.carry = Buffer.alloc(0);
  }

  async sync(): Promise<void> {
    if (!this.dirty || !this.writer) return;
    this.dirty = false;
    await this.writer.sync().catch(() => { this.dirty = true; });
  }

  async close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.o.fsync !== 'never') await this.sync();
    await this.writer?.close();
    this.writer = null;
  }

  private path(n: number): string {
    return join(this.o.dir, `seg-${String(n).padStart(10, '0')}.ndjson`);
  }

  private async newSegment(): Promise<Segment> {
    if (this.writer) {
      if (this.o.fsync !== 'never') await this.writer.sync();
      await this.writer.close();
    }
    const n = (this.segments.at(-1)?.n ?? this.reader.seg - 1) + 1;
    this.writer = await open(this.path(n), 'a');
    this.writerSeg = n;
    // Always a new file: an older segment may end in a record torn by a crash.
    const seg = { n, bytes: 0 };
    this.segments.push(seg);
    return seg;
  }

  private async removeSegment(s: Segment): Promise<void> {
    if (s.n === this.writerSeg) {
      await this.writer?.close();
      this.writer = null;
      this.writerSeg = -1;
    }
    await rm(this.path(s.n), { force: true });
    this.segments = this.segments.filter((x) => x !== s);
    this.bytes -= s.bytes;
  }
}
