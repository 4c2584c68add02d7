import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from './errors.js';

/** The server's default listen address (src/server/config.ts: `listen: 127.0.0.1:3100`). */
export const DEFAULT_ADDR = 'http://127.0.0.1:3100';

export interface ClientConfig {
  /** Base URL of the store, without a trailing slash. */
  addr: string;
  token?: string;
  /** Tenant sent as X-Scope-OrgID (needed when a token may act for several). */
  tenant?: string;
  /** Where the address came from, to say what to change when it is unreachable. */
  addrFrom: 'flag' | 'env' | 'file' | 'default';
  tokenFrom?: 'flag' | 'env' | 'file';
  /** The config file that was read, if any. */
  file?: string;
}

export interface ConfigSources {
  flags: { addr?: string; token?: string; tenant?: string };
  env: NodeJS.ProcessEnv;
  /** Reads a file; returns null when it does not exist. Injected for tests. */
  readFile?: (path: string) => string | null;
  home?: string;
}

function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`cannot read the client config ${path}: ${(err as Error).message}`);
  }
}

/** The config file's path: $LOGGY_CONFIG, else ~/.config/loggy/client.yaml (XDG_CONFIG_HOME honoured). */
export function configPath(env: NodeJS.ProcessEnv, home = homedir()): { path: string; explicit: boolean } {
  if (env.LOGGY_CONFIG) return { path: env.LOGGY_CONFIG, explicit: true };
  const base = env.XDG_CONFIG_HOME || join(home, '.config');
  return { path: join(base, 'loggy', 'client.yaml'), explicit: false };
}

/** "host:port", "http://host:port/" or "https://..." → a base URL; anything else is a usage error. */
export function normalizeAddr(text: string, from: string): string {
  let t = text.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) t = `http://${t}`;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new UsageError(`invalid store address "${text}" (from ${from}): expected http://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`invalid store address "${text}" (from ${from}): only http:// and https:// are supported`);
  if (url.search || url.hash) throw new UsageError(`invalid store address "${text}" (from ${from}): no query string or fragment, please`);
  return url.toString().replace(/\/+$/, '');
}

/** Address and token: flag > environment > config file > default. */
export function resolveClientConfig(src: ConfigSources): ClientConfig {
  const { path, explicit } = configPath(src.env, src.home);
  const text = (src.readFile ?? readIfExists)(path);
  if (text === null && explicit) throw new UsageError(`LOGGY_CONFIG names ${path}, which does not exist`);
  let file: { addr?: string; token?: string; tenant?: string } = {};
  if (text !== null) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new UsageError(`${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${path}: expected a mapping with keys addr and token`);
      for (const [k, v] of Object.entries(doc)) {
        if (k !== 'addr' && k !== 'token' && k !== 'tenant') throw new UsageError(`${path}: unknown key "${k}" (expected addr, token, tenant)`);
        if (typeof v !== 'string') throw new UsageError(`${path}: ${k} must be a string`);
      }
      file = doc as { addr?: string; token?: string; tenant?: string };
    }
  }
  const pick = <T extends string>(flag: T | undefined, env: T | undefined, fromFile: T | undefined) =>
    flag ? { v: flag, from: 'flag' as const } : env ? { v: env, from: 'env' as const } : fromFile ? { v: fromFile, from: 'file' as const } : null;
  const a = pick(src.flags.addr, src.env.LOGGY_ADDR, file.addr);
  const t = pick(src.flags.token, src.env.LOGGY_TOKEN, file.token);
  const tenant = pick(src.flags.tenant, src.env.LOGGY_TENANT, file.tenant);
  const where = (from: string, name: string) => (from === 'flag' ? `--${name}` : from === 'env' ? `LOGGY_${name.toUpperCase()}` : path);
  if (t && !/^[\x21-\x7e]+$/.test(t.v.trim())) throw new UsageError(`the token from ${where(t.from, 'token')} has spaces or characters a header cannot carry`);
  if (tenant && !/^[A-Za-z0-9_.-]{1,64}$/.test(tenant.v.trim())) throw new UsageError(`invalid tenant "${tenant.v}" from ${where(tenant.from, 'tenant')}: letters, digits, "_", "." and "-"`);
  return {
    addr: a ? normalizeAddr(a.v, where(a.from, 'addr')) : DEFAULT_ADDR,
    addrFrom: a ? a.from : 'default',
    token: t ? t.v.trim() : undefined,
    tokenFrom: t ? t.from : undefined,
    tenant: tenant ? tenant.v.trim() : undefined,
    file: text !== null ? path : undefined,
  };
}
