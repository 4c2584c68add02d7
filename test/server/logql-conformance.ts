import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/run.js';
import type { StoreEngine } from '../../src/store/engine.js';
import { postBody, startTestServer } from '../helpers/server.js';

/**
 * LogQL conformance through the HTTP API, on a fixed data set with expected results worked out
 * by hand. Engine-agnostic: every engine must give the same answers.
 *
 * Data (base = 2026-11-22T00:00:00Z):
 *   {app="web", namespace="shop", env="prod"}  600 lines, one per second, i = 0..599:
 *       `level=<error if i%10==0 else info> status=<500|200> i=<i>`
 *   {app="api", namespace="shop", env="dev"}   300 lines, one every 2 s, i = 0..299:
 *       `level=info status=200 i=<i> path=/api/v1/items`
 *   {app="db", namespace="data"}               60 JSON lines, one every 10 s, i = 0..59:
 *       `{"level":"warn","i":<i>,"msg":"slow query","table":"orders"}`
 */
export const BASE_S = 1795305600n;
const ns = (s: bigint | number) => (BASE_S + BigInt(s)) * 1_000_000_000n;
export const webLine = (i: number) => `level=${i % 10 === 0 ? 'error' : 'info'} status=${i % 10 === 0 ? 500 : 200} i=${i}`;
export const apiLine = (i: number) => `level=info status=200 i=${i} path=/api/v1/items`;
export const dbLine = (i: number) => JSON.stringify({ level: 'warn', i, msg: 'slow query', table: 'orders' });

type Streams = { status: string; data: { resultType: 'streams'; result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
type Matrix = { status: string; data: { resultType: 'matrix'; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
type Vector = { status: string; data: { resultType: 'vector'; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };

export function describeLogQLConformance(name: string, openEngine: () => Promise<StoreEngine>): void {
  describe(`LogQL conformance (${name})`, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startTestServer({ limits: { reject_older_than: 0, max_query_lines: 5000 }, ingest: { detect_level: false } }, await openEngine());
      const values = (n: number, every: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => [ns(i * every).toString(), line(i)]);
      const r = await postBody(`${server.url}/loki/api/v1/push`, JSON.stringify({ streams: [
        { stream: { app: 'web', namespace: 'shop', env: 'prod' }, values: values(600, 1, webLine) },
        { stream: { app: 'api', namespace: 'shop', env: 'dev' }, values: values(300, 2, apiLine) },
        { stream: { app: 'db', namespace: 'data' }, values: values(60, 10, dbLine) },
      ] }), { 'content-type': 'application/json' });
      expect(r.status, r.text).toBe(204);
    });
    afterAll(() => server.stop());

    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${server.url}${path}`);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      return JSON.parse(text) as T;
    };
    const logs = (q: string, extra = '') => get<Streams>(`/loki/api/v1/query_range?query=${encodeURIComponent(q)}&start=${ns(0)}&end=${ns(600)}${extra}`);
    const lines = (r: Streams) => r.data.result.flatMap((s) => s.values.map((v) => v[1]));
    const matrix = (q: string, from: number, to: number, step: string) => get<Matrix>(`/loki/api/v1/query_range?query=${encodeURIComponent(q)}&start=${ns(from)}&end=${ns(to)}&step=${step}`);
    const instant = (q: string, at: number) => get<Vector>(`/loki/api/v1/query?query=${encodeURIComponent(q)}&time=${ns(at)}`);

    it('selects streams with =, !=, =~ and !~ (regexes anchored)', async () => {
      const s = async (q: string) => [...new Set((await logs(q, '&limit=5000')).data.result.map((r) => r.stream.app))].sort();
      expect(await s('{app="web"}')).toEqual(['web']);
      expect(await s('{namespace="shop", app!="web"}')).toEqual(['api']);
      expect(await s('{app=~"web|db"}')).toEqual(['db', 'web']);
      expect(await s('{app=~"we"}')).toEqual([]);
      expect(await s('{namespace=~".+", app!~"web|api"}')).toEqual(['db']);
      expect(await s('{app=~".+", env=""}')).toEqual(['db']);
    });

    it('returns the newest lines first by default, oldest first with direction=forward, within limit', async () => {
      expect(lines(await logs('{app="web"}', '&limit=3'))).toEqual([webLine(599), webLine(598), webLine(597)]);
      expect(lines(await logs('{app="web"}', '&limit=2&direction=forward'))).toEqual([webLine(0), webLine(1)]);
      const r = await logs('{app="web"}', '&limit=1');
      expect(r.data.result[0].values[0][0]).toBe(ns(599).toString());
    });

    it('treats start as inclusive and end as exclusive', async () => {
      const r = await get<Streams>(`/loki/api/v1/query_range?query=${encodeURIComponent('{app="db"}')}&start=${ns(100)}&end=${ns(130)}&direction=forward`);
      expect(lines(r)).toEqual([dbLine(10), dbLine(11), dbLine(12)]);
    });

    it('chains line filters: |=, !=, |~, !~', async () => {
      expect(lines(await logs('{app="web"} |= "status=500" != "i=0 " |~ "i=5[0-9]0$"', '&limit=100&direction=forward'))).toEqual([webLine(500), webLine(510), webLine(520), webLine(530), webLine(540), webLine(550), webLine(560), webLine(570), webLine(580), webLine(590)]);
      expect(lines(await logs('{app="api"} !~ "i=[0-9]*[0-8] "', '&limit=100&direction=forward')).length).toBe(30);
      expect(lines(await logs('{namespace="shop"} |= "level=error"', '&limit=1000')).length).toBe(60);
    });

    it('parses logfmt and json, filters on numbers, and adds the parsed labels to the stream', async () => {
      const r = await logs('{app="web"} | logfmt | status >= 500 and i > 550', '&limit=100&direction=forward');
      expect(lines(r)).toEqual([webLine(560), webLine(570), webLine(580), webLine(590)]);
      expect(r.data.result[0].stream).toMatchObject({ app: 'web', level: 'error', status: '500' });
      const j = await logs('{app="db"} | json | i < 3 | table="orders"', '&limit=100&direction=forward');
      expect(lines(j)).toEqual([dbLine(0), dbLine(1), dbLine(2)]);
      expect(j.data.result[0].stream).toMatchObject({ app: 'db', level: 'warn', msg: 'slow query', table: 'orders' });
    });

    it('formats lines and labels, keeps and drops labels', async () => {
      // Each line carries its own `i` label, so each is its own stream: compare as a set.
      expect(lines(await logs('{app="db"} | json | line_format "{{.msg}} #{{.i}}"', '&limit=2')).sort()).toEqual(['slow query #58', 'slow query #59']);
      const k = await logs('{app="db"} | json | keep app, level', '&limit=1');
      expect(k.data.result[0].stream).toEqual({ app: 'db', level: 'warn' });
      const d = await logs('{app="db"} | json | drop i, msg, table, namespace', '&limit=1');
      expect(d.data.result[0].stream).toEqual({ app: 'db', level: 'warn' });
      const lf = await logs('{app="web"} | logfmt | label_format code="{{.status}}-{{.level}}" | code="500-error"', '&limit=1');
      expect(lf.data.result[0].stream.code).toBe('500-error');
    });

    it('counts over time per step: (t - range, t]', async () => {
      const m = await matrix('count_over_time({app="web"}[1m])', 60, 600, '60s');
      expect(m.data.resultType).toBe('matrix');
      expect(m.data.result).toHaveLength(1);
      // Window (t-60s, t] holds 60 lines, except the last one: i = 541..599 (59 lines).
      expect(m.data.result[0].values.map((v) => v[1])).toEqual(['60', '60', '60', '60', '60', '60', '60', '60', '60', '59']);
      expect(m.data.result[0].values[0][0]).toBe(Number(BASE_S) + 60);
    });

    it('sums by label, rates and topk', async () => {
      const v = await instant('sum by (app) (count_over_time({namespace="shop"} |= "status=500" [5m]))', 300);
      expect(v.data.result).toEqual([{ metric: { app: 'web' }, value: [Number(BASE_S) + 300, '30'] }]);
      const rate = await instant('rate({app="api"}[1m])', 120);
      expect(rate.data.result[0].value[1]).toBe('0.5');
      const top = await instant('topk(1, sum by (app) (count_over_time({namespace="shop"}[10m])))', 600);
      expect(top.data.result).toEqual([{ metric: { app: 'web' }, value: [Number(BASE_S) + 600, '599'] }]);
      const sum = await instant('sum(count_over_time({namespace=~".+"}[10m]))', 600);
      expect(sum.data.result[0].value[1]).toBe(String(599 + 299 + 59));
    });

    it('measures bytes and aggregates parsed values', async () => {
      const bytes = await instant('bytes_over_time({app="db"}[10m])', 600);
      let expected = 0;
      for (let i = 1; i < 60; i++) expected += Buffer.byteLength(dbLine(i));
      expect(bytes.data.result[0].value[1]).toBe(String(expected));
      const avg = await instant('avg_over_time({app="db"} | json | unwrap i [10m])', 600);
      expect(avg.data.result[0].value[1]).toBe('30');
      const max = await instant('max by (app) (count_over_time({namespace="shop"}[1m]))', 120);
      expect(max.data.result).toEqual([
        { metric: { app: 'api' }, value: [Number(BASE_S) + 120, '30'] },
        { metric: { app: 'web' }, value: [Number(BASE_S) + 120, '60'] },
      ]);
    });
  });
}
