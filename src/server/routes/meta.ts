import type { FastifyInstance } from 'fastify';
import { planLogQuery } from '../../logql/index.js';
import type { LabelMatcher } from '../../store/engine.js';
import { tenantOf, type ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { many, one, parseRange, type Query } from '../params.js';
import { parseQuery } from './query.js';

/** The matchers of a stream selector given as a query parameter. */
function selector(text: string | undefined, name: string): LabelMatcher[] | undefined {
  if (text === undefined || text === '') return undefined;
  const expr = parseQuery(text);
  if (expr.kind !== 'log') throw new HttpError(400, `${name}: expected a stream selector such as {app="web"}`);
  return planLogQuery(expr).scan.matchers;
}

/** Label, series and index routes (what Grafana's query builder and log volume use). */
export function registerMetaRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { engine } = ctx;

  app.get('/loki/api/v1/labels', async (req) => {
    const tenant = tenantOf(ctx, req, 'read');
    const q = req.query as Query;
    const { startNs, endNs } = parseRange(q);
    return { status: 'success', data: await engine.labelNames(tenant, startNs, endNs, selector(one(q, 'query'), 'query')) };
  });

  app.get<{ Params: { name: string } }>('/loki/api/v1/label/:name/values', async (req) => {
    const tenant = tenantOf(ctx, req, 'read');
    const q = req.query as Query;
    const { startNs, endNs } = parseRange(q);
    return { status: 'success', data: await engine.labelValues(tenant, req.params.name, startNs, endNs, selector(one(q, 'query'), 'query')) };
  });

  const series = async (tenant: string, q: Query) => {
    const matches = many(q, 'match');
    if (matches.length === 0) throw new HttpError(400, 'at least one match[] selector is required');
    const { startNs, endNs } = parseRange(q);
    return engine.series(tenant, matches.map((m) => selector(m, 'match[]')!), startNs, endNs);
  };
  app.get('/loki/api/v1/series', async (req) => ({ status: 'success', data: await series(tenantOf(ctx, req, 'read'), req.query as Query) }));
  app.post('/loki/api/v1/series', async (req) => {
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const q: Query = { ...(req.query as Query) };
    for (const [k, v] of new URLSearchParams(body)) q[k] = [...many(q, k), v];
    return { status: 'success', data: await series(tenantOf(ctx, req, 'read'), q) };
  });

  app.get('/loki/api/v1/index/stats', async (req) => {
    const tenant = tenantOf(ctx, req, 'read');
    const q = req.query as Query;
    const matchers = selector(one(q, 'query'), 'query');
    if (!matchers) throw new HttpError(400, 'query parameter "query" is required');
    const { startNs, endNs } = parseRange(q);
    const counts = await engine.count({ tenant, matchers, lineFilters: [], startNs, endNs, direction: 'forward', stepNs: endNs - startNs + 1n, by: [] });
    const streams = await engine.series(tenant, [matchers], startNs, endNs);
    let entries = 0;
    let bytes = 0;
    for (const s of counts) for (const [, c, b] of s.points) { entries += c; bytes += b; }
    return { streams: streams.length, chunks: streams.length, entries, bytes };
  });

  // Log volume (Grafana's histogram above the logs): bytes per group of labels.
  app.get('/loki/api/v1/index/volume', async (req) => {
    const tenant = tenantOf(ctx, req, 'read');
    const q = req.query as Query;
    const matchers = selector(one(q, 'query'), 'query');
    if (!matchers) throw new HttpError(400, 'query parameter "query" is required');
    const { startNs, endNs } = parseRange(q);
    const target = (one(q, 'targetLabels') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const by = target.length ? target : matchers.map((m) => m.name);
    const counts = await engine.count({ tenant, matchers, lineFilters: [], startNs, endNs, direction: 'forward', stepNs: endNs - startNs + 1n, by });
    const limit = Number(one(q, 'limit') ?? 100);
    const result = counts
      .map((s) => ({ metric: s.labels, bytes: s.points.reduce((a, [, , b]) => a + b, 0) }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, Number.isFinite(limit) && limit > 0 ? limit : 100)
      .map((s) => ({ metric: s.metric, value: [Number(endNs / 1_000_000n) / 1000, String(s.bytes)] }));
    return { status: 'success', data: { resultType: 'vector', result } };
  });
}
