import { stat } from 'node:fs/promises';
import { readSync } from 'node:fs';
import type { LimitFunction } from 'p-limit';
import type { LogFile } from './log-file.js';
import { EventBatch } from '../../core/batch.js';
import { orphanKey, type CheckpointStore, type FileCheckpoint } from '../../core/checkpoints.js';
import type { SourceContext } from '../../core/component.js';
import { makeSource, type EventSource, type Labels, type LogEvent } from '../../core/event.js';
import { createFramer, type FramerOptions, type LineFramer, type MultilineOptions } from '../../formats/index.js';
import { CONTENT_ID_MAX, contentHashOfHead, FINGERPRINT_MAX, fingerprint, fingerprintOfHead, firstLineHash, hashOf, type Fingerprint } from './fingerprint.js';
import type { ReadSlots } from './read-slots.js';

/** Where reading starts: an offset plus, per stream, the last event end already delivered. */
export interface StartPosition {
  offset: number;
  stdout: number;
  stderr: number;
}

export interface TailerOptions {
  /** Path the file was found at (may be a symlink); watched for rotation and deletion. */
  path: string;
  fh: LogFile;
  dev: number;
  ino: number;
  /** Known fingerprint (from the checkpoint that matched), or null to compute it. */
  fp: Fingerprint | null;
  labels: Labels;
  start: StartPosition;
  framer: FramerOptions;
  slots: ReadSlots;
  checkpoints: CheckpointStore;
  ctx: SourceContext;
  /** How often to look for new data when no watch event says so. */
  pollMs: number;
  /** After rotation or deletion, keep reading until the file has been quiet this long. */
  rotateWaitMs: number;
  /** The file was already rotated away when found (after a restart): drain it, then close. */
  rotated?: boolean;
  /**
   * Birth time of the file (ms; 0 or absent where the filesystem keeps none). Lets a file be
   * recorded before its first line is complete (see FileCheckpoint.born).
   */
  born?: number;
  /** Shared by a source's tailers: bounds how many idle files are looked at at once. */
  pollGate?: LimitFunction;
  /** Called once the tailer has closed its file. */
  onClosed: (t: Tailer) => void;
  /** Checkpoint key, when not `dev:ino` (an older file whose inode a newer one now has). */
  key?: string;
  /**
   * Device and inode to name the events' source by, when not this file's: a copytruncate copy
   * carries on the original's content, so it keeps the original's source id (and the store's
   * replay watermark for it).
   */
  identity?: { dev: number; ino: number };
  /**
   * Names the events' source by content instead of device and inode: `<scope>@<first-line
   * hash>`. The same content then has the same source id wherever it is read from (the file,
   * its rotated name, its compressed copy), so the store's replay watermark covers all of them.
   * Only for sources whose first lines are unique within a scope (timestamped container logs).
   */
  contentScope?: string;
}

/** An idle file is polled at most this many times less often than a busy one. */
const IDLE_POLL_FACTOR = 8;

interface Pending {
  snap: StartPosition;
  acked: boolean;
  /** Which incarnation of the file's content (bumped by copytruncate) the offsets refer to. */
  generation: number;
  /** When it was emitted (for the checkpoint lag in seconds). */
  at: number;
}

/**
 * Follows one file by descriptor: reads a chunk per turn, frames it into events, emits a
 * batch per chunk and advances its checkpoint only as batches are acknowledged, in order.
 * Holding the descriptor is what makes rotation lossless: a renamed or deleted file is read
 * to its end through the open descriptor before it is closed.
 */
export class Tailer {
  readonly key: string;
  private readonly framer: LineFramer;
  private offset: number;
  private lastEnd: { stdout: number; stderr: number };
  private source: EventSource | null = null;
  private fp: Fingerprint | null;
  private pending: Pending[] = [];
  private stopping = false;
  private closed = false;
  /** The path no longer leads to this file: drain, then close. */
  private detached = false;
  private lastGrowth = Date.now();
  private wake: (() => void) | null = null;
  private notified = false;
  private caughtUp = false;
  private caughtUpWaiters: Array<() => void> = [];
  private loop: Promise<void> | null = null;
  private readonly counted = { truncated: 0, malformed: 0, partialFlushed: 0 };
  private generation = 0;
  /** Read to the file's final end (see FileCheckpoint.drained). */
  private drained = false;

  constructor(private readonly o: TailerOptions) {
    this.key = o.key ?? `${o.dev}:${o.ino}`;
    this.framer = createFramer(o.framer);
    this.offset = o.start.offset;
    this.lastEnd = { stdout: o.start.stdout, stderr: o.start.stderr };
    this.fp = o.fp;
    this.detached = o.rotated ?? false;
  }

  get path(): string {
    return this.o.path;
  }

  get labels(): Labels {
    return this.o.labels;
  }

  /**
   * How far the checkpoint is behind what was read: bytes read but not yet acknowledged, and
   * since when the oldest unacknowledged batch waits (null: none waits).
   */
  lag(): { bytes: number; since: number | null } {
    const cp = this.o.checkpoints.get(this.key);
    return { bytes: Math.max(0, this.offset - (cp?.offset ?? this.o.start.offset)), since: this.pending[0]?.at ?? null };
  }

  /** Every batch emitted was acknowledged (the checkpoint is as far as it will go). */
  get settled(): boolean {
    return this.pending.length === 0;
  }

  start(): void {
    this.loop = this.run().catch((err) => {
      this.o.ctx.metrics.fileErrors.inc({ component: this.o.ctx.name });
      this.o.ctx.log.error({ path: this.o.path, err: (err as Error).message }, 'tailer failed; closing file');
      return this.close('error');
    });
  }

  /** A multiline rule to switch to before the next chunk (undefined: none pending). */
  private multilineChange: MultilineOptions | null | undefined;

  /** Group lines by another rule from the next chunk on (the pod's annotation changed). */
  setMultiline(opts: MultilineOptions | null): void {
    this.multilineChange = opts;
  }

  /** Something happened to the file (watch event): look now rather than at the next poll. */
  notify(): void {
    this.notified = true;
    this.idlePolls = 0;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves once the file was read to its current end at least once. */
  whenCaughtUp(): Promise<void> {
    if (this.caughtUp || this.closed) return Promise.resolve();
    return new Promise((r) => this.caughtUpWaiters.push(r));
  }

  /** Stop reading (agent shutdown). The checkpoint keeps what was acknowledged. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.notify();
    await this.loop;
  }

  /** Close the descriptor at shutdown, keeping the checkpoint. */
  async release(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.o.fh.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const { ctx } = this.o;
    const out: LogEvent[] = [];
    await this.recordStart();
    // Resuming inside a file: name its content now, from the file as it is when reading
    // starts (a copytruncate later must not name these events after the next content).
    if (this.o.contentScope !== undefined && this.offset > 0) await this.nameResumedContent();
    while (!this.stopping) {
      // Read while there is known to be more; at the end of it, an fstat says whether the
      // file grew, shrank or is idle. An idle file so costs no read slot: thousands of them
      // polling through the slot queue would make a hot file wait a whole round per chunk.
      const n = this.offset < this.sizeSeen ? await this.readChunk(out) : 0;
      if (n !== 0) continue; // -1: started over
      if (this.stopping) break;
      const size = await this.idleLook(() => this.o.fh.stat().then((st) => st.size));
      if (size < this.offset) {
        this.startOver('file truncated under the read offset (copytruncate); reading from the start', { size });
        continue;
      }
      if (size > this.offset) {
        this.sizeSeen = size;
        // Known to have existed: if the file is deleted before it is read, this much is lost.
        this.o.checkpoints.noteSize(this.key, size);
        this.idlePolls = 0;
        continue;
      }
      // At the end of what is written so far.
      this.framer.flush(out, Date.now(), ctx.exitWhenDrained);
      await this.emit(out);
      if (await this.idleLook(() => this.checkDetached())) {
        this.framer.flush(out, Date.now(), true);
        await this.emit(out);
        this.drained = true;
        const cp = this.o.checkpoints.get(this.key);
        if (cp) this.o.checkpoints.set(this.key, { ...cp, drained: true, size: Math.max(cp.size ?? 0, this.offset) });
        await this.close(this.detachedReason);
        return;
      }
      this.markCaughtUp();
      await this.sleep();
    }
  }

  /**
   * A look at a file that was idle at the last one waits its turn in the source's poll gate:
   * a node's thousands of quiet files then poll as fast as the gate lets them instead of
   * flooding the thread pool that reads and discovery need. A file that just had data, or
   * whose directory watch just said something changed, looks at once.
   */
  private idleLook<T>(look: () => Promise<T>): Promise<T> {
    return this.idlePolls > 0 && this.o.pollGate ? this.o.pollGate(look) : look();
  }

  /** File size last seen by fstat: reading goes on without another look until here. */
  private sizeSeen = 0;
  /** Polls in a row that found nothing new (the poll interval backs off with them). */
  private idlePolls = 0;

  /**
   * Put the file in the checkpoints as soon as it is opened, and on disk at once: after a
   * crash, a restart then knows the file (and where reading started) even if no batch was
   * acknowledged yet — so if the runtime deletes it meanwhile, the loss is reported from there
   * instead of going unnoticed. Concurrent flushes coalesce into one write.
   */
  private async recordStart(): Promise<void> {
    if (this.recorded) return;
    if (!this.fp) this.fp = await fingerprint(this.o.fh);
    this.record();
  }

  /**
   * recordStart, once the fingerprint is known: at opening, or for a file opened before its
   * first line was complete (a new current file), at its first read. Without it such a file
   * has no checkpoint until a batch of it is acknowledged, and an agent killed before that
   * finds nothing on restart to tell it the file existed, should the runtime delete it.
   */
  private record(): void {
    if (this.recorded) return;
    const existing = this.o.checkpoints.get(this.key);
    if (!this.fp) {
      // No complete first line yet (a file just created): recorded by birth time, so that an
      // agent killed before it is read still knows on restart that it existed.
      if (!existing && this.o.born && this.generation === 0 && this.o.start.offset === 0) {
        this.o.checkpoints.set(this.key, { ...this.entry({ fp: '', len: 0 }, { offset: 0, stdout: -1, stderr: -1 }), born: this.o.born });
        this.o.checkpoints.flushSoon();
      }
      return;
    }
    this.recorded = true;
    if (existing && existing.fpLen > 0) return;
    this.o.checkpoints.set(this.key, {
      ...this.entry(this.fp, this.generation === 0 ? this.o.start : { offset: 0, stdout: -1, stderr: -1 }),
      ...(existing?.size !== undefined ? { size: existing.size } : {}),
    });
    // Written within ~100 ms rather than at the next checkpoint_interval, but not waited for:
    // waiting would let a busy file read several chunks ahead of a new one (a fairness test
    // measures it), and writing at once for each of thousands of new files costs a whole
    // checkpoint file each time.
    this.o.checkpoints.flushSoon();
  }

  private recorded = false;
  /** Hash of the whole first line of the content being read (content-named sources). */
  private contentHash: string | null = null;

  /**
   * A chunk read from offset 0: name the content by the first line in it, from the very bytes
   * read. Re-reading the file for it later would race with a copytruncate, which may have
   * replaced the content meanwhile.
   */
  private noteFirstChunk(chunk: Buffer): void {
    const known = this.fp;
    if (known && (chunk.length < known.len || hashOf(chunk.subarray(0, known.len)) !== known.fp)) this.replacedUnread(known);
    // The fingerprint too, for a file empty when opened.
    this.fp ??= fingerprintOfHead(chunk);
    if (this.o.contentScope === undefined || this.contentHash !== null) return;
    this.contentHash = contentHashOfHead(chunk);
  }

  /**
   * The content fingerprinted before its first read (at opening, or by a scan asking for it)
   * was replaced before any of it was read: a copytruncate in between. Its record lives on under
   * its own name, so its copy is read from the start or its loss reported; what is read now is
   * the new content, recorded as such. Taking the new bytes for the old content would hide the
   * old content's loss and name the new one wrongly.
   */
  private replacedUnread(old: Fingerprint): void {
    this.o.ctx.metrics.truncations.inc({ component: this.o.ctx.name });
    const cp = this.o.checkpoints.get(this.key);
    const kept = cp && cp.fp === old.fp ? orphanKey(this.key, cp.fp) : null;
    if (kept) {
      this.o.checkpoints.set(kept, cp!);
      this.o.checkpoints.delete(this.key);
    }
    this.o.ctx.log.warn({ path: this.o.path, offset: this.offset, kept, readTo: kept ? cp!.offset : null }, 'file content replaced before it was read (copytruncate); reading the new content');
    this.recorded = false;
    this.fp = null;
    this.source = null;
    this.contentHash = null;
  }

  private markCaughtUp(): void {
    if (this.caughtUp) return;
    this.caughtUp = true;
    for (const w of this.caughtUpWaiters.splice(0)) w();
  }

  private sleep(): Promise<void> {
    if (this.notified || this.stopping) {
      this.notified = false;
      return Promise.resolve();
    }
    // A file idle for a while is looked at less often, up to IDLE_POLL_FACTOR times the poll
    // interval: a node has thousands of quiet files, and a write to one wakes it through the
    // directory watch anyway. A rotating file keeps the short interval (rotate_wait counts).
    const poll = this.detached ? this.o.pollMs : this.o.pollMs * Math.min(IDLE_POLL_FACTOR, 2 ** Math.floor(this.idlePolls / 4));
    this.idlePolls++;
    const due = this.framer.nextFlushDue();
    const ms = due === null ? poll : Math.max(1, Math.min(poll, due - Date.now()));
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.notified = false; resolve(); };
    });
  }

  /** The file's content was replaced (copytruncate): read the new content from its start. */
  private startOver(why: string, extra: Record<string, number> = {}): void {
    this.o.ctx.metrics.truncations.inc({ component: this.o.ctx.name });
    // The old content lives on in the copy (a rotated sibling with the same first line): keep
    // what was acknowledged of it under its own name, so the copy is read from there on, as
    // the same source (see KubernetesLogsSource.decide), or its unread bytes counted.
    const cp = this.o.checkpoints.get(this.key);
    const kept = cp && this.fp && cp.fp === this.fp.fp ? orphanKey(this.key, cp.fp) : null;
    if (kept) this.o.checkpoints.set(kept, { ...cp!, size: Math.max(cp!.size ?? 0, this.offset) });
    // `kept`: where the old content's acknowledged offset (`readTo`) lives on, for its copy.
    this.o.ctx.log.warn({ path: this.o.path, ...extra, offset: this.offset, kept, readTo: kept ? cp!.offset : null }, why);
    // The file's own entry is for the new content, recorded afresh once its first line is
    // read: the old one's offsets and size would misstate what is lost if it vanished.
    this.o.checkpoints.delete(this.key);
    this.recorded = false;
    this.offset = 0;
    this.sizeSeen = 0;
    this.generation++;
    this.framer.reset(0);
    this.lastEnd = { stdout: -1, stderr: -1 };
    this.fp = null;
    this.source = null;
    this.contentHash = null;
  }

  /**
   * Resuming inside a file: name its content from the file as it is now, checking that it is
   * still the content the checkpoint was for. A copytruncate between the check that matched
   * the checkpoint and here, with the new content already past the offset, would otherwise
   * go unnoticed: new bytes read as the rest of the old content, under the old content's id.
   */
  private async nameResumedContent(): Promise<void> {
    const buf = Buffer.allocUnsafe(CONTENT_ID_MAX);
    const { bytesRead } = await this.o.fh.read(buf, 0, CONTENT_ID_MAX, 0);
    const head = buf.subarray(0, bytesRead);
    if (this.fp && (head.length < this.fp.len || hashOf(head.subarray(0, this.fp.len)) !== this.fp.fp)) {
      this.startOver('file content replaced since its checkpoint (copytruncate); reading from the start');
      return;
    }
    this.contentHash = contentHashOfHead(head);
  }

  private detachedReason: 'rotated' | 'deleted' = 'rotated';

  private async checkDetached(): Promise<boolean> {
    if (!this.detached) {
      try {
        const st = await stat(this.o.path);
        if (st.ino !== this.o.ino || st.dev !== this.o.dev) {
          this.detached = true;
          this.detachedReason = 'rotated';
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.detached = true;
        this.detachedReason = 'deleted';
      }
      if (this.detached) this.lastGrowth = Date.now();
    }
    // Writers may finish a last write into the renamed file; wait until it has been quiet.
    return this.detached && Date.now() - this.lastGrowth >= this.o.rotateWaitMs;
  }

  private async emit(out: LogEvent[]): Promise<void> {
    if (out.length === 0) return;
    const { ctx } = this.o;
    // Drop what a previous run already delivered (per stream: offsets rise per stream).
    let events: LogEvent[];
    if (this.lastEnd.stdout >= 0 || this.lastEnd.stderr >= 0) {
      events = out.filter((ev) => ev.offset > (ev.stream === 'stdout' ? this.lastEnd.stdout : this.lastEnd.stderr));
      if (events.length !== out.length) ctx.metrics.replaySkipped.inc({ component: ctx.name }, out.length - events.length);
    } else {
      events = out.slice();
    }
    for (const ev of events) {
      if (ev.stream === 'stdout') this.lastEnd.stdout = ev.offset;
      else this.lastEnd.stderr = ev.offset;
    }
    out.length = 0;
    this.countFramerStats();
    if (events.length === 0) return;
    const source = this.source ?? (await this.makeSource());
    // A file empty when opened is recorded at its first events.
    await this.recordStart();
    const p: Pending = { snap: { offset: this.framer.resumeOffset(), ...this.lastEnd }, acked: false, generation: this.generation, at: Date.now() };
    this.pending.push(p);
    ctx.metrics.eventsIn.inc({ component: ctx.name }, events.length);
    ctx.emit(new EventBatch(source, events, () => {
      p.acked = true;
      this.commitAcked();
    }));
  }

  private countFramerStats(): void {
    const { ctx } = this.o;
    const s = this.framer.stats;
    const labels = { component: ctx.name };
    if (s.truncated !== this.counted.truncated) ctx.metrics.truncated.inc(labels, s.truncated - this.counted.truncated);
    if (s.malformed !== this.counted.malformed) ctx.metrics.malformed.inc(labels, s.malformed - this.counted.malformed);
    if (s.partialFlushed !== this.counted.partialFlushed) ctx.metrics.partialFlushed.inc(labels, s.partialFlushed - this.counted.partialFlushed);
    this.counted.truncated = s.truncated;
    this.counted.malformed = s.malformed;
    this.counted.partialFlushed = s.partialFlushed;
  }

  /** What the checkpoint keeps of the file's identity as a source. */
  private identityFields(): { sourceDev?: number; sourceIno?: number; scope?: string } {
    return {
      ...(this.o.identity ? { sourceDev: this.o.identity.dev, sourceIno: this.o.identity.ino } : {}),
      ...(this.o.contentScope !== undefined ? { scope: this.o.contentScope } : {}),
    };
  }

  private async makeSource(): Promise<EventSource> {
    if (!this.fp) this.fp = await fingerprint(this.o.fh);
    // Events exist, so a first line exists; the fallback only covers a file truncated meanwhile.
    const fp = this.fp ?? { fp: 'none', len: 0 };
    const id = this.o.identity ?? this.o;
    const content = this.o.contentScope !== undefined ? (this.contentHash ?? (await firstLineHash(this.o.fh).catch(() => null)) ?? fp.fp) : null;
    const sourceId = content !== null ? `${this.o.contentScope}@${content}` : `${id.dev}:${id.ino}:${fp.fp}`;
    this.source = makeSource(sourceId, this.o.ctx.name, this.o.labels);
    return this.source;
  }

  /** The file's first-line fingerprint, computed now if not known yet (null: no first line yet). */
  async knownFingerprint(): Promise<Fingerprint | null> {
    if (!this.fp && !this.closed) this.fp = await fingerprint(this.o.fh).catch(() => null);
    return this.fp;
  }

  get contentScope(): string | undefined {
    return this.o.contentScope;
  }

  /**
   * Read and emit one chunk at the offset, holding a read slot; returns the bytes read, or -1
   * when the file's content turned out replaced (reading starts over).
   */
  private async readChunk(out: LogEvent[]): Promise<number> {
    const { ctx, slots } = this.o;
    // Hold a read slot while waiting for room, so at most `read_concurrency` chunks can be
    // read past a full buffer, however many files there are.
    const buf = await slots.acquire();
    try {
      await ctx.waitForRoom();
      if (this.stopping) return 0;
      const n = (await this.o.fh.read(buf, 0, buf.length, this.offset)).bytesRead;
      const same = n > 0 && this.offset > 0 && this.fp ? await this.sameContent() : true;
      if (!same) {
        this.startOver('file content replaced under the read offset (copytruncate); reading from the start');
        return -1;
      }
      if (n > 0) {
        if (this.offset === 0) {
          this.noteFirstChunk(buf.subarray(0, n));
          this.record();
        }
        if (this.multilineChange !== undefined) {
          this.framer.setMultiline?.(this.multilineChange, out);
          this.multilineChange = undefined;
        }
        this.framer.push(buf.subarray(0, n), this.offset, out);
        this.offset += n;
        if (this.offset > this.sizeSeen) this.sizeSeen = this.offset;
        this.idlePolls = 0;
        this.o.checkpoints.noteSize(this.key, this.offset);
        this.lastGrowth = Date.now();
        ctx.metrics.bytesIn.inc({ component: ctx.name }, n);
        await this.emit(out);
      }
      return n;
    } finally {
      slots.release(buf);
    }
  }

  /**
   * Whether the file still starts as the content being read. Checked after each read past
   * the start: a copytruncate whose new content has already outgrown the read offset is
   * invisible to a size check, and the bytes just read would be new content read as the
   * rest of the old. Checked after the read, so a head that still matches proves the read
   * happened before any truncation. One small read per chunk.
   */
  private async sameContent(): Promise<boolean> {
    const fp = this.fp!;
    // Not from Buffer's shared pool: a small long-lived slice would pin a whole 8 KiB slab
    // per file, and an agent holds thousands of files open during an outage.
    const scratch = (this.headScratch ??= Buffer.allocUnsafeSlow(FINGERPRINT_MAX));
    const n = await readHead(this.o.fh, scratch, fp.len);
    if (n !== fp.len) return false;
    const head = scratch.subarray(0, n);
    // The hash once per fingerprint, then byte comparison against the head it proved: this
    // runs for every chunk, and hashing was a measurable share of a chunk's cost.
    if (this.headProved?.fp === fp) return head.equals(this.headProved.bytes);
    if (hashOf(head) !== fp.fp) return false;
    this.headProved = { fp, bytes: Buffer.from(head) };
    return true;
  }

  private headScratch: Buffer | null = null;
  private headProved: { fp: Fingerprint; bytes: Buffer } | null = null;

  /** Advance the checkpoint over the acknowledged prefix of emitted batches. */
  private commitAcked(): void {
    let last: Pending | null = null;
    while (this.pending.length > 0 && this.pending[0].acked) last = this.pending.shift()!;
    // Offsets from before a truncation would point into the file's new content.
    if (!last || !this.fp || last.generation !== this.generation) return;
    const prev = this.o.checkpoints.get(this.key);
    this.o.checkpoints.set(this.key, {
      ...this.entry(this.fp, last.snap),
      size: Math.max(prev?.size ?? 0, last.snap.offset),
      // Once the size is known final (read to the end, or a compressed copy), it stays so.
      ...(this.drained || prev?.drained ? { drained: true } : {}),
    });
  }

  /** This file's checkpoint entry for content `fp`, at `pos`. */
  private entry(fp: Fingerprint, pos: StartPosition): FileCheckpoint {
    return {
      path: this.o.path, dev: this.o.dev, ino: this.o.ino, fp: fp.fp, fpLen: fp.len,
      offset: pos.offset, stdout: pos.stdout, stderr: pos.stderr, updated: Date.now(), labels: { ...this.o.labels }, ...this.identityFields(),
    };
  }

  private async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.o.fh.close().catch(() => undefined);
    const { ctx } = this.o;
    ctx.metrics.filesClosed.inc({ component: ctx.name, reason });
    ctx.log.info({ path: this.o.path, reason, offset: this.offset }, 'file drained and closed');
    // The checkpoint stays, at the file's end: after a restart it tells this rotated file
    // (done) from one rotated while the agent was down (to be read). Housekeeping drops it.
    this.markCaughtUp();
    this.o.onClosed(this);
  }
}

/**
 * The first `len` bytes of a file into `into`. A real file is read synchronously: this runs
 * once per chunk, the bytes were just read (page cache) and a pread of at most 256 bytes
 * costs a microsecond or two, where the thread pool's round trip costs tens — a share of
 * throughput the benchmark showed.
 */
async function readHead(fh: LogFile, into: Buffer, len: number): Promise<number> {
  if ('fd' in fh && typeof fh.fd === 'number') return readSync(fh.fd, into, 0, len, 0);
  return (await fh.read(into, 0, len, 0)).bytesRead;
}
