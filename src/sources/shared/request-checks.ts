import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Refusal, tooLarge } from './refusal.js';

/** `Authorization: Bearer <token>` as bytes, for `checkBearer`; null when no token is configured. */
export function bearerHeader(token: string | undefined): Buffer | null {
  return token ? Buffer.from(`Bearer ${token}`) : null;
}

/** Constant-time comparison of the Authorization header; 401 when it does not match. */
export function checkBearer(req: IncomingMessage, expected: Buffer | null): void {
  if (!expected) return;
  const got = Buffer.from(req.headers.authorization ?? '');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new Refusal(401, 'missing or wrong bearer token (Authorization: Bearer <token>)', 'unauthorized', { 'www-authenticate': 'Bearer' });
  }
}

/**
 * Refuses a body declared too large before reading it, and a Content-Encoding other than gzip;
 * returns whether the body is gzip.
 */
export function checkBodyHeaders(req: IncomingMessage, maxBodyBytes: number): { gzip: boolean } {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
  const enc = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (enc !== 'identity' && enc !== 'gzip') throw new Refusal(415, `content-encoding ${enc} not supported (gzip or none)`, 'encoding');
  return { gzip: enc === 'gzip' };
}
