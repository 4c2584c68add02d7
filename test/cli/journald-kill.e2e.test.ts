import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOut } from '../helpers/agent.js';
import { noJournalTools, writeJournal } from '../helpers/journal.js';
import { loggy, sleep, tempDir, waitFor, type Proc } from '../helpers/proc.js';

/**
 * The journald source under SIGKILL, with the real CLI: entries keep arriving in a journal
 * file (and a second file, as after a rotation) while the agent is killed twice; every entry
 * reaches the file sink, and what arrives twice is only what was delivered but not yet
 * checkpointed — with the same source id and seqnum, which the store's replay dedupe drops.
 */
describe.skipIf(noJournalTools)('journald source under SIGKILL (end to end)', () => {
  const tmp = tempDir('loggy-journald-e2e-');
  afterAll(() => tmp.cleanup());

  it('delivers every entry after two SIGKILLs, re-delivering only the unacknowledged window', async () => {
    const journal = join(tmp.dir, 'journal');
    mkdirSync(journal);
    const out = join(tmp.dir, 'out.ndjson');
    const cfg = join(tmp.dir, 'agent.yaml');
    writeFileSync(cfg, [
      `data_dir: ${join(tmp.dir, 'data')}`,
      'sources:',
      '  sys:',
      '    type: journald',
      `    directory: ${journal}`,
      '    checkpoint_interval: 200ms',
      'sinks:',
      '  out:',
      '    type: file',
      '    inputs: [sys]',
      `    path: ${out}`,
      '',
    ].join('\n'));
    const T0 = 1_763_900_000_000_000;
    let written = 0;
    const write = (count: number, file: string) => {
      const recs = Array.from({ length: count }, (_, k) => ({ realtime: T0 + written + k, message: `entry ${written + k}`, unit: 'kubelet.service' }));
      writeJournal(join(journal, file), recs);
      written += count;
    };
    write(500, 'system.journal');
    let agent: Proc = loggy(['agent', '--config', cfg]);
    try {
      await waitFor(() => readOut(out).length > 0, 20_000, 'first output').catch((err: Error) => {
        throw new Error(`${err.message}\nagent stderr:\n${agent.stderr().slice(-2000)}`);
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
      const distinct = () => new Set(readOut(out).map((e) => e.line)).size;
      await waitFor(() => distinct() >= written, 20_000, 'agent to catch up', 250).catch(() => undefined);
      agent.child.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);

      const lines = readOut(out).map((e) => e.line);
      const seen = new Set(lines);
      const missing = Array.from({ length: written }, (_, i) => `entry ${i}`).filter((l) => !seen.has(l));
      expect(missing).toEqual([]);
      const duplicates = lines.length - seen.size;
      console.log(`journald e2e: ${written} entries, ${duplicates} duplicates after 2 SIGKILLs`);
      // At most what was delivered within a checkpoint interval before each kill.
      expect(duplicates).toBeLessThanOrEqual(2 * 1000);
      // Timestamps are the entries' own, to the microsecond.
      const ev = readOut(out).find((e) => e.line === 'entry 7')!;
      expect(ev.ts).toBe('2025-11-23T12:13:20.000007Z');
    } finally {
      agent.child.kill('SIGKILL');
    }
  }, 90_000);
});
