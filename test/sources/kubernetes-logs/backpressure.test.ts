import { readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBatch } from '../../../src/core/batch.js';
import type { SourceContext } from '../../../src/core/component.js';
import { silentLogger } from '../../../src/core/logger.js';
import { AgentMetrics } from '../../../src/core/metrics.js';
import { kubernetesLogsSchema, KubernetesLogsSource } from '../../../src/sources/kubernetes-logs/index.js';
import { append, cri, podLog } from '../../helpers/agent.js';
import { sleep, tempDir, waitFor } from '../../helpers/proc.js';

/** The source against a downstream we control: when it is full, and when it acknowledges. */
function harness(root: string, dataDir: string) {
  const metrics = new AgentMetrics();
  const batches: EventBatch[] = [];
  // Room for one batch until opened up: then the pipeline is full and stays so.
  let open = false;
  const waiters: Array<() => void> = [];
  const ctx: SourceContext = {
    name: 'node', dataDir, log: silentLogger, metrics, shared: new Map<string, unknown>(), exitWhenDrained: false,
    emit: (b) => { batches.push(b); },
    waitForRoom: () => (open || batches.length === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
  const cfg = kubernetesLogsSchema.parse({ type: 'kubernetes_logs', root, read_chunk_bytes: 65536, read_concurrency: 2, poll_interval: 20, checkpoint_interval: 50 });
  const source = new KubernetesLogsSource(cfg, ctx);
  return {
    source, metrics, batches,
    bytesRead: () => metrics.total('loggy_source_bytes_total'),
    openUp: () => { open = true; for (const w of waiters.splice(0)) w(); },
  };
}

describe('backpressure and acknowledgements', () => {
  const tmp = tempDir('loggy-bp-');
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => { await stop?.(); stop = null; });

  it('stops reading while the pipeline is full, resumes when there is room', async () => {
    const root = join(tmp.dir, 'a');
    const p = podLog(root, 'default', 'big', 'app');
    append(p, Array.from({ length: 20_000 }, (_, i) => cri(`line ${i} ${'z'.repeat(100)}`)).join('')); // ~2.7 MB
    const h = harness(root, join(tmp.dir, 'a-data'));
    stop = async () => { h.openUp(); await h.source.stop(); await h.source.close(); };
    await h.source.start();
    await waitFor(() => h.batches.length > 0, 3000, 'first batch');
    await sleep(300);
    // One file: one chunk read, then the tailer waits for room.
    expect(await h.bytesRead()).toBeLessThanOrEqual(65536);
    expect(h.batches).toHaveLength(1);
    h.openUp();
    await waitFor(async () => (await h.bytesRead()) > 2_000_000, 5000, 'reading resumed');
  });

  it('bounds what is read past a full pipeline by read_concurrency, however many files there are', async () => {
    const root = join(tmp.dir, 'many');
    const chunk = Array.from({ length: 2000 }, (_, i) => cri(`line ${i} ${'m'.repeat(100)}`)).join(''); // ~270 KB
    for (let f = 0; f < 30; f++) append(podLog(root, 'default', `pod-${f}`, 'app'), chunk);
    const h = harness(root, join(tmp.dir, 'many-data'));
    stop = async () => { h.openUp(); await h.source.stop(); await h.source.close(); };
    await h.source.start();
    await waitFor(() => h.batches.length > 0, 3000, 'first batch');
    await sleep(500);
    // read_concurrency is 2 and a chunk 64 KiB: not 30 files' worth of chunks.
    expect(h.batches.length).toBeLessThanOrEqual(2);
    expect(await h.bytesRead()).toBeLessThanOrEqual(2 * 65536);
    h.openUp();
    await waitFor(async () => (await h.bytesRead()) === 30 * Buffer.byteLength(chunk), 10_000, 'everything read');
  });

  it('moves the checkpoint only over acknowledged batches, in order', async () => {
    const root = join(tmp.dir, 'b');
    const p = podLog(root, 'default', 'acks', 'app');
    const h = harness(root, join(tmp.dir, 'b-data'));
    h.openUp();
    stop = async () => { await h.source.stop(); await h.source.close(); };
    append(p, cri('first'));
    await h.source.start();
    await waitFor(() => h.batches.length === 1, 3000, 'batch 1');
    append(p, cri('second'));
    await waitFor(() => h.batches.length === 2, 3000, 'batch 2');
    const cpFile = join(tmp.dir, 'b-data', 'checkpoints', 'node.json');
    const offset = () => {
      try {
        return (Object.values(JSON.parse(readFileSync(cpFile, 'utf8')).files)[0] as { offset: number }).offset;
      } catch {
        return -1;
      }
    };
    // Only the second batch is acknowledged: nothing may be committed past the first.
    h.batches[1].expect(1);
    h.batches[1].ack();
    await sleep(200);
    expect(offset()).toBeLessThanOrEqual(0);
    h.batches[0].expect(1);
    h.batches[0].ack();
    await waitFor(() => offset() === h.batches[1].events[0].offset, 2000, 'checkpoint over both batches');
  });

  it('a file whose content is replaced while it waits for room is read as the new content; the old content keeps its own record', async () => {
    const root = join(tmp.dir, 'ct');
    append(podLog(root, 'default', 'first', 'app'), cri('fills the pipeline'));
    const h = harness(root, join(tmp.dir, 'ct-data'));
    stop = async () => { h.openUp(); await h.source.stop(); await h.source.close(); };
    await h.source.start();
    await waitFor(() => h.batches.length === 1, 3000, 'first batch');
    // Opened (and fingerprinted) while the pipeline is full: its first read waits.
    const p = podLog(root, 'default', 'waiting', 'app');
    append(p, cri('old content, never read'));
    const cpFile = join(tmp.dir, 'ct-data', 'checkpoints', 'node.json');
    const files = (): Record<string, { fp: string; offset: number }> => {
      try {
        return (JSON.parse(readFileSync(cpFile, 'utf8')) as { files: Record<string, { fp: string; offset: number }> }).files;
      } catch {
        return {};
      }
    };
    const { ino } = statSync(p);
    const key = Object.keys(files()).find((k) => k.endsWith(`:${ino}`));
    await waitFor(() => Object.keys(files()).some((k) => k.endsWith(`:${ino}`)), 3000, 'recorded at opening');
    const oldFp = Object.entries(files()).find(([k]) => k.endsWith(`:${ino}`))![1].fp;
    expect(key ?? oldFp).toBeTruthy();
    // copytruncate before the agent read a byte of it.
    truncateSync(p, 0);
    append(p, cri('new content'));
    h.openUp();
    await waitFor(() => h.batches.some((b) => b.events.some((e) => e.line === 'new content')), 3000, 'new content read');
    for (const b of h.batches) b.ack();
    const byLine = new Map(h.batches.flatMap((b) => b.events.map((e) => [e.line, b.source.id])));
    expect(byLine.has('old content, never read')).toBe(false);
    await waitFor(() => Object.keys(files()).some((k) => k.includes(`:${ino}#`)), 3000, 'old content kept under its own name');
    const entries = Object.entries(files()).filter(([k]) => k.includes(`:${ino}`));
    const orphan = entries.find(([k]) => k.includes('#'))!;
    const own = entries.find(([k]) => !k.includes('#'))!;
    // The old content: its own record from offset 0 (its copy is read from there, or its loss reported).
    expect(orphan[0].endsWith(`#${oldFp}`)).toBe(true);
    expect(orphan[1].offset).toBe(0);
    // The file's own record names the new content, and its source is not the old content's.
    expect(own[1].fp).not.toBe(oldFp);
    expect(byLine.get('new content')).not.toContain(oldFp);
    expect(await h.metrics.total('loggy_file_truncations_total')).toBe(1);
  });
});
