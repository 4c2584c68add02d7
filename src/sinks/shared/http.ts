import { z } from 'zod';
import { duration } from '../../config/schema-helpers.js';
import type { ComponentContext } from '../../core/component.js';
import { parseRetryAfter, RetryableError } from '../../core/errors.js';

/** A request the receiver refused for good (4xx other than 408/429): retrying cannot help. */
export class RejectedError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'RejectedError';
  }
}

/** Connection settings shared by HTTP-based sinks. */
export const httpSinkCommon = {
  /** Bearer token sent as Authorization. Use ${ENV_VAR} rather than writing it in the file. */
  token: z.string().min(1).optional(),
  /** Sent as X-Scope-OrgID (the tenant) when set. */
  tenant: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).default({}),
  timeout: duration.default(30_000),
  compression: z.enum(['gzip', 'none']).default('gzip'),
};

/**
 * POST a body and sort the outcome the way every sink must: 2xx delivered; 408, 429 and 5xx
 * and network failures retryable (honouring Retry-After); any other 4xx rejected for good.
 */
// The cast: @types/node's Buffer is over ArrayBufferLike, fetch's BodyInit wants ArrayBuffer; same bytes.
export async function post(url: string, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: body as unknown as Uint8Array<ArrayBuffer>, headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new RetryableError(`POST ${url} failed: ${cause ?? (err as Error).message}`);
  }
  if (res.ok) return res;
  const text = (await res.text().catch(() => '')).slice(0, 500);
  const msg = `POST ${url}: ${res.status} ${res.statusText}${text ? `: ${text.trim()}` : ''}`;
  if (res.status === 408 || res.status === 429 || res.status >= 500) throw new RetryableError(msg, parseRetryAfter(res.headers.get('retry-after')));
  throw new RejectedError(res.status, msg);
}

export function authHeaders(cfg: { token?: string; tenant?: string; headers: Record<string, string> }): Record<string, string> {
  const h: Record<string, string> = { ...cfg.headers };
  if (cfg.token) h.authorization = `Bearer ${cfg.token}`;
  if (cfg.tenant) h['x-scope-orgid'] = cfg.tenant;
  return h;
}

/**
 * A batch refused for good: retrying would block its files forever, so it is counted
 * (`loggy_sink_rejected_events_total`) and logged with the receiver's reason. Issue 4's
 * dead-letter file will keep the events themselves.
 */
export function countRejected(ctx: ComponentContext, events: number, status: number, reason: string): void {
  ctx.metrics.sinkRejected.inc({ component: ctx.name }, events);
  ctx.log.error({ sink: ctx.name, status, events, err: reason }, 'batch refused by the receiver; dropped');
}
