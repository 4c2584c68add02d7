import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { z } from 'zod';
import { byteSize, duration } from '../../config/schema-helpers.js';
import type { ComponentContext } from '../../core/component.js';
import { parseRetryAfter, RetryableError } from '../../core/errors.js';
import type { DeadEvent, DeadLetterFile } from './dead-letter.js';
import { tlsSchema } from '../../core/tls.js';
import type { EventBatch } from '../../core/batch.js';
import type { LogEvent } from '../../core/event.js';

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
  /** For https:// endpoints: a private CA, a client certificate, the name to verify. */
  tls: tlsSchema.optional(),
  /** Events a receiver refuses for good (400, 413, 422...) go to <data_dir>/dead-letter/<sink>.ndjson. */
  dead_letter: z.strictObject({
    enabled: z.boolean().default(true),
    max_bytes: byteSize.default(64 * 1024 * 1024),
  }).prefault({}),
};

/**
 * POST a body and sort the outcome the way every sink must: 2xx delivered; 408, 429 and 5xx
 * and network failures retryable (honouring Retry-After); any other 4xx rejected for good.
 */
// The cast: @types/node's Buffer is over ArrayBufferLike, fetch's BodyInit wants ArrayBuffer; same bytes.
// `dispatcher` (a sink's own TLS settings) goes with undici's own fetch: Node 20's built-in
// fetch is an older undici whose handler interface undici 7's Agent does not speak.
export async function post(url: string, body: Buffer, headers: Record<string, string>, timeoutMs: number, method: 'POST' | 'PUT' = 'POST', dispatcher?: Dispatcher): Promise<{ status: number; text: string; body: Buffer }> {
  // A timer of our own, cleared as soon as the answer is read: with AbortSignal.timeout the
  // signal (and through fetch's abort listener the request and its body) lives until the
  // timeout fires, so at a few requests per second and a 30 s timeout, tens of MiB of sent
  // bodies stayed alive (measured: RSS +60 MiB while draining after an outage).
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  let status: number;
  let statusText: string;
  let retryAfter: string | null;
  let text: string;
  let answer: Buffer;
  try {
    const init = { method, body: body as unknown as Uint8Array<ArrayBuffer>, headers, signal: ac.signal };
    const res = dispatcher ? await undiciFetch(url, { ...init, dispatcher }) : await fetch(url, init);
    ({ status, statusText } = res);
    retryAfter = res.headers.get('retry-after');
    // The bytes too: an OTLP receiver answers in protobuf.
    answer = Buffer.from(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    text = answer.toString('utf8');
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new RetryableError(`${method} ${url} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  if (status >= 200 && status < 300) return { status, text, body: answer };
  const shown = text.slice(0, 500).trim();
  const msg = `${method} ${url}: ${status} ${statusText}${shown ? `: ${shown}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) throw new RetryableError(msg, parseRetryAfter(retryAfter));
  // Wrong token or URL: the events are fine and an operator will fix the config; giving them
  // up would lose everything meanwhile. Retried (with backoff), loudly.
  if (status === 401 || status === 403 || status === 404) throw new RetryableError(`${msg} (check the sink's endpoint and token)`);
  throw new RejectedError(status, msg);
}

export function authHeaders(cfg: { token?: string; tenant?: string; headers: Record<string, string> }): Record<string, string> {
  const h: Record<string, string> = { ...cfg.headers };
  if (cfg.token) h.authorization = `Bearer ${cfg.token}`;
  if (cfg.tenant) h['x-scope-orgid'] = cfg.tenant;
  return h;
}

/**
 * Sends `items`; when the receiver refuses them for good, splits them in halves and sends each
 * again, so that one bad event (too old, too long) does not take its whole batch down with it:
 * only the events refused on their own reach `refused`. Retryable failures propagate (the
 * runner retries the whole write; a receiver deduplicating by offset drops what was already in).
 */
export async function sendSplitting<T>(items: T[], send: (items: T[]) => Promise<void>, refused: (items: T[], err: RejectedError) => Promise<void>): Promise<void> {
  if (items.length === 0) return;
  try {
    await send(items);
  } catch (err) {
    if (!(err instanceof RejectedError)) throw err;
    if (items.length === 1 || err.status === 0) return refused(items, err);
    // One half after the other, never side by side: a receiver deduplicating by offset (the
    // Loggy store) takes a source's offsets in order, and would drop the first half as a replay
    // if the second, with higher offsets, were committed before it.
    const half = Math.ceil(items.length / 2);
    await sendSplitting(items.slice(0, half), send, refused);
    await sendSplitting(items.slice(half), send, refused);
  }
}

/** One event with the batch it came in (its source and labels). */
export interface SinkItem {
  b: EventBatch;
  ev: LogEvent;
}

/**
 * What the HTTP sinks' write() does: flatten the batches, send them with `send`, splitting
 * refused requests down to the events refused on their own, which go to the dead letters.
 * `chunks`, when given, cuts the events into consecutive requests first (a body size cap).
 */
export async function deliverBatches(ctx: ComponentContext, deadLetter: DeadLetterFile | null, batches: readonly EventBatch[], send: (items: SinkItem[]) => Promise<void>, chunks?: (items: SinkItem[]) => SinkItem[][]): Promise<void> {
  const items: SinkItem[] = [];
  for (const b of batches) for (const ev of b.events) items.push({ b, ev });
  const refused = (part: SinkItem[], err: RejectedError) =>
    refuse(ctx, deadLetter, part.map(({ b, ev }) => ({ labels: b.source.labels, event: ev })), err.status, err.message);
  // A sink with a cap on its request size cuts the write into requests under it, sent in
  // order, each split on its own when refused (a refusal does not resend the requests before it).
  for (const part of chunks ? chunks(items) : [items]) await sendSplitting(part, send, refused);
}

/**
 * Events refused for good: retrying would block their files forever, so they are counted
 * (`loggy_sink_rejected_events_total`) and kept in the dead-letter file with the reason.
 */
export async function refuse(ctx: ComponentContext, deadLetter: DeadLetterFile | null, events: readonly DeadEvent[], status: number, reason: string): Promise<void> {
  ctx.metrics.sinkRejected.inc({ component: ctx.name }, events.length);
  if (deadLetter) return deadLetter.write(events, status, reason);
  ctx.metrics.deadLetterDropped.inc({ component: ctx.name }, events.length);
  ctx.log.error({ sink: ctx.name, status, events: events.length, err: reason }, 'batch refused by the receiver; dropped (dead_letter is disabled)');
}

/** A receiver's answer as JSON, or null when it is not (an empty 204, a proxy's HTML page). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
