import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { agentFixture, append, cri, podLog, readOut, runAgent } from '../../helpers/agent.js';
import { waitFor } from '../../helpers/proc.js';

/**
 * Files that vanish before they were read to the end: kubelet compresses a rotated file once
 * a newer rotation exists, and deletes the oldest. The agent reads the rest from the
 * compressed copy when there is one, and otherwise counts what it knows was lost.
 */
const fx = agentFixture('loggy-vanished-');

const lines = () => readOut(fx.out).map((e) => e.line);

/** Runs an agent whose sink always fails until `p` has been read, then stops it: nothing acknowledged. */
async function readWithoutAck(p: string): Promise<void> {
  const blocked = join(fx.tmpDir, 'blocked');
  mkdirSync(blocked, { recursive: true });
  const a = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: blocked });
  await waitFor(async () => (await a.metrics.total('loggy_source_bytes_total')) >= statSync(p).size, 3000, 'file read');
  await waitFor(async () => (await a.metrics.total('loggy_sink_errors_total')) >= 1, 3000, 'sink error');
  await a.stop();
}

describe('files that vanish before they were read to the end', () => {
  it('reads the rest of an unfinished file from its .gz copy after a restart, exactly once', async () => {
    const p = podLog(fx.root, 'shop', 'web', 'app');
    append(p, cri('first') + cri('second'));
    await readWithoutAck(p);
    // While the agent is down: more lines, a rotation, and the rotated file compressed away.
    append(p, cri('third, written while the agent was down'));
    const rotated = `${p}.20261122-110000`;
    renameSync(p, rotated);
    writeFileSync(`${rotated}.gz`, gzipSync(readFileSync(rotated)));
    rmSync(rotated);
    append(p, cri('fourth, in the new file'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(() => lines().length >= 4, 5000, 'four lines');
    await new Promise((r) => setTimeout(r, 400));
    expect(lines().sort()).toEqual(['first', 'fourth, in the new file', 'second', 'third, written while the agent was down']);
    expect(readOut(fx.out).find((e) => e.line === 'first')!.labels).toMatchObject({ namespace: 'shop', pod: 'web', container: 'app' });
    expect(await fx.agent.metrics.total('loggy_files_recovered_total')).toBe(1);
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBe(0);
  });

  it('counts the bytes it knew of in a file deleted unread, once across restarts', async () => {
    const p = podLog(fx.root, 'shop', 'api', 'app');
    append(p, cri('will be lost 1') + cri('will be lost 2'));
    const size = statSync(p).size;
    await readWithoutAck(p);
    renameSync(p, `${p}.20261122-110000`);
    rmSync(`${p}.20261122-110000`);
    append(p, cri('new file'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_lost_bytes_total')) > 0, 6000, 'lost bytes counted', 100);
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBe(size);
    expect(lines()).toEqual(['new file']);
    await fx.agent.stop();
    // The loss was accounted in the checkpoint: a later run does not count it again.
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await new Promise((r) => setTimeout(r, 3000));
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBe(0);
  });

  it('reports a file read to its last known size but deleted while the agent was away: it may have grown', async () => {
    const p = podLog(fx.root, 'shop', 'cart', 'app');
    append(p, cri('delivered'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(() => lines().includes('delivered'), 3000, 'delivered');
    await new Promise((r) => setTimeout(r, 300)); // acknowledged and checkpointed
    await fx.agent.stop();
    // While the agent is down the container writes more, and the runtime rotates and deletes it.
    append(p, cri('written while the agent was down'));
    renameSync(p, `${p}.20261122-110000`);
    rmSync(`${p}.20261122-110000`);
    append(p, cri('new file'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_files_lost_total')) > 0, 6000, 'lost file reported', 100);
    // Nothing beyond what was read is known: 0 bytes for sure, but the file is reported.
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBe(0);
    expect(lines()).toEqual(['delivered', 'new file']);
  });

  it('does not report a rotated file it drained before it was deleted', async () => {
    const p = podLog(fx.root, 'shop', 'search', 'app');
    append(p, cri('one'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(() => lines().includes('one'), 3000, 'one');
    renameSync(p, `${p}.20261122-110000`);
    append(p, cri('two'));
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_files_closed_total')) >= 1, 5000, 'rotated file drained and closed');
    await waitFor(() => lines().includes('two'), 3000, 'two');
    await new Promise((r) => setTimeout(r, 300));
    await fx.agent.stop();
    rmSync(`${p}.20261122-110000`);
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await new Promise((r) => setTimeout(r, 3000));
    expect(await fx.agent.metrics.total('loggy_files_lost_total')).toBe(0);
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBe(0);
    expect(lines()).toEqual(['one', 'two']);
  });
});
