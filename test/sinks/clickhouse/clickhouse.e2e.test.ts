import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentFixture, append, capturingLogger, cri, podLog, runAgent } from '../../helpers/agent.js';
import { startClickHouse, type TestClickHouse } from '../../helpers/clickhouse.js';
import { startChdbHttp } from '../../helpers/chdb-http.js';
import { repoRoot, tempDir, waitFor } from '../../helpers/proc.js';

/**
 * The clickhouse sink against a real ClickHouse server (Debian's clickhouse-server, 18.16:
 * no Map, DateTime64 or LowCardinality there, so the tables use Nested and Int64 nanoseconds;
 * the newer types' encodings are covered by the column-plan unit tests).
 */
const chDir = tempDir('loggy-ch-');
let ch: TestClickHouse;
beforeAll(async () => {
  ch = await startClickHouse(chDir.dir);
  await ch.sql('CREATE DATABASE logs');
}, 60_000);
afterAll(async () => {
  await ch?.stop();
  chDir.cleanup();
});

const fx = agentFixture('loggy-chsink-');
let tableNo = 0;

/** The schema docs/agent.md gives for servers without Map/DateTime64. */
async function loggyTable(extra = ''): Promise<string> {
  const name = `logs.t${++tableNo}`;
  await ch.sql(`CREATE TABLE ${name} (
    date Date, timestamp DateTime, ts_ns Int64, namespace String, pod String, container String, stream String,
    labels Nested(key String, value String), fields Nested(key String, value String), flags Array(String), line String${extra}
  ) ENGINE = MergeTree PARTITION BY date ORDER BY (namespace, pod, container, ts_ns)`);
  return name;
}

function sink(table: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const [database, t] = table.split('.');
  return { type: 'clickhouse', endpoint: ch.url, database, table: t, user: ch.user, password: ch.password, columns: { ts_ns: 'timestamp' }, min_insert_interval: 0, retry_max_backoff: 200, ...extra };
}

/** CRI nanoseconds → the Int64 the sink should store. */
const nsOf = (record: string) => {
  const ts = record.slice(0, record.indexOf(' '));
  return (BigInt(Date.parse(ts.slice(0, 19) + 'Z') / 1000) * 1_000_000_000n + BigInt(ts.slice(20, 29))).toString();
};

interface Row { timestamp: string; ts_ns: string; date: string; namespace: string; pod: string; container: string; stream: string; 'labels.key': string[]; 'labels.value': string[]; 'fields.key': string[]; 'fields.value': string[]; flags: string[]; line: string }

describe('clickhouse sink → a real ClickHouse server', () => {
  it('inserts every line with its exact timestamp, stream, labels, label columns, fields and flags', async () => {
    const table = await loggyTable();
    const p = podLog(fx.root, 'shop', 'web-1', 'nginx');
    const records = [cri('GET / 200'), cri('{"level":"warn","msg":"slow"}', 'stderr'), cri('quote " backslash \\ tab \t é 😀'), cri('x'.repeat(300))];
    append(p, records.join(''));
    fx.agent = await runAgent({ ...fx, sink: sink(table), transforms: [{ type: 'parse', format: 'json' }], source: { max_line_bytes: 256 } });
    await waitFor(async () => Number(await ch.sql(`SELECT count() FROM ${table}`)) === 4, 15_000, 'rows in ClickHouse');
    const rows = await ch.rows<Row>(`SELECT * FROM ${table} ORDER BY ts_ns`);
    expect(rows.map((r) => r.ts_ns)).toEqual(records.map(nsOf));
    expect(rows.map((r) => r.timestamp)).toEqual(['2026-11-22 10:00:00', '2026-11-22 10:00:00', '2026-11-22 10:00:00', '2026-11-22 10:00:00']);
    expect(rows.map((r) => r.date)).toEqual(['2026-11-22', '2026-11-22', '2026-11-22', '2026-11-22']);
    expect(rows.map((r) => r.line)).toEqual(['GET / 200', '{"level":"warn","msg":"slow"}', 'quote " backslash \\ tab \t é 😀', 'x'.repeat(256)]);
    expect(rows.map((r) => r.stream)).toEqual(['stdout', 'stderr', 'stdout', 'stdout']);
    expect(rows.map((r) => [r.namespace, r.pod, r.container])).toEqual(Array(4).fill(['shop', 'web-1', 'nginx']));
    const labels = Object.fromEntries(rows[0]!['labels.key'].map((k, i) => [k, rows[0]!['labels.value'][i]]));
    expect(labels).toMatchObject({ namespace: 'shop', pod: 'web-1', container: 'nginx', pod_uid: 'uid-web-1' });
    expect(Object.fromEntries(rows[1]!['fields.key'].map((k, i) => [k, rows[1]!['fields.value'][i]]))).toEqual({ level: 'warn', msg: 'slow' });
    expect(rows.map((r) => r.flags)).toEqual([['parse_failed'], [], ['parse_failed'], ['truncated', 'parse_failed']]);
  }, 30_000);

  it('refuses nothing silently: rows ClickHouse cannot store go to the dead-letter file with its reason, the rest go in', async () => {
    // An Enum stream column without 'stderr': every stderr row is refused by ClickHouse itself.
    const table = `logs.t${++tableNo}`;
    await ch.sql(`CREATE TABLE ${table} (ts_ns Int64, stream Enum8('stdout' = 1), line String) ENGINE = MergeTree ORDER BY ts_ns`);
    const p = podLog(fx.root, 'shop', 'web-1', 'nginx');
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);
    append(p, lines.map((l, i) => cri(l, i % 13 === 5 ? 'stderr' : 'stdout')).join(''));
    fx.agent = await runAgent({ ...fx, sink: sink(table) });
    const dead = join(fx.dataDir, 'dead-letter', 'out.ndjson');
    const refused = lines.filter((_, i) => i % 13 === 5);
    await waitFor(() => existsSync(dead) && readFileSync(dead, 'utf8').trim().split('\n').length === refused.length, 20_000, 'dead letters');
    await waitFor(async () => Number(await ch.sql(`SELECT count() FROM ${table}`)) === lines.length - refused.length, 15_000, 'the other rows');
    const deadRows = readFileSync(dead, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: string; reason: string });
    expect(deadRows.map((d) => d.line)).toEqual(refused);
    expect(deadRows[0]!.reason).toMatch(/Code: \d+.*Unknown element 'stderr'/);
    const stored = await ch.rows<{ line: string }>(`SELECT line FROM ${table} ORDER BY ts_ns`);
    expect(stored.map((r) => r.line)).toEqual(lines.filter((_, i) => i % 13 !== 5));
    const metrics = await fx.agent.metrics.registry.getSingleMetricAsString('loggy_sink_rejected_events_total');
    expect(metrics).toContain(`loggy_sink_rejected_events_total{component="out"} ${refused.length}`);
  }, 40_000);

  it('waits out a missing table, saying so, and delivers everything once it exists', async () => {
    const table = `logs.t${++tableNo}`;
    const p = podLog(fx.root, 'shop', 'web-1', 'nginx');
    append(p, ['a', 'b', 'c'].map((l) => cri(l)).join(''));
    const { log, records } = capturingLogger();
    fx.agent = await runAgent({ ...fx, sink: sink(table), log });
    await waitFor(() => records.some((r) => String(r.err).includes(`table ${table} does not exist`)), 10_000, 'the missing-table warning');
    await ch.sql(`CREATE TABLE ${table} (ts_ns Int64, line String) ENGINE = MergeTree ORDER BY ts_ns`);
    await waitFor(async () => Number(await ch.sql(`SELECT count() FROM ${table}`)) === 3, 15_000, 'rows after the table appeared');
  }, 30_000);

  it('loses nothing and duplicates nothing across a ClickHouse outage', async () => {
    const table = await loggyTable();
    const p = podLog(fx.root, 'shop', 'web-1', 'nginx');
    const total = 3000;
    let written = 0;
    const writeSome = (n: number) => {
      append(p, Array.from({ length: n }, () => cri(`event ${written++} ${'p'.repeat(40)}`)).join(''));
    };
    writeSome(1000);
    fx.agent = await runAgent({ ...fx, sink: sink(table, { batch_max_events: 200 }) });
    await waitFor(async () => Number(await ch.sql(`SELECT count() FROM ${table}`)) === 1000, 15_000, 'first rows');
    await ch.stop();
    writeSome(1000);
    await new Promise((r) => setTimeout(r, 1500));
    await ch.start();
    writeSome(total - 2000);
    await waitFor(async () => Number(await ch.sql(`SELECT count() FROM ${table}`)) === total, 30_000, 'all rows after the outage');
    const [{ n, d }] = await ch.rows<{ n: string; d: string }>(`SELECT count() AS n, uniqExact(line) AS d FROM ${table}`);
    expect([Number(n), Number(d)]).toEqual([total, total]);
  }, 60_000);
});

describe('clickhouse sink → a current ClickHouse (26.x, embedded by chdb, behind its HTTP interface)', () => {
  const dir = tempDir('loggy-chdb-');
  let modern: Awaited<ReturnType<typeof startChdbHttp>>;
  beforeAll(async () => {
    modern = await startChdbHttp(join(dir.dir, 'session'));
  });
  afterAll(async () => {
    await modern?.stop();
    dir.cleanup();
  });

  it('fills the table docs/agent.md gives (DateTime64(9), Map, LowCardinality, codecs, TTL, token index) exactly', async () => {
    const ddl = /```sql\n(CREATE TABLE logs\.loggy[\s\S]*?)```/.exec(readFileSync(join(repoRoot, 'docs/agent.md'), 'utf8'))![1]!;
    modern.sql('CREATE DATABASE IF NOT EXISTS logs');
    modern.sql(ddl);
    const p = podLog(fx.root, 'shop', 'web-1', 'nginx');
    const records = [cri('GET / 200'), cri('{"level":"error","msg":"db down"}', 'stderr'), cri('é 😀 "q"')];
    append(p, records.join(''));
    fx.agent = await runAgent({ ...fx, sink: { type: 'clickhouse', endpoint: modern.url, database: 'logs', table: 'loggy', min_insert_interval: 0 }, transforms: [{ type: 'parse', format: 'json' }] });
    await waitFor(() => modern.sql('SELECT count() FROM logs.loggy').trim() === '3', 15_000, 'rows in chdb');
    const rows = modern.sql('SELECT toString(toUnixTimestamp64Nano(timestamp)) AS ns, date, namespace, pod, container, stream, labels, fields, flags, line FROM logs.loggy ORDER BY timestamp', 'JSONEachRow')
      .trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.ns)).toEqual(records.map(nsOf));
    expect(rows.map((r) => r.line)).toEqual(['GET / 200', '{"level":"error","msg":"db down"}', 'é 😀 "q"']);
    expect(rows.map((r) => [r.namespace, r.pod, r.container, r.stream, r.date])).toEqual([
      ['shop', 'web-1', 'nginx', 'stdout', '2026-11-22'], ['shop', 'web-1', 'nginx', 'stderr', '2026-11-22'], ['shop', 'web-1', 'nginx', 'stdout', '2026-11-22'],
    ]);
    expect(rows[0]!.labels).toMatchObject({ namespace: 'shop', pod: 'web-1', container: 'nginx', pod_uid: 'uid-web-1' });
    expect(rows[1]!.fields).toEqual({ level: 'error', msg: 'db down' });
    expect(rows.map((r) => r.flags)).toEqual([['parse_failed'], [], ['parse_failed']]);
  }, 30_000);

  it('sends a retried insert with the same token, which the documented table drops as a duplicate', async () => {
    modern.sql('CREATE DATABASE IF NOT EXISTS logs');
    modern.sql('CREATE TABLE logs.dedup (timestamp DateTime64(9), line String) ENGINE = MergeTree ORDER BY timestamp SETTINGS non_replicated_deduplication_window = 100');
    const { ClickhouseSink, clickhouseSinkSchema } = await import('../../../src/sinks/clickhouse/index.js');
    const { EventBatch } = await import('../../../src/core/batch.js');
    const { makeSource } = await import('../../../src/core/event.js');
    const { AgentMetrics } = await import('../../../src/core/metrics.js');
    const { silentLogger } = await import('../../../src/core/logger.js');
    const sink = new ClickhouseSink(clickhouseSinkSchema.parse({ type: 'clickhouse', inputs: ['a'], endpoint: modern.url, database: 'logs', table: 'dedup', min_insert_interval: 0 }),
      { name: 'ch', dataDir: dir.dir, log: silentLogger, metrics: new AgentMetrics(), shared: new Map() });
    const src = makeSource('1:2:3', 'node', { app: 'x' });
    const events = [1, 2, 3].map((i) => ({ ts: `2026-11-22T10:00:0${i}.000000000Z`, stream: 'stdout' as const, line: `l${i}`, flags: 0, offset: i }));
    await sink.write([new EventBatch(src, events)]);
    await sink.write([new EventBatch(src, events)]); // what the runner does after a lost answer
    await sink.write([new EventBatch(src, [{ ...events[0]!, offset: 4, line: 'l4' }])]);
    expect(modern.sql('SELECT line FROM logs.dedup ORDER BY line').trim().split('\n')).toEqual(['l1', 'l2', 'l3', 'l4']);
  });
});
