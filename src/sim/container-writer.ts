import { closeSync, copyFileSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { LogFormat } from './encode.js';
import { discard, discardSync, gzipFile, rotatedName, shiftDockerFiles } from './rotate.js';

export interface ContainerMeta {
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  format: LogFormat;
}

export interface RotationOptions {
  /** Rotate once the current file is larger than this. */
  rotateBytes: number;
  /** Files kept per container instance, the current one included (kubelet/docker max-file). */
  keepFiles: number;
  /** Copy then truncate in place instead of rename + reopen (logrotate-style; for tests). */
  copytruncate: boolean;
  /** Move deleted log files here (named `<dev>-<ino>`) instead of deleting them; for tests. */
  keepDeleted?: string;
}

interface RotatedFile {
  /** Name given at rotation. */
  base: string;
  /** Where the data is now: `base`, or `base.gz` once compressed. */
  path: string;
}

/** One run of the container: kubelet's `<restart>.log`, a container ID. */
interface Instance {
  restart: number;
  id: string;
  /** CRI rotated files, oldest first. */
  rotated: RotatedFile[];
}

/**
 * The files of one container as the runtime and kubelet leave them: the current log with
 * an open fd, its rotations, the previous restart's log, and the symlinks pointing in.
 * Writes are synchronous and record-aligned; compression and clean-up run in the
 * background, one at a time, so they never race each other.
 */
export class ContainerWriter {
  private inst: Instance;
  /** kubelet keeps the last dead container (and its log) until the next restart. */
  private previous: Instance | undefined;
  private fd = -1;
  private size = 0;
  private chain: Promise<void> = Promise.resolve();
  /** First background failure; surfaced by `close()` and polled by the node. */
  failure: unknown;

  constructor(
    private readonly root: string,
    readonly meta: ContainerMeta,
    private readonly opts: RotationOptions,
    id: string,
  ) {
    this.inst = { restart: 0, id, rotated: [] };
  }

  get restart(): number {
    return this.inst.restart;
  }

  get containerId(): string {
    return this.inst.id;
  }

  /** `var/log/pods/<ns>_<pod>_<uid>`. */
  get podDir(): string {
    const m = this.meta;
    return join(this.root, 'var/log/pods', `${m.namespace}_${m.pod}_${m.podUid}`);
  }

  /** `var/log/pods/.../<container>/<restart>.log` (a symlink into docker's dir for docker). */
  logPath(restart = this.inst.restart): string {
    return join(this.podDir, this.meta.container, `${restart}.log`);
  }

  /** `var/log/containers/<pod>_<ns>_<container>-<id>.log`. */
  linkPath(id = this.inst.id): string {
    const m = this.meta;
    return join(this.root, 'var/log/containers', `${m.pod}_${m.namespace}_${m.container}-${id}.log`);
  }

  dockerDir(id = this.inst.id): string {
    return join(this.root, 'var/lib/docker/containers', id);
  }

  /** The regular file being appended to now. */
  get currentFile(): string {
    return this.meta.format === 'docker' ? join(this.dockerDir(), `${this.inst.id}-json.log`) : this.logPath();
  }

  /** Creates the current instance's file and the symlinks, in the runtime's order. */
  open(): void {
    const log = this.logPath();
    mkdirSync(dirname(log), { recursive: true });
    mkdirSync(dirname(this.linkPath()), { recursive: true });
    if (this.meta.format === 'docker') {
      mkdirSync(this.dockerDir(), { recursive: true });
      this.fd = openSync(this.currentFile, 'a');
      // cri-dockerd: the kubelet path is a symlink to docker's json log.
      replaceSymlink(log, relative(dirname(log), this.currentFile));
    } else {
      this.fd = openSync(log, 'a');
    }
    this.size = fstatSync(this.fd).size;
    replaceSymlink(this.linkPath(), relative(dirname(this.linkPath()), log));
  }

  /**
   * Appends encoded messages (each one or more whole records). Records are grouped into
   * as few writes as possible but a message is never split across writes, and rotation
   * happens only between messages, right after the write that pushed the file over.
   */
  write(messages: readonly Buffer[]): void {
    let batch: Buffer[] = [];
    let bytes = 0;
    for (const m of messages) {
      batch.push(m);
      bytes += m.length;
      if (this.size + bytes > this.opts.rotateBytes) {
        this.flush(batch, bytes);
        batch = [];
        bytes = 0;
        this.rotate();
      }
    }
    if (batch.length > 0) this.flush(batch, bytes);
  }

  private flush(batch: Buffer[], bytes: number): void {
    const buf = batch.length === 1 ? batch[0] : Buffer.concat(batch, bytes);
    // Regular files take the whole buffer in one call; the loop is only a safety net.
    for (let at = 0; at < buf.length; ) at += writeSync(this.fd, buf, at, buf.length - at);
    this.size += bytes;
  }

  private rotate(): void {
    if (this.meta.format === 'docker') this.rotateDocker();
    else this.rotateCri();
    this.size = 0;
  }

  /** kubelet: `<n>.log` -> `<n>.log.<stamp>`, runtime reopens `<n>.log`. */
  private rotateCri(): void {
    const inst = this.inst;
    const log = this.logPath();
    const name = rotatedName(log, new Date(), new Set(inst.rotated.map((f) => f.base)));
    if (this.opts.copytruncate) {
      copyFileSync(log, name);
      ftruncateSync(this.fd, 0);
    } else {
      renameSync(log, name);
      this.reopen(log);
    }
    inst.rotated.push({ base: name, path: name });
    this.enqueue(() => this.compact(inst));
  }

  /** dockerd json-file: `-json.log` -> `.1`, `.1` -> `.2`, ... up to max-file - 1. */
  private rotateDocker(): void {
    const log = this.currentFile;
    const max = this.opts.keepFiles - 1;
    if (max >= 1) shiftDockerFiles(log, max, this.opts.keepDeleted);
    if (this.opts.copytruncate) {
      if (max >= 1) copyFileSync(log, `${log}.1`);
      ftruncateSync(this.fd, 0);
    } else {
      if (max >= 1) renameSync(log, `${log}.1`);
      else discardSync(log, this.opts.keepDeleted);
      this.reopen(log);
    }
  }

  private reopen(file: string): void {
    closeSync(this.fd);
    this.fd = openSync(file, 'a');
  }

  /**
   * kubelet's clean-up after a rotation: drop the oldest beyond keepFiles (current file
   * included), then gzip every rotated file but the newest (a reader may still be on it).
   */
  private async compact(inst: Instance): Promise<void> {
    const maxRotated = Math.max(0, this.opts.keepFiles - 1);
    while (inst.rotated.length > maxRotated) {
      const f = inst.rotated.shift();
      if (f) await discard(f.path, this.opts.keepDeleted);
    }
    // Length is re-read each pass: rotations may append while we are compressing.
    for (let i = 0; i < inst.rotated.length - 1; i++) {
      const f = inst.rotated[i];
      if (f.path === f.base) f.path = await gzipFile(f.base, this.opts.keepDeleted);
    }
  }

  /**
   * A new container in the same pod slot: `<restart+1>.log`, a new ID and its symlink; the
   * old symlink goes, the previous instance's files stay, the one before is collected.
   */
  restartContainer(newId: string): void {
    const old = this.inst;
    closeSync(this.fd);
    this.fd = -1;
    rmSync(this.linkPath(old.id), { force: true });
    this.inst = { restart: old.restart + 1, id: newId, rotated: [] };
    this.open();
    const gone = this.previous;
    this.previous = old;
    if (gone) this.enqueue(() => this.removeInstance(gone));
  }

  private async removeInstance(inst: Instance): Promise<void> {
    await discard(this.logPath(inst.restart), this.opts.keepDeleted);
    for (const f of inst.rotated) {
      await discard(f.path, this.opts.keepDeleted);
      await discard(f.base, this.opts.keepDeleted);
    }
    if (this.meta.format === 'docker') await rm(this.dockerDir(inst.id), { recursive: true, force: true });
  }

  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((err: unknown) => {
      this.failure ??= err;
    });
  }

  /** Waits for background work, fsyncs and closes the current file. */
  async close(): Promise<void> {
    await this.chain;
    if (this.fd >= 0) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * The pod is gone: close, remove our symlink and docker's container dirs. The caller
   * removes the pod dir (shared by the pod's containers).
   */
  async dispose(): Promise<void> {
    await this.close();
    await rm(this.linkPath(), { force: true });
    if (this.meta.format === 'docker') {
      await rm(this.dockerDir(), { recursive: true, force: true });
      if (this.previous) await rm(this.dockerDir(this.previous.id), { recursive: true, force: true });
    }
  }
}

/**
 * Links are always new names (IDs and restart numbers are never reused), so no atomic
 * replace dance that would leave temporary names for a directory watcher to trip on.
 */
function replaceSymlink(path: string, target: string): void {
  rmSync(path, { force: true });
  symlinkSync(target, path);
}
