import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startClickHouse, type TestClickHouse } from '../helpers/clickhouse.js';
import { loggy, tempDir, waitFor, type Proc } from '../helpers/proc.js';
import { getJson, nsNow, postBody } from '../helpers/server.js';

/**
 * The store made stateless by the ClickHouse engine: two real `loggy server` processes on one
 * real ClickHouse (Debian's 18.16) serve the same data, dedupe an agent's replay whichever
 * replica gets it, and each tails what the other ingested (tail.mode auto → poll).
 */
const tmp = tempDir('loggy-ch-replicas-');
let ch: TestClickHouse;
const servers: Proc[] = [];
const urls: string[] = [];

async function startReplica(name: string): Promise<string> {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const cfg = join(dir, 'server.yaml');
  writeFileSync(cfg, [
    `listen: 127.0.0.1:${port}`,
    `data_dir: ${dir}/data`,
    'engine:',
    '  type: clickhouse',
    '  clickhouse:',
    `    url: ${ch.url}`,
    `    user: ${ch.user}`,
    '    password: ${CLICKHOUSE_PASSWORD}',
    '    database: logs',
    'tail:',
    '  poll_interval: 200ms',
    '',
  ].join('\n'));
  const proc = loggy(['server', '--config', cfg], { CLICKHOUSE_PASSWORD: ch.password });
  servers.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/ready`).catch(() => null))?.ok, 20_000, `${name} ready (${proc.stderr().slice(-500)})`, 100);
  return url;
}

beforeAll(async () => {
  ch = await startClickHouse(join(tmp.dir, 'clickhouse'));
  // Both at once: creating the database and tables is safe when replicas start together.
  urls.push(...(await Promise.all([startReplica('a'), startReplica('b')])));
}, 60_000);
afterAll(async () => {
  for (const s of servers) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
  await ch?.stop();
  tmp.cleanup();
});

type Streams = { data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
const query = async (url: string, q: string, start: bigint) => {
  const r = await getJson<Streams>(`${url}/loki/api/v1/query_range?query=${encodeURIComponent(q)}&start=${start}&limit=1000&direction=forward`);
  expect(r.status, r.text).toBe(200);
  return r.body.data.result.flatMap((s) => s.values.map((v) => v[1]));
};

describe('two store replicas on one ClickHouse', () => {
  it('answer the same queries, whichever got the lines', async () => {
    const [a, b] = urls as [string, string];
    const t0 = nsNow();
    const push = (url: string, app: string, lines: string[], from: number) => postBody(`${url}/loki/api/v1/push`, JSON.stringify({
      streams: [{ stream: { app }, values: lines.map((l, i) => [(t0 + BigInt(from + i)).toString(), l]) }],
    }), { 'content-type': 'application/json' });
    expect((await push(a, 'web', ['a1', 'a2'], 0)).status).toBe(204);
    expect((await push(b, 'web', ['b1'], 2)).status).toBe(204);
    for (const url of urls) expect(await query(url, '{app="web"}', t0 - 1n)).toEqual(['a1', 'a2', 'b1']);
    const labels = await getJson<{ data: string[] }>(`${b}/loki/api/v1/label/app/values?start=${t0 - 1n}`);
    expect(labels.body.data).toContain('web');
  });

  it("drop an agent's replay sent to the other replica (watermarks live in ClickHouse)", async () => {
    const [a, b] = urls as [string, string];
    const t0 = nsNow();
    const body = (entries: Array<[bigint, string, number]>) => JSON.stringify({ streams: [{ labels: { app: 'agent' }, source: 'node-1:42:abc|stdout', entries: entries.map(([t, l, o]) => [t.toString(), l, o]) }] });
    const first = await postBody(`${a}/api/v1/push`, body([[t0, 'one', 10], [t0 + 1n, 'two', 20]]), { 'content-type': 'application/json' });
    expect(JSON.parse(first.text)).toMatchObject({ accepted: 2, duplicates: 0 });
    // The agent restarted and re-sends from its checkpoint, now through the other replica.
    const replay = await postBody(`${b}/api/v1/push`, body([[t0, 'one', 10], [t0 + 1n, 'two', 20], [t0 + 2n, 'three', 30]]), { 'content-type': 'application/json' });
    expect(JSON.parse(replay.text)).toMatchObject({ accepted: 1, duplicates: 2 });
    expect(await query(a, '{app="agent"}', t0 - 1n)).toEqual(['one', 'two', 'three']);
  });

  it('tail on one replica what is pushed through the other', async () => {
    const [a, b] = urls as [string, string];
    const t0 = nsNow();
    const ws = new WebSocket(`${b.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="live"}')}&start=${t0}`);
    const got: string[] = [];
    ws.on('message', (d) => {
      for (const s of (JSON.parse(d.toString()) as { streams: Array<{ values: Array<[string, string]> }> }).streams) got.push(...s.values.map((v) => v[1]));
    });
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 300));
    const r = await postBody(`${a}/loki/api/v1/push`, JSON.stringify({ streams: [{ stream: { app: 'live' }, values: [[(t0 + 1n).toString(), 'via a']] }] }), { 'content-type': 'application/json' });
    expect(r.status).toBe(204);
    await waitFor(() => got.includes('via a'), 5000, 'the line pushed through the other replica');
    await new Promise((res) => setTimeout(res, 500));
    expect(got).toEqual(['via a']);
    ws.close();
  });
});
