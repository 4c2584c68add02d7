import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import type { RunningServer } from '../../src/server/run.js';
import { append, cri, podLog } from '../helpers/agent.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { startTestServer } from '../helpers/server.js';

const tmp = tempDir('loggy-disksink-');
let agent: RunningAgent | null = null;
let store: RunningServer | null = null;
afterEach(async () => {
  await agent?.stop();
  await store?.stop();
  agent = null;
  store = null;
});

function config(root: string, dataDir: string, port: number, disk: Record<string, unknown>) {
  return agentConfigSchema.parse({
    data_dir: dataDir, shutdown_grace: 300,
    sources: { node: { type: 'kubernetes_logs', root, poll_interval: 50, checkpoint_interval: 100 } },
    sinks: { store: { type: 'loggy', inputs: ['node'], endpoint: `http://127.0.0.1:${port}`, timeout: 1000, disk_buffer: disk } },
  });
}

/** An agent over one 5,000-line file, its store down, with a 64 KiB disk buffer. */
async function bigFileAgent(name: string, whenFull: 'block' | 'drop_oldest'): Promise<RunningAgent> {
  const dir = join(tmp.dir, name);
  const root = join(dir, 'node');
  const port = 20000 + Math.floor(Math.random() * 20000);
  append(podLog(root, 'shop', 'big', 'app'), Array.from({ length: 5000 }, (_, i) => cri(`payload ${i} ${'z'.repeat(100)}`)).join(''));
  return startAgent(config(root, join(dir, 'data'), port, { max_bytes: '64KiB', segment_bytes: '16KiB', when_full: whenFull, fsync: 'never' }), { log: silentLogger });
}

async function storedLines(url: string): Promise<string[]> {
  const res = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent('{namespace="shop"}')}&start=1795300000000000000&end=1795400000000000000&limit=1000&direction=forward`);
  const body = (await res.json()) as { data: { result: Array<{ values: Array<[string, string]> }> } };
  return body.data.result.flatMap((s) => s.values.map((v) => v[1]));
}

describe('disk buffer in front of a sink', () => {
  it('acknowledges to the source once on disk: the log file may go, the lines still arrive, exactly once, after a restart', async () => {
    const dir = join(tmp.dir, 'outage');
    const root = join(dir, 'node');
    const dataDir = join(dir, 'data');
    const port = 20000 + Math.floor(Math.random() * 20000);
    const p = podLog(root, 'shop', 'web', 'app');
    const want = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    append(p, want.map((l) => cri(l)).join(''));
    // The store is down: the lines go to the disk buffer, and the file's checkpoint moves on.
    agent = await startAgent(config(root, dataDir, port, { fsync: 'always' }), { log: silentLogger });
    const cpFile = join(dataDir, 'checkpoints', 'node.json');
    await waitFor(() => existsSync(cpFile) && Object.values((JSON.parse(readFileSync(cpFile, 'utf8')) as { files: Record<string, { offset: number }> }).files).some((f) => f.offset > 0), 5000, 'checkpoint past the lines');
    expect(await agent.metrics.total('loggy_disk_buffer_bytes')).toBeGreaterThan(0);
    await agent.stop();
    agent = null;
    // The runtime deletes the file while the agent is down: only the disk buffer has the lines.
    rmSync(p);
    store = await startTestServer({ listen: `127.0.0.1:${port}` });
    agent = await startAgent(config(root, dataDir, port, { fsync: 'always' }), { log: silentLogger });
    await waitFor(async () => (await storedLines(store!.url)).length >= want.length, 10_000, 'all lines in the store');
    await new Promise((r) => setTimeout(r, 300));
    expect(await storedLines(store.url)).toEqual(want);
    await waitFor(async () => (await agent!.metrics.total('loggy_disk_buffer_bytes')) === 0, 5000, 'buffer drained');
  });

  it('with when_full: block, pauses reading when the disk buffer is full instead of growing', async () => {
    agent = await bigFileAgent('full', 'block');
    await waitFor(async () => (await agent!.metrics.total('loggy_disk_buffer_bytes')) >= 64 * 1024, 5000, 'buffer full');
    await new Promise((r) => setTimeout(r, 500));
    const size = await agent.metrics.total('loggy_disk_buffer_bytes');
    // Full at 64 KiB, plus at most one segment and one batch in flight.
    expect(size).toBeLessThan(64 * 1024 + 16 * 1024 + 64 * 1024);
    expect(await agent.metrics.total('loggy_source_events_total')).toBeLessThan(5000);
    expect(await agent.metrics.total('loggy_disk_buffer_dropped_events_total')).toBe(0);
  });

  it('with when_full: drop_oldest, keeps reading, and counts what it dropped', async () => {
    agent = await bigFileAgent('drop', 'drop_oldest');
    await waitFor(async () => (await agent!.metrics.total('loggy_source_events_total')) === 5000, 10_000, 'whole file read');
    await waitFor(async () => (await agent!.metrics.total('loggy_disk_buffer_dropped_events_total')) > 0, 5000, 'drops counted');
    // The cap, plus the one batch being appended (a 128 KiB read chunk here).
    expect(await agent.metrics.total('loggy_disk_buffer_bytes')).toBeLessThan(64 * 1024 + 150 * 1024);
  });

  it('SIGTERM with a dead receiver and full buffers stops within the grace period (memory buffer)', async () => {
    const dir = join(tmp.dir, 'term');
    const root = join(dir, 'node');
    const p = podLog(root, 'shop', 'big', 'app');
    append(p, Array.from({ length: 20000 }, (_, i) => cri(`payload ${i} ${'z'.repeat(100)}`)).join(''));
    const cfg = agentConfigSchema.parse({
      data_dir: join(dir, 'data'), shutdown_grace: 300,
      sources: { node: { type: 'kubernetes_logs', root } },
      sinks: { store: { type: 'loggy', inputs: ['node'], endpoint: 'http://127.0.0.1:9', timeout: 500 } },
    });
    const a = await startAgent(cfg, { log: silentLogger });
    await waitFor(async () => (await a.metrics.total('loggy_sink_errors_total')) > 0, 5000, 'failing sink');
    const t0 = Date.now();
    await a.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
