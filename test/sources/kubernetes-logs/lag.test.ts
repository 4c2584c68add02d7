import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentFixture, append, cri, podLog, runAgent } from '../../helpers/agent.js';
import { waitFor } from '../../helpers/proc.js';

/** Checkpoint lag: what a restart would read again, and for how long it has waited. */
describe('checkpoint lag metrics', () => {
  const fx = agentFixture('loggy-lag-');

  it('shows bytes read but unacknowledged and the age of the oldest such batch, back to 0 once delivered', async () => {
    const p = podLog(fx.root, 'shop', 'web', 'app');
    append(p, cri('one') + cri('two'));
    const blocked = join(fx.tmpDir, 'blocked');
    mkdirSync(blocked); // the file sink cannot write to a directory: every write fails, nothing is acknowledged
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: blocked, source: { rescan_interval: 100 } });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_checkpoint_lag_bytes')) === statSync(p).size, 5000, 'lag in bytes');
    await new Promise((r) => setTimeout(r, 600));
    expect(await fx.agent.metrics.total('loggy_checkpoint_lag_seconds')).toBeGreaterThan(0.4);
    await fx.agent.stop();
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, source: { rescan_interval: 100 } });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_sink_events_total')) === 2, 5000, 'delivered');
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_checkpoint_lag_bytes')) === 0, 5000, 'no lag');
    expect(await fx.agent.metrics.total('loggy_checkpoint_lag_seconds')).toBe(0);
  });
});
