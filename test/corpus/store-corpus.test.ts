import { gzipSync } from 'node:zlib';
import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/run.js';
import { getJson, nsNow, postBody, startTestServer } from '../helpers/server.js';

/**
 * Hostile requests to the store's ingest and query APIs: each gets a clear 4xx (or is stored
 * faithfully), none crashes the server or leaves a half-written request, and the server
 * still answers afterwards.
 */
let server: RunningServer;
beforeAll(async () => { server = await startTestServer({ limits: { max_body_bytes: 1024 * 1024 } }); });
afterAll(async () => { await server.stop(); });

const json = { 'content-type': 'application/json' };
const push = (body: string | Buffer, headers: Record<string, string> = json, path = '/loki/api/v1/push') => postBody(`${server.url}${path}`, body, headers);
const loki = (values: unknown[], stream: Record<string, string> = { app: 'corpus' }) => JSON.stringify({ streams: [{ stream, values }] });

async function stored(app: string): Promise<string[]> {
  const r = await getJson<{ data: { result: Array<{ values: Array<[string, string]> }> } }>(
    `${server.url}/loki/api/v1/query_range?query=${encodeURIComponent(`{app="${app}"}`)}&start=${nsNow() - 3_600_000_000_000n}&limit=100&direction=forward`);
  return r.body.data.result.flatMap((s) => s.values.map((v) => v[1]));
}

describe('hostile requests to the store', () => {
  it('stores NUL bytes, control characters and astral characters faithfully', async () => {
    const line = 'nul\u0000 bell\u0007 emoji 🪵 rtl \u202e end';
    expect((await push(loki([[nsNow().toString(), line]], { app: 'faithful' }))).status).toBe(204);
    expect(await stored('faithful')).toEqual([line]);
  });

  it('takes invalid UTF-8 in a JSON body as replacement characters, not as an error', async () => {
    const body = Buffer.concat([Buffer.from(`{"streams":[{"stream":{"app":"badutf8"},"values":[["${nsNow()}","x `), Buffer.from([0xff, 0xc3]), Buffer.from(' y"]]}]}')]);
    expect((await push(body)).status).toBe(204);
    expect(await stored('badutf8')).toEqual(['x \uFFFD\uFFFD y']);
  });

  const refused: Array<[string, () => Promise<{ status: number; text: string }>, number, RegExp]> = [
    ['deeply nested JSON', () => push('['.repeat(200_000) + ']'.repeat(200_000)), 400, /malformed JSON|expected/],
    ['a gzip bomb', () => push(gzipSync(Buffer.alloc(64 * 1024 * 1024, ' ')), { ...json, 'content-encoding': 'gzip' }), 413, /over 1048576 bytes once decompressed/],
    ['garbage protobuf', async () => push(await snappy.compress(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])), { 'content-type': 'application/x-protobuf' }), 400, /streams\[0\]: length \d+ at byte/],
    ['garbage snappy', () => push(Buffer.from('definitely not snappy'), { 'content-type': 'application/x-protobuf' }), 400, /snappy|invalid|malformed/i],
    ['a timestamp beyond int64', () => push(loki([['99999999999999999999', 'x']])), 400, /timestamp/],
    ['a negative timestamp', () => push(loki([['-5', 'x']])), 400, /timestamp/],
    ['a line that is not a string', () => push(loki([[nsNow().toString(), { nested: true }]])), 400, /line|string/],
    ['a label value that is not a string', () => push(JSON.stringify({ streams: [{ stream: { app: 5 }, values: [] }] })), 400, /string/],
    ['a wrong content type', () => push('hello', { 'content-type': 'text/plain' }), 415, /content-type|Content-Type/i],
    ['a LogQL query that does not parse', () => getJson(`${server.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="x"} |= ')}`).then((r) => ({ status: r.status, text: r.text })), 400, /parse error|expected/i],
    ['a query with a regex that does not compile', () => getJson(`${server.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app=~"("}')}`).then((r) => ({ status: r.status, text: r.text })), 400, /regex|invalid/i],
    ['an absurd limit', () => getJson(`${server.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="x"}')}&limit=-4`).then((r) => ({ status: r.status, text: r.text })), 400, /limit/],
  ];
  for (const [name, send, status, msg] of refused) {
    it(`refuses ${name} with ${status} and a reason, and keeps serving`, async () => {
      const before = (await server.engine.stats()).rows;
      const r = await send();
      expect(r.status, r.text).toBe(status);
      expect(r.text).toMatch(msg);
      expect((await server.engine.stats()).rows).toBe(before);
      expect((await fetch(`${server.url}/ready`)).ok).toBe(true);
    });
  }
});
