import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { append, cri, podLog } from '../helpers/agent.js';
import { FakeKubeApi } from '../helpers/kube-api.js';
import { tempDir, waitFor } from '../helpers/proc.js';

describe('metrics endpoint', () => {
  const tmp = tempDir('loggy-metrics-');
  afterAll(() => tmp.cleanup());

  it('serves the agent counters in Prometheus format, truncations and malformed lines included', async () => {
    const root = join(tmp.dir, 'node');
    append(podLog(root, 'default', 'm', 'app'), cri('z'.repeat(3000)) + 'not a cri line\n' + cri('ok'));
    const port = 19000 + Math.floor(Math.random() * 1000);
    const cfg = agentConfigSchema.parse({
      data_dir: join(tmp.dir, 'data'),
      metrics_address: `127.0.0.1:${port}`,
      sources: { node: { type: 'kubernetes_logs', root, max_line_bytes: 1024 } },
      sinks: { out: { type: 'blackhole', inputs: ['node'] } },
    });
    const agent = await startAgent(cfg, { log: silentLogger });
    try {
      const body = await waitFor(async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /loggy_sink_events_total\{component="out"\} 3/.test(text) ? text : null;
      }, 5000, 'metrics');
      expect(body).toMatch(/loggy_lines_truncated_total\{component="node"\} 1/);
      expect(body).toMatch(/loggy_lines_malformed_total\{component="node"\} 1/);
      expect(body).toMatch(/loggy_files_open\{component="node"\} 1/);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    } finally {
      await agent.stop();
    }
  });

  it('answers /readyz 503 until every component started (here: waiting for the first pod list), then 200', async () => {
    const api = new FakeKubeApi();
    await api.start();
    api.down = true;
    const port = 19000 + Math.floor(Math.random() * 1000);
    const cfg = agentConfigSchema.parse({
      data_dir: join(tmp.dir, 'data-ready'),
      metrics_address: `127.0.0.1:${port}`,
      sources: { node: { type: 'kubernetes_logs', root: join(tmp.dir, 'node-ready') } },
      transforms: { k8s: { type: 'kube_metadata', inputs: ['node'], node_name: 'node-1', kubeconfig: api.writeKubeconfig(tmp.dir), sync_timeout: 1500 } },
      sinks: { out: { type: 'blackhole', inputs: ['k8s'] } },
    });
    const starting = startAgent(cfg, { log: silentLogger });
    try {
      const early = await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status, 3000, 'endpoint up');
      expect(early).toBe(503);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const agent = await starting;
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      await agent.stop();
    } finally {
      await api.stop();
    }
  });
});
