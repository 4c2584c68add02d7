import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { EventBatch } from '../../src/core/batch.js';
import type { SourceContext } from '../../src/core/component.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { JournaldSource, journaldSourceSchema } from '../../src/sources/journald/index.js';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { capturingLogger, readOut } from '../helpers/agent.js';
import { noJournalTools, writeJournal, type JournalRecord } from '../helpers/journal.js';
import { sleep, tempDir, waitFor } from '../helpers/proc.js';
import { parseEntry, realtimeToRfc3339 } from '../../src/sources/journald/entry.js';

const T0 = 1_763_900_000_123_456; // µs

describe('journald entries', () => {
  it('keeps microseconds in the timestamp', () => {
    expect(realtimeToRfc3339('1763900000123456')).toBe('2025-11-23T12:13:20.123456Z');
    expect(realtimeToRfc3339('1763900000000007')).toBe('2025-11-23T12:13:20.000007Z');
    expect(realtimeToRfc3339('x')).toBeNull();
  });

  it('refuses what is not an entry, without throwing', () => {
    const o = { labels: {}, fields: [], maxLineBytes: 1000 };
    for (const l of ['', 'null', '[1]', '{"MESSAGE":"no cursor"}', '{"__CURSOR":"garbage"}', '{']) expect(parseEntry(l, o)).toBeNull();
    const e = parseEntry('{"__CURSOR":"s=ab;i=1f;b=c;m=1;t=2;x=3","MESSAGE":[104,105],"PRIORITY":"9"}', o)!;
    expect(e).toMatchObject({ seqnumId: 'ab', seqnum: 31, invalidUtf8: false, event: { line: 'hi', stream: 'stdout', flags: 4 } });
  });

  it('cuts messages over max_line_bytes and says so', () => {
    const e = parseEntry(`{"__CURSOR":"s=a;i=1","__REALTIME_TIMESTAMP":"1","MESSAGE":"${'x'.repeat(100)}"}`, { labels: {}, fields: [], maxLineBytes: 10 })!;
    expect(e.event.line).toBe('x'.repeat(10));
    expect(e.truncated).toBe(true);
  });
});

describe.skipIf(noJournalTools)('journald source (real journal files)', () => {
  const tmp = tempDir('loggy-journald-');
  let agent: RunningAgent | null = null;
  let n = 0;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
  });
  afterAll(() => tmp.cleanup());

  function setup() {
    const dir = join(tmp.dir, `run-${n++}`);
    const journal = join(dir, 'journal');
    mkdirSync(journal, { recursive: true });
    return { dir, journal, out: join(dir, 'out.ndjson'), data: join(dir, 'data') };
  }

  async function run(s: ReturnType<typeof setup>, source: Record<string, unknown> = {}, log = silentLogger) {
    agent = await startAgent(agentConfigSchema.parse({
      data_dir: s.data,
      shutdown_grace: 500,
      sources: { sys: { type: 'journald', directory: s.journal, checkpoint_interval: 100, restart_backoff: 100, ...source } },
      sinks: { out: { type: 'file', inputs: ['sys'], path: s.out } },
    }), { log });
    return agent;
  }

  const kubelet = (i: number, extra: Partial<JournalRecord> = {}): JournalRecord => ({ realtime: T0 + i, message: `kubelet line ${i}`, unit: 'kubelet.service', ...extra });

  it('delivers every entry with its exact timestamp, labels and fields; binary and multi-line messages whole', async () => {
    const s = setup();
    writeJournal(join(s.journal, 'system.journal'), [
      kubelet(0),
      { realtime: T0 + 1, message: 'first\nsecond\nthird', unit: 'containerd.service', identifier: 'containerd', pid: 77, host: 'node-b' },
      { realtime: T0 + 2, message: Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x21]), unit: 'kubelet.service', priority: 3 },
      { realtime: T0 + 3, message: Buffer.from('\x1b[31mcolour\x1b[0m é'), unit: 'kubelet.service', priority: 4 },
    ]);
    const a = await run(s, { labels: { node: 'n1' } });
    await waitFor(() => readOut(s.out).length >= 4, 10_000, 'four events');
    // One batch per unit and host: the file holds them by batch, not by time.
    const evs = readOut(s.out).sort((x, y) => x.ts.localeCompare(y.ts));
    expect(evs).toHaveLength(4);
    expect(evs[0]).toEqual({
      ts: '2025-11-23T12:13:20.123456Z', stream: 'stdout', line: 'kubelet line 0',
      labels: { node: 'n1', unit: 'kubelet.service', host: 'node-a' },
      fields: { level: 'info', syslog_identifier: 'kubelet', pid: '4242', boot_id: '0123456789abcdef0123456789abcdef' },
    });
    expect(evs[1]).toMatchObject({ ts: '2025-11-23T12:13:20.123457Z', line: 'first\nsecond\nthird', labels: { unit: 'containerd.service', host: 'node-b' }, fields: { syslog_identifier: 'containerd', pid: '77' } });
    expect(evs[2]).toMatchObject({ ts: '2025-11-23T12:13:20.123458Z', stream: 'stderr', line: 'bad\uFFFD\uFFFD!', flags: ['malformed'], fields: { level: 'err' } });
    expect(evs[3]).toMatchObject({ stream: 'stdout', line: '\x1b[31mcolour\x1b[0m é', fields: { level: 'warning' } });
    expect(evs[3]!.flags).toBeUndefined();
    expect(await a.metrics.total('loggy_lines_malformed_total')).toBe(1);
  });

  it('filters by unit and by priority', async () => {
    const s = setup();
    writeJournal(join(s.journal, 'system.journal'), [
      kubelet(0), kubelet(1, { priority: 2 }),
      { realtime: T0 + 2, message: 'ssh', unit: 'ssh.service', priority: 2 },
      { realtime: T0 + 3, message: 'containerd warn', unit: 'containerd.service', priority: 4 },
    ]);
    await run(s, { priority: 'warning' });
    await waitFor(() => readOut(s.out).length >= 2, 10_000, 'two events');
    await sleep(500);
    expect(readOut(s.out).map((e) => e.line).sort()).toEqual(['containerd warn', 'kubelet line 1']);
    await agent!.stop();
    agent = null;

    const s2 = setup();
    writeJournal(join(s2.journal, 'system.journal'), [kubelet(0), { realtime: T0 + 1, message: 'ssh', unit: 'ssh.service' }]);
    await run(s2, { units: ['ssh.service'] });
    await waitFor(() => readOut(s2.out).length >= 1, 10_000, 'one event');
    await sleep(500);
    expect(readOut(s2.out).map((e) => e.line)).toEqual(['ssh']);
  });

  it('follows appended entries and a new journal file in the directory, and resumes at its cursor', async () => {
    const s = setup();
    writeJournal(join(s.journal, 'system.journal'), [kubelet(0), kubelet(1)]);
    await run(s);
    await waitFor(() => readOut(s.out).length >= 2, 10_000, 'first entries');
    writeJournal(join(s.journal, 'system.journal'), [kubelet(2)]);
    await waitFor(() => readOut(s.out).length >= 3, 10_000, 'appended entry');
    // Rotation: journald archives the file and starts another; here a new file appears.
    writeJournal(join(s.journal, 'system@2.journal'), [kubelet(3), kubelet(4)]);
    await waitFor(() => readOut(s.out).length >= 5, 10_000, 'entries of the new file');
    await agent!.stop();
    agent = null;
    writeJournal(join(s.journal, 'system@2.journal'), [kubelet(5)]);
    await run(s);
    await waitFor(() => readOut(s.out).length >= 6, 10_000, 'entry written while stopped');
    await sleep(500);
    expect(readOut(s.out).map((e) => e.line)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `kubelet line ${i}`));
  });

  it('read_from end skips what was there at the first start, not what comes later', async () => {
    const s = setup();
    writeJournal(join(s.journal, 'system.journal'), [kubelet(0), kubelet(1)]);
    await run(s, { read_from: 'end' });
    await sleep(500);
    writeJournal(join(s.journal, 'system.journal'), [kubelet(2)]);
    await waitFor(() => readOut(s.out).length >= 1, 10_000, 'new entry');
    await sleep(300);
    expect(readOut(s.out).map((e) => e.line)).toEqual(['kubelet line 2']);
  });

  it('journalctl exiting is started again after the last entry read: nothing lost, nothing twice', async () => {
    const s = setup();
    // A journalctl that lives 700 ms at a time.
    const wrapper = join(s.dir, 'journalctl-brief');
    writeFileSync(wrapper, '#!/bin/sh\nexec timeout 0.7 journalctl "$@"\n', { mode: 0o755 });
    writeJournal(join(s.journal, 'system.journal'), [kubelet(0), kubelet(1)]);
    const a = await run(s, { journalctl_path: wrapper });
    for (let i = 2; i < 8; i++) {
      await sleep(300);
      writeJournal(join(s.journal, 'system.journal'), [kubelet(i)]);
    }
    await waitFor(() => readOut(s.out).length >= 8, 10_000, 'every entry');
    await waitFor(async () => (await a.metrics.total('loggy_journald_errors_total')) >= 2, 10_000, 'restarts');
    expect(readOut(s.out).map((e) => e.line)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `kubelet line ${i}`));
  });

  it('stops reading journalctl while the pipeline has no room, and saves the cursor only over acknowledged batches', async () => {
    const s = setup();
    const total = 3000;
    writeJournal(join(s.journal, 'system.journal'), Array.from({ length: total }, (_, i) => kubelet(i, { message: `${'x'.repeat(200)} ${i}` })));
    const batches: EventBatch[] = [];
    let full = true;
    let release: (() => void) | null = null;
    const ctx: SourceContext = {
      name: 'sys', dataDir: s.data, log: silentLogger, metrics: new AgentMetrics(), shared: new Map(), exitWhenDrained: false,
      emit: (b) => void batches.push(b),
      // Room for one chunk, then none until released.
      waitForRoom: () => (batches.length === 0 || !full ? Promise.resolve() : new Promise<void>((r) => { release = r; })),
    };
    const src = new JournaldSource(journaldSourceSchema.parse({ type: 'journald', directory: s.journal, checkpoint_interval: 100 }), ctx);
    await src.start();
    try {
      await waitFor(() => batches.length > 0 && release, 10_000, 'a first batch, then a wait for room');
      await sleep(500);
      const held = batches.reduce((n, b) => n + b.events.length, 0);
      expect(held).toBeLessThan(total / 2); // journalctl's output waits in the pipe
      const cursorFile = join(s.data, 'checkpoints', 'sys.json');
      const savedCursor = () => existsSync(cursorFile) ? (JSON.parse(readFileSync(cursorFile, 'utf8')) as { files: Record<string, { cursor: string; offset: number }> }).files.journal : undefined;
      expect(savedCursor()).toBeUndefined(); // nothing acknowledged yet
      full = false;
      release!();
      await waitFor(() => batches.reduce((n, b) => n + b.events.length, 0) >= total, 10_000, 'every entry once there is room');
      // Acknowledging all but the first batch moves nothing; then the first moves everything.
      for (const b of batches.slice(1)) b.expect(0);
      await src.stop();
      await src.close();
      expect(savedCursor()).toBeUndefined();
      batches[0]!.expect(0);
      await src.close();
      expect(savedCursor()!.offset).toBe(total);
      expect(savedCursor()!.cursor).toMatch(/;i=bb8;/);
    } finally {
      await src.stop();
    }
  });

  it('journalctl missing: an error logged and counted, retried, no crash', async () => {
    const s = setup();
    const { log, records } = capturingLogger();
    const a = await run(s, { journalctl_path: join(s.dir, 'no-such-journalctl') }, log);
    await waitFor(async () => (await a.metrics.total('loggy_journald_errors_total')) >= 2, 10_000, 'two failures (a retry)');
    const m = await a.metrics.registry.getSingleMetric('loggy_journald_errors_total')!.get();
    expect(m.values[0]!.labels).toEqual({ component: 'sys', reason: 'not_found' });
    expect(records.some((r) => r.level === 50 && String(r.msg).includes('journalctl not found'))).toBe(true);
  });

  it('an unreadable journal: counted as unreadable and retried', async () => {
    const s = setup();
    const a = await run(s, { directory: join(s.dir, 'missing') });
    await waitFor(async () => (await a.metrics.total('loggy_journald_errors_total')) >= 1, 10_000, 'a failure');
    const m = await a.metrics.registry.getSingleMetric('loggy_journald_errors_total')!.get();
    expect(m.values[0]!.labels).toEqual({ component: 'sys', reason: 'unreadable' });
  });
});
