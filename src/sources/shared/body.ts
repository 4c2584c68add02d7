import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Refusal, tooLarge } from './refusal.js';

/**
 * A request body, decompressed, refused with 413 past `maxBytes` at either end: counting the
 * inflated bytes as they come stops a small gzip bomb without inflating it all.
 */
export async function readBody(req: IncomingMessage, gzip: boolean, maxBytes: number): Promise<Buffer> {
  const stream: Readable = gzip ? req.pipe(createGunzip()) : req;
  const chunks: Buffer[] = [];
  let total = 0;
  let raw = 0;
  if (gzip) req.on('data', (c: Buffer) => { raw += c.length; });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes || raw > maxBytes) throw tooLarge(maxBytes);
      chunks.push(chunk);
    }
  } catch (err) {
    if (gzip) {
      req.unpipe();
      stream.destroy();
    }
    if (err instanceof Refusal) throw err;
    if (gzip) throw new Refusal(400, `gzip body could not be decompressed: ${(err as Error).message}`, 'invalid');
    throw new Refusal(400, `request body could not be read: ${(err as Error).message}`, 'invalid');
  }
  return Buffer.concat(chunks, total);
}
