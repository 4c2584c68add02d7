import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { append, cri, podLog, readOut } from '../helpers/agent.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const checkpointOffsets = (dataDir: string): number[] => {
  try {
    const cp = JSON.parse(readFileSync(join(dataDir, 'checkpoints/node.json'), 'utf8')) as { files: Record<string, { offset: number }> };
    return Object.values(cp.files).map((f) => f.offset);
  } catch {
    return [];
  }
};

describe('topology', () => {
  const tmp = tempDir('loggy-topo-');
  afterAll(() => tmp.cleanup());

  it('acknowledges a fanned-out batch only when every sink delivered it', async () => {
    const root = join(tmp.dir, 'fan');
    const dataDir = join(tmp.dir, 'fan-data');
    const good = join(tmp.dir, 'good.ndjson');
    const broken = join(tmp.dir, 'broken-dir');
    mkdirSync(broken); // a directory: every write to it fails
    append(podLog(root, 'default', 'fan', 'app'), cri('to both sinks'));
    const cfg = agentConfigSchema.parse({
      data_dir: dataDir, shutdown_grace: 300,
      sources: { node: { type: 'kubernetes_logs', root, checkpoint_interval: 50 } },
      sinks: {
        good: { type: 'file', inputs: ['node'], path: good },
        broken: { type: 'file', inputs: ['node'], path: broken },
      },
    });
    const agent = await startAgent(cfg, { log: silentLogger });
    await waitFor(() => readOut(good).length === 1, 3000, 'good sink');
    await waitFor(async () => (await agent.metrics.total('loggy_sink_errors_total')) >= 2, 3000, 'broken sink retries');
    await agent.stop();
    expect(checkpointOffsets(dataDir).every((o) => o === 0)).toBe(true);
  });

  it('with when_full: drop_newest, a failing sink gives up new events (counted) instead of stalling the others', async () => {
    const root = join(tmp.dir, 'dropnew');
    const good = join(tmp.dir, 'dropnew-good.ndjson');
    const broken = join(tmp.dir, 'dropnew-broken');
    mkdirSync(broken);
    append(podLog(root, 'default', 'busy', 'app'), Array.from({ length: 3000 }, (_, i) => cri(`line ${i} ${'x'.repeat(200)}`)).join(''));
    const cfg = agentConfigSchema.parse({
      data_dir: join(tmp.dir, 'dropnew-data'), shutdown_grace: 300,
      sources: { node: { type: 'kubernetes_logs', root, read_chunk_bytes: '16KiB' } },
      sinks: {
        good: { type: 'file', inputs: ['node'], path: good },
        broken: { type: 'file', inputs: ['node'], path: broken, buffer_max_bytes: '64KiB', when_full: 'drop_newest' },
      },
    });
    const agent = await startAgent(cfg, { log: silentLogger });
    try {
      await waitFor(() => readOut(good).length === 3000, 10_000, 'every line in the good sink');
      expect(await agent.metrics.total('loggy_buffer_dropped_events_total')).toBeGreaterThan(0);
    } finally {
      await agent.stop();
    }
  });

  it('routes through a filter transform, counts what it drops and still checkpoints past it', async () => {
    const root = join(tmp.dir, 'filter');
    const dataDir = join(tmp.dir, 'filter-data');
    const out = join(tmp.dir, 'filtered.ndjson');
    const p = podLog(root, 'default', 'web', 'app');
    append(p, cri('GET /healthz 200') + cri('GET /cart 200') + cri('GET /healthz 200') + cri('boom', 'stderr'));
    const cfg = agentConfigSchema.parse({
      data_dir: dataDir,
      sources: { node: { type: 'kubernetes_logs', root, checkpoint_interval: 50 } },
      transforms: { quiet: { type: 'filter', inputs: ['node'], exclude_lines: ['/healthz'] } },
      sinks: { out: { type: 'file', inputs: ['quiet'], path: out } },
    });
    const agent = await startAgent(cfg, { log: silentLogger });
    await waitFor(() => readOut(out).length === 2, 3000, 'filtered output');
    expect(readOut(out).map((e) => e.line)).toEqual(['GET /cart 200', 'boom']);
    expect(await agent.metrics.total('loggy_transform_dropped_total')).toBe(2);
    await agent.stop();
    expect(checkpointOffsets(dataDir)).toEqual([readFileSync(p).length]);
  });

  it('rejects transforms that feed each other in a loop', () => {
    const r = agentConfigSchema.safeParse({
      sources: { node: { type: 'kubernetes_logs' } },
      transforms: { a: { type: 'filter', inputs: ['b'] }, b: { type: 'filter', inputs: ['a'] } },
      sinks: { out: { type: 'blackhole', inputs: ['a'] } },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message)).toContain('transforms feed each other in a loop: a → b → a');
  });
});
