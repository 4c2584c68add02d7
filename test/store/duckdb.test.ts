import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ScanQuery, StoreEngine } from '../../src/store/engine.js';
import { DuckDbEngine, openDuckDbEngine } from '../../src/store/duckdb/index.js';
import { MemoryEngine } from '../../src/store/memory/index.js';
import { describeEngineConformance } from './conformance.js';
import { at, collect, END, NS_PER_S, START } from './fixture.js';

const dirs = new WeakMap<StoreEngine, string>();

async function openTemp(): Promise<DuckDbEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'loggy-duckdb-'));
  const e = await openDuckDbEngine({ dataDir: dir });
  dirs.set(e, dir);
  return e;
}

describeEngineConformance('duckdb', openTemp, {
  close: async (e) => {
    await e.close();
    rmSync(dirs.get(e)!, { recursive: true, force: true });
  },
});

describe('DuckDbEngine specifics', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'loggy-duckdb-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const all = (tenant = 't'): ScanQuery => ({ tenant, matchers: [{ name: 'app', op: '=~', value: '.+' }], startNs: START, endNs: END, lineFilters: [], direction: 'forward' });

  it('reopens with its data, offsets and streams (and keeps one row per stream)', async () => {
    let e = await openDuckDbEngine({ dataDir: dir });
    await e.append('t', [{ tsNs: at(0), labels: { app: 'a' }, line: 'one' }], [{ source: 's', offset: 3 }]);
    await e.close();
    await e.close(); // idempotent
    await expect(e.stats()).rejects.toThrow(/closed/);
    e = await openDuckDbEngine({ dataDir: dir });
    try {
      await e.append('t', [{ tsNs: at(1), labels: { app: 'a' }, line: 'two' }]);
      expect((await collect(e.scan(all()))).map((r) => r.line)).toEqual(['one', 'two']);
      expect(await e.committedOffsets('t', ['s'])).toEqual(new Map([['s', 3]]));
      expect(await e.stats()).toMatchObject({ rows: 2, streams: 1, partitions: 2 });
      expect(e.granularity).toBe('day');
    } finally {
      await e.close();
    }
  });

  it('forgets replay watermarks not raised for longer than the retention age (at least 7 days)', async () => {
    const e = await openDuckDbEngine({ dataDir: dir });
    try {
      await e.append('t', [{ tsNs: at(0), labels: { app: 'a' }, line: 'one' }], [{ source: 'old-file', offset: 3 }, { source: 'live-file', offset: 5 }]);
      const now = BigInt(Date.now()) * 1_000_000n;
      const day = 24n * 3600n * 1_000_000_000n;
      // A day later, with a one-day retention: still within the 7-day floor, kept.
      await e.applyRetention({ maxAgeNs: day }, now + day);
      expect(await e.committedOffsets('t', ['old-file', 'live-file'])).toEqual(new Map([['old-file', 3], ['live-file', 5]]));
      // 7 days and a bit later, not raised meanwhile: forgotten.
      await e.applyRetention({ maxAgeNs: day }, now + 7n * day + 60_000_000_000n);
      expect(await e.committedOffsets('t', ['old-file', 'live-file'])).toEqual(new Map());
      // A longer retention age keeps them longer.
      await e.append('t', [], [{ source: 'live-file', offset: 9 }]);
      await e.applyRetention({ maxAgeNs: 30n * day }, now + 20n * day);
      expect(await e.committedOffsets('t', ['live-file'])).toEqual(new Map([['live-file', 9]]));
    } finally {
      await e.close();
    }
  });

  it('keeps the partition width it was created with', async () => {
    const e = await openDuckDbEngine({ dataDir: dir, partition: 'hour' });
    await e.append('t', [{ tsNs: at(0, '05:30:00'), labels: { app: 'a' }, line: 'x' }]);
    expect((await e.planScan(all())).partitions).toEqual(['logs_2026112005']);
    await e.close();
    await expect(openDuckDbEngine({ dataDir: dir, partition: 'day' })).rejects.toThrow(/created with partition=hour/);
    const again = await openDuckDbEngine({ dataDir: dir });
    expect(again.granularity).toBe('hour');
    await again.close();
  });

  it('treats user text as data, never SQL (labels, filters, tenants, sources)', async () => {
    const e = await openDuckDbEngine({ dataDir: dir });
    try {
      const evil = "'; DROP TABLE streams; --";
      const tenant = "t'; DROP TABLE partitions; --";
      await e.append(tenant, [
        { tsNs: at(0), labels: { app: evil }, line: `${evil} 100%` },
        { tsNs: at(0, '00:00:01'), labels: { app: '%' }, line: 'a_c' },
        { tsNs: at(0, '00:00:02'), labels: { app: '_' }, line: 'abc' },
      ], [{ source: evil, offset: 1 }]);
      const q = all(tenant);
      const lines = async (x: Partial<ScanQuery>) => (await collect(e.scan({ ...q, ...x }))).map((r) => r.line);
      expect(await lines({ matchers: [{ name: 'app', op: '=', value: evil }] })).toEqual([`${evil} 100%`]);
      expect(await lines({ matchers: [{ name: 'app', op: '=', value: '%' }] })).toEqual(['a_c']);
      expect(await lines({ matchers: [{ name: 'app', op: '=~', value: '_' }] })).toEqual(['abc']);
      expect(await lines({ lineFilters: [{ op: '|=', value: '%' }] })).toEqual([`${evil} 100%`]);
      expect(await lines({ lineFilters: [{ op: '|=', value: '_' }] })).toEqual(['a_c']);
      expect(await lines({ lineFilters: [{ op: '|=', value: evil }] })).toEqual([`${evil} 100%`]);
      expect(await lines({ lineFilters: [{ op: '!=', value: "'" }] })).toEqual(['a_c', 'abc']);
      expect(await lines({ matchers: [{ name: "x') OR TRUE --", op: '=', value: '' }] })).toHaveLength(3);
      expect(await e.labelValues(tenant, 'app', START, END, [{ name: 'app', op: '!=', value: "' OR '1'='1" }])).toEqual(['%', evil, '_']);
      expect(await e.committedOffsets(tenant, [evil])).toEqual(new Map([[evil, 1]]));
      // Nothing was dropped, and the other tenants' view is unaffected.
      expect(await e.stats()).toMatchObject({ rows: 3, streams: 3, partitions: 1 });
      expect(await collect(e.scan(all('t')))).toEqual([]);
    } finally {
      await e.close();
    }
  });

  it('rejects regexes RE2 cannot compile (lookaround, backreferences) as "invalid regex"', async () => {
    const e = await openDuckDbEngine({ dataDir: dir });
    try {
      await e.append('t', [{ tsNs: at(0), labels: { app: 'a' }, line: 'Error ab' }]);
      await expect(collect(e.scan({ ...all(), lineFilters: [{ op: '|~', value: 'a(?=b)' }] }))).rejects.toThrow(/^invalid regex "a\(\?=b\)"/);
      await expect(collect(e.scan({ ...all(), matchers: [{ name: 'app', op: '=~', value: '(a)\\1' }] }))).rejects.toThrow(/^invalid regex/);
      await expect(e.count({ ...all(), lineFilters: [{ op: '!~', value: '(' }], stepNs: 1n, by: [] })).rejects.toThrow(/^invalid regex/);
      // RE2 syntax LogQL users write: inline flags, \pL classes, \z.
      expect(await collect(e.scan({ ...all(), lineFilters: [{ op: '|~', value: '(?i)error' }, { op: '|~', value: '^\\pL+ ab\\z' }] }))).toHaveLength(1);
      // The engine stays usable after rejected queries.
      expect((await e.stats()).rows).toBe(1);
    } finally {
      await e.close();
    }
  });

  it('a failure inside the append transaction rolls everything back', async () => {
    let fail = true;
    const e = await openDuckDbEngine({ dataDir: dir, hooks: { beforeCommit: () => { if (fail) throw new Error('injected'); } } });
    try {
      await expect(e.append('t', [{ tsNs: at(0), labels: { app: 'new' }, line: 'x' }, { tsNs: at(1), labels: { app: 'new2' }, line: 'y' }], [{ source: 's', offset: 5 }])).rejects.toThrow('injected');
      expect(await e.stats()).toMatchObject({ rows: 0, streams: 0, partitions: 0 });
      expect(await e.committedOffsets('t', ['s'])).toEqual(new Map());
      expect((await e.planScan(all())).partitions).toEqual([]);
      fail = false;
      // The same streams and partitions are created again, not assumed to exist.
      await e.append('t', [{ tsNs: at(0), labels: { app: 'new' }, line: 'x' }, { tsNs: at(1), labels: { app: 'new2' }, line: 'y' }], [{ source: 's', offset: 5 }]);
      expect(await e.series('t', [[{ name: 'app', op: '=~', value: 'new.*' }]], START, END)).toEqual([{ app: 'new' }, { app: 'new2' }]);
      expect(await e.committedOffsets('t', ['s'])).toEqual(new Map([['s', 5]]));
    } finally {
      await e.close();
    }
  });

  it('serializes concurrent appends', async () => {
    const e = await openDuckDbEngine({ dataDir: dir });
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, b) =>
          e.append('t', Array.from({ length: 50 }, (_, i) => ({ tsNs: at(b % 3) + BigInt(b * 50 + i), labels: { app: `a${b % 4}` }, line: `${b}/${i}` })), [{ source: 's', offset: b }]),
        ),
      );
      expect(await e.stats()).toMatchObject({ rows: 1000, streams: 4, partitions: 3 });
      expect(await e.committedOffsets('t', ['s'])).toEqual(new Map([['s', 19]]));
    } finally {
      await e.close();
    }
  });

  it('reads only the partitions overlapping the range, with ts filters pushed into the scan', async () => {
    const e = await openDuckDbEngine({ dataDir: dir });
    try {
      for (let d = 0; d < 3; d++) await e.append('t', [{ tsNs: at(d, '12:00:00'), labels: { app: 'a' }, line: `d${d}` }, { tsNs: at(d, '13:00:00'), labels: { app: 'b' }, line: `d${d}` }]);
      const day1: ScanQuery = { ...all(), startNs: at(1), endNs: at(2) };
      const plan = await e.planScan(day1);
      expect(plan.partitions).toEqual(['logs_20261121']);
      expect(plan.sql).toHaveLength(1);
      expect(plan.sql[0]).toContain('FROM "logs_20261121"');
      expect(plan.sql[0]).not.toMatch(/logs_20261120|logs_20261122/);
      // No user value appears in the SQL text: only placeholders.
      expect(plan.sql[0]).not.toContain("'t'");
      expect((await e.planScan({ ...all(), startNs: at(0, '12:30:00'), endNs: at(2, '12:00:00') })).partitions).toEqual(['logs_20261120', 'logs_20261121']);
      expect((await e.planScan({ ...all(), direction: 'backward' })).partitions).toEqual(['logs_20261122', 'logs_20261121', 'logs_20261120']);
      // A stream absent from a partition does not make that partition read.
      expect((await e.planScan({ ...all(), matchers: [{ name: 'app', op: '=', value: 'b' }], startNs: at(0, '12:30:00') })).partitions).toEqual(['logs_20261120', 'logs_20261121', 'logs_20261122']);
      expect((await e.planScan({ ...all(), matchers: [{ name: 'app', op: '=', value: 'a' }], startNs: at(0, '12:30:00') })).partitions).toEqual(['logs_20261121', 'logs_20261122']);
      // Within the day (a whole-day range is pruned by the table's own min/max statistics),
      // the ts bounds and the stream are filters of the table scan itself: zone maps apply.
      const [raw] = await e.explainScan({ ...day1, startNs: at(1, '12:30:00'), endNs: at(1, '23:00:00'), matchers: [{ name: 'app', op: '=', value: 'b' }] });
      const explain = raw!.replace(/[│\s]+/g, ' ');
      expect(explain).toMatch(/SEQ_SCAN .*Table: loggy\.main\.logs_20261121 .*Filters: tenant='t' stream_id =\d+ ts>=\d+ AND ts<\d+/);
      expect(explain).not.toMatch(/logs_20261120|logs_20261122/);
    } finally {
      await e.close();
    }
  });

  it('streams 200k rows in bounded batches, in order', async () => {
    const e = await openDuckDbEngine({ dataDir: dir });
    try {
      const n = 200_000;
      for (let b = 0; b < n / 10_000; b++) {
        await e.append('t', Array.from({ length: 10_000 }, (_, i) => {
          const k = b * 10_000 + i;
          // Spread over two days, interleaved streams, ascending time per batch.
          return { tsNs: at(0, '12:00:00') + BigInt(k) * 1_000_000n * 432n, labels: { app: `s${k % 20}` }, line: `row ${k} ${'y'.repeat(k % 64)}` };
        }));
      }
      let rows = 0;
      let maxBatch = 0;
      let prev = -1n;
      let ordered = true;
      for await (const batch of e.scan(all())) {
        maxBatch = Math.max(maxBatch, batch.length);
        for (const r of batch) {
          if (r.tsNs < prev) ordered = false;
          prev = r.tsNs;
        }
        rows += batch.length;
      }
      expect(rows).toBe(n);
      expect(maxBatch).toBeLessThanOrEqual(5000);
      expect(ordered).toBe(true);
      // Breaking out early releases the scan (and the engine keeps working).
      for await (const batch of e.scan({ ...all(), direction: 'backward' })) {
        expect(batch[0]!.line).toMatch(/^row 199999 /);
        break;
      }
      const newest = await collect(e.scan({ ...all(), direction: 'backward', limit: 100, matchers: [{ name: 'app', op: '=', value: 's7' }] }));
      expect(newest).toHaveLength(100);
      expect(newest[0]!.line).toMatch(/^row 199987 /);
      expect((await e.stats()).rows).toBe(n);
    } finally {
      await e.close();
    }
  }, 60_000);

  it('handles more matched streams than fit an IN list', async () => {
    const e = await openDuckDbEngine({ dataDir: dir });
    const oracle = new MemoryEngine();
    try {
      const rows = Array.from({ length: 3000 }, (_, i) => ({ tsNs: at(0) + BigInt(i), labels: { app: 'x', pod: `p${i % 1500}` }, line: `l${i}` }));
      await e.append('t', rows);
      await oracle.append('t', rows);
      // 1499 streams: the stream filter binds one list parameter instead of an IN list.
      const q: ScanQuery = { ...all(), matchers: [{ name: 'pod', op: '!=', value: 'p0' }], lineFilters: [{ op: '!~', value: '7$' }] };
      expect((await e.planScan(q)).sql[0]).toMatch(/stream_id IN \(SELECT unnest\(\$2\)\)/);
      expect(await collect(e.scan(q))).toEqual(await collect(oracle.scan(q)));
      const cq = { ...q, stepNs: 1000n, by: ['app'] };
      expect(await e.count(cq)).toEqual(await oracle.count(cq));
      expect((await e.labelValues('t', 'pod', at(0) + 1n, at(0) + 2999n)).length).toBe(1500);
    } finally {
      await e.close();
    }
  });

  it('a scan reads one snapshot even if retention drops its partitions meanwhile', async () => {
    const e = await openDuckDbEngine({ dataDir: dir, scanBatchRows: 2 });
    try {
      await e.append('t', [0, 1].flatMap((d) => [1, 2, 3].map((i) => ({ tsNs: at(d, `0${i}:00:00`), labels: { app: 'a' }, line: `d${d}-${i}` }))));
      const it = e.scan(all())[Symbol.asyncIterator]();
      const first = await it.next();
      expect(first.value).toHaveLength(2);
      expect(await e.applyRetention({ maxBytes: 0 }, at(5))).toEqual({ droppedPartitions: 2 });
      const rest: string[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) rest.push(...r.value.map((x) => x.line));
      expect(rest).toEqual(['d0-3', 'd1-1', 'd1-2', 'd1-3']);
      expect(await collect(e.scan(all()))).toEqual([]);
    } finally {
      await e.close();
    }
  });

  it('skips blocks whose token bloom lacks a token of a substring filter, never a matching line', async () => {
    const e = await openDuckDbEngine({ dataDir: dir });
    try {
      // Three appends = three blocks in one partition, each with its own request ids.
      for (let b = 0; b < 3; b++) {
        await e.append('t', Array.from({ length: 500 }, (_, i) => ({
          tsNs: at(0, '10:00:00') + BigInt(b * 1000 + i),
          labels: { app: 'a' },
          line: `GET /items status=200 request_id=req${b}x${i} user=u${i % 7}`,
        })));
      }
      const q = (value: string): ScanQuery => ({ ...all(), lineFilters: [{ op: '|=', value }] });
      const lines = async (value: string) => (await collect(e.scan(q(value)))).map((r) => r.line);
      // "req1x42" lies inside the needle (between "=" and " "): only block 1 can hold it.
      const plan = await e.planScan(q('request_id=req1x42 '));
      expect(plan.sql[0]).toMatch(/blk BETWEEN \$\d+ AND \$\d+ AND blk IN \(\$\d+\)/);
      expect(await lines('request_id=req1x42 ')).toEqual(['GET /items status=200 request_id=req1x42 user=u0']);
      // A token absent from every block: no partition is read at all.
      expect((await e.planScan(q(' nosuchtoken '))).partitions).toEqual([]);
      expect(await lines(' nosuchtoken ')).toEqual([]);
      // Needles whose end tokens may be parts of longer tokens are not pruned by those tokens.
      expect(await lines('eq2x49')).toEqual([49, ...Array.from({ length: 10 }, (_, k) => 490 + k)].map((i) => `GET /items status=200 request_id=req2x${i} user=u${i % 7}`));
      expect(await lines('x499 user')).toHaveLength(3);
      // A common token passes every bloom: all blocks are read, all lines found.
      expect(await lines(' status=200 ')).toHaveLength(1500);
      // Counts use the same pruning.
      const [series] = await e.count({ ...q('=req0x7 '), stepNs: 3600n * NS_PER_S, by: [] });
      expect(series!.points.reduce((a, p) => a + p[1], 0)).toBe(1);
    } finally {
      await e.close();
    }
  });

  it('probes blooms from memory and from SQL alike, and a cached partition sees blocks written after it was loaded', async () => {
    const cached = await openDuckDbEngine({ dataDir: dir });
    const block = (b: number) => Array.from({ length: 300 }, (_, i) => ({ tsNs: at(0, '10:00:00') + BigInt(b * 1000 + i), labels: { app: 'a' }, line: `op=get id=b${b}r${i} done` }));
    const q = (value: string): ScanQuery => ({ ...all(), lineFilters: [{ op: '|=', value }] });
    try {
      await cached.append('t', block(0));
      await cached.append('t', block(1));
      // The partition was created by this writer: cached from its first block on.
      expect((await cached.planScan(q('=b1r5 '))).sql[0]).toMatch(/blk IN \(\$\d+\)/);
      expect(cached.bloomCache.hits).toBeGreaterThan(0);
      await cached.close();
      // After a restart the partition is loaded on the writer in the background.
      const again = await openDuckDbEngine({ dataDir: dir });
      try {
        await again.flushWrites();
        expect(again.bloomCache.sizeBytes).toBeGreaterThan(0);
        await again.append('t', block(2));
        const lines = async (v: string) => (await collect(again.scan(q(v)))).map((r) => r.line);
        expect(await lines('=b2r7 ')).toEqual(['op=get id=b2r7 done']);
        expect(await lines('=b0r7 ')).toEqual(['op=get id=b0r7 done']);
        expect((await again.planScan(q(' nosuch '))).partitions).toEqual([]);
        const viaCache = await Promise.all(['=b0r1 ', '=b1r2 ', '=b2r3 ', ' nosuch '].map(async (v) => (await again.planScan(q(v))).sql));
        await again.close();
        const sqlOnly = await openDuckDbEngine({ dataDir: dir, bloomCacheBytes: 0 });
        try {
          const viaSql = await Promise.all(['=b0r1 ', '=b1r2 ', '=b2r3 ', ' nosuch '].map(async (v) => (await sqlOnly.planScan(q(v))).sql));
          expect(viaSql).toEqual(viaCache);
          expect(sqlOnly.bloomCache.sizeBytes).toBe(0);
        } finally {
          await sqlOnly.close();
        }
      } finally {
        await again.close();
      }
    } finally {
      await cached.close();
    }
  });

  it('still probes blocks written with 3 hashes per token (stores from before k was kept)', async () => {
    const e = await openDuckDbEngine({ dataDir: dir, bloomCacheBytes: 0 });
    const lines = Array.from({ length: 300 }, (_, i) => `op=get id=old${i} done`);
    try {
      await e.append('t', lines.map((line, i) => ({ tsNs: at(0, '10:00:00') + BigInt(i), labels: { app: 'a' }, line })));
      const { buildBloom } = await import('../../src/store/shared/bloom.js');
      const old = buildBloom(lines, 64, 3, 0.25);
      await e.flushWrites();
      const { SqlParams } = await import('../../src/store/duckdb/sql.js');
      const p = new SqlParams();
      await (e as unknown as { writer: DuckDBConnection }).writer.run(`UPDATE blocks SET k = 3, m = ${old.m}, bloom = ${p.blob(old.bits)}::BIT`, p.values, p.types);
      const q = (value: string): ScanQuery => ({ ...all(), lineFilters: [{ op: '|=', value }] });
      expect((await collect(e.scan(q('=old42 ')))).map((r) => r.line)).toEqual(['op=get id=old42 done']);
      expect((await e.planScan(q(' nosuch '))).partitions).toEqual([]);
    } finally {
      await e.close();
    }
  });
});
