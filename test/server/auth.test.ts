import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../src/server/run.js';
import { getJson, nsNow, postBody, startTestServer } from '../helpers/server.js';

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

const TOKENS = {
  auth: {
    enabled: true,
    tokens: [
      { token: 'writer-aaaaaaaaaaaaaaaa', tenants: ['team-a'], read: false, write: true },
      { token: 'reader-aaaaaaaaaaaaaaaa', tenants: ['team-a'], read: true },
      { token: 'writer-bbbbbbbbbbbbbbbb', tenants: ['team-b'], read: true, write: true },
      { token: 'admin-cccccccccccccccc', tenants: ['team-a', 'team-b'], read: true, write: true },
    ],
  },
};
const bearer = (t: string, org?: string) => ({ authorization: `Bearer ${t}`, ...(org ? { 'x-scope-orgid': org } : {}) });
const push = (url: string, headers: Record<string, string>, labels: Record<string, string>, line: string) =>
  postBody(`${url}/loki/api/v1/push`, JSON.stringify({ streams: [{ stream: labels, values: [[nsNow().toString(), line]] }] }), { 'content-type': 'application/json', ...headers });
const since = () => (nsNow() - 3_600_000_000_000n).toString();

describe('authentication and tenants', () => {
  it('requires a valid token with the right to do what is asked', async () => {
    server = await startTestServer(TOKENS);
    const u = server.url;
    expect((await push(u, {}, { app: 'x' }, 'l')).status).toBe(401);
    expect((await push(u, bearer('nope-nope-nope-nope-nope'), { app: 'x' }, 'l')).status).toBe(401);
    expect((await push(u, bearer('reader-aaaaaaaaaaaaaaaa'), { app: 'x' }, 'l')).status).toBe(403);
    expect((await push(u, bearer('writer-aaaaaaaaaaaaaaaa'), { app: 'x' }, 'l')).status).toBe(204);
    expect((await getJson(`${u}/loki/api/v1/labels`, bearer('writer-aaaaaaaaaaaaaaaa'))).status).toBe(403);
    const multi = await push(u, bearer('admin-cccccccccccccccc'), { app: 'x' }, 'l');
    expect(multi.status).toBe(400);
    expect(multi.text).toMatch(/X-Scope-OrgID is required: this token allows tenants team-a, team-b/);
    expect((await push(u, bearer('writer-aaaaaaaaaaaaaaaa', 'team-b'), { app: 'x' }, 'l')).status).toBe(403);
  });

  it('keeps tenants apart: data, labels and series', async () => {
    server = await startTestServer(TOKENS);
    const u = server.url;
    expect((await push(u, bearer('writer-aaaaaaaaaaaaaaaa'), { app: 'alpha', secret_a: '1' }, 'a line')).status).toBe(204);
    expect((await push(u, bearer('writer-bbbbbbbbbbbbbbbb'), { app: 'beta', secret_b: '1' }, 'b line')).status).toBe(204);
    const q = (token: string, org?: string) => getJson<{ data: { result: Array<{ values: Array<[string, string]> }> } }>(
      `${u}/loki/api/v1/query_range?query=${encodeURIComponent('{app=~".+"}')}&start=${since()}`, bearer(token, org));
    const linesOf = async (token: string, org?: string) => (await q(token, org)).body.data.result.flatMap((s) => s.values.map((v) => v[1]));
    expect(await linesOf('reader-aaaaaaaaaaaaaaaa')).toEqual(['a line']);
    expect(await linesOf('writer-bbbbbbbbbbbbbbbb')).toEqual(['b line']);
    expect(await linesOf('admin-cccccccccccccccc', 'team-b')).toEqual(['b line']);
    const labelsA = await getJson<{ data: string[] }>(`${u}/loki/api/v1/labels?start=${since()}`, bearer('reader-aaaaaaaaaaaaaaaa'));
    expect(labelsA.body.data).toContain('secret_a');
    expect(labelsA.body.data).not.toContain('secret_b');
    const seriesB = await getJson<{ data: Array<Record<string, string>> }>(`${u}/loki/api/v1/series?match[]=${encodeURIComponent('{app=~".+"}')}&start=${since()}`, bearer('writer-bbbbbbbbbbbbbbbb'));
    expect(seriesB.body.data).toEqual([{ app: 'beta', secret_b: '1' }]);
  });

  it('puts everything in tenant "default" when auth is off', async () => {
    server = await startTestServer();
    expect((await push(server.url, { 'x-scope-orgid': 'whatever' }, { app: 'x' }, 'l')).status).toBe(204);
    expect((await server.engine.stats('default')).rows).toBe(1);
  });

  it('takes a token as ?token= on the tail WebSocket only (browsers cannot set its headers)', async () => {
    server = await startTestServer(TOKENS);
    const u = server.url;
    expect((await push(u, bearer('writer-aaaaaaaaaaaaaaaa'), { app: 'alpha' }, 'tailed line')).status).toBe(204);
    const tail = (query: string) => new Promise<{ frames: string[]; code: number | null }>((resolve) => {
      const ws = new WebSocket(`${u.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="alpha"}')}&start=${since()}${query}`);
      const frames: string[] = [];
      ws.on('message', (d) => {
        frames.push(d.toString());
        ws.close();
      });
      ws.on('close', (code) => resolve({ frames, code }));
    });
    const ok = await tail('&token=reader-aaaaaaaaaaaaaaaa');
    expect(ok.frames.join('')).toContain('tailed line');
    const none = await tail('');
    expect(none.frames).toEqual([]);
    expect(none.code).toBe(4400);
    const wrong = await tail('&token=nope-nope-nope-nope-nope');
    expect(wrong.frames).toEqual([]);
    expect(wrong.code).toBe(4400);
    // Everywhere else the query parameter means nothing.
    expect((await getJson(`${u}/loki/api/v1/labels?token=reader-aaaaaaaaaaaaaaaa`)).status).toBe(401);
  });

  it('refuses a tail WebSocket a browser opens from another origin (cross-site WebSocket hijacking), auth off too', async () => {
    server = await startTestServer();
    const u = server.url;
    expect((await push(u, {}, { app: 'alpha' }, 'secret line')).status).toBe(204);
    const open = (origin?: string) => new Promise<{ frames: string[]; status?: number }>((resolve) => {
      const ws = new WebSocket(`${u.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="alpha"}')}&start=${since()}`, origin ? { origin } : {});
      const frames: string[] = [];
      ws.on('message', (d) => {
        frames.push(d.toString());
        ws.close();
      });
      ws.on('unexpected-response', (_req, res) => resolve({ frames, status: res.statusCode }));
      ws.on('error', () => undefined);
      ws.on('close', () => resolve({ frames }));
    });
    const evil = await open('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.frames).toEqual([]);
    expect((await open(u)).frames.join('')).toContain('secret line');
    expect((await open()).frames.join('')).toContain('secret line');
  });
});
