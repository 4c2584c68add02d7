import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.js';
import type { AgentMetrics } from '../core/metrics.js';
import { podMeta, type PodMeta } from './pod-meta.js';

/** The API calls the cache needs: a list, and a watch from a resourceVersion. */
export interface PodApi {
  list(): Promise<{ pods: V1Pod[]; resourceVersion: string }>;
  /**
   * Streams changes after `resourceVersion` to `onEvent` until the server ends the watch
   * (resolves) or it fails (rejects). Aborting `signal` ends it.
   */
  watch(resourceVersion: string, onEvent: (type: string, object: unknown) => void, signal: AbortSignal): Promise<void>;
}

export interface PodCacheOptions {
  /** Deleted pods stay this long after deletion, and as long as their logs are still being read. */
  retainDeletedMs: number;
  /** Reconnect backoff bounds. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  component: string;
}

interface Entry {
  meta: PodMeta;
  deletedAt?: number;
  lastUsed: number;
}

/** A watch ended by a `410 Gone`: the resourceVersion is too old, list again. */
class Gone extends Error {}

/**
 * The pods of one node, kept current by list + watch (a reflector): listed once before tailing
 * starts, then watched from the list's resourceVersion, with bookmarks. A `410 Gone` (history
 * compacted) relists; a dropped connection re-watches from the last version seen, backing off
 * while the API server is unreachable. Pods are keyed by UID — a StatefulSet pod recreated
 * under the same name is another pod — and a deleted pod is kept while its logs are read.
 *
 * Written on `@kubernetes/client-node`'s transport and watch stream rather than its
 * ListWatch informer, which keys objects by name and stops at the first error.
 */
export class PodCache {
  private readonly byUid = new Map<string, Entry>();
  private readonly byName = new Map<string, string>();
  private readonly byHash = new Map<string, string>();
  private stopped = false;
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private gcTimer: NodeJS.Timeout | null = null;
  private syncedOnce = false;
  private readonly syncWaiters: Array<() => void> = [];
  private wakeSleep: (() => void) | null = null;
  /** Bumped on every change, so consumers can cache what they derive from a pod. */
  generation = 0;
  private readonly listeners = new Set<(pod: PodMeta) => void>();

  constructor(private readonly api: PodApi, private readonly opts: PodCacheOptions, private readonly log: Logger, private readonly metrics: AgentMetrics, private readonly now: () => number = Date.now) {}

  start(): void {
    this.loop ??= this.run();
    this.gcTimer = setInterval(() => this.gc(), Math.min(30_000, Math.max(1000, this.opts.retainDeletedMs / 4)));
    this.gcTimer.unref();
  }

  /** Resolves after the first full list, or after `timeoutMs` (tailing must not wait forever). */
  async synced(timeoutMs: number): Promise<boolean> {
    if (this.syncedOnce) return true;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      new Promise<boolean>((r) => this.syncWaiters.push(() => r(true))),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), timeoutMs); }),
    ]);
    clearTimeout(timer);
    return ok;
  }

  get isSynced(): boolean {
    return this.syncedOnce;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wakeSleep?.();
    if (this.gcTimer) clearInterval(this.gcTimer);
    await this.loop;
  }

  /** The pod with this UID — or, for a static pod, whose config hash it is. Marks it in use. */
  get(uid: string): PodMeta | undefined {
    const e = this.byUid.get(uid) ?? this.byUid.get(this.byHash.get(uid) ?? '');
    if (!e) return undefined;
    e.lastUsed = this.now();
    return e.meta;
  }

  /** The newest pod of that name (static pods, or paths that carry no UID). */
  getByName(namespace: string, name: string): PodMeta | undefined {
    const uid = this.byName.get(`${namespace}/${name}`);
    return uid ? this.get(uid) : undefined;
  }

  get size(): number {
    return this.byUid.size;
  }

  /** Called with a pod each time it is added or changes (annotations on a running pod); returns the unsubscribe. */
  onChange(listener: (pod: PodMeta) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every pod known, deleted ones still kept included. */
  pods(): PodMeta[] {
    return [...this.byUid.values()].map((e) => e.meta);
  }

  private async run(): Promise<void> {
    let rv = '';
    let failures = 0;
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        if (!rv) {
          const list = await this.api.list();
          this.replaceAll(list.pods);
          rv = list.resourceVersion;
          this.metrics.kubeRelists.inc({ component: this.opts.component });
          this.markSynced();
        }
        this.metrics.kubeWatchUp.set({ component: this.opts.component }, 1);
        let gone = false;
        await this.api.watch(rv, (type, object) => {
          if (gone) return;
          const version = (object as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
          if (type === 'ERROR') {
            const status = object as { code?: number; message?: string } | null;
            if (status?.code === 410) gone = true;
            else this.log.warn({ status }, 'kubernetes watch error event');
            this.abort?.abort();
            return;
          }
          failures = 0;
          if (type === 'ADDED' || type === 'MODIFIED') this.upsert(object as V1Pod);
          else if (type === 'DELETED') this.markDeleted(object as V1Pod);
          if (version) rv = version;
        }, this.abort.signal);
        if (gone) throw new Gone('resourceVersion too old');
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof Gone || (err as { statusCode?: number; code?: number }).statusCode === 410 || (err as { code?: number }).code === 410) {
          this.log.info({ resourceVersion: rv }, 'kubernetes watch expired (410 Gone); listing pods again');
          rv = '';
          continue;
        }
        failures++;
        this.metrics.kubeApiErrors.inc({ component: this.opts.component });
        const delay = backoff(failures, this.opts.backoffInitialMs ?? 500, this.opts.backoffMaxMs ?? 30_000);
        this.log.warn({ err: (err as Error).message, retryInMs: Math.round(delay), synced: this.syncedOnce }, 'kubernetes API unreachable; logs keep flowing with path labels only, retrying');
        this.metrics.kubeWatchUp.set({ component: this.opts.component }, 0);
        await this.sleep(delay);
      } finally {
        this.metrics.kubeWatchUp.set({ component: this.opts.component }, 0);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wakeSleep = () => {
        clearTimeout(t);
        r();
      };
    });
  }

  private markSynced(): void {
    if (this.syncedOnce) return;
    this.syncedOnce = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** A fresh list: pods no longer in it were deleted while we were not watching. */
  private replaceAll(pods: readonly V1Pod[]): void {
    const seen = new Set<string>();
    for (const p of pods) {
      const uid = this.upsert(p);
      if (uid) seen.add(uid);
    }
    for (const [uid, e] of this.byUid) if (!seen.has(uid) && e.deletedAt === undefined) this.markDeletedUid(uid);
  }

  private upsert(pod: V1Pod): string | null {
    const meta = podMeta(pod);
    if (!meta) return null;
    const prev = this.byUid.get(meta.uid);
    if (prev && prev.meta.resourceVersion === meta.resourceVersion && prev.deletedAt === undefined) return meta.uid;
    this.byUid.set(meta.uid, { meta, lastUsed: prev?.lastUsed ?? this.now() });
    this.byName.set(`${meta.namespace}/${meta.name}`, meta.uid);
    if (meta.configHash) this.byHash.set(meta.configHash, meta.uid);
    this.changed();
    for (const l of this.listeners) l(meta);
    return meta.uid;
  }

  private markDeleted(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    // The final state (e.g. last annotations) comes with the deletion.
    this.upsert(pod);
    this.markDeletedUid(uid);
  }

  private markDeletedUid(uid: string): void {
    const e = this.byUid.get(uid);
    if (!e || e.deletedAt !== undefined) return;
    e.deletedAt = this.now();
    this.changed();
  }

  /** Forget pods deleted longer ago than the retention whose logs were not read meanwhile. */
  gc(): void {
    const cutoff = this.now() - this.opts.retainDeletedMs;
    for (const [uid, e] of this.byUid) {
      if (e.deletedAt === undefined || e.deletedAt > cutoff || e.lastUsed > cutoff) continue;
      this.byUid.delete(uid);
      const key = `${e.meta.namespace}/${e.meta.name}`;
      if (this.byName.get(key) === uid) this.byName.delete(key);
      if (e.meta.configHash && this.byHash.get(e.meta.configHash) === uid) this.byHash.delete(e.meta.configHash);
      this.changed();
    }
  }

  private changed(): void {
    this.generation++;
    this.metrics.kubePods.set({ component: this.opts.component }, this.byUid.size);
  }
}

function backoff(failures: number, initialMs: number, maxMs: number): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 16));
  return d / 2 + Math.random() * (d / 2);
}
