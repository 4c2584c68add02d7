import { describe, expect, it } from 'vitest';
import { MemoryEngine } from '../../src/store/memory/index.js';
import { describeEngineConformance } from './conformance.js';
import { at, collect, START, END } from './fixture.js';

describeEngineConformance('memory', async () => new MemoryEngine());
describeEngineConformance('memory (3-row scan batches)', async () => new MemoryEngine({ scanBatchRows: 3 }));

describe('MemoryEngine specifics', () => {
  it('hourly partitions: retention drops hours', async () => {
    const e = new MemoryEngine({ partition: 'hour' });
    await e.append('t', [0, 1, 2].map((h) => ({ tsNs: at(0, `0${h}:30:00`), labels: { app: 'a' }, line: `h${h}` })));
    expect((await e.stats()).partitions).toBe(3);
    expect(await e.applyRetention({ maxAgeNs: 3600n * 1_000_000_000n }, at(0, '03:00:00'))).toEqual({ droppedPartitions: 2 });
    const rows = await collect(e.scan({ tenant: 't', matchers: [{ name: 'app', op: '=', value: 'a' }], startNs: START, endNs: END, lineFilters: [], direction: 'forward' }));
    expect(rows.map((r) => r.line)).toEqual(['h2']);
  });

  it('batches scans and refuses use after close', async () => {
    const e = new MemoryEngine({ scanBatchRows: 2 });
    await e.append('t', [1, 2, 3, 4, 5].map((s) => ({ tsNs: at(0, `00:00:0${s}`), labels: { app: 'a' }, line: `${s}` })));
    const sizes: number[] = [];
    for await (const b of e.scan({ tenant: 't', matchers: [], startNs: START, endNs: END, lineFilters: [], direction: 'forward' })) sizes.push(b.length);
    expect(sizes).toEqual([2, 2, 1]);
    await e.close();
    await expect(e.stats()).rejects.toThrow(/closed/);
  });
});
