import type { ComponentContext } from '../core/component.js';
import { PodCache, type PodApi } from './pod-cache.js';

export interface SharedPodCacheOptions {
  kubeconfig?: string;
  node: string;
  retainDeletedMs: number;
  syncTimeoutMs: number;
}

interface Shared {
  cache: PodCache;
  started: Promise<boolean>;
  users: number;
}

/**
 * The agent's pod cache for a node, shared by every component that needs it (metadata,
 * in-pod files): one list and one watch on the API server, not one per component. Started on
 * first use; resolves once the first list arrived or `syncTimeoutMs` passed (false then).
 * @kubernetes/client-node is loaded here, only when something needs it (~50 MiB of RSS).
 */
export async function usePodCache(ctx: ComponentContext, o: SharedPodCacheOptions, api?: PodApi): Promise<{ cache: PodCache; synced: boolean; release: () => Promise<void> }> {
  const key = `kube-pods|${o.kubeconfig ?? ''}|${o.node}`;
  let s = ctx.shared.get(key) as Shared | undefined;
  if (!s) {
    let podApi = api;
    if (!podApi) {
      const k = await import('./api.js');
      podApi = k.nodePodApi(k.loadKubeConfig({ kubeconfig: o.kubeconfig }), o.node);
    }
    const cache = new PodCache(podApi, { retainDeletedMs: o.retainDeletedMs, component: ctx.name }, ctx.log, ctx.metrics);
    cache.start();
    s = { cache, started: cache.synced(o.syncTimeoutMs), users: 0 };
    ctx.shared.set(key, s);
  }
  s.users++;
  const shared = s;
  const synced = await shared.started;
  let released = false;
  return {
    cache: shared.cache,
    synced,
    release: async () => {
      if (released) return;
      released = true;
      if (--shared.users === 0) {
        ctx.shared.delete(key);
        await shared.cache.stop();
      }
    },
  };
}

/**
 * The pod cache another component of this agent started (kube_metadata, kubernetes_pod_files),
 * or null. For components that only consult annotations when pods are watched anyway; call it
 * after the transforms started (at the first batch, or from a source's start).
 */
export function findPodCache(ctx: ComponentContext): PodCache | null {
  for (const [key, v] of ctx.shared) if (key.startsWith('kube-pods|')) return (v as Shared).cache;
  return null;
}

/**
 * The agent's pod cache for a transform that reads pod annotations, looked up at first use
 * (every component has started by then); says once when there is none.
 */
export function podCacheLookup(ctx: ComponentContext, annotation: string): () => PodCache | null {
  let cache: PodCache | null | undefined;
  return () => {
    if (cache === undefined) {
      cache = findPodCache(ctx);
      if (!cache) ctx.log.info(`no pod cache in this agent (no kube_metadata or kubernetes_pod_files component): ${annotation} annotations are not read`);
    }
    return cache;
  };
}

/** The node name from config or the NODE_NAME env (downward API), with an error that says how to set it. */
export function nodeName(component: string, configured: string | undefined): string {
  const node = configured ?? process.env.NODE_NAME;
  if (!node) throw new Error(`${component}: node_name is not set and NODE_NAME is empty (give the DaemonSet env NODE_NAME from spec.nodeName)`);
  return node;
}
