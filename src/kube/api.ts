import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig, Watch, type V1Namespace } from '@kubernetes/client-node';
import type { PodApi } from './pod-cache.js';
import type { ListWatchApi } from './reflector.js';

export interface KubeConnection {
  /** A kubeconfig file; without it, the in-cluster service account, else ~/.kube/config. */
  kubeconfig?: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Loads credentials the way kubectl and in-cluster clients do; says where it looked when it fails. */
export function loadKubeConfig(c: KubeConnection): KubeConfig {
  const kc = new KubeConfig();
  if (c.kubeconfig) {
    if (!existsSync(c.kubeconfig)) throw new Error(`kubeconfig ${c.kubeconfig} does not exist`);
    kc.loadFromFile(c.kubeconfig);
  } else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured: not in a pod (no service account) and no kubeconfig (set kubeconfig, KUBECONFIG or ~/.kube/config)');
  return kc;
}

/**
 * The pods scheduled on one node: `GET /api/v1/pods?fieldSelector=spec.nodeName=<node>`, listed
 * and watched. Scoped to the node so a DaemonSet agent holds its own pods, not the cluster's.
 */
export function nodePodApi(kc: KubeConfig, nodeName: string, watchTimeoutSec = 300): PodApi {
  const core = kc.makeApiClient(CoreV1Api);
  const fieldSelector = `spec.nodeName=${nodeName}`;
  return {
    async list() {
      const list = await core.listPodForAllNamespaces({ fieldSelector });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: watcher(kc, '/api/v1/pods', { fieldSelector }, watchTimeoutSec),
  };
}

/** The cluster's namespaces (for their labels): `GET /api/v1/namespaces`, listed and watched. */
export function namespaceApi(kc: KubeConfig, watchTimeoutSec = 300): ListWatchApi<V1Namespace> {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async list() {
      const list = await core.listNamespace();
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: watcher(kc, '/api/v1/namespaces', {}, watchTimeoutSec),
  };
}

/** A watch on `path` through client-node's Watch, as ListWatchApi.watch wants it. */
function watcher(kc: KubeConfig, path: string, query: Record<string, string>, watchTimeoutSec: number): ListWatchApi<unknown>['watch'] {
  const watch = new Watch(kc);
  return (resourceVersion, onEvent, signal) => new Promise<void>((resolve, reject) => {
    let settled = false;
    const done = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      // Our own abort (stop, or an ERROR event) ends the watch normally.
      if (err && !signal.aborted) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve();
    };
    watch.watch(path, { ...query, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSec },
      (type: string, object: unknown) => onEvent(type, object), done)
      .then((ctrl: AbortController) => {
        if (signal.aborted) ctrl.abort();
        else signal.addEventListener('abort', () => ctrl.abort(), { once: true });
      }, done);
  });
}
