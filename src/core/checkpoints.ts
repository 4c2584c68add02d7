import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import type { Logger } from './logger.js';
import type { AgentMetrics } from './metrics.js';

/** Where to resume one file. Offsets only ever cover events that every sink acknowledged. */
export interface FileCheckpoint {
  path: string;
  dev: number;
  ino: number;
  /** Hash of the first `fpLen` bytes: tells a reused inode from the file we were reading. */
  fp: string;
  fpLen: number;
  /** Re-read from here after a restart (start of anything still pending). */
  offset: number;
  /** Per stream: events ending at or before this offset were acknowledged; skip them on replay. */
  stdout: number;
  stderr: number;
  /** ms since epoch of the last update, for housekeeping. */
  updated: number;
  /**
   * Bytes known to exist in the file (the furthest the agent read). If the file is deleted
   * before `offset` reaches it, at least `size - offset` bytes were lost (and are counted).
   */
  size?: number;
  /**
   * The file was read to its final end (rotated or deleted, then quiet for rotate_wait), so
   * `size` is final: if it vanishes now, exactly `size - offset` bytes were not acknowledged.
   * Without it, the file may have grown while the agent was away: the loss is at least that.
   */
  drained?: boolean;
  /** The stream labels of the file, to recover it from its compressed copy after a rotation. */
  labels?: Record<string, string>;
  /**
   * ms since epoch when the file was first missed on disk. Kept in the file so that the
   * grace periods before a loss is reported and the entry dropped span restarts: an agent
   * restarted more often than they last would otherwise never report, nor forget.
   */
  vanishedAt?: number;
  /** The container instance's file sequence the file belongs to (content-named sources). */
  scope?: string;
  /**
   * Birth time (ms) of a file recorded before its first line was complete (`fpLen` 0): what
   * tells it from another file that reuses its inode, having no fingerprint yet.
   */
  born?: number;
  /** A copytruncate copy names its events' source after the file it was copied from. */
  sourceDev?: number;
  sourceIno?: number;
  /**
   * A journald source keeps its place as the journal's own cursor (an opaque string
   * `journalctl --after-cursor` resumes from), in an entry of this store with no file behind
   * it: the same atomic writes, corruption handling and ack-only advance as files.
   */
  cursor?: string;
}

/**
 * Checkpoint keys are `<dev>:<ino>`. A checkpoint kept for content whose file is gone while
 * its inode lives on (reused, or truncated by copytruncate) is re-keyed `<dev>:<ino>#<fp>`.
 */
export function orphanKey(key: string, fp: string): string {
  return `${key}#${fp}`;
}

export function isOrphanKey(key: string): boolean {
  return key.includes('#');
}

/** Device and inode a checkpoint key names (orphan keys included), or null. */
export function fileOfKey(key: string): { dev: number; ino: number } | null {
  const m = /^(\d+):(\d+)/.exec(key);
  return m ? { dev: Number(m[1]), ino: Number(m[2]) } : null;
}

interface CheckpointFile {
  version: 1;
  files: Record<string, FileCheckpoint>;
}

export type LoadOutcome = 'fresh' | 'loaded' | 'corrupt';

/**
 * One JSON file per source in the data directory, rewritten atomically. Updates are kept in
 * memory and flushed on an interval and at shutdown: the file may lag the acknowledgements
 * (causing bounded re-delivery after a crash), never lead them (which would lose lines).
 */
export class CheckpointStore {
  private entries = new Map<string, FileCheckpoint>();
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  readonly file: string;

  constructor(
    dataDir: string,
    private readonly component: string,
    private readonly log: Logger,
    private readonly metrics: AgentMetrics,
  ) {
    this.file = join(dataDir, 'checkpoints', `${component}.json`);
  }

  /** Read the file. A missing file is a first start; a corrupt one is reported and ignored. */
  async load(): Promise<LoadOutcome> {
    await this.removeStaleTemps();
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.dirty = true;
        return 'fresh';
      }
      this.corrupt(`cannot read: ${(err as Error).message}`);
      return 'corrupt';
    }
    try {
      const parsed = JSON.parse(text) as CheckpointFile;
      if (parsed?.version !== 1 || typeof parsed.files !== 'object' || parsed.files === null) throw new Error('unknown layout');
      for (const [k, v] of Object.entries(parsed.files)) {
        if (!isCheckpoint(v)) throw new Error(`bad entry ${JSON.stringify(k)}`);
        this.entries.set(k, v);
      }
      return 'loaded';
    } catch (err) {
      this.entries.clear();
      this.dirty = true;
      this.corrupt((err as Error).message);
      return 'corrupt';
    }
  }

  /** Temp files of writes cut short by a crash (named by the pid that wrote them). */
  private async removeStaleTemps(): Promise<void> {
    const dir = dirname(this.file);
    const prefix = `${basename(this.file)}.tmp-`;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.startsWith(prefix) && name !== `${prefix}${process.pid}`) await rm(join(dir, name), { force: true }).catch(() => undefined);
    }
  }

  private corrupt(reason: string): void {
    this.metrics.checkpointErrors.inc({ component: this.component, kind: 'corrupt' });
    this.log.error({ file: this.file, reason }, 'checkpoint file is corrupt; ignoring it');
  }

  get(key: string): FileCheckpoint | undefined {
    return this.entries.get(key);
  }

  all(): IterableIterator<[string, FileCheckpoint]> {
    return this.entries.entries();
  }

  set(key: string, cp: FileCheckpoint): void {
    this.entries.set(key, cp);
    this.dirty = true;
  }

  /** The file is known to hold at least `size` bytes (cheap: called on every read). */
  noteSize(key: string, size: number): void {
    const cp = this.entries.get(key);
    if (cp && (cp.size ?? 0) < size) {
      cp.size = size;
      this.dirty = true;
    }
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  startAutoFlush(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /**
   * Persist if anything changed; resolves once what was set before the call is on disk.
   * Writes are serialized, and calls made while one waits to start share it: a thousand
   * files opened at once cost two writes, not a thousand.
   */
  flush(): Promise<void> {
    if (this.queued) return this.queued;
    const job = this.writing.then(async () => {
      this.queued = null; // from here on, changes need the next write
      if (!this.dirty) return;
      this.lastWriteStart = Date.now();
      this.dirty = false;
      const body: CheckpointFile = { version: 1, files: Object.fromEntries(this.entries) };
      try {
        await writeFileAtomic(this.file, JSON.stringify(body));
      } catch (err) {
        this.dirty = true;
        this.metrics.checkpointErrors.inc({ component: this.component, kind: 'write' });
        this.log.error({ file: this.file, err: (err as Error).message }, 'cannot write checkpoints');
      }
    });
    this.queued = job;
    this.writing = job;
    return job;
  }

  private queued: Promise<void> | null = null;
  private soon: NodeJS.Timeout | null = null;
  private lastWriteStart = 0;

  /**
   * Persist shortly, at most every SOON_GAP_MS: a burst of new files (a node starting, an
   * outage's worth of rotations) costs a few writes of the whole file, not one per file.
   */
  flushSoon(): void {
    if (this.soon) return;
    const wait = Math.max(0, this.lastWriteStart + SOON_GAP_MS - Date.now());
    this.soon = setTimeout(() => {
      this.soon = null;
      void this.flush();
    }, wait);
    this.soon.unref();
  }

  async close(): Promise<void> {
    if (this.soon) clearTimeout(this.soon);
    this.soon = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}

function isCheckpoint(v: unknown): v is FileCheckpoint {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return typeof c.path === 'string' && typeof c.fp === 'string' &&
    ['dev', 'ino', 'fpLen', 'offset', 'stdout', 'stderr'].every((k) => typeof c[k] === 'number' && Number.isFinite(c[k])) &&
    (c.size === undefined || (typeof c.size === 'number' && Number.isFinite(c.size))) &&
    (c.labels === undefined || (typeof c.labels === 'object' && c.labels !== null && Object.values(c.labels).every((v) => typeof v === 'string'))) &&
    (c.scope === undefined || typeof c.scope === 'string') &&
    (c.vanishedAt === undefined || (typeof c.vanishedAt === 'number' && Number.isFinite(c.vanishedAt))) &&
    (c.born === undefined || (typeof c.born === 'number' && Number.isFinite(c.born))) &&
    (c.cursor === undefined || typeof c.cursor === 'string');
}

/** Shortest gap between writes asked for by flushSoon (new files). */
const SOON_GAP_MS = 100;
