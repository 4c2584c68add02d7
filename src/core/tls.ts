import { readFileSync, statSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * TLS settings of a component that connects to a server (sinks, the ClickHouse store engine): a private CA, a client certificate
 * (mutual TLS), the name to verify, or (for tests and emergencies only) no verification.
 * Without them, `https://` still works against the system's CA bundle.
 */
export const tlsSchema = z.strictObject({
  /** PEM file of the CA(s) the server's certificate must chain to (instead of the system bundle). */
  ca_file: z.string().min(1).optional(),
  /** PEM client certificate and key, for servers that ask for one. */
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  /** The name the server's certificate must carry, when it differs from the endpoint's host. */
  server_name: z.string().min(1).optional(),
  /** Accept any certificate. Anyone on the path can then read and change the traffic. */
  insecure_skip_verify: z.boolean().default(false),
}).refine((t) => !t.cert_file === !t.key_file, { message: 'give cert_file and key_file together (a client certificate needs its key)', path: ['key_file'] });
export type TlsConfig = z.infer<typeof tlsSchema>;

/** Node's TLS options for the settings; the files are read now, so a missing one fails at start, named. */
export function tlsConnectOptions(tls: TlsConfig, where: string): ConnectionOptions {
  const read = (key: 'ca_file' | 'cert_file' | 'key_file') => {
    const path = tls[key];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`${where}.tls.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const opts: ConnectionOptions = { rejectUnauthorized: !tls.insecure_skip_verify };
  const ca = read('ca_file');
  const cert = read('cert_file');
  const key = read('key_file');
  if (ca) opts.ca = ca;
  if (cert) opts.cert = cert;
  if (key) opts.key = key;
  if (tls.server_name) opts.servername = tls.server_name;
  return opts;
}

/** How often the files are looked at for a change (a renewed certificate, a rotated CA). */
const RECHECK_MS = 10_000;

/**
 * An HTTP connection pool with a sink's TLS settings, for `post`. Certificates are renewed
 * (cert-manager rotates them well before expiry): when a file changes, the next request gets a
 * new pool with the new files, and the old one closes once its requests are done. A file that
 * cannot be read after a change keeps the pool as it was, and says so at each check until fixed.
 */
export class TlsPool {
  private agent: Agent;
  private stamp: string;
  private checkedAt = Date.now();

  constructor(private readonly tls: TlsConfig, private readonly where: string, private readonly onError: (msg: string) => void = () => undefined, private readonly recheckMs = RECHECK_MS) {
    this.agent = new Agent({ connect: tlsConnectOptions(tls, where) });
    this.stamp = this.fileStamp();
  }

  private fileStamp(): string {
    return (['ca_file', 'cert_file', 'key_file'] as const).map((k) => {
      const path = this.tls[k];
      if (!path) return '';
      try {
        const st = statSync(path);
        return `${st.mtimeMs}:${st.size}:${st.ino}`;
      } catch {
        return 'missing';
      }
    }).join('|');
  }

  /** The pool to send with now. */
  current(): Dispatcher {
    const now = Date.now();
    if (now - this.checkedAt < this.recheckMs) return this.agent;
    this.checkedAt = now;
    const stamp = this.fileStamp();
    if (stamp === this.stamp) return this.agent;
    try {
      const next = new Agent({ connect: tlsConnectOptions(this.tls, this.where) });
      const old = this.agent;
      this.agent = next;
      void old.close().catch(() => undefined);
      this.stamp = stamp;
    } catch (err) {
      // A Secret being updated can be half-written or briefly absent: try again at the next check.
      this.onError(`${(err as Error).message}; keeping the certificates loaded before`);
    }
    return this.agent;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** A sink's TLS pool, or undefined without settings (Node's fetch and its default pool serve). */
export function tlsDispatcher(tls: TlsConfig | undefined, where: string, onError?: (msg: string) => void): TlsPool | undefined {
  return tls ? new TlsPool(tls, where, onError) : undefined;
}
