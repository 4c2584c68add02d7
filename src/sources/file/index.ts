import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { CheckpointStore } from '../../core/checkpoints.js';
import type { Source, SourceContext } from '../../core/component.js';
import type { Labels } from '../../core/event.js';
import { tailingOptions } from '../tail/config.js';
import { fingerprintOfLength } from '../tail/fingerprint.js';
import { ReadSlots } from '../tail/read-slots.js';
import { Tailer, type StartPosition } from '../tail/tailer.js';

export const fileSourceSchema = z.strictObject({
  type: z.literal('file'),
  /** Absolute globs (`/var/log/app/*.log`, `/logs/**\/*.log`); include rotated names to resume them after a restart. */
  include: z.array(z.string().min(1).refine((g) => g.startsWith('/'), { message: 'give an absolute path or glob' })).min(1),
  exclude: z.array(z.string().min(1)).default([]),
  /** raw: plain text lines (an application's own files); cri / docker / auto: container runtime files. */
  format: z.enum(['raw', 'cri', 'docker', 'auto']).default('raw'),
  /** Added to every line (with `file`, the path). In a sidecar, from the downward API: `${POD_NAME}`. */
  labels: z.record(z.string(), z.string()).default({}),
  ...tailingOptions,
});
export type FileSourceConfig = z.infer<typeof fileSourceSchema>;

/** How deep below a glob's fixed prefix to look: `**` anywhere means deep (bounded). */
const MAX_DEPTH = 8;

/**
 * Tails files named by globs: the sidecar pattern (an application writing its own files to a
 * shared volume) and `loggy stream`. The same tailer as container logs — by descriptor, so a
 * renamed (rotated) file is read to its end; checkpoints by device, inode and first line; a
 * file appearing under the same name is a new file. Plain lines by default.
 */
export class FileSource implements Source {
  private readonly checkpoints: CheckpointStore;
  private readonly slots: ReadSlots;
  private readonly tailers = new Map<string, Tailer>();
  private readonly roots: Array<{ base: string; depth: number }>;
  private readonly matches: (path: string) => boolean;
  private readonly excluded: (path: string) => boolean;
  private readonly unreadable = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = false;
  private firstStart = false;
  private initialScanDone = false;

  constructor(private readonly cfg: FileSourceConfig, private readonly ctx: SourceContext) {
    this.checkpoints = new CheckpointStore(ctx.dataDir, ctx.name, ctx.log, ctx.metrics);
    this.slots = new ReadSlots(cfg.read_concurrency, cfg.read_chunk_bytes);
    this.matches = picomatch(cfg.include, { dot: true });
    this.excluded = cfg.exclude.length ? picomatch(cfg.exclude, { dot: true }) : () => false;
    this.roots = cfg.include.map((g) => {
      const s = picomatch.scan(g);
      const glob = s.glob;
      return { base: s.isGlob ? s.base || '/' : g, depth: !s.isGlob ? 0 : glob.includes('**') ? MAX_DEPTH : glob.split('/').length };
    });
  }

  async start(): Promise<void> {
    this.firstStart = (await this.checkpoints.load()) === 'fresh';
    this.checkpoints.startAutoFlush(this.cfg.checkpoint_interval);
    await this.scan();
    this.initialScanDone = true;
    await this.checkpoints.flush();
    this.timer = setInterval(() => {
      this.scanning ??= this.scan().finally(() => { this.scanning = null; });
    }, this.cfg.rescan_interval);
    this.ctx.log.info({ include: this.cfg.include, files: this.tailers.size }, 'file source started');
  }

  private async scan(): Promise<void> {
    for (const r of this.roots) await this.walk(r.base, r.depth);
  }

  private async walk(path: string, depth: number): Promise<void> {
    if (this.stopped) return;
    const st = await stat(path).catch(() => null);
    if (!st) return;
    if (st.isFile()) {
      if (this.matches(path) && !this.excluded(path)) await this.consider(path, st.dev, st.ino, st.size);
      return;
    }
    if (!st.isDirectory() || depth <= 0) return;
    const names = await readdir(path).catch(() => [] as string[]);
    for (const n of names) await this.walk(join(path, n), depth - 1);
  }

  private async consider(path: string, dev: number, ino: number, size: number): Promise<void> {
    const key = `${dev}:${ino}`;
    if (this.tailers.has(key) || this.stopped) return;
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (!this.unreadable.has(key)) {
        this.unreadable.add(key);
        this.ctx.metrics.fileErrors.inc({ component: this.ctx.name });
        this.ctx.log.warn({ path, err: (err as Error).message }, 'cannot open log file');
      }
      return;
    }
    this.unreadable.delete(key);
    const cp = this.checkpoints.get(key);
    let start: StartPosition = { offset: 0, stdout: -1, stderr: -1 };
    let fp = null;
    if (cp && cp.fpLen > 0 && (await fingerprintOfLength(fh, cp.fpLen)) === cp.fp && cp.offset <= size) {
      if (cp.offset >= size && cp.drained) {
        await fh.close(); // finished before: a rotated file left behind
        return;
      }
      start = { offset: cp.offset, stdout: cp.stdout, stderr: cp.stderr };
      fp = { fp: cp.fp, len: cp.fpLen };
    } else {
      if (cp) this.checkpoints.delete(key); // the inode holds another file now
      if (this.firstStart && !this.initialScanDone && this.cfg.read_from === 'end') start = { offset: size, stdout: size, stderr: size };
    }
    const labels: Labels = { ...this.cfg.labels, file: path };
    const tailer = new Tailer({
      path, fh, dev, ino, fp, labels, start, key,
      framer: { format: this.cfg.format, maxLineBytes: this.cfg.max_line_bytes },
      slots: this.slots, checkpoints: this.checkpoints, ctx: this.ctx,
      pollMs: this.cfg.poll_interval, rotateWaitMs: this.cfg.rotate_wait,
      onClosed: (t) => {
        if (this.tailers.get(t.key) === t) this.tailers.delete(t.key);
        this.ctx.metrics.filesOpen.set({ component: this.ctx.name }, this.tailers.size);
      },
    });
    this.tailers.set(key, tailer);
    this.ctx.metrics.filesOpened.inc({ component: this.ctx.name });
    this.ctx.metrics.filesOpen.set({ component: this.ctx.name }, this.tailers.size);
    this.ctx.log.info({ path, file: key, offset: start.offset }, 'tailing file');
    tailer.start();
  }

  async drained(): Promise<void> {
    while (!this.initialScanDone) await new Promise((r) => setTimeout(r, 10));
    await Promise.all([...this.tailers.values()].map((t) => t.whenCaughtUp()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.scanning) await this.scanning;
    await Promise.all([...this.tailers.values()].map((t) => t.stop()));
  }

  async close(): Promise<void> {
    await this.checkpoints.close();
    await Promise.all([...this.tailers.values()].map((t) => t.release()));
  }
}
