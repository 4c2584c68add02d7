import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { EventBatch } from '../../core/batch.js';
import { CheckpointStore, type FileCheckpoint } from '../../core/checkpoints.js';
import type { Source, SourceContext } from '../../core/component.js';
import { makeSource, type EventSource, type LogEvent } from '../../core/event.js';
import { byteSize, duration } from '../../config/schema-helpers.js';
import { parseEntry, PRIORITY_NAMES } from './entry.js';

const absolute = z.string().min(1).refine((p) => p.startsWith('/'), { message: 'give an absolute path' });

export const journaldSourceSchema = z.strictObject({
  type: z.literal('journald'),
  /** The journalctl binary (a name looked up in PATH, or a path). */
  journalctl_path: z.string().min(1).default('journalctl'),
  /** `--directory`: a journal directory (its machine-id subdirectories included). Default: every journal under /var/log/journal and /run/log/journal (`--merge`). */
  directory: absolute.optional(),
  /** `--file`: journal files (globs journalctl expands). */
  files: z.array(absolute).default([]),
  /** `--unit` matches; empty: every unit. */
  units: z.array(z.string().min(1)).default(['kubelet.service', 'containerd.service']),
  /** `--priority`: this priority and more important ones (a name such as `warning`, or 0–7). */
  priority: z.union([z.enum(PRIORITY_NAMES), z.number().int().min(0).max(7)]).optional(),
  /** At the very first start (no cursor yet): the whole journal, or only entries written from now on. */
  read_from: z.enum(['beginning', 'end']).default('beginning'),
  /** `--since` at the very first start (a journalctl time such as `-1h` or `2026-11-23 10:00`); overrides read_from. */
  since: z.string().min(1).optional(),
  /** Added to every event (with `unit` and `host` from the entry). */
  labels: z.record(z.string(), z.string()).default({}),
  /** More journal fields to carry as event fields (named in lower case, leading `_` dropped). */
  fields: z.array(z.string().regex(/^[A-Z0-9_]+$/, 'journal field names are upper case')).default([]),
  max_line_bytes: byteSize.default(256 * 1024),
  /** First wait before journalctl is started again after it failed; doubles up to 30 s. */
  restart_backoff: duration.default(1000),
  checkpoint_interval: duration.default(1000),
});
export type JournaldSourceConfig = z.infer<typeof journaldSourceSchema>;

/** The checkpoint store's key for the cursor (one journal position per source). */
const KEY = 'journal';
const MAX_BACKOFF_MS = 30_000;
/** Longer than any entry journald writes (its own limit is far below); guards memory against a runaway line. */
const MAX_PENDING_CHARS = 64 * 1024 * 1024;
/** A journalctl that ran this long without failing starts the next backoff from the beginning. */
const HEALTHY_MS = 60_000;
/** How long journalctl must be quiet to count as caught up (exitWhenDrained). */
const QUIET_MS = 1000;

interface Pending {
  cursor: string;
  seqnum: number;
  /** Batches of the chunk not yet acknowledged. */
  waiting: number;
}

/**
 * Reads the node's journal through `journalctl --output=json --follow`: it knows the journal
 * file format, its rotation (a new file in the directory is followed), and resumes exactly at
 * a cursor. One chunk of its output is one set of batches; the cursor of the chunk's last
 * entry is saved once every batch of it, and of every earlier chunk, is acknowledged — the
 * rule the file tailer follows with offsets.
 *
 * Source ids: the store drops, per source id, events at or below the highest offset it
 * committed, so an id needs offsets that only grow. A journal's entries are numbered by
 * `seqnum` within a `seqnum_id` (the `s=` and `i=` parts of the cursor), which journald keeps
 * across file rotations and reboots, and which a replay after a crash (resuming at an older
 * cursor) repeats exactly. So the id is `journald:<component>:<seqnum_id>:<labels hash>`
 * with the seqnum as offset: the labels are part of the id because the loggy sink gives a
 * group of one id the labels of its first batch; the component, because two sources with
 * other filters over the same journal must not dedupe each other. Entries of a unit are a
 * subsequence of the journal, so their seqnums still only grow; the boot id is not part of
 * it because seqnums carry on across boots.
 */
export class JournaldSource implements Source {
  private readonly checkpoints: CheckpointStore;
  private readonly sources = new Map<string, EventSource>();
  private readonly pending: Pending[] = [];
  /** The cursor of the last entry read: where a restarted journalctl carries on. */
  private readCursor: string | undefined;
  private child: ChildProcess | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wakeSleep: (() => void) | null = null;
  private lastOutput = 0;
  private failures = 0;
  private signalStop!: () => void;
  /** A stop must not wait for room that may never come. */
  private readonly stopSignal = new Promise<void>((r) => { this.signalStop = r; });
  private startedAt = 0;

  constructor(private readonly cfg: JournaldSourceConfig, private readonly ctx: SourceContext) {
    this.checkpoints = new CheckpointStore(ctx.dataDir, ctx.name, ctx.log, ctx.metrics);
  }

  async start(): Promise<void> {
    await this.checkpoints.load();
    this.readCursor = this.checkpoints.get(KEY)?.cursor;
    this.checkpoints.startAutoFlush(this.cfg.checkpoint_interval);
    this.startedAt = Date.now();
    this.loop = this.run();
    this.ctx.log.info({ cursor: this.readCursor ?? null, units: this.cfg.units }, 'journald source started');
  }

  /** The journalctl arguments that select entries (shared by the follow and the read_from end lookup). */
  private matchArgs(): string[] {
    const a: string[] = [];
    if (this.cfg.directory) a.push(`--directory=${this.cfg.directory}`);
    for (const f of this.cfg.files) a.push(`--file=${f}`);
    // The default places (/var/log/journal, /run/log/journal), every journal in them: by
    // default journalctl reads only the one under /etc/machine-id, which in a container is the
    // image's, not the node's (and a node need not have one to mount).
    if (!this.cfg.directory && this.cfg.files.length === 0) a.push('--merge');
    for (const u of this.cfg.units) a.push(`--unit=${u}`);
    if (this.cfg.priority !== undefined) a.push(`--priority=${this.cfg.priority}`);
    return a;
  }

  private followArgs(): string[] {
    // --all: without it, fields over 4 KiB are printed as null. --no-tail: with --follow,
    // journalctl would otherwise start with the last 10 entries, whatever the cursor.
    const a = [...this.matchArgs(), '--output=json', '--all', '--follow', '--no-tail', '--no-pager', '--quiet'];
    if (this.readCursor !== undefined) a.push(`--after-cursor=${this.readCursor}`);
    else if (this.cfg.since !== undefined) a.push(`--since=${this.cfg.since}`);
    return a;
  }

  private async run(): Promise<void> {
    let backoff = this.cfg.restart_backoff;
    while (!this.stopped) {
      if (this.readCursor === undefined && this.cfg.since === undefined && this.cfg.read_from === 'end') {
        const ok = await this.findEnd();
        if (!ok && !this.stopped) {
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
      }
      const began = Date.now();
      const failure = await this.follow();
      if (this.stopped) break;
      if (Date.now() - began > HEALTHY_MS) backoff = this.cfg.restart_backoff;
      this.fail(failure.reason, failure.detail, backoff);
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  private fail(reason: string, detail: Record<string, unknown>, retryMs: number): void {
    this.failures++;
    this.ctx.metrics.journaldErrors.inc({ component: this.ctx.name, reason });
    this.ctx.log.error({ ...detail, reason, journalctl: this.cfg.journalctl_path, retry_ms: retryMs }, reason === 'not_found'
      ? 'journalctl not found; install systemd (journalctl) in the image or set journalctl_path'
      : 'journalctl failed; starting it again from the last entry read');
  }

  /**
   * read_from end at the very first start: the cursor of the last matching entry, saved at
   * once, so that a restart before anything new arrives does not skip what came meanwhile.
   */
  private async findEnd(): Promise<boolean> {
    const r = await this.exec([...this.matchArgs(), '--output=json', '--lines=1', '--no-pager', '--quiet']);
    if (r.reason) {
      this.fail(r.reason, r.detail, this.cfg.restart_backoff);
      return false;
    }
    const line = r.stdout.split('\n').find((l) => l.trim() !== '');
    const cursor = line ? parseEntry(line, { labels: {}, fields: [], maxLineBytes: 1 })?.cursor : undefined;
    // No entry matches yet: everything to come is new, so from the beginning is the end.
    if (cursor === undefined) return true;
    this.readCursor = cursor;
    this.saveCursor(cursor, 0);
    await this.checkpoints.flush();
    return true;
  }

  private exec(args: string[]): Promise<{ stdout: string; reason?: string; detail: Record<string, unknown> }> {
    return new Promise((resolve) => {
      const child = spawn(this.cfg.journalctl_path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-2000); });
      child.once('error', (e) => resolve({ stdout: '', ...spawnFailure(e) }));
      child.once('close', (code) => resolve(code === 0 ? { stdout: out, detail: {} } : { stdout: '', ...exitFailure(code, null, err) }));
    });
  }

  /** Runs journalctl until it exits (or the source stops); says why it ended. */
  private follow(): Promise<{ reason: string; detail: Record<string, unknown> }> {
    return new Promise((resolve) => {
      const child = spawn(this.cfg.journalctl_path, this.followArgs(), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let stderr = '';
      let spawnError: Error | null = null;
      child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
      child.once('error', (e) => { spawnError = e; });
      const reading = this.read(child).catch((e: Error) => {
        this.ctx.log.error({ err: e.message }, 'reading journalctl output failed');
        child.kill('SIGKILL');
      });
      child.once('close', (code, signal) => {
        void reading.then(() => {
          this.child = null;
          resolve(spawnError ? spawnFailure(spawnError) : exitFailure(code, signal, stderr));
        });
      });
    });
  }

  private async read(child: ChildProcess): Promise<void> {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let overlong = false;
    // Pulling the next chunk only once the pipeline has room leaves the rest in the pipe:
    // journalctl blocks writing, and the journal itself is the buffer.
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      this.lastOutput = Date.now();
      this.ctx.metrics.bytesIn.inc({ component: this.ctx.name }, chunk.length);
      let text = rest + decoder.write(chunk);
      const cut = text.lastIndexOf('\n');
      if (cut < 0) {
        if (text.length > MAX_PENDING_CHARS) {
          overlong = true;
          text = '';
        }
        rest = text;
        continue;
      }
      rest = text.slice(cut + 1);
      const lines = text.slice(0, cut).split('\n');
      if (overlong) {
        lines.shift(); // the end of the overlong line
        overlong = false;
        this.dropped('a journalctl output line over 64 MiB');
      }
      await Promise.race([this.ctx.waitForRoom(), this.stopSignal]);
      // Not emitted after a stop: unacknowledged, they are read again at the next start.
      if (this.stopped) break;
      this.emitLines(lines);
    }
  }

  private emitLines(lines: string[]): void {
    const groups = new Map<EventSource, LogEvent[]>();
    let last: { cursor: string; seqnum: number } | null = null;
    let events = 0;
    for (const line of lines) {
      if (line === '') continue;
      const e = parseEntry(line, { labels: this.cfg.labels, fields: this.cfg.fields, maxLineBytes: this.cfg.max_line_bytes });
      if (!e) {
        this.dropped('a journalctl output line that is not a journal entry', line.slice(0, 200));
        continue;
      }
      if (e.invalidUtf8) this.ctx.metrics.malformed.inc({ component: this.ctx.name });
      if (e.truncated) this.ctx.metrics.truncated.inc({ component: this.ctx.name });
      const src = this.sourceFor(e.seqnumId, e.labels);
      let list = groups.get(src);
      if (!list) groups.set(src, (list = []));
      list.push(e.event);
      last = { cursor: e.cursor, seqnum: e.seqnum };
      events++;
    }
    if (!last) return;
    this.readCursor = last.cursor;
    const p: Pending = { ...last, waiting: groups.size };
    this.pending.push(p);
    this.ctx.metrics.eventsIn.inc({ component: this.ctx.name }, events);
    for (const [src, list] of groups) {
      this.ctx.emit(new EventBatch(src, list, () => {
        if (--p.waiting === 0) this.advance();
      }));
    }
  }

  /** Save the cursor of the acknowledged prefix of chunks. */
  private advance(): void {
    let last: Pending | undefined;
    while (this.pending.length > 0 && this.pending[0].waiting === 0) last = this.pending.shift();
    if (last) this.saveCursor(last.cursor, last.seqnum);
  }

  private saveCursor(cursor: string, seqnum: number): void {
    // Offsets are those of the files' entries; here the seqnum, for whoever reads the file.
    const cp: FileCheckpoint = {
      path: this.cfg.directory ?? (this.cfg.files.join(',') || 'journal'),
      dev: 0, ino: 0, fp: '', fpLen: 0, offset: seqnum, stdout: seqnum, stderr: seqnum,
      updated: Date.now(), cursor,
    };
    this.checkpoints.set(KEY, cp);
  }

  private dropped(what: string, sample?: string): void {
    this.ctx.metrics.malformed.inc({ component: this.ctx.name });
    this.ctx.log.warn({ sample }, `dropped ${what}`);
  }

  private sourceFor(seqnumId: string, labels: Record<string, string>): EventSource {
    const json = JSON.stringify(labels);
    const key = `${seqnumId}\n${json}`;
    let s = this.sources.get(key);
    if (!s) {
      // A bound for journals with endless units; a forgotten source is made again identically.
      if (this.sources.size > 10_000) this.sources.clear();
      const hash = createHash('sha256').update(json).digest('hex').slice(0, 16);
      s = makeSource(`journald:${this.ctx.name}:${seqnumId}:${hash}`, this.ctx.name, labels);
      this.sources.set(key, s);
    }
    return s;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => { this.wakeSleep = null; r(); }, ms);
      this.wakeSleep = () => { clearTimeout(t); this.wakeSleep = null; r(); };
    });
  }

  /**
   * journalctl --follow never ends, so "read to the end" is approximated: it has been running
   * and quiet for a second (it writes what exists at once), or it cannot be run.
   */
  async drained(): Promise<void> {
    for (;;) {
      const since = Math.max(this.lastOutput, this.startedAt);
      // A journalctl that keeps failing has nothing more to give either (the failures are logged).
      if ((this.child || this.failures > 0) && Date.now() - since >= QUIET_MS) return;
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    this.wakeSleep?.();
    this.child?.kill('SIGTERM');
    await this.loop;
  }

  async close(): Promise<void> {
    await this.checkpoints.close();
  }
}

function spawnFailure(e: Error): { reason: string; detail: Record<string, unknown> } {
  const code = (e as NodeJS.ErrnoException).code;
  return { reason: code === 'ENOENT' ? 'not_found' : 'spawn', detail: { err: e.message } };
}

function exitFailure(code: number | null, signal: NodeJS.Signals | null, stderr: string): { reason: string; detail: Record<string, unknown> } {
  // journalctl's words when it cannot read the journal (missing, permissions, no files).
  const unreadable = /No such file|Permission denied|No journal files|not available|Failed to open/i.test(stderr);
  return { reason: unreadable ? 'unreadable' : 'exited', detail: { code, signal, stderr: stderr.trim().slice(-500) } };
}
