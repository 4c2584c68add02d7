import { appendFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../../src/agent/run.js';
import { silentLogger } from '../../../src/core/logger.js';
import { readOut } from '../../helpers/agent.js';
import { FakeKubeApi, pod } from '../../helpers/kube-api.js';
import { tempDir, waitFor } from '../../helpers/proc.js';

/** Files inside pods, named by an annotation, read from the node's volume directories: no sidecar. */
describe('kubernetes_pod_files source', () => {
  const tmp = tempDir('loggy-podfiles-');
  let api: FakeKubeApi;
  let agent: RunningAgent | null = null;
  beforeEach(async () => {
    api = new FakeKubeApi();
    await api.start();
  });
  afterEach(async () => {
    await agent?.stop();
    agent = null;
    await api.stop();
  });

  it('tails the files a pod names, labelled as the container sees them, follows annotation changes, and never leaves the volume', async () => {
    const root = join(tmp.dir, 'node');
    const kubelet = '/var/lib/kubelet';
    const vol = join(root, kubelet, 'pods', 'uid-web', 'volumes', 'kubernetes.io~empty-dir', 'logs');
    mkdirSync(vol, { recursive: true });
    writeFileSync(join(vol, 'access.log'), 'GET / 200\n');
    writeFileSync(join(vol, 'audit.txt'), 'audit 1\n');
    const secret = join(tmp.dir, 'host-secret');
    writeFileSync(secret, 'root:x:0:0\n');
    symlinkSync(secret, join(vol, 'evil.log')); // a pod pointing the agent at the host
    const spec = (files: string) => pod({
      name: 'web-5d8f7c9b6f-x', uid: 'uid-web', annotations: { 'loggy.io/files': files },
      mounts: { app: [{ name: 'logs', mountPath: '/var/log/app' }] }, volumes: [{ name: 'logs', emptyDir: {} }],
    });
    api.addPod(spec('app:/var/log/app/*.log, app:/etc/nope.log'));
    const out = join(tmp.dir, 'out.ndjson');
    agent = await startAgent(agentConfigSchema.parse({
      data_dir: join(tmp.dir, 'data'), shutdown_grace: 1000,
      sources: { pods: { type: 'kubernetes_pod_files', node_name: 'node-1', kubeconfig: api.writeKubeconfig(tmp.dir), root, poll_interval: 50, rescan_interval: 100, sync_timeout: 3000 } },
      sinks: { out: { type: 'file', inputs: ['pods'], path: out } },
    }), { log: silentLogger });
    await waitFor(() => readOut(out).length >= 1, 5000, 'first line');
    expect(readOut(out)).toEqual([expect.objectContaining({
      line: 'GET / 200',
      labels: { namespace: 'shop', pod: 'web-5d8f7c9b6f-x', pod_uid: 'uid-web', container: 'app', file: '/var/log/app/access.log' },
    })]);
    // The symlink out of the volume and the path on no volume: refused, said, counted.
    expect(await agent.metrics.total('loggy_file_errors_total')).toBeGreaterThanOrEqual(2);
    appendFileSync(join(vol, 'access.log'), 'GET /cart 200\n');
    // The team adds a file to the annotation: picked up without touching the agent.
    api.updatePod(spec('app:/var/log/app/*.log, app:/var/log/app/audit.txt'));
    await waitFor(() => readOut(out).some((e) => e.line === 'audit 1'), 5000, 'file added by annotation');
    await waitFor(() => readOut(out).some((e) => e.line === 'GET /cart 200'), 5000, 'appended line');
    expect(readOut(out).map((e) => e.line).sort()).toEqual(['GET / 200', 'GET /cart 200', 'audit 1']);
    expect(readOut(out).some((e) => e.line.includes('root:x'))).toBe(false);
  });
});
