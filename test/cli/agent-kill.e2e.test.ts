import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loggy, sleep, tempDir, waitFor, type Proc } from '../helpers/proc.js';

/**
 * The promise of the agent, end to end with real processes and files: a kubelet-like
 * simulator writes ~5,000 lines/s into ≥ 20 containers with a rotation every few seconds;
 * the agent is SIGKILLed and restarted twice mid-run; every line reaches the file sink at
 * least once, and duplicates stay within the unacknowledged window.
 */
describe('agent under SIGKILL with rotations (end to end)', () => {
  const tmp = tempDir('loggy-e2e-');
  afterAll(() => tmp.cleanup());

  it('delivers every line at least once across two SIGKILLs', async () => {
    const root = join(tmp.dir, 'node');
    const out = join(tmp.dir, 'out.ndjson');
    const manifest = join(tmp.dir, 'manifest.json');
    const cfg = join(tmp.dir, 'agent.yaml');
    const checkpointMs = 200;
    writeFileSync(cfg, [
      `data_dir: ${join(tmp.dir, 'data')}`,
      'sources:',
      '  node:',
      '    type: kubernetes_logs',
      `    root: ${root}`,
      '    poll_interval: 100ms',
      '    rotate_wait: 500ms',
      `    checkpoint_interval: ${checkpointMs}ms`,
      'sinks:',
      '  out:',
      '    type: file',
      '    inputs: [node]',
      `    path: ${out}`,
      '',
    ].join('\n'));

    const rate = 5000;
    const sim = loggy(['simulate', '--root', root, '--pods', '20', '--seed', '7', '--rate', String(rate), '--format', 'mixed',
      '--rotate-bytes', '192KiB', '--keep-files', '5', '--manifest', manifest, '--quiet']);
    let agent: Proc = loggy(['agent', '--config', cfg]);
    try {
      await waitFor(() => existsSync(out), 20_000, 'first output').catch((err: Error) => {
        throw new Error(`${err.message}\nagent stderr:\n${agent.stderr().slice(-2000)}\nsimulator stderr:\n${sim.stderr().slice(-2000)}`);
      });
      for (let kill = 0; kill < 2; kill++) {
        await sleep(3000);
        agent.child.kill('SIGKILL');
        await agent.exited;
        agent = loggy(['agent', '--config', cfg]);
      }
      await sleep(3000);
      sim.child.kill('SIGTERM');
      expect((await sim.exited).code).toBe(0);
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { containers: Record<string, { lines: number; format: string }>; total: number };
      expect(Object.keys(m.containers).length).toBeGreaterThanOrEqual(20);

      // Let the agent catch up with everything written, then stop it gracefully.
      const count = () => tally(readFileSync(out, 'utf8'));
      await waitFor(() => count().distinct >= m.total, 20_000, 'agent to catch up', 250).catch(() => undefined);
      agent.child.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);

      const t = count();
      const missing: string[] = [];
      for (const [key, c] of Object.entries(m.containers)) {
        const seen = t.perKey.get(key) ?? new Map<number, number>();
        const lost = [];
        for (let n = 0; n < c.lines; n++) if (!seen.has(n)) lost.push(n);
        if (lost.length) missing.push(`${key} (${c.format}): ${lost.length} of ${c.lines} missing, from ${lost[0]} to ${lost[lost.length - 1]}`);
      }
      expect(missing).toEqual([]);
      expect(t.distinct).toBe(m.total);
      // Duplicates come only from events delivered but not yet checkpointed when killed:
      // at most what the agent can move in one checkpoint interval plus its buffer, per kill.
      const windowPerKill = rate * (checkpointMs / 1000 + 1);
      console.log(`e2e: ${m.total} lines, ${t.duplicates} duplicates after 2 SIGKILLs (bound ${2 * windowPerKill})`);
      expect(t.duplicates).toBeLessThanOrEqual(2 * windowPerKill);
      // The simulator really rotated under the agent.
      expect(m.total).toBeGreaterThan(rate * 6);
    } finally {
      sim.child.kill('SIGKILL');
      agent.child.kill('SIGKILL');
    }
  }, 90_000);
});

function tally(text: string): { perKey: Map<string, Map<number, number>>; distinct: number; duplicates: number } {
  const perKey = new Map<string, Map<number, number>>();
  let distinct = 0;
  let duplicates = 0;
  const re = /seq=(\S+?):(\d+)/;
  for (const row of text.split('\n')) {
    if (!row) continue;
    const m = re.exec((JSON.parse(row) as { line: string }).line);
    if (!m) continue;
    let k = perKey.get(m[1]);
    if (!k) perKey.set(m[1], (k = new Map()));
    const n = Number(m[2]);
    const prev = k.get(n) ?? 0;
    k.set(n, prev + 1);
    if (prev === 0) distinct++;
    else duplicates++;
  }
  return { perKey, distinct, duplicates };
}
