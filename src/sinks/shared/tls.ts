import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';

/**
 * TLS settings of a sink that connects to a server: a private CA, a client certificate
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

/**
 * An HTTP connection pool with these TLS settings, for `post`; undefined without settings (the
 * default pool of Node's fetch serves). One pool per sink: its connections are kept alive.
 */
export function tlsDispatcher(tls: TlsConfig | undefined, where: string): Dispatcher | undefined {
  if (!tls) return undefined;
  return new Agent({ connect: tlsConnectOptions(tls, where) });
}
