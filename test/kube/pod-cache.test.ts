import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { loadKubeConfig, nodePodApi } from '../../src/kube/api.js';
import { PodCache } from '../../src/kube/pod-cache.js';
import { FakeKubeApi, pod } from '../helpers/kube-api.js';
import { tempDir, waitFor } from '../helpers/proc.js';

/** The pod cache against a real HTTP server speaking the Kubernetes API, through @kubernetes/client-node. */
describe('PodCache (list + watch through @kubernetes/client-node)', () => {
  let api: FakeKubeApi;
  let cache: PodCache | null = null;
  let metrics: AgentMetrics;
  const tmp = tempDir('loggy-kube-');
  let clock = Date.now();

  beforeEach(async () => {
    api = new FakeKubeApi();
    await api.start();
    metrics = new AgentMetrics();
    clock = Date.now();
  });
  afterEach(async () => {
    await cache?.stop();
    cache = null;
    await api.stop();
  });

  const open = (retainDeletedMs = 60_000) => {
    const kc = loadKubeConfig({ kubeconfig: api.writeKubeconfig(tmp.dir) });
    cache = new PodCache(nodePodApi(kc, 'node-1', 30), { retainDeletedMs, component: 'k8s', backoffInitialMs: 50, backoffMaxMs: 200 }, silentLogger, metrics, () => clock);
    cache.start();
    return cache;
  };

  it('lists the node\'s pods before it says it is synced, and only that node\'s', async () => {
    api.addPod(pod({ name: 'web-5d8f7c9b6f-a', uid: 'a' }));
    api.addPod(pod({ name: 'other-5d8f7c9b6f-b', uid: 'b', node: 'node-2' }));
    const c = open();
    expect(await c.synced(5000)).toBe(true);
    expect(c.get('a')?.workload).toBe('web');
    expect(c.get('b')).toBeUndefined();
    expect(await metrics.total('loggy_kube_pods')).toBe(1);
  });

  it('follows additions, updates and deletions through the watch, keeping deleted pods for a while', async () => {
    const c = open(1000);
    await c.synced(5000);
    api.addPod(pod({ name: 'job-x', uid: 'j', owner: { kind: 'Job', name: 'job' } }));
    await waitFor(() => c.get('j'), 3000, 'added pod');
    api.updatePod(pod({ name: 'job-x', uid: 'j', owner: { kind: 'Job', name: 'job' }, labels: { app: 'job', tier: 'batch' } }));
    await waitFor(() => c.get('j')?.labels.tier === 'batch', 3000, 'updated labels');
    api.deletePod('j');
    await new Promise((r) => setTimeout(r, 300));
    // Deleted, but its logs may still be read: kept.
    expect(c.get('j')?.name).toBe('job-x');
    // Its lines are still being read 500 ms after the deletion: at 1.3 s (past the 1 s
    // retention, but used 0.8 s ago) it is kept; once unused for the retention, it goes.
    clock += 500;
    expect(c.get('j')?.name).toBe('job-x');
    clock += 800;
    c.gc();
    expect(c.size).toBe(1);
    clock += 1500;
    c.gc();
    expect(c.size).toBe(0);
    expect(c.get('j')).toBeUndefined();
  });

  it('tells two pods of the same name apart by UID (a StatefulSet pod recreated)', async () => {
    api.addPod(pod({ name: 'db-0', uid: 'old', owner: { kind: 'StatefulSet', name: 'db' }, ip: '10.0.0.1' }));
    const c = open();
    await c.synced(5000);
    api.deletePod('old');
    api.addPod(pod({ name: 'db-0', uid: 'new', owner: { kind: 'StatefulSet', name: 'db' }, ip: '10.0.0.2' }));
    await waitFor(() => c.get('new'), 3000, 'new pod');
    expect(c.get('old')?.ip).toBe('10.0.0.1');
    expect(c.get('new')?.ip).toBe('10.0.0.2');
    expect(c.getByName('shop', 'db-0')?.uid).toBe('new');
  });

  for (const style of ['event', 'status'] as const) {
    it(`relists after 410 Gone (${style === 'event' ? 'ERROR event in the stream' : 'HTTP 410'}), seeing what changed meanwhile`, async () => {
      api.goneStyle = style;
      api.addPod(pod({ name: 'a-1', uid: 'a' }));
      const c = open();
      await c.synced(5000);
      expect(api.lists).toBe(1);
      // The watch drops; meanwhile a pod comes and one goes, and history is compacted.
      api.dropWatches();
      api.addPod(pod({ name: 'b-1', uid: 'b' }));
      api.deletePod('a');
      api.compact();
      await waitFor(() => c.get('b'), 5000, 'pod added while disconnected');
      expect(api.lists).toBeGreaterThanOrEqual(2);
      expect(await metrics.total('loggy_kube_relists_total')).toBeGreaterThanOrEqual(2);
      // 'a' is known deleted (kept for its logs, then collected).
      clock += 120_000;
      c.gc();
      expect(c.get('a')).toBeUndefined();
    });
  }

  it('resumes the watch from the last resourceVersion after a dropped connection, without relisting', async () => {
    const c = open();
    await c.synced(5000);
    api.bookmark();
    api.addPod(pod({ name: 'a-1', uid: 'a' }));
    await waitFor(() => c.get('a'), 3000, 'a');
    api.dropWatches();
    api.addPod(pod({ name: 'b-1', uid: 'b' }));
    await waitFor(() => c.get('b'), 5000, 'b after reconnect');
    expect(api.lists).toBe(1);
    expect(api.watches).toBeGreaterThanOrEqual(2);
  });

  it('keeps trying while the API server is down, counts it, and catches up when it is back', async () => {
    api.down = true;
    api.addPod(pod({ name: 'a-1', uid: 'a' }));
    const c = open();
    expect(await c.synced(400)).toBe(false);
    await waitFor(async () => (await metrics.total('loggy_kube_api_errors_total')) >= 2, 3000, 'errors counted');
    expect(await metrics.total('loggy_kube_watch_up')).toBe(0);
    api.down = false;
    expect(await c.synced(5000)).toBe(true);
    expect(c.get('a')?.name).toBe('a-1');
    await waitFor(async () => (await metrics.total('loggy_kube_watch_up')) === 1, 3000, 'watch up');
  });

  it('finds a static pod by the config hash its log directory is named after', async () => {
    api.addPod(pod({ name: 'etcd-node-1', uid: 'mirror-uid', namespace: 'kube-system', owner: { kind: 'Node', name: 'node-1' }, annotations: { 'kubernetes.io/config.hash': '9f1e2d' } }));
    const c = open();
    await c.synced(5000);
    expect(c.get('9f1e2d')).toMatchObject({ name: 'etcd-node-1', workloadKind: 'StaticPod', workload: 'etcd' });
  });

  it('says clearly when no cluster is configured', () => {
    expect(() => loadKubeConfig({ kubeconfig: '/nonexistent/kubeconfig' })).toThrow(/kubeconfig \/nonexistent\/kubeconfig does not exist/);
  });
});
