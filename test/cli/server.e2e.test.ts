import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getJson, nsNow, postBody } from '../helpers/server.js';
import { loggy, sleep, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const port = () => 20000 + Math.floor(Math.random() * 20000);

async function startServer(dataDir: string, p: number, extra = ''): Promise<Proc> {
  mkdirSync(dataDir, { recursive: true });
  const cfg = join(dataDir, `server-${p}.yaml`);
  writeFileSync(cfg, `listen: 127.0.0.1:${p}\ndata_dir: ${dataDir}\nlimits:\n  max_query_lines: 200000\n${extra}`);
  const proc = loggy(['server', '--config', cfg]);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${p}/ready`).catch(() => null))?.ok, 15_000, 'server ready', 100);
  return proc;
}

type Streams = { data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };

describe('loggy server (real process, DuckDB)', () => {
  const tmp = tempDir('loggy-server-e2e-');
  afterAll(() => tmp.cleanup());

  it('loses nothing acknowledged when killed with SIGKILL', async () => {
    const dir = join(tmp.dir, 'kill');
    const p = port();
    let server = await startServer(dir, p);
    const t = nsNow();
    const body = JSON.stringify({ streams: [{ stream: { app: 'durable' }, values: Array.from({ length: 1000 }, (_, i) => [(t + BigInt(i)).toString(), `line ${i}`]) }] });
    const r = await postBody(`http://127.0.0.1:${p}/loki/api/v1/push`, body, { 'content-type': 'application/json' });
    expect(r.status).toBe(204);
    server.child.kill('SIGKILL');
    await server.exited;
    server = await startServer(dir, p);
    try {
      const q = await getJson<Streams>(`http://127.0.0.1:${p}/loki/api/v1/query_range?query=${encodeURIComponent('{app="durable"}')}&start=${t - 1n}&limit=5000`);
      expect(q.status, q.text).toBe(200);
      expect(q.body.data.result[0].values).toHaveLength(1000);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);

  it('agent → store: every line exactly once across two agent SIGKILLs', async () => {
    const dir = join(tmp.dir, 'chain');
    const p = port();
    const server = await startServer(join(dir, 'store'), p);
    const root = join(dir, 'node');
    const manifest = join(dir, 'manifest.json');
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, [
      `data_dir: ${join(dir, 'agent-data')}`,
      'sources:',
      '  node:',
      '    type: kubernetes_logs',
      `    root: ${root}`,
      '    poll_interval: 100ms',
      '    checkpoint_interval: 200ms',
      'sinks:',
      '  store:',
      '    type: loggy',
      '    inputs: [node]',
      `    endpoint: http://127.0.0.1:${p}`,
      '',
    ].join('\n'));
    const sim = loggy(['simulate', '--root', root, '--pods', '8', '--seed', '3', '--rate', '2000', '--format', 'mixed', '--rotate-bytes', '192KiB', '--manifest', manifest, '--quiet']);
    let agent = loggy(['agent', '--config', cfg]);
    try {
      for (let kill = 0; kill < 2; kill++) {
        await sleep(2500);
        agent.child.kill('SIGKILL');
        await agent.exited;
        agent = loggy(['agent', '--config', cfg]);
      }
      await sleep(2000);
      sim.child.kill('SIGTERM');
      expect((await sim.exited).code).toBe(0);
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { total: number };
      const fetchAll = async () => {
        const q = await getJson<Streams>(`http://127.0.0.1:${p}/loki/api/v1/query_range?query=${encodeURIComponent('{namespace=~".+"} |= "seq="')}&start=${nsNow() - 3_600_000_000_000n}&limit=200000`);
        return q.body.data.result.flatMap((s) => s.values.map((v) => /seq=(\S+?):(\d+)/.exec(v[1])![0]));
      };
      await waitFor(async () => (await fetchAll()).length >= m.total, 30_000, 'store to hold every line', 500).catch(() => undefined);
      agent.child.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);
      const markers = await fetchAll();
      const distinct = new Set(markers);
      expect(distinct.size).toBe(m.total);
      expect(markers.length - distinct.size).toBe(0);
    } finally {
      sim.child.kill('SIGKILL');
      agent.child.kill('SIGKILL');
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 120_000);
});
