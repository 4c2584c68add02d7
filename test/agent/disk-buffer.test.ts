import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskBuffer, type DiskBufferOptions } from '../../src/agent/disk-buffer.js';
import { EventBatch } from '../../src/core/batch.js';
import { makeSource, type LogEvent } from '../../src/core/event.js';
import { tempDir } from '../helpers/proc.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => { tmp = tempDir('loggy-diskbuf-'); });
afterEach(() => tmp.cleanup());

const opts = (o: Partial<DiskBufferOptions> = {}): DiskBufferOptions => ({ dir: join(tmp.dir, 'buf'), maxBytes: 1 << 20, segmentBytes: 4096, fsync: 'interval', fsyncIntervalMs: 50, ...o });
let n = 0;
function batch(k: number): EventBatch {
  const events: LogEvent[] = Array.from({ length: k }, () => ({ ts: '2026-11-22T10:00:00.000000001Z', stream: 'stdout', line: `line ${n} héllo`, flags: 0, offset: ++n * 10 }));
  return new EventBatch(makeSource('1:2:fp', 'node', { namespace: 'shop', pod: 'web' }), events);
}
const lines = (rs: Array<{ batch: EventBatch }>) => rs.flatMap((r) => r.batch.events.map((e) => e.line));

describe('disk buffer', () => {
  it('keeps the parsed fields of events (older records without them still read)', async () => {
    const b = await DiskBuffer.open(opts());
    const withFields = new EventBatch(makeSource('http:push:1:2', 'push', { app: 'a' }), [
      { ts: '2026-11-22T10:00:00.000000001Z', stream: 'stdout', line: 'x', flags: 0, offset: 1, fields: { status: '500' } },
      { ts: '2026-11-22T10:00:00.000000002Z', stream: 'stdout', line: 'y', flags: 0, offset: 2 },
    ]);
    await b.append(withFields);
    const [r] = await b.read(10);
    expect(r!.batch.events.map((e) => e.fields)).toEqual([{ status: '500' }, undefined]);
  });

  it('reads back batches in order across segments, with their source, and deletes delivered segments', async () => {
    const b = await DiskBuffer.open(opts());
    const written: string[] = [];
    for (let i = 0; i < 100; i++) {
      const x = batch(5);
      written.push(...x.events.map((e) => e.line));
      await b.append(x);
    }
    const segs = () => readdirSync(join(tmp.dir, 'buf')).filter((f) => f.startsWith('seg-')).length;
    expect(segs()).toBeGreaterThan(3);
    const got: string[] = [];
    for (;;) {
      const rs = await b.read(50);
      if (rs.length === 0) break;
      // Bounded: one read hands out about maxEvents, whatever the backlog.
      expect(rs.reduce((a, r) => a + r.batch.events.length, 0)).toBeLessThanOrEqual(50);
      expect(rs[0]!.batch.source).toMatchObject({ id: '1:2:fp', component: 'node', labels: { namespace: 'shop', pod: 'web' } });
      got.push(...lines(rs));
      await b.delivered(rs.at(-1)!.next);
    }
    expect(got).toEqual(written);
    expect(segs()).toBe(1); // the one still being written
    expect(b.hasUnread).toBe(false);
    await b.close();
  });

  it('resumes after a restart at the last delivered record, and re-reads after a failed delivery', async () => {
    const b = await DiskBuffer.open(opts());
    for (let i = 0; i < 10; i++) await b.append(batch(2));
    const first = await b.read(6);
    await b.delivered(first.at(-1)!.next);
    const failed = await b.read(4);
    b.rewind();
    expect(lines(await b.read(4))).toEqual(lines(failed));
    await b.close();
    const again = await DiskBuffer.open(opts());
    const rest: string[] = [];
    for (let rs = await again.read(100); rs.length; rs = await again.read(100)) {
      rest.push(...lines(rs));
      await again.delivered(rs.at(-1)!.next);
    }
    expect(rest).toHaveLength(20 - 6);
    expect(rest[0]).toBe(failed[0]!.batch.events[0]!.line);
    await again.close();
  });

  it('skips and counts a record torn by a crash', async () => {
    const b = await DiskBuffer.open(opts({ segmentBytes: 1 << 20 }));
    await b.append(batch(1));
    await b.close();
    const seg = readdirSync(join(tmp.dir, 'buf')).find((f) => f.startsWith('seg-'))!;
    appendFileSync(join(tmp.dir, 'buf', seg), '{"i":"torn","c":"x","l":{},"e":[["2026\n');
    const again = await DiskBuffer.open(opts({ segmentBytes: 1 << 20 }));
    await again.append(batch(1));
    const rs = await again.read(100);
    expect(rs.map((r) => r.batch.events.length)).toEqual([1, 1]);
    expect(again.corruptRecords).toBe(1);
    await again.close();
  });

  it('counts a torn record at the very end of the backlog and does not wait on it', async () => {
    const b = await DiskBuffer.open(opts({ segmentBytes: 1 << 20 }));
    await b.append(batch(2));
    await b.close();
    const seg = readdirSync(join(tmp.dir, 'buf')).find((f) => f.startsWith('seg-'))!;
    appendFileSync(join(tmp.dir, 'buf', seg), '{"i":"torn"');
    const again = await DiskBuffer.open(opts({ segmentBytes: 1 << 20 }));
    expect((await again.read(100)).map((r) => r.batch.events.length)).toEqual([2]);
    expect(await again.read(100)).toEqual([]);
    expect(again.corruptRecords).toBe(1);
    expect(again.hasUnread).toBe(false);
    await again.close();
  });

  it('drops the oldest segment when asked, and says how many events it held', async () => {
    const b = await DiskBuffer.open(opts({ maxBytes: 2000 }));
    for (let i = 0; i < 40; i++) await b.append(batch(3));
    expect(b.full).toBe(true);
    const before = b.sizeBytes;
    const dropped = await b.dropOldest();
    expect(dropped).toBeGreaterThan(0);
    expect(dropped % 3).toBe(0);
    expect(b.sizeBytes).toBeLessThan(before);
    // The reader moved past what was dropped: the first line read is from a later batch.
    const [first] = await b.read(3);
    expect(first!.batch.events[0]!.line).not.toBe('line 1 héllo');
    await b.close();
  });
});
