import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelMatcher, StoreEngine } from '../../src/store/engine.js';
import { openClickHouseEngine } from '../../src/store/clickhouse/index.js';
import type { DdlRunner } from '../../src/store/clickhouse/schema.js';
import { freePort, startClickHouse, type ClusterReplica, type TestClickHouse } from '../helpers/clickhouse.js';
import { describeEngineConformance } from './conformance.js';
import { at, collect, END, START } from './fixture.js';

/**
 * The ClickHouse engine's cluster mode against two real clickhouse-server 18.16 processes, each
 * one shard of the cluster `two` (remote_servers lists both; Distributed tables and cluster()
 * reach them over the native port), with `replicated: false`: there is no ZooKeeper here, so
 * ON CLUSTER cannot run. The DDL runner stands in for the server's DDL worker — each
 * statement's per-node form on both nodes — and everything else (Distributed inserts and reads,
 * sharding, cluster('two', system.parts), DROP PARTITION per shard) is the servers' own.
 */

const dir = mkdtempSync(join(tmpdir(), 'loggy-ch-cluster-'));
let a: TestClickHouse;
let b: TestClickHouse;
let n = 0;

beforeAll(async () => {
  const ports = [await freePort(), await freePort()];
  const shard = (port: number): ClusterReplica[] => [{ host: '127.0.0.1', port, user: 'loggy', password: 's3cret' }];
  const remoteServers = { two: ports.map(shard) };
  [a, b] = await Promise.all(ports.map((tcpPort, i) => startClickHouse(join(dir, `node${i}`), { tcpPort, remoteServers, macros: { shard: `0${i + 1}`, replica: 'r1' } })));
}, 60_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ddl: DdlRunner = async (_what, _sql, perNode) => {
  for (const node of [a, b]) await node.sql(perNode);
};

const open = (prefix = `c${++n}_`, node: () => TestClickHouse = () => a): Promise<StoreEngine> =>
  openClickHouseEngine({ url: node().url, user: 'loggy', password: 's3cret', database: 'loggy', tablePrefix: prefix, cluster: 'two', replicated: false, ddl });

const ALL: LabelMatcher[] = [{ name: 'app', op: '=~', value: '.+' }];
const scanAll = (e: StoreEngine, tenant = 't') => collect(e.scan({ tenant, matchers: ALL, startNs: START, endNs: END, lineFilters: [], direction: 'forward' }));
const count = async (node: TestClickHouse, select: string): Promise<number> => Number((await node.rows<{ n: string }>(select))[0]!.n);

describeEngineConformance('clickhouse 18.16, cluster of two shards', () => open());

describe('ClickHouse engine cluster mode (two 18.16 shards, not replicated)', () => {
  it('creates Distributed tables over per-node local tables on every node', async () => {
    const prefix = `layout${++n}_`;
    await open(prefix);
    for (const node of [a, b]) {
      const tables = await node.rows<{ name: string; engine: string }>(`SELECT name, engine FROM system.tables WHERE database = 'loggy' AND name LIKE '${prefix}%' ORDER BY name`);
      expect(tables).toEqual([
        { name: `${prefix}logs`, engine: 'Distributed' },
        { name: `${prefix}logs_local`, engine: 'MergeTree' },
        { name: `${prefix}offsets`, engine: 'Distributed' },
        { name: `${prefix}offsets_local`, engine: 'ReplacingMergeTree' },
        { name: `${prefix}streams`, engine: 'Distributed' },
        { name: `${prefix}streams_local`, engine: 'ReplacingMergeTree' },
      ]);
    }
  });

  it('a stream stays on one shard, different streams spread over both, and its streams rows go with it', async () => {
    const prefix = `shard${++n}_`;
    const e = await open(prefix);
    const rows = Array.from({ length: 200 }, (_, i) => ({ tsNs: at(0, '01:00:00') + BigInt(i), labels: { app: `s${i % 40}` }, line: `l${i}` }));
    await e.append('t', rows);
    const perNode = await Promise.all([a, b].map((node) => node.rows<{ stream_id: string; n: string }>(`SELECT toString(stream_id) AS stream_id, toString(count()) AS n FROM loggy.${prefix}logs_local GROUP BY stream_id`)));
    const [onA, onB] = perNode.map((rs) => new Set(rs.map((r) => r.stream_id)));
    expect(onA!.size).toBeGreaterThan(0);
    expect(onB!.size).toBeGreaterThan(0);
    expect(onA!.size + onB!.size).toBe(40);
    for (const id of onA!) expect(onB!.has(id)).toBe(false);
    for (const rs of perNode) for (const r of rs) expect(Number(r.n)).toBe(5);
    for (const [i, node] of [a, b].entries()) {
      const streams = await node.rows<{ stream_id: string }>(`SELECT DISTINCT toString(stream_id) AS stream_id FROM loggy.${prefix}streams_local`);
      expect(new Set(streams.map((s) => s.stream_id))).toEqual(i === 0 ? onA : onB);
    }
    expect((await scanAll(e)).map((r) => r.line).sort()).toEqual(rows.map((r) => r.line).sort());
  });

  it('retention drops the day on every shard; sizes are summed over the shards', async () => {
    const prefix = `ret${++n}_`;
    const e = await open(prefix);
    await e.append('t', [0, 1, 2].flatMap((d) => Array.from({ length: 20 }, (_, i) => ({ tsNs: at(d, '12:00:00') + BigInt(i), labels: { app: `s${i}` }, line: `d${d} ${i}` }))));
    const days = (node: TestClickHouse) => count(node, `SELECT uniqExact(partition) AS n FROM system.parts WHERE active AND database = 'loggy' AND table = '${prefix}logs_local'`);
    expect([await days(a), await days(b)]).toEqual([3, 3]);
    const bytes = async (node: TestClickHouse) => count(node, `SELECT sum(bytes_on_disk) AS n FROM system.parts WHERE active AND database = 'loggy' AND table IN ('${prefix}logs_local', '${prefix}streams_local')`);
    const stats = await e.stats();
    expect(stats).toMatchObject({ rows: 60, streams: 20, partitions: 3, diskBytes: (await bytes(a)) + (await bytes(b)) });
    expect(await e.applyRetention({ maxAgeNs: 86_400_000_000_000n }, at(2))).toEqual({ droppedPartitions: 1 });
    expect([await days(a), await days(b)]).toEqual([2, 2]);
    for (const node of [a, b]) expect(await count(node, `SELECT count() AS n FROM loggy.${prefix}streams_local WHERE day = ${Number(at(0) / 86_400_000_000_000n)}`)).toBe(0);
    expect((await e.stats()).partitions).toBe(2);
    expect((await scanAll(e)).every((r) => !r.line.startsWith('d0'))).toBe(true);
  });

  it('two engine instances on different nodes share rows and offsets, and a replay sent to the other is stored once', async () => {
    const prefix = `pair${++n}_`;
    const [x, y] = [await open(prefix, () => a), await open(prefix, () => b)];
    const rows = Array.from({ length: 30 }, (_, i) => ({ tsNs: at(1, '03:00:00') + BigInt(i), labels: { app: `p${i % 6}` }, line: `r${i}` }));
    await x.append('t', rows.slice(0, 20), [{ source: 'f', offset: 20 }]);
    expect(await y.committedOffsets('t', ['f'])).toEqual(new Map([['f', 20]]));
    // A crash after the rows, before the watermark: the offsets are lost and the agent re-sends regrouped.
    for (const node of [a, b]) await node.sql(`TRUNCATE TABLE loggy.${prefix}offsets_local`);
    expect(await y.committedOffsets('t', ['f'])).toEqual(new Map());
    expect(await y.append('t', rows.slice(10), [{ source: 'f', offset: 30 }])).toMatchObject({ rows: 10 });
    for (const e of [x, y]) {
      expect((await scanAll(e)).map((r) => r.line).sort()).toEqual(rows.map((r) => r.line).sort());
      expect(await e.committedOffsets('t', ['f'])).toEqual(new Map([['f', 30]]));
    }
  });

  it('names very many streams by a GLOBAL IN subquery (a plain IN of two Distributed tables is denied)', async () => {
    const e = await open(undefined);
    const rows = Array.from({ length: 5003 }, (_, i) => ({ tsNs: at(0, '07:00:00') + BigInt(i), labels: { app: `s${i}`, env: i % 2 ? 'odd' : 'even' }, line: `n${i}` }));
    await e.append('t', rows, [{ source: 'many', offset: 1 }]);
    await e.append('t', rows.slice(5000), [{ source: 'many', offset: 2 }]);
    const q = { tenant: 't', matchers: [{ name: 'app', op: '=~' as const, value: 's.*' }], startNs: START, endNs: END, lineFilters: [], direction: 'backward' as const };
    expect((await collect(e.scan(q))).map((r) => r.line)).toEqual(rows.map((r) => r.line).reverse());
    expect((await e.count({ ...q, stepNs: 86_400_000_000_000n, by: ['env'] })).map((c) => [c.labels, c.points[0]![1]])).toEqual([[{ env: 'even' }, 2502], [{ env: 'odd' }, 2501]]);
    expect(await e.labelValues('t', 'app', START, END, q.matchers)).toHaveLength(5003);
  });

  it('refuses tables of the other mode under the same names', async () => {
    const prefix = `mode${++n}_`;
    await openClickHouseEngine({ url: a.url, user: 'loggy', password: 's3cret', tablePrefix: prefix });
    await expect(open(prefix)).rejects.toThrow(`clickhouse: loggy.${prefix}logs is a MergeTree table, not Distributed: a one-server store's tables; cluster mode needs another table_prefix or database`);
    const other = `mode${++n}_`;
    await open(other);
    await expect(openClickHouseEngine({ url: a.url, user: 'loggy', password: 's3cret', tablePrefix: other }))
      .rejects.toThrow(`clickhouse: loggy.${other}logs is a Distributed table of a cluster store: set cluster, or use another table_prefix or database`);
  });

  it('names the cluster the server does not know', async () => {
    await expect(openClickHouseEngine({ url: a.url, user: 'loggy', password: 's3cret', tablePrefix: 'z_', cluster: 'nope' }))
      .rejects.toThrow("clickhouse: cluster 'nope' is not in the server's remote_servers (system.clusters has 'two')");
  });

  it('without Keeper, ON CLUSTER DDL fails naming what is missing', async () => {
    await expect(openClickHouseEngine({ url: a.url, user: 'loggy', password: 's3cret', tablePrefix: `nokeeper${++n}_`, cluster: 'two', replicated: false }))
      .rejects.toThrow(/^clickhouse: create database loggy ON CLUSTER two: the server cannot run distributed DDL \(it needs ZooKeeper\/Keeper/);
  });
});
