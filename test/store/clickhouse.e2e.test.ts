import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import type { LabelMatcher, StoreEngine } from '../../src/store/engine.js';
import { openClickHouseEngine } from '../../src/store/clickhouse/index.js';
import { MemoryEngine } from '../../src/store/memory/index.js';
import { startChdbHttp } from '../helpers/chdb-http.js';
import { startClickHouse, type TestClickHouse } from '../helpers/clickhouse.js';
import { describeEngineConformance } from './conformance.js';
import { at, collect, DAY_NS, END, START } from './fixture.js';

/**
 * The ClickHouse engine against Debian's clickhouse-server 18.16 (the oldest supported) and
 * ClickHouse 26 (chdb behind the HTTP shim): the shared conformance suite unchanged, then what
 * only a shared server has — replicas, replays, partitions, hostile strings.
 */

const dir = mkdtempSync(join(tmpdir(), 'loggy-ch-engine-'));
let old: TestClickHouse;
let modern: Awaited<ReturnType<typeof startChdbHttp>>;
let n = 0;

beforeAll(async () => {
  old = await startClickHouse(join(dir, 'ch18'));
  modern = await startChdbHttp(join(dir, 'chdb'));
}, 60_000);
afterAll(async () => {
  await old?.stop();
  await modern?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Server { name: string; open(prefix?: string, scanBatchRows?: number): Promise<StoreEngine>; sql(statement: string): Promise<unknown> }
const servers: Server[] = [
  { name: 'clickhouse 18.16', open: (prefix, rows) => openClickHouseEngine({ url: old.url, user: old.user, password: old.password, database: 'loggy', tablePrefix: prefix ?? `t${++n}_`, scanBatchRows: rows }), sql: (st) => old.sql(st) },
  { name: 'clickhouse 26 (chdb)', open: (prefix, rows) => openClickHouseEngine({ url: modern.url, database: 'loggy', tablePrefix: prefix ?? `t${++n}_`, scanBatchRows: rows ?? 7 }), sql: async (st) => modern.sql(st) },
];

const ALL: LabelMatcher[] = [{ name: 'app', op: '=~', value: '.+' }];
const scanAll = (e: StoreEngine, tenant = 't', matchers = ALL) => collect(e.scan({ tenant, matchers, startNs: START, endNs: END, lineFilters: [], direction: 'forward' }));

for (const s of servers) {
  describeEngineConformance(s.name, () => s.open());

  describe(`ClickHouse engine specifics: ${s.name}`, () => {
    it('two engines on one server share rows and offsets', async () => {
      const prefix = `shared${++n}_`;
      const [a, b] = [await s.open(prefix), await s.open(prefix)];
      await a.append('t', [{ tsNs: at(0, '01:00:00'), labels: { app: 'x' }, line: 'from a' }], [{ source: 'f|stdout', offset: 10 }]);
      await b.append('t', [{ tsNs: at(0, '02:00:00'), labels: { app: 'x' }, line: 'from b' }], [{ source: 'f|stdout', offset: 20 }]);
      for (const e of [a, b]) {
        expect((await scanAll(e)).map((r) => r.line)).toEqual(['from a', 'from b']);
        expect(await e.committedOffsets('t', ['f|stdout'])).toEqual(new Map([['f|stdout', 20]]));
      }
    });

    it('a replayed append (crash before its offsets) is stored once, from any instance', async () => {
      const prefix = `replay${++n}_`;
      const [a, b] = [await s.open(prefix), await s.open(prefix)];
      const rows = [0, 1, 2].map((d) => ({ tsNs: at(d, '03:00:00'), labels: { app: 'x' }, line: `day ${d}` }));
      await a.append('t', rows, [{ source: 'f', offset: 3 }]);
      // The same append again, as after a crash between the rows and the offsets, on a second replica.
      await b.append('t', rows, [{ source: 'f', offset: 3 }]);
      await a.append('t', rows, [{ source: 'f', offset: 3 }]);
      expect((await scanAll(b)).map((r) => r.line)).toEqual(['day 0', 'day 1', 'day 2']);
      // Without offsets nothing is a replay: identical pushes are both kept, like other engines.
      await a.append('t', rows.slice(0, 1));
      await a.append('t', rows.slice(0, 1));
      expect((await scanAll(b)).map((r) => r.line)).toEqual(['day 0', 'day 0', 'day 0', 'day 1', 'day 2']);
    });

    it('a crash between the rows and the offsets: replayed rows are dropped however regrouped, on 22.2+ also when two replicas race', async () => {
      const prefix = `crash${++n}_`;
      const [a, b] = [await s.open(prefix), await s.open(prefix)];
      const rows = [0, 1].map((d) => ({ tsNs: at(d, '04:00:00'), labels: { app: 'x' }, line: `crash ${d}` }));
      await a.append('t', rows, [{ source: 'f', offset: 2 }]);
      // The offsets never made it: the state a crash after step 2 of append.ts leaves.
      const truncate = `TRUNCATE TABLE loggy.${prefix}offsets`;
      await s.sql(truncate);
      expect(await b.committedOffsets('t', ['f'])).toEqual(new Map());
      await b.append('t', rows, [{ source: 'f', offset: 2 }]);
      expect((await scanAll(a)).map((r) => r.line)).toEqual(['crash 0', 'crash 1']);
      expect(await a.committedOffsets('t', ['f'])).toEqual(new Map([['f', 2]]));
      // The replay regrouped: the agent re-sends from its last acknowledged offset in new
      // batches, overlapping what was stored, with new lines after it.
      const lines = Array.from({ length: 10 }, (_, i) => ({ tsNs: at(1, '05:00:00') + BigInt(i), labels: { app: 'y' }, line: `r${i}` }));
      await a.append('t', lines.slice(0, 6), [{ source: 'h', offset: 6 }]);
      await s.sql(truncate);
      expect(await b.append('t', lines.slice(3, 8), [{ source: 'h', offset: 8 }])).toMatchObject({ rows: 2 });
      await a.append('t', lines.slice(7), [{ source: 'h', offset: 10 }]);
      expect((await scanAll(a, 't', [{ name: 'app', op: '=', value: 'y' }])).map((r) => r.line)).toEqual(lines.map((l) => l.line));
      // Identical lines within one append are not replays of each other.
      const twice = [{ tsNs: at(1, '06:00:00'), labels: { app: 'z' }, line: 'same' }];
      await a.append('t', [...twice, ...twice], [{ source: 'i', offset: 1 }]);
      expect(await scanAll(a, 't', [{ name: 'app', op: '=', value: 'z' }])).toHaveLength(2);
      // Two replicas appending one new replay at once: both look, neither finds it, both insert.
      const more = [{ tsNs: at(2, '04:00:00'), labels: { app: 'x' }, line: 'raced' }];
      await Promise.all([a.append('t', more, [{ source: 'g', offset: 1 }]), b.append('t', more, [{ source: 'g', offset: 1 }])]);
      const raced = (await scanAll(a)).filter((r) => r.line === 'raced').length;
      // 18.16 has no insert_deduplication_token: there the race stores it twice (at-least-once).
      if (s.name.includes('26')) expect(raced).toBe(1);
      else expect(raced).toBeGreaterThanOrEqual(1);
    });

    it('replicas starting together both create the schema', async () => {
      const prefix = `start${++n}_`;
      const [a, b] = await Promise.all([s.open(prefix), s.open(prefix)]);
      await a.append('t', [{ tsNs: at(0), labels: { app: 'x' }, line: 'up' }]);
      expect((await scanAll(b)).map((r) => r.line)).toEqual(['up']);
    });

    it('counts from a negative start, and substring filters with newlines and LIKE metacharacters', async () => {
      const e = await s.open();
      const lines = ['a%b_c\\d', 'multi\nline 50%', 'plain'];
      await e.append('t', lines.map((line, i) => ({ tsNs: at(0, `00:00:0${i}`), labels: { app: 'x' }, line })));
      const q = { tenant: 't', matchers: ALL, startNs: START, endNs: END, direction: 'forward' as const };
      for (const needle of ['%', '_', '\\', 'a%b', '\nline', 'i\nl', '%b_c\\', '_c']) {
        const got = (await collect(e.scan({ ...q, lineFilters: [{ op: '|=', value: needle }] }))).map((r) => r.line);
        expect(got, needle).toEqual(lines.filter((l) => l.includes(needle)));
      }
      const step = 3_600_000_000_000n;
      const c = await e.count({ ...q, lineFilters: [], startNs: -(2n ** 62n), stepNs: step, by: [] });
      const first = -(2n ** 62n) + ((START + 2n ** 62n) / step) * step;
      expect(c).toEqual([{ labels: {}, points: [[first, 3, lines.reduce((s2, l) => s2 + Buffer.byteLength(l), 0)]] }]);
    });

    it('pages through equal timestamps and sparse windows like the reference engine', async () => {
      const e = await s.open(undefined, 3);
      const ref = new MemoryEngine();
      for (let b = 0; b < 2; b++) {
        // Three timestamps (two within a second, one days later) shared by three streams.
        const rows = Array.from({ length: 12 }, (_, i) => ({ tsNs: [at(0, '00:00:00'), at(0, '00:00:00', 1n), at(2, '23:00:00')][i % 3]!, labels: { app: `a${i % 4}` }, line: `b${b} r${i}` }));
        await e.append('t', rows);
        await ref.append('t', rows);
      }
      for (const direction of ['forward', 'backward'] as const) {
        for (const limit of [undefined, 1, 3, 4, 13, 24]) {
          const q = { tenant: 't', matchers: ALL, startNs: START, endNs: END, lineFilters: [], direction, limit };
          expect(await collect(e.scan(q)), `${direction} ${limit}`).toEqual(await collect(ref.scan(q)));
        }
      }
    });

    it('uses what the server has: parameters, token, fsync, LowCardinality on 26; literals on 18.16', async () => {
      const logged: unknown[] = [];
      const log = { info: (o: unknown) => logged.push(o) } as unknown as Logger;
      const modernServer = s.name.includes('26');
      await openClickHouseEngine({ ...(modernServer ? { url: modern.url } : { url: old.url, user: old.user, password: old.password }), tablePrefix: `feat${++n}_`, log });
      const { features } = logged[0] as { features: Record<string, unknown> };
      expect(features).toMatchObject(modernServer
        ? { queryParams: true, dedupToken: true, fsync: true, lowCardinality: true, skipIndexes: true, regexPrefilterIgnoresFlags: false, distributedSyncInsert: 'distributed_foreground_insert' }
        : { version: expect.stringMatching(/^18\.16\./), queryParams: false, dedupToken: false, fsync: false, lowCardinality: false, skipIndexes: false, regexPrefilterIgnoresFlags: true, distributedSyncInsert: 'insert_distributed_sync' });
    });

    it('names very many streams by subquery (more than fit a statement as a list)', async () => {
      const e = await s.open(undefined, 2000);
      const rows = Array.from({ length: 5003 }, (_, i) => ({ tsNs: at(0, '07:00:00') + BigInt(i), labels: { app: `s${i}`, env: i % 2 ? 'odd' : 'even' }, line: `n${i}` }));
      // With offsets: the replay check too must not list 5003 streams and 5003 row ids at once.
      await e.append('t', rows, [{ source: 'many', offset: 1 }]);
      await e.append('t', rows.slice(5000), [{ source: 'many', offset: 2 }]);
      const q = { tenant: 't', matchers: [{ name: 'app', op: '=~' as const, value: 's.*' }], startNs: START, endNs: END, lineFilters: [], direction: 'backward' as const };
      const got = await collect(e.scan(q));
      expect(got.map((r) => r.line)).toEqual(rows.map((r) => r.line).reverse());
      expect(got[0]!.labels).toEqual({ app: 's5002', env: 'even' });
      expect((await e.count({ ...q, stepNs: DAY_NS, by: ['env'] })).map((c) => [c.labels, c.points[0]![1]])).toEqual([[{ env: 'even' }, 2502], [{ env: 'odd' }, 2501]]);
      expect(await e.labelValues('t', 'app', START, END, q.matchers)).toHaveLength(5003);
    });

    it('retention drops whole day partitions on the server', async () => {
      const e = await s.open();
      await e.append('t', [0, 1, 2].map((d) => ({ tsNs: at(d, '12:00:00'), labels: { app: 'x' }, line: `d${d}` })));
      expect((await e.stats()).partitions).toBe(3);
      expect(await e.applyRetention({ maxAgeNs: 86_400_000_000_000n }, at(2))).toEqual({ droppedPartitions: 1 });
      expect((await scanAll(e)).map((r) => r.line)).toEqual(['d1', 'd2']);
      expect((await e.stats()).partitions).toBe(2);
    });

    it('hostile strings in tenants, label values, line filters and sources stay values', async () => {
      const e = await s.open();
      const evil = ["'; DROP TABLE x; --", "\\'", '\\', '{p0:String}', 'a\tb\nc', "') OR 1=1 --", '\u0000z'];
      for (const v of evil) {
        await e.append(v, [{ tsNs: at(0), labels: { app: v }, line: `line ${v}`, metadata: { k: v } }], [{ source: v, offset: 1 }]);
      }
      for (const v of evil) {
        const rows = await scanAll(e, v, [{ name: 'app', op: '=', value: v }]);
        expect(rows).toEqual([{ tsNs: at(0), labels: { app: v }, line: `line ${v}`, metadata: { k: v } }]);
        const filtered = await collect(e.scan({ tenant: v, matchers: ALL, startNs: START, endNs: END, lineFilters: [{ op: '|=', value: v }], direction: 'forward' }));
        expect(filtered).toHaveLength(1);
        expect(await e.labelValues(v, 'app', START, END)).toEqual([v]);
        expect(await e.committedOffsets(v, [v])).toEqual(new Map([[v, 1]]));
      }
      expect(await e.labelValues("' OR '1'='1", 'app', START, END)).toEqual([]);
      expect((await e.stats()).rows).toBe(evil.length);
    });

    it('surfaces ClickHouse errors with its message', async () => {
      const prefix = `err${++n}_`;
      const e = await s.open(prefix);
      await expect(collect(e.scan({ tenant: 't', matchers: [{ name: 'app', op: '=~', value: '(' }], startNs: START, endNs: END, lineFilters: [], direction: 'forward' })))
        .rejects.toThrow(/^invalid regex "\(".*missing \)/);
      const drop = `DROP TABLE loggy.${prefix}streams`;
      await s.sql(drop);
      await expect(e.labelNames('t', START, END)).rejects.toThrow(new RegExp(`^clickhouse: resolve streams failed: Code: 60.*${prefix}streams`));
      if (s.name.includes('18')) {
        // The shim has no users; the real server names the failed login.
        await expect(openClickHouseEngine({ url: old.url, user: 'loggy', password: 'wrong', tablePrefix: 'z_' })).rejects.toThrow(/^clickhouse: read the server version failed: Code: 193.*[Ww]rong password/);
      }
      const closed = await new Promise<number>((r) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const { port } = srv.address() as AddressInfo;
          srv.close(() => r(port));
        });
      });
      await expect(openClickHouseEngine({ url: `http://127.0.0.1:${closed}`, tablePrefix: 'z_', timeoutMs: 2000 })).rejects.toThrow(/^clickhouse: read the server version failed: http:\/\/127.0.0.1:\d+: ECONNREFUSED/);
    });
  });
}
