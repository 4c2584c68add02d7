import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryableError } from '../../../src/core/errors.js';
import { post, RejectedError } from '../../../src/sinks/shared/http.js';

let server: Server | null = null;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
}

describe('post', () => {
  it('returns the status and the whole answer on 2xx', async () => {
    const url = await serve((req, res) => req.resume().on('end', () => res.end('{"ok":true}')));
    expect(await post(url, Buffer.from('x'), {}, 2000)).toEqual({ status: 200, text: '{"ok":true}', body: Buffer.from('{"ok":true}') });
  });

  it('gives up on a receiver that accepts and never answers, as retryable, at the timeout', async () => {
    const url = await serve((req) => req.resume());
    const t0 = Date.now();
    const err = await post(url, Buffer.from('x'), {}, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(String((err as Error).message)).toContain('timed out after 300 ms');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('sorts 429 with Retry-After as retryable and 400 as rejected, with the answer in the message', async () => {
    let status = 429;
    const url = await serve((req, res) => req.resume().on('end', () => {
      res.writeHead(status, { 'retry-after': '7' });
      res.end('slow down');
    }));
    const e429 = await post(url, Buffer.from('x'), {}, 2000).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(RetryableError);
    expect((e429 as RetryableError).retryAfterMs).toBe(7000);
    status = 400;
    const e400 = await post(url, Buffer.from('x'), {}, 2000).catch((e: unknown) => e);
    expect(e400).toBeInstanceOf(RejectedError);
    expect((e400 as Error).message).toContain('400 Bad Request: slow down');
  });
});
