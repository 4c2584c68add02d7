import { open, readdir, realpath, stat } from 'node:fs/promises';
import pLimit from 'p-limit';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { CheckpointStore } from '../../core/checkpoints.js';
import type { Source, SourceContext } from '../../core/component.js';
import type { Labels } from '../../core/event.js';
import { tailingOptions } from '../tail/config.js';
import { fingerprintOfLength } from '../tail/fingerprint.js';
import { ReadSlots } from '../tail/read-slots.js';
import { reportLag } from '../tail/lag.js';
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

/** What FileSource needs of its config besides the targets. */
export type TailFilesConfig = Pick<FileSourceConfig, 'format' | 'read_from' | 'max_line_bytes' | 'rescan_interval' | 'poll_interval' | 'rotate_wait' | 'read_chunk_bytes' | 'read_concurrency' | 'checkpoint_interval'>;

/** How deep below a glob's fixed prefix to look: `**` anywhere means deep (bounded). */
const MAX_DEPTH = 8;

/** What to tail: globs, the labels their lines carry, and optionally a directory they must stay in. */
export interface FileTarget {
  include: readonly string[];
  exclude?: readonly string[];
  labels: Labels;
  /**
   * Files must resolve (symlinks followed) inside this directory. For paths a pod names: a
   * symlink in its volume must not make the agent, which may read any file on the node, read
   * one the pod could not.
   */
  confine?: string;
  /** The `file` label is the path as the container sees it: the node prefix replaced. */
  seenAs?: { node: string; container: string };
}

interface CompiledTarget {
  target: FileTarget;
  roots: Array<{ base: string; depth: number }>;
  matches: (path: string) => boolean;
  excluded: (path: string) => boolean;
}

/**
 * Tails files named by globs: the sidecar pattern (an application writing its own files to a
 * shared volume), `loggy stream`, and in-pod files named by annotations (whose targets change
 * as pods come and go). The same tailer as container logs — by descriptor, so a renamed
 * (rotated) file is read to its end; checkpoints by device, inode and first line; a file
 * appearing under the same name is a new file. Plain lines by default.
 */
export class FileSource implements Source {
  private readonly checkpoints: CheckpointStore;
  private readonly slots: ReadSlots;
  /** Idle files are looked at two at a time (see Tailer.idleLook). */
  private readonly pollGate = pLimit(2);
  private readonly tailers = new Map<string, Tailer>();
  private readonly compiled = new Map<string, CompiledTarget>();
  private readonly unreadable = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = false;
  private firstStart = false;
  private initialScanDone = false;

  constructor(private readonly cfg: TailFilesConfig, private readonly ctx: SourceContext, private readonly targets: () => FileTarget[]) {
    this.checkpoints = new CheckpointStore(ctx.dataDir, ctx.name, ctx.log, ctx.metrics);
    this.slots = new ReadSlots(cfg.read_concurrency, cfg.read_chunk_bytes);
  }

  static fromConfig(cfg: FileSourceConfig, ctx: SourceContext): FileSource {
    const target: FileTarget = { include: cfg.include, exclude: cfg.exclude, labels: cfg.labels };
    return new FileSource(cfg, ctx, () => [target]);
  }

  async start(): Promise<void> {
    this.firstStart = (await this.checkpoints.load()) === 'fresh';
    this.checkpoints.startAutoFlush(this.cfg.checkpoint_interval);
    await this.scan();
    this.initialScanDone = true;
    await this.checkpoints.flush();
    this.timer = setInterval(() => this.requestScan(), this.cfg.rescan_interval);
    this.ctx.log.info({ files: this.tailers.size }, 'file source started');
  }

  /** Look again now (targets changed), without waiting for the next rescan. */
  requestScan(): void {
    reportLag(this.ctx, this.tailers.values());
    this.scanning ??= this.scan().finally(() => { this.scanning = null; });
  }

  private compile(t: FileTarget): CompiledTarget {
    const key = JSON.stringify([t.include, t.exclude ?? [], t.confine ?? '']);
    let c = this.compiled.get(key);
    if (!c) {
      if (this.compiled.size > 10_000) this.compiled.clear();
      c = {
        target: t,
        matches: picomatch([...t.include], { dot: true }),
        excluded: t.exclude?.length ? picomatch([...t.exclude], { dot: true }) : () => false,
        roots: t.include.map((g) => {
          const s = picomatch.scan(g);
          return { base: s.isGlob ? s.base || '/' : g, depth: !s.isGlob ? 0 : s.glob.includes('**') ? MAX_DEPTH : s.glob.split('/').length };
        }),
      };
      this.compiled.set(key, c);
    }
    return { ...c, target: t };
  }

  private async scan(): Promise<void> {
    for (const t of this.targets()) {
      const c = this.compile(t);
      for (const r of c.roots) await this.walk(c, r.base, r.depth);
    }
  }

  private async walk(c: CompiledTarget, path: string, depth: number): Promise<void> {
    if (this.stopped) return;
    const st = await stat(path).catch(() => null);
    if (!st) return;
    if (st.isFile()) {
      if (c.matches(path) && !c.excluded(path)) await this.consider(c.target, path, st.dev, st.ino, st.size);
      return;
    }
    if (!st.isDirectory() || depth <= 0) return;
    const names = await readdir(path).catch(() => [] as string[]);
    for (const n of names) await this.walk(c, join(path, n), depth - 1);
  }

  private async consider(target: FileTarget, path: string, dev: number, ino: number, size: number): Promise<void> {
    const key = `${dev}:${ino}`;
    if (this.tailers.has(key) || this.stopped) return;
    if (target.confine && !(await isInside(path, target.confine))) {
      this.refuse(key, { path, confine: target.confine }, 'file resolves outside its volume (symlink); not read');
      return;
    }
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      this.refuse(key, { path, err: (err as Error).message }, 'cannot open log file');
      return;
    }
    // The file opened must be the one judged (a symlink swapped meanwhile is not followed).
    const opened = await fh.stat().catch(() => null);
    if (!opened || opened.dev !== dev || opened.ino !== ino) {
      await fh.close();
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
    const seen = target.seenAs && path.startsWith(target.seenAs.node) ? target.seenAs.container + path.slice(target.seenAs.node.length) : path;
    const labels: Labels = { ...target.labels, file: seen };
    const tailer = new Tailer({
      path, fh, dev, ino, fp, labels, start, key,
      framer: { format: this.cfg.format, maxLineBytes: this.cfg.max_line_bytes },
      slots: this.slots, pollGate: this.pollGate, checkpoints: this.checkpoints, ctx: this.ctx,
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

  /** A file that cannot be read: counted and said once, not at every rescan (the metric shows it still is). */
  private refuse(key: string, fields: Record<string, string>, msg: string): void {
    if (this.unreadable.has(key)) return;
    this.unreadable.add(key);
    this.ctx.metrics.fileErrors.inc({ component: this.ctx.name });
    this.ctx.log.warn(fields, msg);
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

/** Whether `path`, symlinks resolved, lies inside `dir` (itself resolved). */
async function isInside(path: string, dir: string): Promise<boolean> {
  const [p, d] = await Promise.all([realpath(path).catch(() => null), realpath(dir).catch(() => null)]);
  return p !== null && d !== null && (p === d || p.startsWith(`${d}/`));
}
