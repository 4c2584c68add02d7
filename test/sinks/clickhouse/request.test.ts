import { describe, expect, it } from 'vitest';
import { EventBatch } from '../../../src/core/batch.js';
import { RetryableError } from '../../../src/core/errors.js';
import { makeSource, type LogEvent } from '../../../src/core/event.js';
import { silentLogger } from '../../../src/core/logger.js';
import { AgentMetrics } from '../../../src/core/metrics.js';
import { ClickhouseSink, clickhouseSinkSchema } from '../../../src/sinks/clickhouse/index.js';
import { sinkSchema } from '../../../src/sinks/index.js';
import { receivers, type ReceivedRequest } from '../../helpers/receiver.js';

/**
 * The requests the sink sends, checked against ClickHouse's HTTP interface as documented
 * (statement in `query`, settings as parameters, Basic auth, gzip body), from a stand-in that
 * describes a table of a recent server (Map, DateTime64), which Debian's 18.16 cannot.
 */
const receiver = receivers();
const MODERN = [
  { name: 'timestamp', type: "DateTime64(9, 'UTC')", default_kind: '' },
  { name: 'date', type: 'Date', default_kind: 'DEFAULT' },
  { name: 'namespace', type: 'LowCardinality(String)', default_kind: '' },
  { name: 'stream', type: 'LowCardinality(String)', default_kind: '' },
  { name: 'labels', type: 'Map(LowCardinality(String), String)', default_kind: '' },
  { name: 'line', type: 'String', default_kind: '' },
];

function fakeClickHouse(opts: { version?: string; columns?: object[]; insert?: (r: ReceivedRequest, n: number) => [number, string?] } = {}) {
  return receiver((r, n) => {
    const q = new URL(r.url, 'http://x').searchParams.get('query');
    if (q?.startsWith('INSERT')) {
      const [status, body] = opts.insert?.(r, n) ?? [200];
      return [status, body ?? ''];
    }
    if (r.text.startsWith('SELECT name, type, default_kind')) return [200, (opts.columns ?? MODERN).map((c) => JSON.stringify(c)).join('\n') + '\n'];
    if (r.text.startsWith('SELECT version()')) return [200, `{"v":"${opts.version ?? '24.8.4.13'}"}\n`];
    return [400, 'Code: 62, e.displayText() = DB::Exception: Syntax error'];
  });
}

const source = makeSource('9:1:ff', 'node', { namespace: 'shop', pod: 'web-1' });
let seq = 0;
const ev = (line: string, stream: 'stdout' | 'stderr' = 'stdout'): LogEvent => ({ ts: `2026-11-22T10:00:0${++seq % 10}.000000${String(seq).padStart(3, '0')}Z`, stream, line, flags: 0, offset: seq });

function sinkFor(cfg: Record<string, unknown>) {
  const ctx = { name: 'ch', dataDir: '/nonexistent', log: silentLogger, metrics: new AgentMetrics(), shared: new Map<string, unknown>() };
  return new ClickhouseSink(clickhouseSinkSchema.parse({ type: 'clickhouse', inputs: ['node'], table: 'logs', database: 'prod', user: 'writer', password: 'pw', min_insert_interval: 0, ...cfg }), ctx);
}

const inserts = (reqs: ReceivedRequest[]) => reqs.filter((r) => r.url.includes('INSERT'));

describe('clickhouse sink: the requests', () => {
  it('describes the table, then inserts JSONEachRow with the statement, settings, dedup token and Basic auth', async () => {
    const ch = await fakeClickHouse();
    const sink = sinkFor({ endpoint: ch.url, settings: { async_insert: 1, wait_for_async_insert: true } });
    const events = [ev('GET / 200'), ev('oops "x"', 'stderr')];
    await sink.write([new EventBatch(source, events)]);
    expect(ch.reqs.map((r) => r.text.split(' FROM ')[0])).toEqual(['SELECT name, type, default_kind', 'SELECT version() AS v FORMAT JSONEachRow', expect.stringContaining('{"timestamp":')]);
    expect(ch.reqs[0]!.text).toBe("SELECT name, type, default_kind FROM system.columns WHERE database = 'prod' AND table = 'logs' FORMAT JSONEachRow");
    const [ins] = inserts(ch.reqs);
    const url = new URL(ins!.url, 'http://x');
    expect(url.searchParams.get('query')).toBe('INSERT INTO `prod`.`logs` (`timestamp`, `date`, `namespace`, `stream`, `labels`, `line`) FORMAT JSONEachRow');
    expect(url.searchParams.get('async_insert')).toBe('1');
    expect(url.searchParams.get('wait_for_async_insert')).toBe('1');
    expect(url.searchParams.get('insert_deduplication_token')).toMatch(/^[0-9a-f]{32}$/);
    expect(ins!.headers.authorization).toBe(`Basic ${Buffer.from('writer:pw').toString('base64')}`);
    expect(ins!.headers['content-encoding']).toBe('gzip');
    expect(ins!.text).toBe(
      `{"timestamp":1795341601000000001,"date":"2026-11-22","stream":"stdout","line":"GET / 200","namespace":"shop","labels":{"namespace":"shop","pod":"web-1"}}\n`
      + `{"timestamp":1795341602000000002,"date":"2026-11-22","stream":"stderr","line":"oops \\"x\\"","namespace":"shop","labels":{"namespace":"shop","pod":"web-1"}}\n`,
    );
  });

  it('sends the same token for the same rows (a retry) and another for other rows; none to servers before 22.2', async () => {
    const ch = await fakeClickHouse({ insert: (_r, n) => (n === 3 ? [503, 'Code: 241, e.displayText() = DB::Exception: Memory limit exceeded'] : [200]) });
    const sink = sinkFor({ endpoint: ch.url });
    const batch = new EventBatch(source, [ev('a'), ev('b')]);
    await expect(sink.write([batch])).rejects.toBeInstanceOf(RetryableError);
    await sink.write([batch]);
    await sink.write([new EventBatch(source, [ev('c')])]);
    const tokens = inserts(ch.reqs).map((r) => new URL(r.url, 'http://x').searchParams.get('insert_deduplication_token'));
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
    const old = await fakeClickHouse({ version: '21.8.15.7' });
    await sinkFor({ endpoint: old.url }).write([batch]);
    expect(inserts(old.reqs)[0]!.url).not.toContain('insert_deduplication_token');
  });

  it('makes at most one insert per min_insert_interval', async () => {
    const ch = await fakeClickHouse();
    const sink = sinkFor({ endpoint: ch.url, min_insert_interval: 300 });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) await sink.write([new EventBatch(source, [ev(`l${i}`)])]);
    const elapsed = Date.now() - t0;
    expect(inserts(ch.reqs)).toHaveLength(3);
    expect(elapsed).toBeGreaterThanOrEqual(590);
  });

  it('does not hold back a large insert', async () => {
    const ch = await fakeClickHouse();
    const sink = sinkFor({ endpoint: ch.url, min_insert_interval: 60_000 });
    await sink.write([new EventBatch(source, [ev('small')])]);
    const t0 = Date.now();
    await sink.write([new EventBatch(source, Array.from({ length: 1000 }, (_, i) => ev(`row ${i}`)))]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(inserts(ch.reqs)).toHaveLength(2);
  });

  it('retries errors about the server or the schema (and describes the table again), refuses data errors for good', async () => {
    let answer: [number, string] = [500, 'Code: 16, e.displayText() = DB::Exception: There is no column line in table'];
    const ch = await fakeClickHouse({ insert: () => answer });
    const sink = sinkFor({ endpoint: ch.url });
    await expect(sink.write([new EventBatch(source, [ev('a')])])).rejects.toThrow(/Code: 16/);
    answer = [200, ''];
    await sink.write([new EventBatch(source, [ev('a')])]);
    // The schema error made it read the table again before the next insert.
    expect(ch.reqs.filter((r) => r.text.startsWith('SELECT name')).length).toBe(2);
  });

  it('says where a table it cannot fill is wrong', async () => {
    const ch = await fakeClickHouse({ columns: [{ name: 'msg', type: 'String', default_kind: '' }] });
    const sink = sinkFor({ endpoint: ch.url });
    await expect(sink.write([new EventBatch(source, [ev('a')])])).rejects.toThrow(/sinks\.ch \(prod\.logs\): the table has no column for the log line/);
  });

  it('validates its configuration with clear messages', () => {
    const parse = (extra: Record<string, unknown>) => sinkSchema.safeParse({ type: 'clickhouse', inputs: ['a'], endpoint: 'http://ch:8123', table: 'logs', ...extra });
    expect(parse({}).success).toBe(true);
    expect(parse({ columns: { ts: 'time' } }).error?.issues[0]?.message).toMatch(/expected one of timestamp, date, stream, line/);
    expect(parse({ settings: { 'bad name': 1 } }).error?.issues[0]?.message).toMatch(/ClickHouse setting name/);
    expect(parse({ token: 'x' }).success).toBe(false);
  });
});
