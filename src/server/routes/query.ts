import type { FastifyInstance, FastifyRequest } from 'fastify';
import { evalCountPushdown, evalLogQuery, evalMetricQuery, parseLogQL, planLogQuery, pushdownCount, LogQLSyntaxError, type LogQLExpr, type ScanPlan } from '../../logql/index.js';
import type { StoredRow } from '../../store/engine.js';
import { tenantOf, type ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { one, parseDirection, parseDurationNs, parseLimit, parseRange, parseTime, type Query } from '../params.js';
import { nowNs } from '../../core/time.js';

/** Parse a LogQL query; syntax errors become 400 with Loki's "parse error at line L, col C" text. */
export function parseQuery(text: string | undefined): LogQLExpr {
  if (!text) throw new HttpError(400, 'query parameter "query" is required');
  try {
    return parseLogQL(text);
  } catch (err) {
    if (err instanceof LogQLSyntaxError) throw new HttpError(400, err.message);
    throw err;
  }
}

/** Loki's default step: the range in 250 points at most, at least 1 s. */
function defaultStep(startNs: bigint, endNs: bigint): bigint {
  const s = (endNs - startNs) / 250n;
  return s < 1_000_000_000n ? 1_000_000_000n : s;
}

/** Query routes: /loki/api/v1/query_range and /query, with Loki's response shapes. */
export function registerQueryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const maxLines = ctx.config.limits.max_query_lines;

  const rows = (tenant: string, plan: ScanPlan, startNs: bigint, endNs: bigint, direction: 'forward' | 'backward', limit?: number): AsyncIterable<StoredRow[]> =>
    ctx.engine.scan({ tenant, matchers: plan.matchers, lineFilters: plan.lineFilters, startNs, endNs, direction, limit });

  const run = async (req: FastifyRequest, instant: boolean) => {
    const tenant = tenantOf(ctx, req, 'read');
    const q = req.query as Query;
    const expr = parseQuery(one(q, 'query'));
    const limit = parseLimit(q, 100, maxLines);
    const direction = parseDirection(q);
    let startNs: bigint;
    let endNs: bigint;
    if (instant) {
      const t = one(q, 'time');
      endNs = t ? parseTime(t, 'time') : nowNs();
      startNs = endNs - 3_600_000_000_000n;
    } else {
      ({ startNs, endNs } = parseRange(q));
    }
    const stepText = one(q, 'step');
    const stepNs = stepText ? parseDurationNs(stepText, 'step') : defaultStep(startNs, endNs);
    if (stepNs <= 0n) throw new HttpError(400, 'step must be positive');
    if (!instant && (endNs - startNs) / stepNs > 11_000n) throw new HttpError(400, 'exceeded maximum resolution of 11,000 points per series: use a larger step');
    const started = process.hrtime.bigint();
    let data: { resultType: string; result: unknown };
    if (expr.kind === 'log') {
      const { scan, pipeline } = planLogQuery(expr);
      // Without pipeline stages the engine's limit is exact; with them, lines may be dropped later.
      const source = rows(tenant, scan, startNs, endNs + (instant ? 1n : 0n), direction, pipeline.hasStages ? undefined : limit);
      data = { resultType: 'streams', result: await evalLogQuery(expr, source, { limit, direction }) };
    } else {
      const opts = { startNs, endNs, stepNs, instant };
      // Plain count/bytes over time (summed by stream labels) is answered from the engine's
      // bucketed counts without reading lines; anything else scans and evaluates in JS.
      const fast = pushdownCount(expr);
      const counted = fast && fast.by !== null
        ? await evalCountPushdown(fast, (cq) => ctx.engine.count({ tenant, direction: 'forward', ...cq, by: cq.by ?? [] }), opts)
        : null;
      const result = counted ?? (await evalMetricQuery(expr, ({ plan, startNs: s, endNs: e }) => rows(tenant, plan, s, e, 'forward'), opts));
      data = { resultType: instant ? 'vector' : 'matrix', result };
    }
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    return { status: 'success', data: { ...data, stats: { summary: { execTime: secs } } } };
  };

  app.get('/loki/api/v1/query_range', (req) => run(req, false));
  app.get('/loki/api/v1/query', (req) => run(req, true));
}
