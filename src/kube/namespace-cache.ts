import type { V1Namespace } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.js';
import type { AgentMetrics } from '../core/metrics.js';
import { Reflector, type ListWatchApi } from './reflector.js';

/**
 * Namespace labels (team, cost centre, environment), kept by list + watch. Cluster-scoped and
 * few: a node's agent holds all of them. A deleted namespace's labels are forgotten at once:
 * its pods' lines still being read keep the labels they were enriched with, and new batches of
 * them go out with the pod's own labels.
 */
export class NamespaceCache {
  private readonly labelsByName = new Map<string, Readonly<Record<string, string>>>();
  private readonly reflector: Reflector<V1Namespace>;
  /** Bumped on every change, so consumers can cache what they derive. */
  generation = 0;

  constructor(api: ListWatchApi<V1Namespace>, opts: { component: string; backoffInitialMs?: number; backoffMaxMs?: number }, log: Logger, metrics: AgentMetrics) {
    this.reflector = new Reflector(api, {
      replace: (items) => {
        this.labelsByName.clear();
        for (const ns of items) this.set(ns);
        this.generation++;
      },
      upsert: (ns) => {
        this.set(ns);
        this.generation++;
      },
      remove: (ns) => {
        if (ns.metadata?.name) this.labelsByName.delete(ns.metadata.name);
        this.generation++;
      },
    }, { ...opts, resource: 'namespaces' }, log, metrics);
  }

  start(): void {
    this.reflector.start();
  }

  synced(timeoutMs: number): Promise<boolean> {
    return this.reflector.synced(timeoutMs);
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }

  labels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.labelsByName.get(namespace);
  }

  private set(ns: V1Namespace): void {
    const name = ns.metadata?.name;
    if (name) this.labelsByName.set(name, { ...(ns.metadata?.labels ?? {}) });
  }
}
