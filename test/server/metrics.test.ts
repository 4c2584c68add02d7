import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../src/server/run.js';
import { waitFor } from '../helpers/proc.js';
import { getJson, nsNow, postBody, startTestServer } from '../helpers/server.js';

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

/** One sample's value from the Prometheus text, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('store metrics (GET /metrics)', () => {
  it('counts ingest outcomes, requests by route and status, and tail clients, without a token', async () => {
    server = await startTestServer({ auth: { enabled: true, tokens: [{ token: 'writer-token-0123456789', tenants: ['acme'], write: true, read: true }] }, limits: { reject_older_than: '1h' } });
    const h = { 'content-type': 'application/json', authorization: 'Bearer writer-token-0123456789' };
    const now = nsNow();
    const body = (entries: Array<[string, string, number]>) => JSON.stringify({ streams: [{ labels: { app: 'web' }, source: '1:2:3|stdout', entries }] });
    expect((await postBody(`${server.url}/api/v1/push`, body([[String(now), 'a', 10], [String(now + 1n), 'b', 20]]), h)).status).toBe(200);
    // The same entries again (an agent's replay) and one too old, refused on its own.
    const again = await postBody(`${server.url}/api/v1/push`, body([[String(now), 'a', 10], [String(now + 1n), 'b', 20], [String(now - 7_200_000_000_000n), 'old', 30]]), h);
    expect(again.status, again.text).toBe(200);
    expect((await getJson(`${server.url}/loki/api/v1/labels`)).status).toBe(401);
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="web"}')}&token=writer-token-0123456789`);
    await new Promise((r) => ws.once('open', r));

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'loggy_server_ingest_entries_total', 'result="accepted"')).toBe(2);
    expect(sample(text, 'loggy_server_ingest_entries_total', 'result="duplicate"')).toBe(2);
    expect(sample(text, 'loggy_server_ingest_entries_total', 'result="rejected"')).toBe(1);
    expect(sample(text, 'loggy_server_ingest_refused_requests_total')).toBe(0);
    expect(sample(text, 'loggy_server_ingest_commits_total')).toBe(2);
    expect(sample(text, 'loggy_server_ingest_queue_requests')).toBe(0);
    expect(sample(text, 'loggy_server_http_requests_total', 'route="/api/v1/push",method="POST",status="200"')).toBe(2);
    expect(sample(text, 'loggy_server_http_requests_total', 'route="/loki/api/v1/labels",method="GET",status="401"')).toBe(1);
    expect(sample(text, 'loggy_server_http_request_duration_seconds_count', 'route="/api/v1/push"')).toBe(2);
    expect(sample(text, 'loggy_server_tail_clients')).toBe(1);
    // No tenant names and no log content.
    expect(text).not.toMatch(/acme|web|writer-token/);
    ws.close();
    await waitFor(async () => sample(await (await fetch(`${server!.url}/metrics`)).text(), 'loggy_server_tail_clients') === 0, 5000, 'the tail client to be counted out');
  });

  it('is off with metrics.enabled: false', async () => {
    server = await startTestServer({ metrics: { enabled: false } });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });
});
