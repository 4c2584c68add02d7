import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../src/server/run.js';
import { getJson, postBody, startTestServer } from '../helpers/server.js';

let server: RunningServer;
// Five minutes of lines, one every 10 s, in two apps; base aligned to a minute.
const base = (BigInt(Date.now()) / 60_000n - 10n) * 60_000_000_000n;
const ts = (sec: number) => (base + BigInt(sec) * 1_000_000_000n).toString();

beforeAll(async () => {
  server = await startTestServer();
  const values = (app: string) => Array.from({ length: 30 }, (_, i) => [ts(i * 10), JSON.stringify({ level: i % 3 === 0 ? 'error' : 'info', app, i, latency_ms: i * 10 })]);
  const r = await postBody(`${server.url}/loki/api/v1/push`, JSON.stringify({
    streams: [
      { stream: { app: 'web', namespace: 'shop' }, values: values('web') },
      { stream: { app: 'api', namespace: 'shop' }, values: values('api') },
      { stream: { app: 'db', namespace: 'data' }, values: [[ts(5), 'plain line with trace_id=abc123', { trace_id: 'abc123' }]] },
    ],
  }), { 'content-type': 'application/json' });
  expect(r.status, r.text).toBe(204);
});
afterAll(() => server.stop());

type Streams = { status: string; data: { resultType: string; result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
type Matrix = { status: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
const range = `start=${ts(0)}&end=${ts(300)}`;
const get = <T>(path: string) => getJson<T>(`${server.url}${path}`);
const enc = encodeURIComponent;

describe('query API (Loki shapes)', () => {
  it('query_range returns streams, newest first by default, with limit', async () => {
    const r = await get<Streams>(`/loki/api/v1/query_range?query=${enc('{app="web"}')}&${range}&limit=3`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.status).toBe('success');
    expect(r.body.data.resultType).toBe('streams');
    // As in Loki, structured metadata (here the detected_level added at ingest) is part of the
    // returned stream labels: i = 29, 28 are info, i = 27 is error.
    const byLevel = Object.fromEntries(r.body.data.result.map((s) => [s.stream.detected_level, s]));
    expect(Object.keys(byLevel).sort()).toEqual(['error', 'info']);
    expect(byLevel.info!.stream).toEqual({ app: 'web', namespace: 'shop', detected_level: 'info' });
    expect(byLevel.info!.values.map((v) => v[0])).toEqual([ts(290), ts(280)]);
    expect(byLevel.error!.values.map((v) => v[0])).toEqual([ts(270)]);
  });

  it('counts by detected_level in the engine, matching the line-by-line evaluation', async () => {
    const q = (query: string) => get<Matrix>(`/loki/api/v1/query_range?query=${enc(query)}&${range}&step=60s`);
    const pushed = await q('sum by (detected_level) (count_over_time({namespace="shop"}[5m]))');
    // `| drop __error__` is a pipeline stage, so this one is evaluated line by line in JS.
    const scanned = await q('sum by (detected_level) (count_over_time({namespace="shop"} | drop __error__ [5m]))');
    expect(pushed.status, pushed.text).toBe(200);
    expect(pushed.body.data.result).toEqual(scanned.body.data.result);
    expect(pushed.body.data.result.map((s) => s.metric.detected_level)).toEqual(['error', 'info']);
    const at = await getJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
      `${server.url}/loki/api/v1/query?query=${enc('sum by (detected_level) (count_over_time({namespace="shop"}[5m]))')}&time=${ts(299)}`);
    // All 60 lines of the two apps; i % 3 == 0 are errors.
    expect(Object.fromEntries(at.body.data.result.map((s) => [s.metric.detected_level, s.value[1]]))).toEqual({ error: '20', info: '40' });
  });

  it('applies line filters and a json pipeline with label filters', async () => {
    const r = await get<Streams>(`/loki/api/v1/query_range?query=${enc('{namespace="shop"} |= "error" | json | i >= 27')}&${range}&direction=forward&limit=100`);
    expect(r.status, r.text).toBe(200);
    const lines = r.body.data.result.flatMap((s) => s.values.map((v) => JSON.parse(v[1]) as { app: string; i: number }));
    expect(lines.map((l) => `${l.app}:${l.i}`).sort()).toEqual(['api:27', 'web:27']);
    expect(r.body.data.result[0].stream.level).toBe('error');
  });

  it('evaluates metric queries into a matrix', async () => {
    const r = await get<Matrix>(`/loki/api/v1/query_range?query=${enc('sum by (app) (count_over_time({namespace="shop"}[1m]))')}&${range}&step=60s`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.data.resultType).toBe('matrix');
    const web = r.body.data.result.find((s) => s.metric.app === 'web')!;
    // Each full minute (t-60s, t] holds 6 lines.
    expect(web.values.find(([t]) => t === Number(ts(180)) / 1e9)?.[1]).toBe('6');
  });

  it('answers an instant metric query with a vector', async () => {
    const r = await getJson<{ data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
      `${server.url}/loki/api/v1/query?query=${enc('count_over_time({app="api"}[5m])')}&time=${ts(299)}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.data.resultType).toBe('vector');
    // One series per detected level (structured metadata splits series, as in Loki).
    const total = r.body.data.result.reduce((a, s) => a + Number(s.value[1]), 0);
    expect(total).toBe(30);
    expect(r.body.data.result.map((s) => s.metric.detected_level).sort()).toEqual(['error', 'info']);
  });

  it('points at the column of a syntax error', async () => {
    const r = await getJson(`${server.url}/loki/api/v1/query_range?query=${enc('{app="web"} |= ')}&${range}`);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/parse error at line 1, col \d+/);
  });

  it('lists labels, label values and series', async () => {
    expect((await get<{ data: string[] }>(`/loki/api/v1/labels?${range}`)).body.data.sort()).toEqual(['app', 'namespace']);
    expect((await get<{ data: string[] }>(`/loki/api/v1/label/app/values?${range}`)).body.data.sort()).toEqual(['api', 'db', 'web']);
    expect((await get<{ data: string[] }>(`/loki/api/v1/label/app/values?${range}&query=${enc('{namespace="shop"}')}`)).body.data.sort()).toEqual(['api', 'web']);
    const s = await get<{ data: Array<Record<string, string>> }>(`/loki/api/v1/series?match[]=${enc('{namespace="data"}')}&${range}`);
    expect(s.body.data).toEqual([{ app: 'db', namespace: 'data' }]);
  });

  it('reports index stats and volume', async () => {
    const st = await get<{ streams: number; entries: number; bytes: number }>(`/loki/api/v1/index/stats?query=${enc('{namespace="shop"}')}&${range}`);
    expect(st.body.streams).toBe(2);
    expect(st.body.entries).toBe(60);
    expect(st.body.bytes).toBeGreaterThan(60 * 20);
    const vol = await get<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(`/loki/api/v1/index/volume?query=${enc('{namespace=~".+"}')}&${range}`);
    expect(vol.body.data.result.map((r) => r.metric.namespace).sort()).toEqual(['data', 'shop']);
  });

  it('serves buildinfo and readiness', async () => {
    expect((await get<{ version: string }>('/loki/api/v1/status/buildinfo')).body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await getJson(`${server.url}/ready`)).status).toBe(200);
  });

  it('tails with structured metadata: live lines carry detected_level and can be filtered on it', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/loki/api/v1/tail?query=${enc('{app="api"} | detected_level="error"')}&start=${ts(285)}&limit=10`);
    const frames: Array<{ streams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> }> = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 200));
    await postBody(`${server.url}/loki/api/v1/push`, JSON.stringify({ streams: [
      { stream: { app: 'api', namespace: 'shop' }, values: [[ts(303), '{"level":"info","i":300}'], [ts(304), '{"level":"error","i":301}']] },
    ] }), { 'content-type': 'application/json' });
    await new Promise((r) => setTimeout(r, 200));
    ws.close();
    const got = frames.flatMap((f) => f.streams.flatMap((s) => s.values.map((v) => ({ i: JSON.parse(v[1]).i as number, level: s.stream.detected_level }))));
    // History (i = 29 is not an error; nothing after 285 s was) and then the live error only.
    expect(got).toEqual([{ i: 301, level: 'error' }]);
  });

  it('tails over WebSocket: history first, then new lines as they are pushed', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/loki/api/v1/tail?query=${enc('{app="web"} |= "info"')}&start=${ts(280)}&limit=10`);
    const frames: Array<{ streams: Array<{ values: Array<[string, string]> }>; dropped_entries: unknown }> = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 200));
    const history = frames.flatMap((f) => f.streams.flatMap((s) => s.values.map((v) => JSON.parse(v[1]).i as number)));
    expect(history).toEqual([28, 29]);
    await postBody(`${server.url}/loki/api/v1/push`, JSON.stringify({ streams: [
      { stream: { app: 'web', namespace: 'shop' }, values: [[ts(301), '{"level":"info","i":100}'], [ts(302), '{"level":"error","i":101}']] },
      { stream: { app: 'api', namespace: 'shop' }, values: [[ts(301), '{"level":"info","i":200}']] },
    ] }), { 'content-type': 'application/json' });
    await new Promise((r) => setTimeout(r, 200));
    const all = frames.flatMap((f) => f.streams.flatMap((s) => s.values.map((v) => JSON.parse(v[1]).i as number)));
    expect(all).toEqual([28, 29, 100]);
    expect(frames.every((f) => f.dropped_entries === null)).toBe(true);
    ws.close();
  });
});
