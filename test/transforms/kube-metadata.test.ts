import { describe, expect, it } from 'vitest';
import { kubeMetadataTransformSchema, safeName } from '../../src/transforms/kube-metadata/index.js';
import { agentFixture, append, cri, podLog, readOut, runAgent } from '../helpers/agent.js';
import { kubeApiFixture, pod } from '../helpers/kube-api.js';
import { waitFor } from '../helpers/proc.js';

/** The agent end to end: kubelet log files + a Kubernetes API over HTTP → labelled events. */
describe('kube_metadata transform', () => {
  const fx = agentFixture('loggy-kubemeta-');
  const kube = kubeApiFixture(fx);

  const start = (extra: Record<string, unknown> = {}) => runAgent({
    root: fx.root, dataDir: fx.dataDir, out: fx.out,
    transform: { type: 'kube_metadata', node_name: 'node-1', kubeconfig: kube.api.writeKubeconfig(fx.tmpDir), sync_timeout: 3000, ...extra },
  });
  const byLine = () => new Map(readOut(fx.out).map((e) => [e.line, e.labels]));

  it('labels lines with pod labels, node, workload and image, LogQL-safe', async () => {
    kube.api.addPod(pod({ name: 'web-5d8f7c9b6f-x1', uid: 'uid-web', labels: { app: 'web', 'app.kubernetes.io/version': '1.4.2', 'pod-template-hash': '5d8f7c9b6f' },
      annotations: { 'example.com/team': 'checkout', noisy: 'x' }, containers: { app: 'registry.example/web:1.4.2' } }));
    append(podLog(fx.root, 'shop', 'web-5d8f7c9b6f-x1', 'app', 0, 'uid-web'), cri('hello'));
    fx.agent = await start({ pod_annotations: ['example.com/*'] });
    await waitFor(() => byLine().has('hello'), 5000, 'line');
    expect(byLine().get('hello')).toEqual({
      namespace: 'shop', pod: 'web-5d8f7c9b6f-x1', pod_uid: 'uid-web', container: 'app', restart: '0',
      label_app: 'web', label_app_kubernetes_io_version: '1.4.2', label_pod_template_hash: '5d8f7c9b6f',
      annotation_example_com_team: 'checkout',
      node: 'node-1', workload_kind: 'Deployment', workload: 'web', image: 'registry.example/web:1.4.2',
    });
  });

  it('gives a pod that lived and died before the agent started its metadata (the first list comes before tailing)', async () => {
    const p = kube.api.addPod(pod({ name: 'migrate-abc', uid: 'uid-job', owner: { kind: 'Job', name: 'migrate' } }));
    append(podLog(fx.root, 'shop', 'migrate-abc', 'app', 0, 'uid-job'), cri('migrated 12 tables'));
    fx.agent = await start();
    await waitFor(() => byLine().has('migrated 12 tables'), 5000, 'line');
    expect(byLine().get('migrated 12 tables')).toMatchObject({ workload_kind: 'Job', workload: 'migrate' });
    expect(p.metadata.resourceVersion).toBeDefined();
  });

  it('keeps a deleted pod\'s metadata for the lines still being read', async () => {
    kube.api.addPod(pod({ name: 'worker-5d8f7c9b6f-q', uid: 'uid-w' }));
    const log = podLog(fx.root, 'shop', 'worker-5d8f7c9b6f-q', 'app', 0, 'uid-w');
    append(log, cri('before'));
    fx.agent = await start();
    await waitFor(() => byLine().has('before'), 5000, 'before');
    kube.api.deletePod('uid-w');
    await new Promise((r) => setTimeout(r, 200));
    append(log, cri('last words'));
    await waitFor(() => byLine().has('last words'), 5000, 'after deletion');
    expect(byLine().get('last words')).toMatchObject({ workload: 'worker', node: 'node-1' });
  });

  it('follows label changes on a running pod', async () => {
    kube.api.addPod(pod({ name: 'api-5d8f7c9b6f-z', uid: 'uid-api', labels: { app: 'api', track: 'stable' } }));
    const log = podLog(fx.root, 'shop', 'api-5d8f7c9b6f-z', 'app', 0, 'uid-api');
    append(log, cri('one'));
    fx.agent = await start();
    await waitFor(() => byLine().has('one'), 5000, 'one');
    kube.api.updatePod(pod({ name: 'api-5d8f7c9b6f-z', uid: 'uid-api', labels: { app: 'api', track: 'canary' } }));
    await new Promise((r) => setTimeout(r, 300));
    append(log, cri('two'));
    await waitFor(() => byLine().has('two'), 5000, 'two');
    expect(byLine().get('one')).toMatchObject({ label_track: 'stable' });
    expect(byLine().get('two')).toMatchObject({ label_track: 'canary' });
  });

  it('goes on with path labels when the API is down, counts it, and labels again once it answers', async () => {
    kube.api.down = true;
    kube.api.addPod(pod({ name: 'web-5d8f7c9b6f-d', uid: 'uid-d' }));
    const log = podLog(fx.root, 'shop', 'web-5d8f7c9b6f-d', 'app', 0, 'uid-d');
    append(log, cri('while down'));
    fx.agent = await start({ sync_timeout: 300 });
    await waitFor(() => byLine().has('while down'), 5000, 'line while the API is down');
    expect(byLine().get('while down')).toEqual({ namespace: 'shop', pod: 'web-5d8f7c9b6f-d', pod_uid: 'uid-d', container: 'app', restart: '0' });
    expect(await fx.agent.metrics.total('loggy_kube_metadata_missing_events_total')).toBe(1);
    expect(await fx.agent.metrics.total('loggy_kube_api_errors_total')).toBeGreaterThanOrEqual(1);
    kube.api.down = false;
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_kube_pods')) === 1, 8000, 'cache filled');
    append(log, cri('after'));
    await waitFor(() => byLine().has('after'), 5000, 'after');
    expect(byLine().get('after')).toMatchObject({ workload: 'web' });
  });

  it('keeps or drops pods by label selector and by the loggy.io/exclude annotation, which takes effect on a running pod', async () => {
    kube.api.addPod(pod({ name: 'web-5d8f7c9b6f-a', uid: 'u-web', labels: { app: 'web', tier: 'frontend' } }));
    kube.api.addPod(pod({ name: 'db-0', uid: 'u-db', labels: { app: 'db', tier: 'data' }, owner: { kind: 'StatefulSet', name: 'db' } }));
    kube.api.addPod(pod({ name: 'api-5d8f7c9b6f-b', uid: 'u-api', labels: { app: 'api', tier: 'backend' }, annotations: { 'loggy.io/exclude': 'istio-proxy' },
      containers: { app: 'api:1', 'istio-proxy': 'envoy:1' } }));
    kube.api.addPod(pod({ name: 'cache-5d8f7c9b6f-c', uid: 'u-cache', annotations: { 'loggy.io/exclude.exporter': 'true' }, containers: { app: 'redis:7', exporter: 'exporter:1' } }));
    const web = podLog(fx.root, 'shop', 'web-5d8f7c9b6f-a', 'app', 0, 'u-web');
    append(web, cri('web 1'));
    append(podLog(fx.root, 'shop', 'db-0', 'app', 0, 'u-db'), cri('db 1'));
    append(podLog(fx.root, 'shop', 'api-5d8f7c9b6f-b', 'app', 0, 'u-api'), cri('api app 1'));
    append(podLog(fx.root, 'shop', 'api-5d8f7c9b6f-b', 'istio-proxy', 0, 'u-api'), cri('api proxy 1'));
    append(podLog(fx.root, 'shop', 'unknown-pod', 'app', 0, 'u-unknown'), cri('unknown 1'));
    append(podLog(fx.root, 'shop', 'cache-5d8f7c9b6f-c', 'app', 0, 'u-cache'), cri('cache app 1'));
    append(podLog(fx.root, 'shop', 'cache-5d8f7c9b6f-c', 'exporter', 0, 'u-cache'), cri('cache exporter 1'));
    fx.agent = await start({ exclude_pods: 'tier=data' });
    await waitFor(() => byLine().has('api app 1') && byLine().has('web 1') && byLine().has('unknown 1') && byLine().has('cache app 1'), 5000, 'kept lines');
    await new Promise((r) => setTimeout(r, 300));
    expect([...byLine().keys()].sort()).toEqual(['api app 1', 'cache app 1', 'unknown 1', 'web 1']);
    // The application's team turns its own logs off: no agent restart, no config change.
    kube.api.updatePod(pod({ name: 'web-5d8f7c9b6f-a', uid: 'u-web', labels: { app: 'web', tier: 'frontend' }, annotations: { 'loggy.io/exclude': 'true' } }));
    await new Promise((r) => setTimeout(r, 300));
    append(web, cri('web 2'));
    await new Promise((r) => setTimeout(r, 800));
    expect(byLine().has('web 2')).toBe(false);
    expect(await fx.agent.metrics.total('loggy_transform_dropped_total')).toBe(4);
  });

  it('refuses a bad selector in the config, saying what is wrong', () => {
    const r = kubeMetadataTransformSchema.safeParse({ type: 'kube_metadata', inputs: ['x'], include_pods: 'app in (web' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/unbalanced/);
  });

  it('makes label names LogQL-safe', () => {
    expect(safeName('app.kubernetes.io/name')).toBe('app_kubernetes_io_name');
    expect(kubeMetadataTransformSchema.safeParse({ type: 'kube_metadata', inputs: ['x'], pod_labels: [''] }).success).toBe(false);
  });

  it('refuses to start without a node name, saying how to give one', async () => {
    const saved = process.env.NODE_NAME;
    delete process.env.NODE_NAME;
    try {
      await expect(runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, transform: { type: 'kube_metadata', kubeconfig: kube.api.writeKubeconfig(fx.tmpDir) } }))
        .rejects.toThrow(/node_name is not set and NODE_NAME is empty/);
    } finally {
      if (saved !== undefined) process.env.NODE_NAME = saved;
    }
  });

  it('adds the chosen namespace labels, and follows their changes through the watch (410 Gone included)', async () => {
    kube.api.putNamespace('shop', { team: 'checkout', 'cost-center': 'cc-42', 'kubernetes.io/metadata.name': 'shop' });
    kube.api.addPod(pod({ name: 'web-5d8f7c9b6f-n1', uid: 'uid-ns' }));
    const file = podLog(fx.root, 'shop', 'web-5d8f7c9b6f-n1', 'app', 0, 'uid-ns');
    append(file, cri('first'));
    fx.agent = await start({ namespace_labels: ['team', 'cost-*'] });
    await waitFor(() => byLine().has('first'), 5000, 'line');
    expect(byLine().get('first')).toMatchObject({ namespace_label_team: 'checkout', namespace_label_cost_center: 'cc-42' });
    expect(byLine().get('first')!.namespace_label_kubernetes_io_metadata_name).toBeUndefined();
    // History compacted while the watch is down: the namespaces are listed again.
    kube.api.compact();
    kube.api.dropWatches();
    kube.api.putNamespace('shop', { team: 'payments', 'cost-center': 'cc-42' });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_kube_relists_total')) >= 3, 5000, 'namespaces and pods listed again');
    // The relist counter does not say which of the two lists (pods, namespaces) came back
    // first: lines are written until one carries the new label (under load this took >200 ms).
    let n = 0;
    await waitFor(() => {
      const seen = [...byLine().entries()].some(([line, l]) => line.startsWith('probe') && l.namespace_label_team === 'payments');
      if (!seen) append(file, cri(`probe ${n++}`));
      return seen;
    }, 10_000, 'a line with the namespace label changed through the relist', 200);
    expect([...byLine().entries()].filter(([line]) => line.startsWith('probe')).every(([, l]) => ['checkout', 'payments'].includes(String(l.namespace_label_team)))).toBe(true);
  });

  it('keeps or drops pods by their namespace\'s labels, and follows a namespace relabelled', async () => {
    kube.api.putNamespace('shop', { team: 'checkout' });
    kube.api.putNamespace('lab', { team: 'research', logging: 'off' });
    kube.api.addPod(pod({ name: 'web-5d8f7c9b6f-s', uid: 'uid-s', namespace: 'shop' }));
    kube.api.addPod(pod({ name: 'nb-5d8f7c9b6f-l', uid: 'uid-l', namespace: 'lab' }));
    const shop = podLog(fx.root, 'shop', 'web-5d8f7c9b6f-s', 'app', 0, 'uid-s');
    append(shop, cri('shop 1'));
    append(podLog(fx.root, 'lab', 'nb-5d8f7c9b6f-l', 'app', 0, 'uid-l'), cri('lab 1'));
    fx.agent = await start({ exclude_namespaces: 'logging=off' });
    await waitFor(() => byLine().has('shop 1'), 5000, 'shop line');
    await new Promise((r) => setTimeout(r, 300));
    expect([...byLine().keys()]).toEqual(['shop 1']);
    kube.api.putNamespace('shop', { team: 'checkout', logging: 'off' });
    await new Promise((r) => setTimeout(r, 300));
    append(shop, cri('shop 2'));
    await new Promise((r) => setTimeout(r, 800));
    expect(byLine().has('shop 2')).toBe(false);
    expect(await fx.agent.metrics.total('loggy_transform_dropped_total')).toBe(2);
  });

  it('refuses a bad namespace selector, saying what is wrong', () => {
    const r = kubeMetadataTransformSchema.safeParse({ type: 'kube_metadata', inputs: ['x'], include_namespaces: 'team in (a' });
    expect(r.success).toBe(false);
  });
});
