import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import type { RunningServer } from '../../src/server/run.js';
import { append, cri, podLog } from '../helpers/agent.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { startTestServer } from '../helpers/server.js';

const tmp = tempDir('loggy-httpsinks-');
afterAll(() => tmp.cleanup());
let agent: RunningAgent | null = null;
let store: RunningServer | null = null;
let plain: Server | null = null;
afterEach(async () => {
  await agent?.stop();
  await store?.stop();
  await new Promise<void>((r) => (plain ? plain.close(() => r()) : r()));
  agent = null;
  store = null;
  plain = null;
});

let n = 0;
async function agentTo(sink: Record<string, unknown>, lines: string[], transform?: Record<string, unknown>): Promise<RunningAgent> {
  const dir = join(tmp.dir, `run-${n++}`);
  const root = join(dir, 'node');
  const p = podLog(root, 'shop', 'web-1', 'nginx', 0, 'uid-1');
  append(p, lines.map((l, i) => cri(l, i % 2 ? 'stderr' : 'stdout')).join(''));
  const cfg = agentConfigSchema.parse({
    data_dir: join(dir, 'data'), shutdown_grace: 500,
    sources: { node: { type: 'kubernetes_logs', root } },
    transforms: transform ? { t: { inputs: ['node'], ...transform } } : {},
    sinks: { out: { inputs: [transform ? 't' : 'node'], ...sink } },
  });
  return startAgent(cfg, { log: silentLogger });
}

/** A plain HTTP server answering from a script of statuses. */
async function scripted(statuses: Array<[number, Record<string, string>]>): Promise<{ url: string; hits: () => number; bodies: IncomingMessage[] }> {
  let hits = 0;
  const bodies: IncomingMessage[] = [];
  plain = createServer((req, res) => {
    bodies.push(req);
    req.resume();
    const [status, headers] = statuses[Math.min(hits++, statuses.length - 1)];
    res.writeHead(status, headers).end(status >= 400 ? 'nope: bad labels' : '');
  });
  await new Promise<void>((r) => plain!.listen(0, '127.0.0.1', () => r()));
  const addr = plain.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, hits: () => hits, bodies };
}

async function storeLines(url: string, query: string): Promise<Array<{ stream: Record<string, string>; line: string }>> {
  // The CRI timestamps of the test files are in 2026-11-22; query around them.
  const res = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent(query)}&start=1795300000000000000&end=1795400000000000000&limit=100&direction=forward`);
  const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
  return body.data.result.flatMap((s) => s.values.map((v) => ({ stream: s.stream, line: v[1] })));
}

describe('loggy and loki sinks', () => {
  for (const type of ['loggy', 'loki'] as const) {
    it(`${type} sink delivers to the Loggy store with labels and nanosecond timestamps`, async () => {
      store = await startTestServer({ limits: { reject_older_than: 0 } });
      agent = await agentTo({ type, endpoint: store.url }, ['GET / 200', 'oops', 'GET /cart 200']);
      await waitFor(async () => (await storeLines(store!.url, '{namespace="shop"}')).length === 3, 5000, 'lines in store');
      const got = await storeLines(store.url, '{namespace="shop"}');
      expect(got.map((g) => g.line).sort()).toEqual(['GET / 200', 'GET /cart 200', 'oops']);
      const err = got.find((g) => g.line === 'oops')!;
      expect(err.stream).toMatchObject({ namespace: 'shop', pod: 'web-1', container: 'nginx', stream: 'stderr' });
      // The loki sink keeps high-cardinality labels out of the stream labels (structured metadata).
      const series = await (await fetch(`${store.url}/loki/api/v1/series?match[]=${encodeURIComponent('{namespace="shop"}')}&start=1795300000000000000&end=1795400000000000000`)).json() as { data: Array<Record<string, string>> };
      expect(series.data.every((l) => (type === 'loki' ? l.pod_uid === undefined : l.pod_uid === 'uid-1'))).toBe(true);
      expect(err.stream.pod_uid).toBe('uid-1');
    });
  }

  for (const type of ['loggy', 'loki'] as const) {
    it(`${type} sink sends parsed fields and flags as structured metadata, queryable without a parser stage`, async () => {
      store = await startTestServer({ limits: { reject_older_than: 0 } });
      agent = await agentTo({ type, endpoint: store.url }, ['{"status":503,"path":"/pay"}', '{"status":200,"path":"/"}', 'not json'], { type: 'parse', format: 'json' });
      await waitFor(async () => (await storeLines(store!.url, '{namespace="shop"}')).length === 3, 5000, 'lines in store');
      const failing = await storeLines(store.url, '{namespace="shop"} | status >= 500');
      expect(failing.map((g) => g.line)).toEqual(['{"status":503,"path":"/pay"}']);
      expect(failing[0]!.stream).toMatchObject({ status: '503', path: '/pay' });
      const unparsed = await storeLines(store.url, '{namespace="shop"} | loggy_flags="parse_failed"');
      expect(unparsed.map((g) => g.line)).toEqual(['not json']);
    });
  }

  it('retries on 429/503 honouring Retry-After, then acknowledges on 2xx', async () => {
    const s = await scripted([[429, { 'retry-after': '1' }], [503, {}], [204, {}]]);
    const t0 = Date.now();
    agent = await agentTo({ type: 'loki', endpoint: s.url }, ['a']);
    await waitFor(() => s.hits() === 3, 10_000, 'three attempts');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    await waitFor(async () => (await agent!.metrics.total('loggy_sink_events_total')) === 1, 3000, 'delivered');
    expect(await agent.metrics.total('loggy_sink_errors_total')).toBe(2);
  });

  it('dead-letters exactly the entries the store refused on their own (it lists them); the rest is stored', async () => {
    store = await startTestServer({ limits: { max_line_bytes: 1000 } });
    const long = 'x'.repeat(2000);
    agent = await agentTo({ type: 'loggy', endpoint: store.url }, ['ok 1', 'ok 2', long, 'ok 3', 'ok 4']);
    await waitFor(async () => (await agent!.metrics.total('loggy_sink_events_total')) === 4, 5000, 'good lines delivered');
    await waitFor(async () => (await agent!.metrics.total('loggy_dead_letter_events_total')) === 1, 5000, 'bad line dead-lettered');
    expect((await storeLines(store.url, '{namespace="shop"}')).map((l) => l.line).sort()).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4']);
    expect(await agent.metrics.total('loggy_sink_rejected_events_total')).toBe(1);
    const dir = join(tmp.dir, `run-${n - 1}`, 'data', 'dead-letter');
    const [record] = readFileSync(join(dir, 'out.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(record).toMatchObject({ sink: 'out', status: 400, line: long, stream: 'stdout', labels: { namespace: 'shop', pod: 'web-1', container: 'nginx' } });
    expect(String(record!.reason)).toContain('longer than 1000 bytes');
  });

  it('keeps refusals within dead_letter.max_bytes and counts what did not fit', async () => {
    const s = await scripted([[400, {}]]);
    agent = await agentTo({ type: 'loggy', endpoint: s.url, dead_letter: { max_bytes: 600 } }, ['a'.repeat(200), 'b'.repeat(200), 'c'.repeat(200)]);
    await waitFor(async () => (await agent!.metrics.total('loggy_sink_rejected_events_total')) === 3, 5000, 'all refused');
    await waitFor(async () => (await agent!.metrics.total('loggy_dead_letter_events_total')) + (await agent!.metrics.total('loggy_dead_letter_dropped_events_total')) === 3, 5000, 'all accounted');
    expect(await agent.metrics.total('loggy_dead_letter_events_total')).toBe(1);
    expect(await agent.metrics.total('loggy_dead_letter_dropped_events_total')).toBe(2);
    // Whole batch, then halves, then single events: never retried forever.
    expect(s.hits()).toBe(5);
  });

  it('retries 401/403/404 (a token or URL to fix) instead of giving the events up', async () => {
    const s = await scripted([[401, {}], [403, {}], [204, {}]]);
    agent = await agentTo({ type: 'loki', endpoint: s.url }, ['a']);
    await waitFor(async () => (await agent!.metrics.total('loggy_sink_events_total')) === 1, 10_000, 'delivered after the fix');
    expect(await agent.metrics.total('loggy_sink_rejected_events_total')).toBe(0);
    expect(s.hits()).toBe(3);
  });
});
