import type { Logger } from '../core/logger.js';
import type { AgentMetrics } from '../core/metrics.js';

/** The API calls a reflector needs for one kind of object: a list, and a watch from a resourceVersion. */
export interface ListWatchApi<T> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Streams changes after `resourceVersion` to `onEvent` until the server ends the watch
   * (resolves) or it fails (rejects). Aborting `signal` ends it.
   */
  watch(resourceVersion: string, onEvent: (type: string, object: unknown) => void, signal: AbortSignal): Promise<void>;
}

/** What a reflector tells its store. */
export interface ReflectorStore<T> {
  /** A full list: everything not in it is gone. */
  replace(items: readonly T[]): void;
  upsert(item: T): void;
  remove(item: T): void;
}

export interface ReflectorOptions {
  component: string;
  /** The kind of object, for logs and the `resource` label of the API metrics. */
  resource: string;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** A watch ended by a `410 Gone`: the resourceVersion is too old, list again. */
class Gone extends Error {}

/**
 * Keeps a store current from the Kubernetes API the way client-go's reflector does: list, then
 * watch from the list's resourceVersion (bookmarks included). A `410 Gone` (history compacted)
 * lists again; a dropped connection watches again from the last version seen; failures back
 * off (with jitter) while the API server is unreachable, and never stop the loop.
 *
 * Written on `@kubernetes/client-node`'s transport and watch stream rather than its ListWatch
 * informer, which keys objects by name and stops at its first error.
 */
export class Reflector<T> {
  private stopped = false;
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private syncedOnce = false;
  private readonly syncWaiters: Array<() => void> = [];
  private wakeSleep: (() => void) | null = null;
  private readonly labels: { component: string; resource: string };

  constructor(private readonly api: ListWatchApi<T>, private readonly store: ReflectorStore<T>, private readonly opts: ReflectorOptions, private readonly log: Logger, private readonly metrics: AgentMetrics) {
    this.labels = { component: opts.component, resource: opts.resource };
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves after the first full list, or after `timeoutMs` (false then). */
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
    await this.loop;
  }

  private async run(): Promise<void> {
    let rv = '';
    let failures = 0;
    const { metrics, labels } = this;
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        if (!rv) {
          const list = await this.api.list();
          this.store.replace(list.items);
          rv = list.resourceVersion;
          metrics.kubeRelists.inc(labels);
          this.markSynced();
        }
        metrics.kubeWatchUp.set(labels, 1);
        let gone = false;
        await this.api.watch(rv, (type, object) => {
          if (gone) return;
          const version = (object as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
          if (type === 'ERROR') {
            const status = object as { code?: number; message?: string } | null;
            if (status?.code === 410) gone = true;
            else this.log.warn({ resource: this.opts.resource, status }, 'kubernetes watch error event');
            this.abort?.abort();
            return;
          }
          failures = 0;
          if (type === 'ADDED' || type === 'MODIFIED') this.store.upsert(object as T);
          else if (type === 'DELETED') this.store.remove(object as T);
          if (version) rv = version;
        }, this.abort.signal);
        if (gone) throw new Gone('resourceVersion too old');
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof Gone || (err as { statusCode?: number; code?: number }).statusCode === 410 || (err as { code?: number }).code === 410) {
          this.log.info({ resource: this.opts.resource, resourceVersion: rv }, 'kubernetes watch expired (410 Gone); listing again');
          rv = '';
          continue;
        }
        failures++;
        metrics.kubeApiErrors.inc(labels);
        const delay = backoff(failures, this.opts.backoffInitialMs ?? 500, this.opts.backoffMaxMs ?? 30_000);
        this.log.warn({ resource: this.opts.resource, err: (err as Error).message, retryInMs: Math.round(delay), synced: this.syncedOnce }, 'kubernetes API unreachable; logs keep flowing with what is known, retrying');
        metrics.kubeWatchUp.set(labels, 0);
        await this.sleep(delay);
      } finally {
        metrics.kubeWatchUp.set(labels, 0);
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
}

function backoff(failures: number, initialMs: number, maxMs: number): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 16));
  return d / 2 + Math.random() * (d / 2);
}
