import { createServer, type Server } from 'node:http';
import { createServer as netServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import type { RunningServer } from '../../src/server/run.js';
import { readOut } from '../helpers/agent.js';
import { sleep, tempDir, waitFor } from '../helpers/proc.js';
import { startTestServer } from '../helpers/server.js';

async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A receiver that answers only when released: a sink that is slow to confirm. */
async function heldReceiver(): Promise<{ url: string; hits: () => number; release: () => void; server: Server }> {
  let hits = 0;
  let held: Array<() => void> = [];
  let open = false;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (open) answer();
      else held.push(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    hits: () => hits,
    release: () => {
      open = true;
      for (const a of held) a();
      held = [];
    },
    server,
  };
}

describe('http source', () => {
  const tmp = tempDir('loggy-httpsrc-');
  let agent: RunningAgent | null = null;
  let store: RunningServer | null = null;
  let receiver: Awaited<ReturnType<typeof heldReceiver>> | null = null;
  let n = 0;
  afterEach(async () => {
    receiver?.release();
    await agent?.stop();
    agent = null;
    await store?.stop();
    store = null;
    if (receiver) {
      receiver.server.closeAllConnections();
      await new Promise<void>((r) => receiver!.server.close(() => r()));
      receiver = null;
    }
  });

  /** An agent with one http source into a file sink (or `sink`); returns the push URL and the output file. */
  async function run(source: Record<string, unknown> = {}, sink?: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const dir = join(tmp.dir, `run-${n++}`);
    const port = await freePort();
    const out = join(dir, 'out.ndjson');
    agent = await startAgent(agentConfigSchema.parse({
      data_dir: join(dir, 'data'), shutdown_grace: 500, ...extra,
      sources: { push: { type: 'http', address: `127.0.0.1:${port}`, ...source } },
      sinks: { out: sink ? { inputs: ['push'], ...sink } : { type: 'file', inputs: ['push'], path: out } },
    }), { log: silentLogger });
    return { url: `http://127.0.0.1:${port}/push`, out };
  }

  const post = async (url: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };

  it('takes NDJSON with labels from the config, headers, query and each event; other keys become fields', async () => {
    const { url, out } = await run({ labels: { env: 'prod', app: 'config' }, label_headers: { 'X-Loggy-App': 'app' } });
    const body = [
      JSON.stringify({ line: 'first', ts: '2026-11-22T10:00:00.123456789Z', user: { id: 7 }, ok: true }),
      '',
      JSON.stringify({ message: 'second', stream: 'stderr', ts: 1795341600000, labels: { team: 'pay' } }),
    ].join('\n');
    const res = await post(`${url}?region=eu`, body, { 'x-loggy-app': 'checkout' });
    expect(res.status).toBe(204);
    // 204 means delivered: the file sink wrote the events before the answer.
    const got = readOut(out);
    expect(got.map((e) => e.line)).toEqual(['first', 'second']);
    expect(got[0]).toMatchObject({ ts: '2026-11-22T10:00:00.123456789Z', stream: 'stdout', labels: { env: 'prod', app: 'checkout', region: 'eu' }, fields: { user_id: '7', ok: 'true' } });
    expect(got[1]).toMatchObject({ ts: '2026-11-22T10:00:00.000000000Z', stream: 'stderr', labels: { env: 'prod', app: 'checkout', region: 'eu', team: 'pay' } });
    expect(await agent!.metrics.total('loggy_source_events_total')).toBe(2);
    expect(await agent!.metrics.total('loggy_http_source_requests_total')).toBe(1);
  });

  it('takes a JSON array, a gzip body, and raw text lines', async () => {
    const { url, out } = await run({ encoding: 'json', max_line_bytes: 10 });
    const arr = JSON.stringify([{ line: 'a' }, { line: 'b'.repeat(30) }]);
    expect((await post(url, gzipSync(arr), { 'content-encoding': 'gzip' })).status).toBe(204);
    const got = readOut(out);
    expect(got.map((e) => e.line)).toEqual(['a', 'b'.repeat(10)]);
    expect(got[1]!.flags).toEqual(['truncated']);
    expect(await agent!.metrics.total('loggy_lines_truncated_total')).toBe(1);
    await agent!.stop();
    const t = await run({ encoding: 'text' });
    expect((await post(t.url, 'plain one\r\n{"not":"parsed"}\n')).status).toBe(204);
    expect(readOut(t.out).map((e) => e.line)).toEqual(['plain one', '{"not":"parsed"}']);
  });

  it('refuses whole requests with clear 4xx: bad event (line number), bad label, size, gzip bomb, token, path', async () => {
    const { url, out } = await run({ max_body_bytes: '64KiB', token: 's3cret' });
    const auth = { authorization: 'Bearer s3cret' };
    const bad = await post(url, '{"line":"ok"}\n{"line":"ok"}\n{"msg":"no line"}\n', auth);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toBe('line 3: "line" (or "message") must be a string');
    const error = async (body: string) => String((JSON.parse((await post(url, body, auth)).text) as { error: string }).error);
    expect(await error('{"line":"x"}\nnot json\n')).toContain('line 2: not JSON');
    expect(await error('{"line":"x","ts":"yesterday"}')).toContain('line 1: "ts" must be');
    expect(await error('{"line":"x","labels":{"bad-name":"v"}}')).toContain('line 1: invalid label name "bad-name"');
    expect((await post(`${url}?bad-name=1`, '{"line":"x"}', auth)).status).toBe(400);
    const big = await post(url, `${JSON.stringify({ line: 'x'.repeat(70_000) })}\n`, auth);
    expect(big.status).toBe(413);
    expect(big.text).toContain('max_body_bytes');
    // 64 KiB limit, 10 MiB once decompressed: refused without inflating it all.
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect((await post(url, bomb, { ...auth, 'content-encoding': 'gzip' })).status).toBe(413);
    expect((await post(url, 'x', { ...auth, 'content-encoding': 'br' })).status).toBe(415);
    const unauth = await post(url, '{"line":"x"}', { authorization: 'Bearer wrong' });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(url, '{"line":"x"}')).status).toBe(401);
    expect((await post(url.replace('/push', '/other'), '{"line":"x"}', auth)).status).toBe(404);
    expect((await fetch(url, { headers: auth })).status).toBe(405);
    // All or nothing: nothing of the refused requests arrived.
    expect(readOut(out)).toEqual([]);
    expect((await post(url, '{"line":"fine"}', auth)).status).toBe(204);
    expect(readOut(out).map((e) => e.line)).toEqual(['fine']);
    const refused = await agent!.metrics.registry.getSingleMetric('loggy_http_source_requests_total')!.get();
    const by = Object.fromEntries(refused.values.map((v) => [v.labels.result, v.value]));
    expect(by).toMatchObject({ invalid: 5, too_large: 2, encoding: 1, unauthorized: 2, not_found: 1, method: 1, accepted: 1 });
  });

  it('with ack, answers 204 only once the sink confirmed delivery; without, 202 at once', async () => {
    receiver = await heldReceiver();
    const { url } = await run({}, { type: 'loggy', endpoint: receiver.url });
    let answered: number | null = null;
    const pending = post(url, '{"line":"held"}').then((r) => { answered = r.status; });
    await waitFor(() => receiver!.hits() >= 1, 5000, 'the sink sent the batch');
    await sleep(300);
    expect(answered).toBeNull();
    receiver.release();
    await pending;
    expect(answered).toBe(204);
    await agent!.stop();

    receiver.server.closeAllConnections();
    await new Promise<void>((r) => receiver!.server.close(() => r()));
    receiver = await heldReceiver();
    const r2 = await run({ ack: false }, { type: 'loggy', endpoint: receiver.url });
    const t0 = Date.now();
    expect((await post(r2.url, '{"line":"unheld"}')).status).toBe(202);
    expect(Date.now() - t0).toBeLessThan(1000);
    await waitFor(() => receiver!.hits() >= 1, 5000, 'sent anyway');
  });

  it('with a disk buffer, 204 once the events are on disk, though the receiver has not confirmed', async () => {
    receiver = await heldReceiver();
    const { url } = await run({}, { type: 'loggy', endpoint: receiver.url, disk_buffer: { max_bytes: '16MiB' } });
    expect((await post(url, '{"line":"on disk"}')).status).toBe(204);
    expect(receiver.hits()).toBeLessThanOrEqual(1);
    receiver.release();
    await waitFor(async () => (await agent!.metrics.total('loggy_sink_events_total')) === 1, 5000, 'delivered later');
  });

  it('answers 429 with Retry-After when the pipeline stays full', async () => {
    receiver = await heldReceiver();
    const { url } = await run({ ack: false, backpressure_wait: '200ms' }, { type: 'loggy', endpoint: receiver.url, buffer_max_bytes: 1 });
    expect((await post(url, '{"line":"fills the buffer"}')).status).toBe(202);
    const full = await post(url, '{"line":"no room"}');
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(full.text).error).toContain('full');
    receiver.release();
    await waitFor(async () => (await post(url, '{"line":"room again"}')).status === 202, 5000, 'accepted once the sink caught up');
  });

  it('on stop, a request still waiting for its acknowledgement gets 503 and the port closes', async () => {
    receiver = await heldReceiver();
    const { url } = await run({}, { type: 'loggy', endpoint: receiver.url });
    const pending = post(url, '{"line":"never confirmed"}');
    await waitFor(() => receiver!.hits() >= 1, 5000, 'sent');
    const stopping = agent!.stop();
    // Stopping: new requests are turned away while the sinks get their grace.
    const late = await post(url, '{"line":"too late"}');
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('1');
    const res = await pending;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text).error).toContain('shut down before the events were delivered');
    await stopping;
    agent = null;
    await expect(fetch(url, { method: 'POST', body: '{"line":"x"}' })).rejects.toThrow();
  });

  it('end to end into the Loggy store: distinct pushes are all kept, labels and fields queryable', async () => {
    store = await startTestServer({ limits: { reject_older_than: 0 } });
    const { url } = await run({ labels: { app: 'shop' } }, { type: 'loggy', endpoint: store.url });
    const ts = '2026-11-22T10:00:00.000000001Z';
    // Same line, same timestamp, three requests: three events (offsets keep rising per push).
    for (let i = 0; i < 3; i++) expect((await post(url, JSON.stringify({ line: 'same', ts, status: 500 }))).status).toBe(204);
    expect((await post(`${url}?pod=p2`, JSON.stringify({ line: 'other', ts, status: 200 }))).status).toBe(204);
    const q = async (query: string) => {
      const res = await fetch(`${store!.url}/loki/api/v1/query_range?query=${encodeURIComponent(query)}&start=1795300000000000000&end=1795400000000000000&limit=100&direction=forward`);
      const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
      return body.data.result.flatMap((s) => s.values.map((v) => ({ stream: s.stream, line: v[1] })));
    };
    expect((await q('{app="shop"}')).map((r) => r.line).sort()).toEqual(['other', 'same', 'same', 'same']);
    expect((await q('{app="shop"} | status >= 500')).length).toBe(3);
    expect((await q('{app="shop", pod="p2"}')).map((r) => r.line)).toEqual(['other']);
    // A restarted agent counts offsets from 1 again, under a new source id: not taken for a replay.
    await agent!.stop();
    const again = await run({ labels: { app: 'shop' } }, { type: 'loggy', endpoint: store.url });
    expect((await post(again.url, JSON.stringify({ line: 'same', ts }))).status).toBe(204);
    expect((await q('{app="shop"}')).filter((r) => r.line === 'same')).toHaveLength(4);
  });
});
