import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { agentFixture, append, capturingLogger, cri, podLog, readOut, runAgent } from '../../helpers/agent.js';
import { waitFor } from '../../helpers/proc.js';
import type { EventBatch } from '../../../src/core/batch.js';
import type { SourceContext } from '../../../src/core/component.js';
import { silentLogger } from '../../../src/core/logger.js';
import { AgentMetrics } from '../../../src/core/metrics.js';
import { kubernetesLogsSchema, KubernetesLogsSource } from '../../../src/sources/kubernetes-logs/index.js';

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

/** The runtime rotates `p` and deletes the rotated file unread; the new file gets a line. */
function rotateAndDelete(p: string): void {
  renameSync(p, `${p}.20261122-110000`);
  rmSync(`${p}.20261122-110000`);
  append(p, cri('new file'));
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
    rotateAndDelete(p);
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

  it('reports a loss even when every run is shorter than the grace before reporting', async () => {
    const p = podLog(fx.root, 'shop', 'flappy', 'app');
    append(p, cri('lost a') + cri('lost b'));
    const size = statSync(p).size;
    await readWithoutAck(p);
    rmSync(p);
    append(p, cri('new'));
    // Restarted before the 2 s grace: nothing said yet, but when it was first missed is kept.
    for (let i = 0; i < 3; i++) {
      fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
      await new Promise((r) => setTimeout(r, 700));
      await fx.agent.stop();
      fx.agent = null;
    }
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_lost_bytes_total')) > 0, 1500, 'lost bytes counted at once', 50);
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBe(size);
  });

  it('reports the loss of a file it opened before its first line was complete, then deleted while it was away', async () => {
    const p = podLog(fx.root, 'shop', 'newborn', 'app');
    // Just created by the runtime: half a first line.
    writeFileSync(p, '2026-11-22T10:00:00.000000001Z stdout F half a li');
    const a = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(async () => (await a.metrics.total('loggy_source_bytes_total')) > 0, 3000, 'half line read');
    await a.stop();
    // While the agent is down: the line is finished, more follow, and the file is rotated away.
    append(p, 'ne\n' + cri('second line'));
    const size = statSync(p).size;
    rotateAndDelete(p);
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_files_lost_total')) > 0, 6000, 'lost file reported', 100);
    // It knew of the half line only (what it read); the report says the loss starts at 0.
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBeLessThan(size);
    expect(lines()).toEqual(['new file']);
  });

  it('takes up a file recorded before its first line, still there after a restart, from its start', async () => {
    const p = podLog(fx.root, 'shop', 'newborn2', 'app');
    writeFileSync(p, '2026-11-22T10:00:00.000000001Z stdout F half a li');
    const log = capturingLogger();
    const a = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(async () => (await a.metrics.total('loggy_source_bytes_total')) > 0, 3000, 'half line read');
    await a.stop();
    const st = statSync(p);
    const cp = JSON.parse(readFileSync(join(fx.dataDir, 'checkpoints', 'node.json'), 'utf8')).files[`${st.dev}:${st.ino}`];
    expect(cp).toMatchObject({ fpLen: 0, offset: 0, born: st.birthtimeMs });
    append(p, 'ne\n' + cri('second line'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, log: log.log });
    await waitFor(() => lines().includes('second line'), 3000, 'both lines');
    expect(lines()).toEqual(['half a line', 'second line']);
    // Taken as the same file (same birth time), not as a reused inode.
    expect(log.records.filter((r) => String(r.msg).includes('inode reused'))).toEqual([]);
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
    rotateAndDelete(p);
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

  it('reads a compressed file it never saw (created, rotated and compressed while it was down), once', async () => {
    const p = podLog(fx.root, 'shop', 'cache', 'app');
    append(p, cri('before the restart'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(() => lines().includes('before the restart'), 3000, 'first line');
    await new Promise((r) => setTimeout(r, 300)); // acknowledged and checkpointed
    await fx.agent.stop();
    // While the agent is down: the known file rotates, then a whole new file is written,
    // rotated and compressed; the known file stays (so no gap: nothing is unaccounted for).
    const first = `${p}.20261122-110000`;
    renameSync(p, first);
    append(p, cri('unseen 1') + cri('unseen 2'));
    const second = `${p}.20261122-110001`;
    renameSync(p, second);
    writeFileSync(`${second}.gz`, gzipSync(readFileSync(second)));
    rmSync(second);
    append(p, cri('current'));
    const { log, records } = capturingLogger();
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, log });
    await waitFor(() => lines().length >= 4, 5000, 'four lines');
    await new Promise((r) => setTimeout(r, 600));
    expect(lines().sort()).toEqual(['before the restart', 'current', 'unseen 1', 'unseen 2']);
    expect(readOut(fx.out).find((e) => e.line === 'unseen 1')!.labels).toMatchObject({ namespace: 'shop', pod: 'cache', container: 'app' });
    expect(await fx.agent.metrics.total('loggy_files_recovered_total')).toBe(1);
    expect(await fx.agent.metrics.total('loggy_rotation_gaps_total')).toBe(0);
    expect(records.some((r) => String(r.msg).includes('never saw') && r.path === `${second}.gz`)).toBe(true);
    await fx.agent.stop();
    // Read once: the next run knows the copy (its checkpoint lives as long as the copy does).
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await new Promise((r) => setTimeout(r, 1500));
    expect(lines()).toHaveLength(4);
    expect(await fx.agent.metrics.total('loggy_files_recovered_total')).toBe(0);
  });

  it('holds compressed files waiting for memory open: deleting them then loses nothing', async () => {
    const p = podLog(fx.root, 'shop', 'queue', 'app');
    append(p, cri('known'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(() => lines().includes('known'), 3000, 'first line');
    await new Promise((r) => setTimeout(r, 300));
    await fx.agent.stop();
    // Five files came and went while the agent was down; only their .gz copies are left.
    const gz: string[] = [];
    for (let i = 0; i < 5; i++) {
      const rotated = `${p}.20261122-11000${i}`;
      renameSync(p, rotated);
      writeFileSync(`${rotated}.gz`, gzipSync(readFileSync(rotated)));
      rmSync(rotated);
      gz.push(`${rotated}.gz`);
      append(p, cri(`in file ${i + 1}`));
    }
    const { log, records } = capturingLogger();
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, log });
    // Two are decompressed at a time; the runtime deletes them all meanwhile.
    await waitFor(() => records.filter((r) => String(r.msg).includes('never saw')).length >= 1, 3000, 'first copies read');
    for (const f of gz) rmSync(f);
    await waitFor(() => lines().length >= 6, 6000, 'every line');
    await new Promise((r) => setTimeout(r, 500));
    expect(lines().sort()).toEqual(['in file 1', 'in file 2', 'in file 3', 'in file 4', 'in file 5', 'known']);
    expect(await fx.agent.metrics.total('loggy_files_recovered_total')).toBe(4);
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBe(0);
  });

  it('leaves compressed files alone on its very first start (history)', async () => {
    const p = podLog(fx.root, 'shop', 'old', 'app');
    append(p, cri('old history'));
    const rotated = `${p}.20261122-090000`;
    renameSync(p, rotated);
    writeFileSync(`${rotated}.gz`, gzipSync(readFileSync(rotated)));
    rmSync(rotated);
    append(p, cri('now'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(() => lines().includes('now'), 3000, 'current line');
    await new Promise((r) => setTimeout(r, 600));
    await fx.agent.stop();
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await new Promise((r) => setTimeout(r, 1200));
    expect(lines()).toEqual(['now']);
    expect(await fx.agent.metrics.total('loggy_files_recovered_total')).toBe(0);
  });

  it('reports a gap when every file it knew of a container is gone and newer ones are on disk', async () => {
    const p = podLog(fx.root, 'shop', 'busy', 'app');
    const gone = podLog(fx.root, 'shop', 'deleted', 'app');
    append(p, cri('known'));
    append(gone, cri('pod about to be deleted'));
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out });
    await waitFor(() => lines().length >= 2, 3000, 'both lines');
    await new Promise((r) => setTimeout(r, 300));
    await fx.agent.stop();
    const size = statSync(p).size;
    // Down long enough for the runtime to rotate the known file and delete every copy of it
    // (and of a file written after it, which nobody will ever read); a pod deleted with its
    // directory is no gap.
    rmSync(p);
    append(p, cri('never seen by anyone'));
    rmSync(p);
    append(p, cri('after the gap'));
    rmSync(join(gone, '../..'), { recursive: true });
    const { log, records } = capturingLogger();
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, log });
    await waitFor(() => lines().includes('after the gap'), 3000, 'line after the gap');
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_rotation_gaps_total')) >= 1, 3000, 'gap counted');
    await new Promise((r) => setTimeout(r, 1200)); // more scans: reported once
    expect(await fx.agent.metrics.total('loggy_rotation_gaps_total')).toBe(1);
    const gaps = records.filter((r) => r.gapAfter);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ container: 'shop/busy/app', oldestOnDisk: p, gapAfter: [{ path: p, readTo: size }] });
    expect(await fx.agent.metrics.total('loggy_lost_bytes_total')).toBe(0);
  });

  it('names a file and its compressed copy as one source, so a store can tell a replay', async () => {
    const p = podLog(fx.root, 'shop', 'ids', 'app');
    append(p, cri('one') + cri('two'));
    const run = async (): Promise<EventBatch[]> => {
      const batches: EventBatch[] = [];
      // Nothing is ever acknowledged: the next run reads the same lines again.
      const ctx: SourceContext = {
        name: 'node', dataDir: fx.dataDir, log: silentLogger, metrics: new AgentMetrics(), shared: new Map<string, unknown>(), exitWhenDrained: false,
        emit: (b) => { batches.push(b); }, waitForRoom: () => Promise.resolve(),
      };
      const source = new KubernetesLogsSource(kubernetesLogsSchema.parse({ type: 'kubernetes_logs', root: fx.root, poll_interval: 20, checkpoint_interval: 50, rotate_wait: 100 }), ctx);
      await source.start();
      await waitFor(() => batches.some((b) => b.events.some((e) => e.line.toString() === 'two')), 3000, 'both lines');
      await source.stop();
      await source.close();
      return batches;
    };
    const first = await run();
    const rotated = `${p}.20261122-110000`;
    renameSync(p, rotated);
    writeFileSync(`${rotated}.gz`, gzipSync(readFileSync(rotated)));
    rmSync(rotated);
    append(p, cri('three'));
    const second = await run();
    const idOf = (bs: EventBatch[], line: string) => bs.find((b) => b.events.some((e) => e.line.toString() === line))!.source.id;
    // Read from the file, then from its compressed copy (another inode): one source.
    expect(idOf(second, 'one')).toBe(idOf(first, 'one'));
    expect(idOf(second, 'three')).not.toBe(idOf(first, 'one'));
  });
});
