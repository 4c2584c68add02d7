import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelMatcher, StoreEngine } from '../../src/store/engine.js';
import { openClickHouseEngine } from '../../src/store/clickhouse/index.js';
import { startChdbHttp } from '../helpers/chdb-http.js';
import { startClickHouse, type TestClickHouse } from '../helpers/clickhouse.js';
import { describeEngineConformance } from './conformance.js';
import { at, collect, END, START } from './fixture.js';

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

interface Server { name: string; open(prefix?: string): Promise<StoreEngine> }
const servers: Server[] = [
  { name: 'clickhouse 18.16', open: (prefix) => openClickHouseEngine({ url: old.url, user: old.user, password: old.password, database: 'loggy', tablePrefix: prefix ?? `t${++n}_` }) },
  { name: 'clickhouse 26 (chdb)', open: (prefix) => openClickHouseEngine({ url: modern.url, database: 'loggy', tablePrefix: prefix ?? `t${++n}_`, scanBatchRows: 7 }) },
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
      if (s.name.includes('18')) await old.sql(drop);
      else modern.sql(drop);
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
