import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.js';
import type { AgentMetrics } from '../core/metrics.js';
import { podMeta, type PodMeta } from './pod-meta.js';
import { Reflector, type ListWatchApi } from './reflector.js';

/** The node's pods, listed and watched. */
export type PodApi = ListWatchApi<V1Pod>;

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

/**
 * The pods of one node, kept current by a Reflector (list, then watch; relist on 410 Gone;
 * reconnect with backoff), listed once before tailing starts. Pods are keyed by UID — a
 * StatefulSet pod recreated under the same name is another pod — and a deleted pod is kept
 * while its logs are read.
 */
export class PodCache {
  private readonly byUid = new Map<string, Entry>();
  private readonly byName = new Map<string, string>();
  private readonly byHash = new Map<string, string>();
  private readonly reflector: Reflector<V1Pod>;
  private gcTimer: NodeJS.Timeout | null = null;
  /** Bumped on every change, so consumers can cache what they derive from a pod. */
  generation = 0;
  private readonly listeners = new Set<(pod: PodMeta) => void>();

  constructor(api: PodApi, private readonly opts: PodCacheOptions, log: Logger, private readonly metrics: AgentMetrics, private readonly now: () => number = Date.now) {
    this.reflector = new Reflector(api, {
      replace: (pods) => this.replaceAll(pods),
      upsert: (pod) => void this.upsert(pod),
      remove: (pod) => this.markDeleted(pod),
    }, { component: opts.component, resource: 'pods', backoffInitialMs: opts.backoffInitialMs, backoffMaxMs: opts.backoffMaxMs }, log, metrics);
  }

  start(): void {
    this.reflector.start();
    this.gcTimer ??= setInterval(() => this.gc(), Math.min(30_000, Math.max(1000, this.opts.retainDeletedMs / 4)));
    this.gcTimer.unref();
  }

  /** Resolves after the first full list, or after `timeoutMs` (tailing must not wait forever). */
  synced(timeoutMs: number): Promise<boolean> {
    return this.reflector.synced(timeoutMs);
  }

  get isSynced(): boolean {
    return this.reflector.isSynced;
  }

  async stop(): Promise<void> {
    if (this.gcTimer) clearInterval(this.gcTimer);
    await this.reflector.stop();
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
