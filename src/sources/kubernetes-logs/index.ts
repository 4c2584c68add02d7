import { lstat, open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import pLimit from 'p-limit';
import { basename, dirname, join, relative, isAbsolute } from 'node:path';
import { CheckpointStore, fileOfKey, isOrphanKey, orphanKey, type FileCheckpoint } from '../../core/checkpoints.js';
import type { Source, SourceContext } from '../../core/component.js';
import type { Labels } from '../../core/event.js';
import type { FramerOptions } from '../../formats/index.js';
import { findPodCache } from '../../kube/shared.js';
import type { PodMeta } from '../../kube/pod-meta.js';
import { PodMultiline } from './pod-multiline.js';
import { fingerprint, fingerprintOfLength, type Fingerprint } from '../tail/fingerprint.js';
import { ReadSlots } from '../tail/read-slots.js';
import { reportLag } from '../tail/lag.js';
import { Tailer, type StartPosition } from '../tail/tailer.js';
import type { KubernetesLogsConfig } from './config.js';
import { CURRENT_LOG, isCompressedName, isRotatedName, parseContainersLink, parsePodDir, type PathLabels } from './path-labels.js';
import { Selector, selfFromEnv } from './select.js';
import { DirWatcher } from './watcher.js';
import { CompressedCopies, gunzipFile, gzipSize } from './compressed-copies.js';
import { MemoryLogFile, type LogFile } from '../tail/log-file.js';

export { kubernetesLogsSchema, type KubernetesLogsConfig } from './config.js';

interface Candidate {
  path: string;
  labels: PathLabels;
  /** A rotated file: opened only to finish a checkpoint left from before a restart. */
  rotated: boolean;
  /**
   * The container instance's file sequence: the real path of its current file, relative to
   * root, however the file was found (/var/log/pods, /var/log/containers, a Docker symlink).
   * Events are sourced by content within it (see TailerOptions.contentScope).
   */
  scope: string;
}

/**
 * Discovers every container log on the node under ROOT/var/log/pods (and the
 * /var/log/containers symlinks), tails each file once (identity: device + inode), and keeps
 * checkpoints so that restarts resume where the sinks' acknowledgements left off.
 */
export class KubernetesLogsSource implements Source {
  private readonly tailers = new Map<string, Tailer>();
  /** The same tailers by the path they were opened at, for watch events. */
  private readonly byPath = new Map<string, Tailer>();
  /** /var/log/containers link name → its target (links never change target; new containers get new names). */
  private readonly linkTargets = new Map<string, string>();
  /** Files that could not be opened (permissions): reported once, retried at every scan. */
  private readonly unreadable = new Set<string>();
  private readonly checkpoints: CheckpointStore;
  private readonly slots: ReadSlots;
  /** Idle files are looked at two at a time (see Tailer.idleLook). */
  private readonly pollGate = pLimit(2);
  private readonly selector: Selector;
  private readonly watcher: DirWatcher;
  private readonly podsDir: string;
  private readonly containersDir: string;
  private readonly framer: FramerOptions;
  /** Per-pod multiline rules from annotations (null: no pod cache in this agent, or annotations off). */
  private multiline: PodMultiline | null = null;
  private readonly multilineKeys = new WeakMap<Tailer, string>();
  private unsubscribe: (() => void) | null = null;
  private startAtEnd = false;
  private scanning: Promise<void> | null = null;
  private scanDelay: NodeJS.Timeout | null = null;
  private lastScan = { end: 0, took: 0 };
  private rescanQueued = false;
  private scanTimer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private stopped = false;
  private initialScanDone = false;
  private loaded: 'fresh' | 'loaded' | 'corrupt' = 'fresh';
  /** When each file (device:inode) was last seen on disk: checkpoints of vanished files go. */
  private readonly lastSeen = new Map<string, number>();
  /** Tailers closed before all their batches were acknowledged, by checkpoint key. */
  private readonly settling = new Map<string, Tailer>();
  /** Fingerprints of content a copytruncate copy took over (its original needs no orphan checkpoint). */
  private readonly claimed = new Set<string>();
  /** Vanished files whose compressed copy was looked for (once per file per run). */
  private readonly copyLookedFor = new Set<string>();
  private readonly copies = new CompressedCopies(COPY_MAX_BYTES);
  /** Tailers reading a decompressed copy held in memory (at most MAX_COPIES_IN_MEMORY). */
  private copiesInMemory = 0;
  /** Compressed files waiting for a memory slot, held open so that deleting them loses nothing. */
  private readonly pendingCopies = new Map<string, { c: Candidate; fh: FileHandle; dev: number; ino: number; fp: Fingerprint; resumed: boolean }>();
  private pumping = false;
  /** Compressed files that could not be decompressed (corrupt, too large): said once. */
  private readonly badCopies = new Set<string>();
  /** Containers (content scopes) whose gap was reported, until they have a known file again. */
  private readonly gapReported = new Set<string>();
  /**
   * Watched directories where a container's files rotate — its /var/log/pods directory, or the
   * runtime's directory its current file links to (Docker) — to the container directory a scan
   * of one container starts from, with its labels.
   */
  private readonly containerDirs = new Map<string, { cdir: string; labels: PathLabels }>();
  /** Directory scans running; `again`: another event came meanwhile, scan once more. */
  private readonly containerScans = new Map<string, { again: boolean; done?: Promise<void> }>();
  /** Files (device:inode) being opened or queued: concurrent scans must not take one twice. */
  private readonly opening = new Set<string>();

  constructor(private readonly cfg: KubernetesLogsConfig, private readonly ctx: SourceContext) {
    this.checkpoints = new CheckpointStore(ctx.dataDir, ctx.name, ctx.log, ctx.metrics);
    this.slots = new ReadSlots(cfg.read_concurrency, cfg.read_chunk_bytes);
    this.selector = new Selector(cfg, selfFromEnv());
    this.podsDir = join(cfg.root, 'var/log/pods');
    this.containersDir = join(cfg.root, 'var/log/containers');
    this.watcher = new DirWatcher(cfg.watch, (dir, file, type) => this.onWatch(dir, file, type), (reason) => {
      ctx.metrics.watchFallback.set({ component: ctx.name }, 1);
      ctx.log.warn({ reason }, 'fs.watch unavailable; relying on periodic rescan and polling');
    });
    const m = cfg.multiline;
    this.framer = {
      format: 'auto',
      maxLineBytes: cfg.max_line_bytes,
      multiline: m ? { preset: m.preset, start: m.start, continuation: m.continuation, flushMs: m.flush_timeout, maxLines: m.max_lines } : null,
    };
  }

  async start(): Promise<void> {
    const outcome = await this.checkpoints.load();
    this.loaded = outcome;
    const pods = this.cfg.annotations ? findPodCache(this.ctx) : null;
    if (pods) {
      const ml = new PodMultiline(pods, this.framer.multiline ?? null, this.ctx);
      this.multiline = ml;
      this.unsubscribe = pods.onChange((pod) => this.podChanged(pod, ml));
    }
    this.startAtEnd = outcome === 'fresh' ? this.cfg.read_from === 'end' : outcome === 'corrupt' ? this.cfg.on_corrupt_checkpoint === 'end' : false;
    // Persist from the start: on a busy node the first scan takes seconds while the files it
    // has opened are already being read and shipped. An agent killed then must still find
    // them in its checkpoints, or a file rotated and compressed meanwhile is lost unreported.
    this.checkpoints.startAutoFlush(this.cfg.checkpoint_interval);
    await this.scan();
    this.initialScanDone = true;
    // Write the checkpoint file now, even empty: a crash before the first interval must not
    // make the next start look like the very first one (which would skip rotated files).
    await this.checkpoints.flush();
    if (!(await stat(this.podsDir).catch(() => null)) && !(await stat(this.containersDir).catch(() => null))) {
      this.ctx.log.warn({ root: this.cfg.root, looked: [this.podsDir, this.containersDir] }, 'no container log directory under root yet; is the host path mounted? Waiting for it to appear');
    }
    this.scanTimer = setInterval(() => this.requestScan(), this.cfg.rescan_interval);
    this.ctx.log.info({ root: this.cfg.root, files: this.tailers.size, watch: this.watcher.active, checkpoints: outcome }, 'kubernetes_logs started');
  }

  /**
   * Checkpoints stay while their file exists (a drained rotated file keeps one at its end, so
   * it is never read again); once the file has not been seen for a while, the entry goes.
   */
  private async forgetVanished(scanStart: number, copyFps: ReadonlySet<string>): Promise<void> {
    const cutoff = Date.now() - VANISHED_GRACE_MS;
    for (const key of [...this.checkpoints.all()].map(([k]) => k)) {
      // Read now, not from a snapshot taken before the loop: it awaits (reading compressed
      // copies), and meanwhile tailers close and mark their checkpoints drained.
      const cp = this.checkpoints.get(key);
      if (!cp || this.tailers.has(key) || this.pendingCopies.has(key) || this.stopped) continue;
      const settling = this.settling.get(key);
      if (settling && !settling.settled) continue;
      this.settling.delete(key);
      let seen = this.lastSeen.get(key);
      if (seen !== undefined && seen >= scanStart) continue; // on disk in this scan
      if (!this.copyLookedFor.has(key)) {
        this.copyLookedFor.add(key);
        if (await this.resumeFromCopy(key, cp)) continue;
      }
      if (seen === undefined) {
        // First missed in this run: since when, possibly from an earlier run.
        seen = cp.vanishedAt ?? Date.now();
        this.lastSeen.set(key, seen);
        if (cp.vanishedAt === undefined) this.checkpoints.set(key, { ...cp, vanishedAt: seen });
      }
      const now = this.checkpoints.get(key) ?? cp;
      if (seen < Date.now() - LOST_GRACE_MS) this.countLost(key, now);
      // A finished file's checkpoint stays while its compressed copy exists: it tells that the
      // copy was read (considerCompressed would otherwise take it for one never seen).
      if (seen !== undefined && seen < cutoff && !(cp.scope && copyFps.has(`${cp.scope}|${cp.fp}`))) {
        this.checkpoints.delete(key);
        this.lastSeen.delete(key);
      }
    }
  }

  /**
   * The file is gone (kubelet deletes the oldest rotated files) and no compressed copy holds
   * it. Everything past the acknowledged offset is lost: exactly `size - offset` bytes if the
   * file was drained (its size final), else at least that — it may have grown while the agent
   * was away, so even a file read to its last known size is reported. Counted once: the
   * checkpoint is then marked as accounted, so a later run does not count it again.
   */
  private countLost(key: string, cp: FileCheckpoint): void {
    const size = Math.max(cp.size ?? cp.offset, cp.offset);
    if (cp.drained && size <= cp.offset) return;
    const lost = size - cp.offset;
    this.ctx.metrics.filesLost.inc({ component: this.ctx.name });
    this.ctx.metrics.lostBytes.inc({ component: this.ctx.name }, lost);
    // `file` (device:inode, #fingerprint for content whose inode was reused or truncated) and
    // `readTo` say exactly where the loss starts; it runs to the file's end, and past it to the
    // container's oldest file still on disk.
    const report = { path: cp.path, file: key, readTo: cp.offset, lostBytes: lost, exact: cp.drained === true };
    if (cp.drained) this.ctx.log.warn(report, 'file deleted before it was read to the end; everything after readTo is lost');
    else if (lost > 0) this.ctx.log.warn(report, 'file deleted while the agent was not reading it; anything written after readTo is lost (lostBytes: at least this many)');
    // Opened, never measured (killed right after): the loss is unknown, not none.
    else if (cp.size === undefined) this.ctx.log.warn(report, 'file deleted before the agent learned its size; anything written after readTo is lost');
    // Read to its last known size: most often nothing was lost (a rotated file the agent had
    // finished but not yet closed when it was stopped); said once, not as an alarm.
    else this.ctx.log.info(report, 'file deleted while the agent was not reading it, after it was read to its last known size; lines written after readTo, if any, are lost');
    this.checkpoints.set(key, { ...cp, offset: size, stdout: size, stderr: size, size, drained: true, updated: Date.now() });
  }

  /**
   * A file not finished before it vanished may survive compressed: read the rest from the copy,
   * under the file's own identity and checkpoint, so offsets and replay skipping still hold.
   */
  private async resumeFromCopy(key: string, cp: FileCheckpoint): Promise<boolean> {
    if (!cp.labels || !cp.scope || (cp.size !== undefined && cp.size > COPY_MAX_BYTES)) return false;
    const file = fileOfKey(key);
    if (!file) return false;
    const copy = await this.copies.find(cp).catch(() => null);
    if (!copy || this.tailers.has(key) || this.stopped) return false;
    if (copy.data.length <= cp.offset) return false; // finished before it was compressed
    this.ctx.metrics.filesRecovered.inc({ component: this.ctx.name });
    this.ctx.log.warn({ path: cp.path, copy: copy.path, offset: cp.offset, size: copy.data.length }, 'unfinished file was compressed while the agent was away; reading the rest from the copy');
    this.startTailer({ path: cp.path, labels: cp.labels as unknown as PathLabels, rotated: true, scope: cp.scope }, key, file.dev, file.ino, new MemoryLogFile(copy.data),
      { offset: cp.offset, stdout: cp.stdout, stderr: cp.stderr }, { fp: cp.fp, len: cp.fpLen }, true);
    return true;
  }

  private onWatch(dir: string, file: string | null, type: 'rename' | 'change'): void {
    if (file) this.byPath.get(join(dir, file))?.notify();
    if (type !== 'rename') return;
    // A rotation in a container directory: look at that directory at once. Under load a full
    // scan takes long enough for a hot container's files to be created, rotated, compressed
    // and deleted before it gets there; this keeps every new file opened within milliseconds.
    const container = this.containerDirs.get(dir);
    if (container) {
      this.scanContainerSoon(container.cdir, container.labels);
      return;
    }
    // Writes only wake their tailer; entries appearing, going or moving elsewhere (a pod or a
    // container started, a /var/log/containers link) need a full scan. Bursts (a pod starting
    // several containers) coalesce into one scan soon after.
    if (!this.debounce) {
      this.debounce = setTimeout(() => {
        this.debounce = null;
        this.requestScan();
      }, 20);
    }
  }

  private scanContainerSoon(dir: string, labels: PathLabels): void {
    if (this.stopped) return;
    const state = this.containerScans.get(dir);
    if (state) {
      state.again = true;
      return;
    }
    const run: { again: boolean; done?: Promise<void> } = { again: false };
    this.containerScans.set(dir, run);
    run.done = (async () => {
      try {
        do {
          run.again = false;
          const files = await listDir(dir);
          if (files === null) break;
          const candidates: Candidate[] = [];
          const compressed: Candidate[] = [];
          await this.addFiles(dir, files, labels, candidates, compressed);
          for (const c of candidates) if (!this.stopped) await this.consider(c);
          if (!this.stopped) await this.considerCompressed(compressed);
        } while (run.again && !this.stopped);
      } catch (err) {
        this.ctx.log.error({ dir, err: (err as Error).message }, 'container directory scan failed');
      } finally {
        this.containerScans.delete(dir);
      }
    })();
  }

  private requestScan(): void {
    if (this.stopped) return;
    reportLag(this.ctx, this.tailers.values());
    if (this.scanning || this.scanDelay) {
      this.rescanQueued = true;
      return;
    }
    // A full scan costs in proportion to the files on the node: on a node with thousands, scans
    // back to back would take the reading's CPU. Keep them to a third of the time at most.
    const wait = this.lastScan.end + SCAN_COST_FACTOR * this.lastScan.took - Date.now();
    if (wait > 0) {
      this.scanDelay = setTimeout(() => {
        this.scanDelay = null;
        this.requestScan();
      }, wait);
      return;
    }
    void this.scan();
  }

  private scan(): Promise<void> {
    const started = Date.now();
    this.scanning = this.doScan()
      .catch((err) => this.ctx.log.error({ err: (err as Error).message }, 'discovery scan failed'))
      .finally(() => {
        this.lastScan = { end: Date.now(), took: Date.now() - started };
        this.scanning = null;
        if (this.rescanQueued) {
          this.rescanQueued = false;
          this.requestScan();
        }
      });
    return this.scanning;
  }

  private async doScan(): Promise<void> {
    const seenDirs = new Set<string>();
    const candidates: Candidate[] = [];
    const compressed: Candidate[] = [];
    // What the agent knew of each container before this scan opens anything new.
    const known = this.knownByScope();
    await this.scanPods(candidates, compressed, seenDirs);
    if (this.cfg.containers_dir) await this.scanContainersDir(candidates, seenDirs);
    this.watcher.retain(seenDirs);
    for (const dir of this.containerDirs.keys()) if (!seenDirs.has(dir)) this.containerDirs.delete(dir);
    const scanStart = Date.now();
    for (const c of candidates) {
      if (this.stopped) return;
      await this.consider(c);
    }
    const copyFps = await this.considerCompressed(compressed);
    if (this.stopped) return;
    this.copies.prune((path) => compressed.some((c) => c.path === path));
    await this.reportGaps(known, scanStart, copyFps, [...candidates, ...compressed]);
    await this.forgetVanished(scanStart, copyFps);
  }

  /** Checkpoints (with labels) per container instance. */
  private knownByScope(): Map<string, Array<[string, FileCheckpoint]>> {
    const out = new Map<string, Array<[string, FileCheckpoint]>>();
    for (const [key, cp] of this.checkpoints.all()) {
      const scope = cp.scope;
      if (!scope) continue;
      let list = out.get(scope);
      if (!list) out.set(scope, (list = []));
      list.push([key, cp]);
    }
    return out;
  }

  /**
   * Compressed rotated files. One whose content the agent knows (a checkpoint or an open file
   * with the same first line) is left alone: its original is or was read, or its unfinished
   * rest is taken up by resumeFromCopy. One it does not know was created, rotated and
   * compressed while the agent was not running (or not looking): it is read whole, from its
   * decompressed copy, as the same content-named source the original would have been. On a
   * very first start they are history and only marked. Returns the (scope, fingerprint) pairs
   * present as compressed files, which keep the checkpoints of their content alive.
   */
  private async considerCompressed(list: readonly Candidate[]): Promise<Set<string>> {
    const present = new Set<string>();
    if (list.length === 0) return present;
    // Like rotated files on a first start with read_from: end, except that compressed ones are
    // history on every first start: older than anything uncompressed, and up to 10 MiB each.
    const history = !this.initialScanDone && (this.loaded === 'fresh' || (this.loaded === 'corrupt' && this.startAtEnd));
    let knownFps: Set<string> | null = null;
    for (const c of list) {
      if (this.stopped) break;
      const st = await stat(c.path).catch(() => null);
      if (!st?.isFile()) continue;
      const key = `${st.dev}:${st.ino}`;
      this.markSeen(key);
      const fp = await this.copies.fingerprintOf(c.path, st).catch(() => null);
      if (!fp) continue;
      present.add(`${c.scope}|${fp.fp}`);
      if (this.tailers.has(key)) continue;
      let cp = this.checkpoints.get(key);
      if (cp && (cp.fp !== fp.fp || cp.fpLen !== fp.len)) {
        // The inode of an earlier file, reused: that file's checkpoint lives on under its own
        // name, so its copy is still found or its unread bytes counted (as in `decide`).
        this.checkpoints.delete(key);
        if (!this.claimed.has(cp.fp)) this.checkpoints.set(orphanKey(key, cp.fp), cp);
        cp = undefined;
      }
      // Read to its end and acknowledged (or marked as history).
      if (cp && cp.size !== undefined && cp.offset >= cp.size) continue;
      if (this.pendingCopies.has(key) || this.badCopies.has(key) || this.opening.has(key)) continue;
      if (!cp) {
        knownFps ??= await this.knownFingerprints();
        if (knownFps.has(`${fp.fp}:${fp.len}`)) continue;
        if (history) {
          // Marked done (nothing to read, nothing to count), so later runs know it.
          this.checkpoints.set(key, { path: c.path, dev: st.dev, ino: st.ino, fp: fp.fp, fpLen: fp.len, offset: 0, stdout: -1, stderr: -1, size: 0, drained: true, updated: Date.now(), labels: { ...c.labels } as Record<string, string>, scope: c.scope });
          continue;
        }
      }
      this.opening.add(key);
      try {
        await this.queueCopy(c, key, fp, cp);
      } finally {
        this.opening.delete(key);
      }
      knownFps?.add(`${fp.fp}:${fp.len}`);
    }
    await this.pumpCopies();
    return present;
  }

  /**
   * Hold a compressed file to be read: open it now, since the runtime deletes compressed files
   * too (oldest first) and an open descriptor keeps the content; decompress it when a memory
   * slot is free. Its checkpoint is written at once, with the exact decompressed size from the
   * gzip trailer: if the agent dies before reading it and the file is deleted meanwhile, the
   * loss is then reported, exactly.
   */
  private async queueCopy(c: Candidate, key: string, fp: Fingerprint, cp: FileCheckpoint | undefined): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(c.path, 'r');
    } catch {
      return; // gone already: a later scan or forgetVanished accounts for it
    }
    const st = await fh.stat().catch(() => null);
    const size = st ? await gzipSize(fh, st.size) : null;
    if (!st || `${st.dev}:${st.ino}` !== key || size === null || this.stopped) {
      await fh.close().catch(() => undefined);
      if (st && size === null) this.refuseCopy(key, c.path);
      return;
    }
    if (!cp) {
      this.checkpoints.set(key, {
        path: c.path, dev: st.dev, ino: st.ino, fp: fp.fp, fpLen: fp.len, offset: 0, stdout: -1, stderr: -1,
        size, drained: true, updated: Date.now(), labels: { ...c.labels } as Record<string, string>, scope: c.scope,
      });
      this.checkpoints.flushSoon();
    }
    this.pendingCopies.set(key, { c, fh, dev: st.dev, ino: st.ino, fp, resumed: cp !== undefined });
  }

  /** Start reading queued compressed files while memory slots are free. */
  private async pumpCopies(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.copiesInMemory < MAX_COPIES_IN_MEMORY && !this.stopped) {
        const next = this.pendingCopies.entries().next();
        if (next.done) break;
        const [key, q] = next.value;
        this.pendingCopies.delete(key);
        const data = await gunzipFile(q.fh, COPY_MAX_BYTES);
        await q.fh.close().catch(() => undefined);
        if (!data) {
          this.refuseCopy(key, q.c.path);
          continue;
        }
        const cp = this.checkpoints.get(key);
        if (this.tailers.has(key) || this.stopped || !cp || cp.fp !== q.fp.fp) continue;
        if (cp.offset >= data.length) continue;
        this.ctx.metrics.filesRecovered.inc({ component: this.ctx.name });
        this.ctx.log.warn({ path: q.c.path, file: key, offset: cp.offset, size: data.length }, q.resumed
          ? 'resuming a compressed file the agent had started reading'
          : 'found a compressed file the agent never saw (created and rotated while it was not reading); reading it');
        this.startTailer({ ...q.c, rotated: true }, key, q.dev, q.ino, new MemoryLogFile(data), { offset: cp.offset, stdout: cp.stdout, stderr: cp.stderr }, q.fp, true);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A compressed file that cannot be decompressed (corrupt, too large): said and counted once. */
  private refuseCopy(key: string, path: string): void {
    if (this.badCopies.has(key)) return;
    this.badCopies.add(key);
    this.ctx.metrics.fileErrors.inc({ component: this.ctx.name });
    this.ctx.log.warn({ path, file: key, maxBytes: COPY_MAX_BYTES }, 'compressed log file not read: corrupt, or larger than the limit decompressed');
  }

  /** First-line fingerprints of every file the agent has a checkpoint for or has open. */
  private async knownFingerprints(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const [, cp] of this.checkpoints.all()) out.add(`${cp.fp}:${cp.fpLen}`);
    for (const t of [...this.tailers.values(), ...this.settling.values()]) {
      const fp = await t.knownFingerprint();
      if (fp) out.add(`${fp.fp}:${fp.len}`);
    }
    return out;
  }

  /**
   * Files are deleted oldest first, so while any file of a container that the agent knows is
   * still on disk (or held open, or kept compressed), every newer one is too and gets read.
   * When none is left but the container has files on disk, files may have come and gone
   * entirely while the agent was not running: the lines between the last one it knew and the
   * oldest one on disk may be lost. That cannot be counted (nobody saw those files), so it is
   * said, per container, with the files it comes after, and counted as a gap.
   */
  private async reportGaps(known: Map<string, Array<[string, FileCheckpoint]>>, scanStart: number, copyFps: Set<string>, onDisk: readonly Candidate[]): Promise<void> {
    // Per container, a file on disk to name in the report: a rotated one if any (the oldest
    // sorts first by kubelet's timestamped names), else the current one.
    const scopesOnDisk = new Map<string, Candidate>();
    for (const c of onDisk) {
      const prev = scopesOnDisk.get(c.scope);
      if (!prev || (c.rotated && (!prev.rotated || c.path < prev.path))) scopesOnDisk.set(c.scope, c);
    }
    for (const [scope, files] of known) {
      // Still on disk under some name, or compressed. (An open descriptor on a deleted file
      // is no evidence: newer files may have been deleted after it. Nor is its inode, reused.)
      const isPresent = ([key, cp]: [string, FileCheckpoint]): boolean =>
        ((this.lastSeen.get(key) ?? 0) >= scanStart && this.checkpoints.get(key)?.fp === cp.fp) || copyFps.has(`${scope}|${cp.fp}`);
      if (files.some(isPresent)) {
        this.gapReported.delete(scope);
        continue;
      }
      const oldest = scopesOnDisk.get(scope);
      if (oldest === undefined || this.gapReported.has(scope)) continue;
      // The scan listed the directory before it looked at each file: a rotation in between
      // (renamed, or compressed) hides a known file from it. Look at the directory again.
      // While running, files opened since the scan began count too: the directory watch has
      // the container rescanned at each rotation, so a container whose files all turned over
      // during one slow full scan (thousands of files held through an outage) was followed,
      // not lost sight of. After a restart only what was known before counts.
      const since = this.initialScanDone && this.watcher.active ? (this.knownByScope().get(scope) ?? []) : [];
      if (await this.stillOnDisk(scope, since.length ? [...files, ...since] : files, oldest.path)) continue;
      if (this.stopped) return;
      this.gapReported.add(scope);
      this.ctx.metrics.rotationGaps.inc({ component: this.ctx.name });
      const labels = files[0]![1].labels ?? {};
      this.ctx.log.warn({
        container: `${labels.namespace ?? ''}/${labels.pod ?? ''}/${labels.container ?? ''}`,
        gapAfter: files.map(([key, cp]) => ({ file: key, path: cp.path, readTo: Math.max(cp.size ?? 0, cp.offset) })),
        oldestOnDisk: oldest.path,
      }, 'every file of this container the agent knew is gone: files rotated and deleted while it was not reading may be lost entirely, between the last known one and the oldest on disk');
    }
  }

  /**
   * Whether one of a container's known files is in its directory now, under any name or
   * compressed. Only asked when a scan found none of them, which is rare: one listing.
   */
  private async stillOnDisk(scope: string, files: ReadonlyArray<[string, FileCheckpoint]>, onDiskPath: string): Promise<boolean> {
    const dir = dirname(await realpath(onDiskPath).catch(() => onDiskPath));
    const names = (await listDir(dir)) ?? [];
    // An orphan's content no longer sits under its inode: only files' own entries can match.
    const wanted = new Map(files.filter(([key]) => !isOrphanKey(key)).map(([key, cp]) => [key, cp.fp]));
    const fps = new Set(files.map(([, cp]) => cp.fp));
    for (const name of names) {
      const path = join(dir, name);
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) continue;
      if (isCompressedName(name, basename(scope))) {
        const fp = await this.copies.fingerprintOf(path, st).catch(() => null);
        if (fp && fps.has(fp.fp)) return true;
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (wanted.has(key) && this.checkpoints.get(key)?.fp === wanted.get(key)) return true;
    }
    return false;
  }

  /** List a directory discovery walks, watch it, and remember it was there in this scan. */
  private async enter(dir: string, seenDirs: Set<string>): Promise<string[] | null> {
    const names = await listDir(dir);
    if (names === null) return null;
    seenDirs.add(dir);
    this.watcher.add(dir);
    return names;
  }

  private async scanPods(out: Candidate[], compressed: Candidate[], seenDirs: Set<string>): Promise<void> {
    const pods = await this.enter(this.podsDir, seenDirs);
    if (pods === null) return;
    // One directory at a time: the thread pool is the tailers' too (scanning 10,000 files 16
    // at a time kept a busy file's reads waiting for seconds), and a rotation is seen at once
    // by the scan of its own directory anyway.
    for (const podName of pods) {
      const pod = parsePodDir(podName);
      if (!pod || !this.selector.pod(pod.namespace, pod.pod, pod.pod_uid)) continue;
      const podDir = join(this.podsDir, podName);
      const containers = await this.enter(podDir, seenDirs);
      if (containers === null) continue;
      for (const container of containers) {
        if (!this.selector.container(container)) continue;
        const cdir = join(podDir, container);
        const files = await this.enter(cdir, seenDirs);
        if (files === null) continue;
        this.containerDirs.set(cdir, { cdir, labels: { ...pod, container } });
        await this.addFiles(cdir, files, { ...pod, container }, out, compressed, seenDirs);
      }
    }
  }

  /**
   * A container directory's current files, and their rotated siblings: these may still hold
   * lines not delivered, after a restart or when a file was created and rotated between two
   * scans. Siblings are looked for next to the current file (or next to its symlink target,
   * for Docker's -json.log.N); `consider` decides from the checkpoints.
   */
  private async addFiles(cdir: string, files: string[], labels: PathLabels, out: Candidate[], compressed: Candidate[], seenDirs?: Set<string>): Promise<void> {
    for (const f of files) {
      const m = CURRENT_LOG.exec(f);
      if (!m) continue;
      const current = join(cdir, f);
      const link = (await lstat(current).catch(() => null))?.isSymbolicLink() ?? false;
      const real = link ? await realpath(current).catch(() => null) : current;
      // A link whose target is gone for the moment: Docker is rotating (-json.log renamed to
      // .1, the new one not created yet). Naming the file by the link instead would give its
      // content a second source id (the scope is part of it), and lines re-sent after a restart
      // under the other one would pass the store's replay check: duplicates (seen in the chaos
      // suite). The next scan, or the watcher when the new target appears, finds it properly.
      if (real === null) continue;
      const scope = this.scopeOf(real);
      const l = { ...labels, restart: m[1] };
      out.push({ path: current, labels: l, rotated: false, scope });
      const dir = dirname(real);
      const base = basename(real);
      if (dir !== cdir && seenDirs) {
        // Docker rotates next to the link's target: watch there too, so a rotation is seen at once.
        seenDirs.add(dir);
        this.watcher.add(dir);
        this.containerDirs.set(dir, { cdir, labels });
      }
      const siblings = dir === cdir ? files : ((await listDir(dir)) ?? []);
      for (const s of siblings) {
        if (isRotatedName(s, base)) out.push({ path: join(dir, s), labels: l, rotated: true, scope });
        else if (isCompressedName(s, base)) compressed.push({ path: join(dir, s), labels: l, rotated: true, scope });
      }
    }
  }

  private scopeOf(realCurrent: string): string {
    return relative(this.cfg.root, realCurrent);
  }

  private async scanContainersDir(out: Candidate[], seenDirs: Set<string>): Promise<void> {
    const names = await this.enter(this.containersDir, seenDirs);
    if (names === null) return;
    const present = new Set(names);
    for (const name of this.linkTargets.keys()) if (!present.has(name)) this.linkTargets.delete(name);
    for (const name of names) {
      const parsed = parseContainersLink(name);
      if (!parsed) continue;
      const path = join(this.containersDir, name);
      // A link into var/log/pods carries the richer labels (uid, restart) of that layout.
      const real = this.linkTargets.get(name) ?? (await realpath(path).catch(() => null));
      if (real === null) continue;
      this.linkTargets.set(name, real);
      const rel = relative(this.podsDir, real);
      if (!rel.startsWith('..') && !isAbsolute(rel)) {
        const [podDir, container, file] = rel.split('/');
        const pod = parsePodDir(podDir ?? '');
        const m = CURRENT_LOG.exec(file ?? '');
        if (pod && m && container) {
          if (!this.selector.pod(pod.namespace, pod.pod, pod.pod_uid) || !this.selector.container(container)) continue;
          out.push({ path: real, labels: { ...pod, container, restart: m[1], container_id: parsed.container_id }, rotated: false, scope: this.scopeOf(real) });
          continue;
        }
      }
      if (!this.selector.pod(parsed.namespace, parsed.pod, '') || !this.selector.container(parsed.container)) continue;
      out.push({ path, labels: parsed, rotated: false, scope: this.scopeOf(real) });
    }
  }

  private markSeen(key: string): void {
    this.lastSeen.set(key, Date.now());
    const cp = this.checkpoints.get(key);
    if (cp?.vanishedAt !== undefined) this.checkpoints.set(key, { ...cp, vanishedAt: undefined });
  }

  /** Open a tailer for a candidate unless its file (device + inode) is already followed. */
  private async consider(c: Candidate): Promise<void> {
    const st = await stat(c.path).catch(() => null);
    if (!st?.isFile()) return;
    const key = `${st.dev}:${st.ino}`;
    this.markSeen(key);
    if (this.tailers.has(key) || this.opening.has(key)) return;
    // Drained and closed, its last batches not yet acknowledged: its checkpoint is behind its
    // end only until they are. Reopening it now would send those lines again, racing the
    // store's replay check (chaos: one duplicate line at the end of a Docker file).
    if (this.settling.get(key)?.settled === false) return;
    this.opening.add(key);
    try {
      await this.openFile(c, key, st.dev, st.ino);
    } finally {
      this.opening.delete(key);
    }
  }

  private async openFile(c: Candidate, key: string, dev: number, ino: number): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(c.path, 'r');
    } catch (err) {
      // Said once per file, not at every rescan; the metric shows it is still the case.
      if (!this.unreadable.has(key)) {
        this.unreadable.add(key);
        this.ctx.metrics.fileErrors.inc({ component: this.ctx.name });
        this.ctx.log.warn({ path: c.path, err: (err as Error).message }, 'cannot open log file');
      }
      return;
    }
    this.unreadable.delete(key);
    const take = await this.decide(c, key, dev, ino, fh);
    if (!take || this.stopped) {
      await fh.close();
      return;
    }
    const cp = this.checkpoints.get(key);
    let start: StartPosition = { offset: 0, stdout: -1, stderr: -1 };
    let fp = null;
    if (cp) {
      start = { offset: cp.offset, stdout: cp.stdout, stderr: cp.stderr };
      if (cp.fpLen > 0) fp = { fp: cp.fp, len: cp.fpLen };
    } else if (this.startAtEnd && !this.initialScanDone) {
      start = { offset: take.size, stdout: take.size, stderr: take.size };
    }
    const identity = cp?.sourceDev !== undefined && cp.sourceIno !== undefined ? { dev: cp.sourceDev, ino: cp.sourceIno } : undefined;
    this.startTailer(c, key, dev, ino, fh, start, fp, false, identity, take.born);
  }

  /** `fromCopy`: reading a compressed copy; the path belongs to a newer file now, so watch events are not routed here. */
  private startTailer(c: Candidate, key: string, dev: number, ino: number, fh: LogFile, start: StartPosition, fp: Fingerprint | null, fromCopy = false, identity?: { dev: number; ino: number }, born?: number): void {
    const labels: Labels = stripEmpty({ ...c.labels });
    if (fromCopy) this.copiesInMemory++;
    const rule = this.multiline?.ruleFor(labels);
    const tailer = new Tailer({
      path: c.path, fh, dev, ino, fp, labels, start, key, identity, contentScope: c.scope, born,
      framer: rule && rule.key !== '' ? { ...this.framer, multiline: rule.opts } : this.framer, slots: this.slots, pollGate: this.pollGate, checkpoints: this.checkpoints, ctx: this.ctx,
      pollMs: this.cfg.poll_interval, rotateWaitMs: this.cfg.rotate_wait, rotated: c.rotated,
      onClosed: (t) => {
        if (fromCopy) {
          this.copiesInMemory--;
          void this.pumpCopies();
        }
        if (this.tailers.get(t.key) === t) this.tailers.delete(t.key);
        // Closed with batches still unacknowledged: its checkpoint is behind the file's end until
        // they are, which must not read as a loss if the runtime deletes the file meanwhile.
        if (!t.settled) this.settling.set(t.key, t);
        if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
        this.ctx.metrics.filesOpen.set({ component: this.ctx.name }, this.tailers.size);
      },
    });
    this.tailers.set(key, tailer);
    if (rule) this.multilineKeys.set(tailer, rule.key);
    if (!fromCopy) this.byPath.set(c.path, tailer);
    this.ctx.metrics.filesOpened.inc({ component: this.ctx.name });
    this.ctx.metrics.filesOpen.set({ component: this.ctx.name }, this.tailers.size);
    this.ctx.log.info({ path: c.path, file: key, offset: start.offset, rotated: c.rotated }, 'tailing file');
    tailer.start();
  }

  /**
   * Whether to tail a file just opened, from what the checkpoints say about it. Returns its
   * size when it is to be tailed.
   */
  private async decide(c: Candidate, key: string, dev: number, ino: number, fh: FileHandle): Promise<{ size: number; born: number } | null> {
    // Another scan may have raced us to the same file, or the path was rotated since stat.
    const st = await fh.stat().catch(() => null);
    if (!st || this.tailers.has(key) || this.stopped || st.ino !== ino || st.dev !== dev) return null;
    // A checkpoint is trusted only after the file's first line matched it, every time: once
    // a file is deleted (kubelet compressing a rotated file), its inode is soon reused.
    let cp = this.checkpoints.get(key);
    // Recorded before its first line was complete: nothing was read, so it matches if it is
    // the same file by birth time (an inode reused since was born later).
    const sameUnread = cp !== undefined && cp.fpLen === 0 && cp.offset === 0 && !!cp.born && cp.born === st.birthtimeMs;
    if (cp && !sameUnread) {
      if (!(cp.fpLen > 0 && (await fingerprintOfLength(fh, cp.fpLen)) === cp.fp && cp.offset <= st.size)) {
        // Same inode, different file (inode reused after a delete), or shrunk: not ours.
        this.checkpoints.delete(key);
        // The file it was written for is gone; keep its checkpoint under its own name, so its
        // compressed copy is still read, or its unread bytes counted (forgetVanished).
        // (A copytruncate copy may also still turn up and continue from it.)
        const kept = this.claimed.has(cp.fp) ? null : orphanKey(key, cp.fp);
        if (kept) this.checkpoints.set(kept, cp);
        // `kept`: where the earlier content's checkpoint lives on (null: a copy took it over).
        this.ctx.log.info({ path: c.path, file: key, kept, readTo: cp.offset }, 'checkpoint does not match the file (inode reused, or content replaced); reading from the start');
        cp = undefined;
      }
    }
    const take = { size: st.size, born: st.birthtimeMs };
    if (!c.rotated) return take;
    // A rotated file is read when it was not finished: its checkpoint stops short of its end,
    // or it has none because it was created and rotated while we were not looking.
    if (cp) return cp.offset < st.size ? take : null;
    // A copy of a file we know (copytruncate): same first line as another file's checkpoint.
    // It continues that content, so it is read from where that checkpoint stops, as that
    // file's source; its own checkpoint takes over.
    const copyOf = await this.copiedFrom(fh, key);
    if (copyOf) {
      if (isOrphanKey(copyOf.key)) this.checkpoints.delete(copyOf.key);
      this.claimed.add(copyOf.cp.fp);
      this.checkpoints.set(key, { ...copyOf.cp, path: c.path, dev, ino, updated: Date.now(), sourceDev: copyOf.identity.dev, sourceIno: copyOf.identity.ino });
      return copyOf.cp.offset < st.size ? take : null;
    }
    if (this.initialScanDone || this.loaded === 'loaded' || !this.startAtEnd) return take;
    // First start with read_from: end: rotated files are history from before the agent; mark
    // them done so a later restart does not mistake them for files rotated while it was down.
    const fp = await fingerprint(fh);
    if (fp) this.checkpoints.set(key, { path: c.path, dev, ino, fp: fp.fp, fpLen: fp.len, offset: st.size, stdout: st.size, stderr: st.size, updated: Date.now(), labels: { ...c.labels } as Record<string, string>, scope: c.scope });
    return null;
  }

  /** The checkpoint (of another file, or kept for the content of a truncated one) this file is a copy of. */
  private async copiedFrom(fh: FileHandle, key: string): Promise<{ key: string; cp: FileCheckpoint; identity: { dev: number; ino: number } } | null> {
    const fp = await fingerprint(fh);
    if (!fp) return null;
    let best: { key: string; cp: FileCheckpoint } | null = null;
    for (const [k, cp] of this.checkpoints.all()) {
      if (k === key || cp.fp !== fp.fp || cp.fpLen !== fp.len) continue;
      if (!best || cp.offset > best.cp.offset) best = { key: k, cp };
    }
    if (!best) return null;
    const file = fileOfKey(best.key);
    if (!file) return null;
    const identity = best.cp.sourceDev !== undefined && best.cp.sourceIno !== undefined ? { dev: best.cp.sourceDev, ino: best.cp.sourceIno } : file;
    return { ...best, identity };
  }

  /** With exitWhenDrained: every file known at start read to its end. */
  async drained(): Promise<void> {
    while (!this.initialScanDone) await new Promise((r) => setTimeout(r, 10));
    for (;;) {
      const ts = [...this.tailers.values()];
      await Promise.all(ts.map((t) => t.whenCaughtUp()));
      if (this.scanning) await this.scanning;
      if ([...this.tailers.values()].every((t) => ts.includes(t))) return;
    }
  }

  /** A pod's annotations may have changed: its open files switch multiline rule if theirs did. */
  private podChanged(pod: PodMeta, ml: PodMultiline): void {
    for (const t of this.tailers.values()) {
      const uid = t.labels.pod_uid;
      if (uid !== pod.uid && (pod.configHash === undefined || uid !== pod.configHash) && (uid !== undefined || t.labels.namespace !== pod.namespace || t.labels.pod !== pod.name)) continue;
      const rule = ml.ruleFor(t.labels);
      if (this.multilineKeys.get(t) === rule.key) continue;
      this.multilineKeys.set(t, rule.key);
      this.ctx.log.info({ path: t.path, multiline: rule.key || 'source setting' }, 'multiline rule changed by pod annotation');
      t.setMultiline(rule.opts);
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.stopped = true;
    if (this.scanTimer) clearInterval(this.scanTimer);
    if (this.debounce) clearTimeout(this.debounce);
    if (this.scanDelay) clearTimeout(this.scanDelay);
    this.watcher.close();
    if (this.scanning) await this.scanning;
    await Promise.all([...this.containerScans.values()].map((r) => r.done));
    await Promise.all([...this.tailers.values()].map((t) => t.stop()));
  }

  async close(): Promise<void> {
    for (const q of this.pendingCopies.values()) await q.fh.close().catch(() => undefined);
    this.pendingCopies.clear();
    await this.checkpoints.close();
    await Promise.all([...this.tailers.values()].map((t) => t.release()));
  }
}

/** A checkpoint outlives its file by this much (rescans may briefly miss a file mid-rotation). */
const VANISHED_GRACE_MS = 10_000;
/** A file missing from scans this long is gone, not being renamed: its unread bytes are lost. */
const LOST_GRACE_MS = 2_000;
/** Compressed copies larger than this (decompressed) are not recovered into memory. */
const COPY_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Decompressed copies read at the same time. Each is held whole in memory (kubelet rotates at
 * 10 MiB by default), so this bounds what recovering them adds to the agent's footprint.
 */
const MAX_COPIES_IN_MEMORY = 2;

function stripEmpty(l: Record<string, string | undefined>): Labels {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(l)) if (v) out[k] = v;
  return out;
}

/** A full scan waits at least this many times as long as the previous one took. */
const SCAN_COST_FACTOR = 2;

async function listDir(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch {
    return null;
  }
}
