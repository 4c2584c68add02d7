import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server/run.js';
import { defaultUiDir } from '../../../src/server/routes/ui.js';
import { startTestServer } from '../../helpers/server.js';

let dir: string;
let server: RunningServer | null = null;
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="app"></div></body></html>';

beforeAll(() => {
  // A stand-in for Vite's output, so this test does not depend on a build.
  dir = mkdtempSync(join(tmpdir(), 'loggy-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("ui")');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await server?.stop();
  server = null;
});

describe('web UI route', () => {
  it('serves index.html at / with security headers and no-cache', async () => {
    server = await startTestServer({ ui: { dir } });
    const r = await fetch(`${server.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await r.text()).toBe(INDEX);
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toMatch(/ws:|wss:/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('caches hashed assets for a year and falls back to index.html for client routes only', async () => {
    server = await startTestServer({ ui: { dir } });
    const a = await fetch(`${server.url}/assets/index-abc123.js`);
    expect(a.status).toBe(200);
    expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(a.headers.get('content-type')).toMatch(/javascript/);
    expect(await a.text()).toBe('console.log("ui")');
    const client = await fetch(`${server.url}/some/client/route?query=x`);
    expect(client.status).toBe(200);
    expect(await client.text()).toBe(INDEX);
    // Missing assets and unknown API paths stay 404s, not HTML a script tag would choke on.
    expect((await fetch(`${server.url}/assets/gone-123.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/loki/api/v1/nope`)).status).toBe(404);
    // The API is unaffected.
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/loki/api/v1/labels`)).status).toBe(200);
  });

  it('answers 503 with what to do when the UI is not built', async () => {
    server = await startTestServer({ ui: { dir: join(dir, 'missing') } });
    const r = await fetch(`${server.url}/`);
    expect(r.status).toBe(503);
    expect(await r.text()).toMatch(/not built.*run `npm run build`/);
  });

  it('is absent with ui.enabled: false', async () => {
    server = await startTestServer({ ui: { enabled: false, dir } });
    // `/` is then the Elasticsearch-compatible API's info (routes/elasticsearch.ts), not a page.
    const root = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    expect(root.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await fetch(`${server.url}/assets/index-abc123.js`)).status).toBe(404);
  });

  it('finds the build next to the server: dist/ui', () => {
    expect(defaultUiDir()).toMatch(/[\\/]dist[\\/]ui[\\/]$/);
  });
});
