import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../src/server/run.js';
import { MemoryEngine } from '../../src/store/memory/index.js';
import { waitFor } from '../helpers/proc.js';
import { nsNow, postBody, startTestServer } from '../helpers/server.js';

/**
 * Replicas of the store sharing one engine (as on ClickHouse): a line pushed through one
 * replica is tailed by clients of the other, read from the engine (tail.mode: poll). Two
 * servers in one process over one engine object stand for two processes over one ClickHouse
 * (that case runs in the ClickHouse engine's own tests).
 */
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

interface Frame { streams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }>; dropped_entries: unknown }

function tail(server: RunningServer, query: string, startNs: bigint): { frames: Frame[]; lines: () => string[]; ws: WebSocket; open: Promise<unknown> } {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent(query)}&start=${startNs}&limit=100`);
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Frame));
  return { frames, ws, open: new Promise((r) => ws.once('open', r)), lines: () => frames.flatMap((f) => f.streams.flatMap((s) => s.values.map((v) => v[1]))) };
}

const push = (server: RunningServer, app: string, values: Array<[bigint, string]>) =>
  postBody(`${server.url}/loki/api/v1/push`, JSON.stringify({ streams: [{ stream: { app }, values: values.map(([t, l]) => [t.toString(), l]) }] }), { 'content-type': 'application/json' });

describe('live tail across replicas (tail.mode: poll)', () => {
  it('tails on one replica what is pushed through another, once each, with late lines inside the look-back', async () => {
    const engine = new MemoryEngine();
    const cfg = { tail: { mode: 'poll', poll_interval: 100, lookback: 5000 }, limits: { reject_older_than: 0 } };
    const a = await startTestServer(cfg, engine);
    const b = await startTestServer(cfg, engine);
    servers.push(a, b);
    const t0 = nsNow();
    await push(a, 'web', [[t0 - 2_000_000_000n, 'before']]);
    const t = tail(b, '{app="web"} != "skip"', t0 - 60_000_000_000n);
    await t.open;
    await waitFor(() => t.lines().length === 1, 5000, 'history');
    await push(a, 'web', [[t0 + 1n, 'one'], [t0 + 2n, 'skip me'], [t0 + 3n, 'two']]);
    await push(b, 'api', [[t0 + 4n, 'other app']]);
    await waitFor(() => t.lines().length === 3, 5000, 'lines pushed through the other replica');
    // An agent's line arriving late, its timestamp older than lines already tailed.
    await push(a, 'web', [[t0 - 1_000_000_000n, 'late but within the look-back']]);
    // Same timestamp as a line already sent, different text: a line of its own.
    await push(a, 'web', [[t0 + 3n, 'two, again']]);
    await waitFor(() => t.lines().length === 5, 5000, 'the late lines');
    await new Promise((r) => setTimeout(r, 400));
    expect(t.lines()).toEqual(['before', 'one', 'two', 'late but within the look-back', 'two, again']);
    expect(t.frames.every((f) => f.dropped_entries === null)).toBe(true);
    t.ws.close();
  });

  it('keeps the in-process hub for a store of its own (auto = push on memory and duckdb)', async () => {
    const engine = new MemoryEngine();
    const a = await startTestServer({ limits: { reject_older_than: 0 } }, engine);
    const b = await startTestServer({ limits: { reject_older_than: 0 } }, engine);
    servers.push(a, b);
    const t0 = nsNow();
    const t = tail(b, '{app="web"}', t0);
    await t.open;
    await new Promise((r) => setTimeout(r, 200));
    await push(a, 'web', [[t0 + 1n, 'through a']]);
    await push(b, 'web', [[t0 + 2n, 'through b']]);
    await waitFor(() => t.lines().length === 1, 5000, 'the line pushed through b');
    await new Promise((r) => setTimeout(r, 300));
    expect(t.lines()).toEqual(['through b']);
    t.ws.close();
  });
});
