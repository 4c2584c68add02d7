import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOut } from '../helpers/agent.js';
import { noJournalTools, writeJournal } from '../helpers/journal.js';
import { loggy, sleep, tempDir, waitFor, type Proc } from '../helpers/proc.js';
import { getJson, startTestServer } from '../helpers/server.js';

/**
 * The journald source under SIGKILL, with the real CLI: entries keep arriving in a journal
 * file (and a second file, as after a rotation) while the agent is killed twice; every entry
 * reaches the file sink, and what arrives twice is only what was delivered but not yet
 * checkpointed — with the same source id and seqnum, which the store's replay dedupe drops.
 */
describe.skipIf(noJournalTools)('journald source under SIGKILL (end to end)', () => {
  const tmp = tempDir('loggy-journald-e2e-');
  afterAll(() => tmp.cleanup());

  /**
   * Writes 500 entries, then twice: 1000 more while the agent runs, SIGKILL, 100 while it is
   * down (the second time into a second journal file), restart; then 300. `sink` is the
   * agent's sink config lines; `count` says how many distinct entries arrived.
   */
  async function killTwice(name: string, sink: string[], count: () => Promise<number>, debugInfo?: () => Promise<string>): Promise<number> {
    const dir = join(tmp.dir, name);
    const journal = join(dir, 'journal');
    mkdirSync(journal, { recursive: true });
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, [
      `data_dir: ${join(dir, 'data')}`,
      'sources:',
      '  sys:',
      '    type: journald',
      `    directory: ${journal}`,
      '    checkpoint_interval: 200ms',
      'sinks:',
      '  out:',
      ...sink,
      '',
    ].join('\n'));
    let written = 0;
    const write = (n: number, file: string) => {
      const recs = Array.from({ length: n }, (_, k) => ({ realtime: T0 + written + k, message: `entry ${written + k}`, unit: 'kubelet.service' }));
      writeJournal(join(journal, file), recs);
      written += n;
    };
    write(500, 'system.journal');
    let agent: Proc = loggy(['agent', '--config', cfg]);
    try {
      await waitFor(async () => (await count()) > 0, 20_000, 'first output').catch(async (err: Error) => {
        throw new Error(`${err.message}\nagent stderr:\n${agent.stderr().slice(-2000)}${debugInfo ? `\n${await debugInfo()}` : ''}`);
      });
      for (let kill = 0; kill < 2; kill++) {
        for (let i = 0; i < 5; i++) {
          write(200, kill === 0 ? 'system.journal' : 'system@rotated.journal');
          await sleep(150);
        }
        agent.child.kill('SIGKILL');
        await agent.exited;
        write(100, 'system@rotated.journal'); // while no agent runs
        agent = loggy(['agent', '--config', cfg]);
      }
      write(300, 'system@rotated.journal');
      await waitFor(async () => (await count()) >= written, 20_000, 'agent to catch up', 250).catch(() => undefined);
      agent.child.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);
      return written;
    } finally {
      agent.child.kill('SIGKILL');
    }
  }
  const T0 = 1_763_900_000_000_000;

  it('delivers every entry after two SIGKILLs, re-delivering only the unacknowledged window', async () => {
    const out = join(tmp.dir, 'out.ndjson');
    const written = await killTwice('file', ['    type: file', '    inputs: [sys]', `    path: ${out}`], async () => new Set(readOut(out).map((e) => e.line)).size);
    const lines = readOut(out).map((e) => e.line);
    const seen = new Set(lines);
    const missing = Array.from({ length: written }, (_, i) => `entry ${i}`).filter((l) => !seen.has(l));
    expect(missing).toEqual([]);
    const duplicates = lines.length - seen.size;
    console.log(`journald e2e: ${written} entries, ${duplicates} duplicates in the file sink after 2 SIGKILLs`);
    // At most what was delivered within a checkpoint interval before each kill.
    expect(duplicates).toBeLessThanOrEqual(2 * 1000);
    // Timestamps are the entries' own, to the microsecond.
    const ev = readOut(out).find((e) => e.line === 'entry 7')!;
    expect(ev.ts).toBe('2025-11-23T12:13:20.000007Z');
  }, 90_000);

  it('stores every entry exactly once in the store after two SIGKILLs (the re-sent window is dropped as a replay)', async () => {
    const store = await startTestServer({ limits: { reject_older_than: 0, max_query_lines: 10_000 } });
    try {
      const all = async () => {
        const r = await getJson<{ data: { result: Array<{ values: Array<[string, string]> }> } }>(
          `${store.url}/loki/api/v1/query_range?query=${encodeURIComponent('{unit="kubelet.service"}')}&start=${BigInt(T0) * 1000n - 1n}&end=${BigInt(T0) * 1000n + 10_000_000_000n}&limit=10000&direction=forward`);
        return r.status === 200 ? r.body.data.result.flatMap((x) => x.values.map((v) => v[1])) : [];
      };
      const written = await killTwice('store', ['    type: loggy', '    inputs: [sys]', `    endpoint: ${store.url}`], async () => new Set(await all()).size,
        async () => `store series: ${(await getJson(`${store.url}/loki/api/v1/series?match[]=${encodeURIComponent('{unit=~".+"}')}&start=0&end=${BigInt(Date.now()) * 1_000_000n}`)).text}`);
      const lines = await all();
      expect(lines.length).toBe(written);
      expect(new Set(lines).size).toBe(written);
    } finally {
      await store.stop();
    }
  }, 90_000);
});
