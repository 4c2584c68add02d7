import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { HttpError } from '../errors.js';

/**
 * Undo Content-Encoding with a cap on the decompressed size, so a small gzip bomb cannot
 * take the server's memory.
 */
export function decodeBody(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  const opts = { maxOutputLength: maxBytes };
  try {
    switch (enc) {
      case '':
      case 'identity':
        return body;
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(body, opts);
      case 'deflate':
        return inflateSync(body, opts);
      case 'br':
        return brotliDecompressSync(body, opts);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new HttpError(413, `request body over ${maxBytes} bytes once decompressed`);
    throw new HttpError(400, `invalid ${enc} body: ${(err as Error).message}`);
  }
  throw new HttpError(415, `unsupported Content-Encoding "${enc}" (expected gzip, deflate, br or none)`);
}
