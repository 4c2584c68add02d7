import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { planLogQuery } from '../../logql/index.js';
import { withMetadata } from '../../logql/labels.js';
import { compilePipeline } from '../../logql/pipeline/index.js';
import { nowNs } from '../../core/time.js';
import { tenantOf, type ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { labelsPredicate } from '../../store/shared/match.js';
import { one, parseLimit, parseTime, type Query } from '../params.js';
import { parseQuery } from './query.js';
import type { TailEntry } from '../tail-hub.js';
import { pollTail } from '../tail-poll.js';

/** Bytes queued on a socket past which new lines are dropped (and reported) rather than buffered. */
const MAX_BUFFERED = 1 << 20;

/**
 * /loki/api/v1/tail over WebSocket, Loki's message shape: first the lines since `start`
 * (at most `limit`), then every new matching line as it is ingested. A client that cannot
 * keep up gets `dropped_entries` instead of an ever-growing buffer.
 */
/**
 * Browsers cannot set headers on a WebSocket, so this route alone also takes the token as
 * `?token=`; a header, when present, wins. Query strings can end up in access logs: the UI
 * uses it only for the socket, every other call sends the header.
 */
function bearerFromQuery(q: Query): string | undefined {
  const t = one(q, 'token');
  return t ? `Bearer ${t}` : undefined;
}

export function registerTailRoute(app: FastifyInstance, ctx: ServerContext): void {
  // A browser sends Origin on every WebSocket; any web page could otherwise open this socket
  // to a store on localhost or the intranet and read its logs (cross-site WebSocket
  // hijacking), with the visitor's network position and, auth off, no token at all. Clients
  // that are not browsers (logcli, loggy logs, Grafana's backend) send no Origin.
  const sameOrigin = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const origin = req.headers.origin;
    if (origin !== undefined && !isSameOrigin(origin, req.headers.host)) {
      void reply.code(403).type('text/plain; charset=utf-8').send(`tail: WebSocket from another origin (${origin.slice(0, 100)}) refused\n`);
      return;
    }
    done();
  };
  app.get('/loki/api/v1/tail', { websocket: true, preValidation: sameOrigin }, (socket, req) => {
    let unsubscribe: (() => void) | null = null;
    ctx.metrics.tailClients.inc();
    socket.on('close', () => {
      ctx.metrics.tailClients.dec();
      unsubscribe?.();
    });
    const fail = (err: unknown) => {
      const msg = err instanceof HttpError ? err.message : (err as Error).message;
      socket.close(err instanceof HttpError && err.status < 500 ? 4400 : 1011, msg.slice(0, 120));
    };
    try {
      const q = req.query as Query;
      const tenant = tenantOf(ctx, req, 'read', bearerFromQuery(q));
      const expr = parseQuery(one(q, 'query'));
      if (expr.kind !== 'log') throw new HttpError(400, 'tail needs a log query, not a metric query');
      const { scan } = planLogQuery(expr);
      // Live lines did not go through the engine: run every stage, line filters included.
      const pipeline = compilePipeline(expr.stages);
      const matches = labelsPredicate(scan.matchers);
      const limit = parseLimit(q, 100, ctx.config.limits.max_query_lines);
      const startText = one(q, 'start');
      const startNs = startText ? parseTime(startText, 'start') : nowNs() - 3_600_000_000_000n;

      const frame = (entries: TailEntry[]) => {
        const streams = new Map<string, { stream: Record<string, string>; values: Array<[string, string]> }>();
        const dropped: Array<{ labels: Record<string, string>; timestamp: string }> = [];
        for (const e of entries) {
          if (!matches(e.labels)) continue;
          const out = pipeline.process(e.line, withMetadata(e.labels, e.metadata), e.tsNs);
          if (!out) continue;
          if (socket.bufferedAmount > MAX_BUFFERED) {
            dropped.push({ labels: { ...out.labels }, timestamp: e.tsNs.toString() });
            continue;
          }
          const key = JSON.stringify(out.labels);
          let s = streams.get(key);
          if (!s) streams.set(key, (s = { stream: { ...out.labels }, values: [] }));
          s.values.push([e.tsNs.toString(), out.line]);
        }
        if (streams.size === 0 && dropped.length === 0) return;
        socket.send(JSON.stringify({ streams: [...streams.values()], dropped_entries: dropped.length ? dropped : null }));
      };

      // Live lines from now on; the history query below runs concurrently and is sent first.
      const early: TailEntry[][] = [];
      let live = false;
      const poll = tailMode(ctx) === 'poll';
      if (!poll) unsubscribe = ctx.hub.subscribe(tenant, (entries) => (live ? frame(entries) : early.push(entries)));
      void (async () => {
        const history: TailEntry[] = [];
        for await (const rows of ctx.engine.scan({ tenant, matchers: scan.matchers, lineFilters: scan.lineFilters, startNs, endNs: nowNs() + 1n, direction: 'backward', limit })) {
          for (const r of rows) history.push({ tsNs: r.tsNs, labels: r.labels, line: r.line, metadata: r.metadata });
        }
        history.reverse();
        const seen = history.length ? history[history.length - 1].tsNs : -1n;
        frame(history);
        for (const batch of early) frame(batch.filter((e) => e.tsNs > seen));
        live = true;
        if (poll && socket.readyState === socket.OPEN) {
          const { poll_interval, lookback } = ctx.config.tail;
          unsubscribe = pollTail({
            engine: ctx.engine, tenant, matchers: scan.matchers, lineFilters: scan.lineFilters,
            // Nothing in the history: lines from when the client connected on.
            afterNs: seen >= 0n ? seen : startNs > nowNs() ? startNs : nowNs() - BigInt(lookback) * 1_000_000n,
            intervalMs: poll_interval, lookbackNs: BigInt(lookback) * 1_000_000n, maxLines: ctx.config.limits.max_query_lines,
            onEntries: frame, onError: fail,
          });
        }
      })().catch(fail);
    } catch (err) {
      fail(err);
    }
  });
}

/** How this store tails: `auto` polls an engine that replicas share. */
export function tailMode(ctx: ServerContext): 'push' | 'poll' {
  const { mode } = ctx.config.tail;
  if (mode !== 'auto') return mode;
  return SHARED_ENGINES.has(ctx.config.engine.type) ? 'poll' : 'push';
}
const SHARED_ENGINES = new Set<string>(['clickhouse']);

/** Whether a browser's Origin names the host the request was sent to. */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
