import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/run.js';
import type { AppendResult, LogRow, SourceOffset, StoreEngine } from '../../src/store/engine.js';
import { MemoryEngine } from '../../src/store/memory/index.js';
import { getJson, nsNow, postBody, startTestServer } from '../helpers/server.js';

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

const native = (entries: Array<[string, string, number]>, source = 'f1|stdout', labels: Record<string, string> = { namespace: 'shop', pod: 'web-1', stream: 'stdout' }) =>
  JSON.stringify({ streams: [{ labels, source, entries }] });
const json = { 'content-type': 'application/json' };

async function lines(url: string, query = '{namespace="shop"}', headers: Record<string, string> = {}): Promise<string[]> {
  const start = (nsNow() - 3_600_000_000_000n).toString();
  const r = await getJson<{ data: { result: Array<{ values: Array<[string, string]> }> } }>(
    `${url}/loki/api/v1/query_range?query=${encodeURIComponent(query)}&start=${start}&limit=1000&direction=forward`, headers);
  expect(r.status, r.text).toBe(200);
  return r.body.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
}

describe('native push', () => {
  it('stores lines and drops replays at or below the committed offset', async () => {
    server = await startTestServer();
    const t = nsNow();
    const e = (i: number): [string, string, number] => [(t + BigInt(i)).toString(), `line ${i}`, i * 10];
    let r = await postBody(`${server.url}/api/v1/push`, native([e(1), e(2), e(3)]), json);
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ accepted: 3, duplicates: 0 });
    // An agent restarted after a crash replays 2 and 3, then sends 4.
    r = await postBody(`${server.url}/api/v1/push`, gzipSync(native([e(2), e(3), e(4)])), { ...json, 'content-encoding': 'gzip' });
    expect(JSON.parse(r.text)).toEqual({ accepted: 1, duplicates: 2 });
    expect(await lines(server.url)).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('drops a replay that arrives in the same request as its original (an agent disk buffer re-sending)', async () => {
    server = await startTestServer();
    const t = nsNow();
    const e = (i: number): [string, string, number] => [(t + BigInt(i)).toString(), `line ${i}`, i * 10];
    const r = await postBody(`${server.url}/api/v1/push`, native([e(1), e(2), e(3), e(2), e(3), e(4)]), json);
    expect(JSON.parse(r.text)).toEqual({ accepted: 4, duplicates: 2 });
    expect(await lines(server.url)).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('does not take lower offsets later in the same request for replays (only exact repeats are)', async () => {
    server = await startTestServer();
    const t = nsNow();
    const e = (i: number): [string, string, number] => [(t + BigInt(i)).toString(), `line ${i}`, i * 10];
    const r = await postBody(`${server.url}/api/v1/push`, native([e(3), e(1), e(2), e(1)]), json);
    expect(JSON.parse(r.text)).toEqual({ accepted: 3, duplicates: 1 });
    expect(await lines(server.url)).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('keeps watermarks per source: another file with the same offsets is not a replay', async () => {
    server = await startTestServer();
    const t = nsNow().toString();
    await postBody(`${server.url}/api/v1/push`, native([[t, 'a', 5]], 'f1|stdout'), json);
    const r = await postBody(`${server.url}/api/v1/push`, native([[t, 'b', 5]], 'f2|stdout'), json);
    expect(JSON.parse(r.text)).toEqual({ accepted: 1, duplicates: 0 });
  });

  const bad: Array<[string, string | Buffer, Record<string, string>, number, RegExp]> = [
    ['malformed JSON', '{"streams":[', json, 400, /malformed JSON/],
    ['no streams', '{}', json, 400, /expected \{"streams"/],
    ['missing labels', JSON.stringify({ streams: [{ labels: {}, entries: [] }] }), json, 400, /streams\[1\]\.labels: a stream needs at least one label/],
    ['bad label name', JSON.stringify({ streams: [{ labels: { '1x': 'a' }, entries: [] }] }), json, 400, /invalid label name "1x"/],
    ['bad timestamp', JSON.stringify({ streams: [{ labels: { a: 'b' }, entries: [['yesterday', 'x']] }] }), json, 400, /streams\[1\]\.entries\[0\]\[0\]: timestamp must be a string of unix nanoseconds/],
    ['bad gzip', Buffer.from('not gzip'), { ...json, 'content-encoding': 'gzip' }, 400, /invalid gzip body/],
    ['unknown encoding', '{}', { ...json, 'content-encoding': 'lz4' }, 415, /unsupported Content-Encoding "lz4"/],
  ];
  for (const [name, body, headers, status, msg] of bad) {
    it(`refuses ${name} with ${status} and says why, writing nothing`, async () => {
      server = await startTestServer();
      const good = [nsNow().toString(), 'fine', 1];
      const mixed = typeof body === 'string' && body.includes('"streams":[{') && status === 400
        ? JSON.stringify({ streams: [{ labels: { ok: 'yes' }, source: 's', entries: [good] }, ...JSON.parse(body).streams] })
        : body;
      const r = await postBody(`${server.url}/api/v1/push`, mixed, headers);
      expect(r.status).toBe(status);
      expect(r.text).toMatch(msg);
      expect((await server.engine.stats()).rows).toBe(0);
    });
  }

  it('refuses entries breaking a limit one by one, writes the rest, and says which and why', async () => {
    server = await startTestServer({ limits: { max_line_bytes: 100 } });
    const t = nsNow();
    const body = JSON.stringify({ streams: [
      { labels: { namespace: 'shop', pod: 'a' }, source: 'a|stdout', entries: [[t.toString(), 'ok a1', 1], ['1000', 'too old', 2], [t.toString(), 'ok a2', 3]] },
      { labels: { namespace: 'shop', pod: 'b' }, source: 'b|stdout', entries: [[t.toString(), 'x'.repeat(200), 1], [(t + 3_600_000_000_000n).toString(), 'future', 2], [t.toString(), 'ok b1', 3]] },
    ] });
    const r = await postBody(`${server.url}/api/v1/push`, body, json);
    expect(r.status, r.text).toBe(200);
    const answer = JSON.parse(r.text) as { accepted: number; duplicates: number; rejected: Array<{ stream: number; entry: number; reason: string }> };
    expect(answer.accepted).toBe(3);
    expect(answer.rejected.map((x) => [x.stream, x.entry])).toEqual([[0, 1], [1, 0], [1, 1]]);
    expect(answer.rejected[0]!.reason).toMatch(/older than the accepted window/);
    expect(answer.rejected[1]!.reason).toMatch(/longer than 100 bytes/);
    expect(answer.rejected[2]!.reason).toMatch(/too far in the future/);
    expect(await lines(server.url)).toEqual(['ok a1', 'ok a2', 'ok b1']);
    // The Loki API keeps all-or-nothing: its clients split or retry whole requests.
    const loki = JSON.stringify({ streams: [{ stream: { namespace: 'shop', pod: 'c' }, values: [[t.toString(), 'ok c'], ['1000', 'too old']] }] });
    const lr = await postBody(`${server.url}/loki/api/v1/push`, loki, json);
    expect(lr.status).toBe(400);
    expect(lr.text).toMatch(/older than the accepted window/);
    expect(await lines(server.url, '{pod="c"}')).toEqual([]);
  });

  it('refuses a body over the size limit with 413', async () => {
    server = await startTestServer({ limits: { max_body_bytes: 1024 } });
    const r = await postBody(`${server.url}/api/v1/push`, native([[nsNow().toString(), 'x'.repeat(5000), 1]]), json);
    expect(r.status).toBe(413);
    expect(r.text).toMatch(/over 1024 bytes/);
  });

  it('answers 429 with Retry-After when the ingest queue is full, and loses nothing it accepted', async () => {
    // A slow engine: appends take 200 ms, so requests pile up behind the single writer.
    class SlowEngine extends MemoryEngine {
      override async append(tenant: string, rows: LogRow[], offsets?: SourceOffset[]): Promise<AppendResult> {
        await new Promise((r) => setTimeout(r, 200));
        return super.append(tenant, rows, offsets);
      }
    }
    const engine: StoreEngine = new SlowEngine();
    server = await startTestServer({ limits: { max_pending_pushes: 2 } }, engine);
    const t = nsNow();
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) =>
      postBody(`${server!.url}/api/v1/push`, native([[(t + BigInt(i)).toString(), `req ${i}`, i]], `src-${i}`), json)));
    const codes = results.map((r) => r.status);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
    for (const r of results.filter((x) => x.status === 429)) expect(r.headers.get('retry-after')).toBe('1');
    const accepted = results.filter((r) => r.status === 200).length;
    expect((await engine.stats()).rows).toBe(accepted);
  });
});

describe('label names that are object keys in JavaScript', () => {
  it('stores a "__proto__" or "constructor" label as a label', async () => {
    server = await startTestServer();
    const body = `{"streams":[{"labels":{"__proto__":"p","constructor":"c","app":"odd"},"entries":[["${nsNow()}","hello"]]}]}`;
    const r = await postBody(`${server.url}/api/v1/push`, body, json);
    expect(r.status, r.text).toBe(200);
    const s = await getJson<{ data: Array<Record<string, string>> }>(`${server.url}/loki/api/v1/series?match[]=${encodeURIComponent('{app="odd"}')}`);
    expect(s.body.data).toHaveLength(1);
    expect(Object.prototype.hasOwnProperty.call(s.body.data[0], '__proto__')).toBe(true);
    expect(s.body.data[0].constructor).toBe('c');
  });
});
