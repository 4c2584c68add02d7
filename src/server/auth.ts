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
