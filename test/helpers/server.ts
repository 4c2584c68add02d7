import { serverConfigSchema } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { silentLogger } from '../../src/core/logger.js';
import type { StoreEngine } from '../../src/store/engine.js';
import { MemoryEngine } from '../../src/store/memory/index.js';

/** A real server on 127.0.0.1 with an ephemeral port; memory engine unless one is given. */
export async function startTestServer(config: Record<string, unknown> = {}, engine?: StoreEngine): Promise<RunningServer> {
  const cfg = serverConfigSchema.parse({ listen: '127.0.0.1:0', engine: { type: 'memory' }, ...config });
  return startServer(cfg, { log: silentLogger, engine: engine ?? new MemoryEngine() });
}

export const nsNow = (): bigint => BigInt(Date.now()) * 1_000_000n;

export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: T = undefined as T;
  try {
    body = JSON.parse(text) as T;
  } catch {
    // plain-text error
  }
  return { status: res.status, body, text };
}

export async function postBody(url: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : (body as unknown as Uint8Array<ArrayBuffer>), headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
