import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerConfig } from './config.js';
import { HttpError } from './errors.js';

export type Right = 'read' | 'write';

interface TokenEntry {
  digest: Buffer;
  tenants: string[];
  read: boolean;
  write: boolean;
}

const sha = (s: string) => createHash('sha256').update(s).digest();

/**
 * Maps a request to its tenant. With auth off everything is tenant "default". With auth on,
 * a bearer token names the tenants it may act for and whether it may read and/or write;
 * X-Scope-OrgID chooses among several. Tokens are compared by digest in constant time.
 */
export class Authenticator {
  private readonly entries: TokenEntry[];

  constructor(private readonly cfg: ServerConfig['auth']) {
    this.entries = cfg.tokens.map((t) => ({ digest: sha(t.token), tenants: t.tenants, read: t.read, write: t.write }));
  }

  tenantFor(authorization: string | undefined, orgId: string | undefined, right: Right): string {
    if (!this.cfg.enabled) return 'default';
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) throw new HttpError(401, 'authentication required: send "Authorization: Bearer <token>"', { 'www-authenticate': 'Bearer' });
    const digest = sha(m[1]);
    const entry = this.entries.find((e) => timingSafeEqual(e.digest, digest));
    if (!entry) throw new HttpError(401, 'invalid token', { 'www-authenticate': 'Bearer' });
    if (!entry[right]) throw new HttpError(403, `this token may not ${right}`);
    if (orgId) {
      if (!entry.tenants.includes(orgId)) throw new HttpError(403, `this token may not act for tenant "${orgId}"`);
      return orgId;
    }
    if (entry.tenants.length === 1) return entry.tenants[0];
    throw new HttpError(400, `X-Scope-OrgID is required: this token allows tenants ${entry.tenants.join(', ')}`);
  }
}

/**
 * Elasticsearch clients (Fluent Bit, Filebeat, Vector) send Basic or ApiKey credentials, not
 * bearer tokens, so on the Elasticsearch-compatible API a Loggy token may also come as
 *   - `Basic base64(<any user>:<token>)`: the password is the token (`HTTP_Passwd`, `password:`);
 *   - `ApiKey base64(<any id>:<token>)`: what Filebeat's `api_key: "<id>:<token>"` sends;
 *   - `ApiKey <token>`: the token as is (a header set by hand).
 * Returns the same credential as `Bearer <token>` for `Authenticator.tenantFor`; anything else
 * (a Bearer header, nothing, another scheme) is returned unchanged and judged there.
 */
export function bearerFromElasticAuth(authorization: string | undefined): string | undefined {
  const m = /^(Basic|ApiKey)\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) return authorization;
  const decoded = decodeIdSecret(m[2]!);
  if (m[1]!.toLowerCase() === 'basic') return decoded ? `Bearer ${decoded}` : authorization;
  return `Bearer ${decoded ?? m[2]!}`;
}

/** The secret of base64 `id:secret`, or null when the value is not that (e.g. a raw token). */
function decodeIdSecret(b64: string): string | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  // Round-trip and printable: a raw token that merely looks like base64 is not decoded.
  if (Buffer.from(text, 'utf8').toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '') || !/^[\x21-\x7e ]*$/.test(text)) return null;
  const colon = text.indexOf(':');
  const secret = colon >= 0 ? text.slice(colon + 1) : '';
  return secret.length > 0 && !/\s/.test(secret) ? secret : null;
}
