import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach } from 'vitest';

/** One request a receiver got: the body as sent (`raw`) and gunzipped when it was gzip. */
export interface ReceivedRequest { method: string; url: string; headers: IncomingHttpHeaders; raw: Buffer; body: Buffer; text: string }

/** What to answer the n-th request (from 1): status, body, headers. */
export type Answer = (req: ReceivedRequest, n: number) => [number, (Buffer | string)?, Record<string, string>?];

/**
 * A backend stand-in on 127.0.0.1 for sink tests, keeping every request; the servers a test
 * starts are closed after it (in the describe block or file this is called in).
 */
export function receivers(): (answer?: Answer, path?: string) => Promise<{ url: string; reqs: ReceivedRequest[] }> {
  const servers: Server[] = [];
  afterEach(() => Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  }))).then(() => undefined));
  return async (answer = () => [200], path = '/') => {
    const reqs: ReceivedRequest[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const r: ReceivedRequest = { method: req.method!, url: req.url!, headers: req.headers, raw, body, text: body.toString('utf8') };
        reqs.push(r);
        const [status, out, headers] = answer(r, reqs.length);
        res.writeHead(status, headers ?? {}).end(out ?? '');
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, reqs };
  };
}
