/**
 * LogQL for Loggy: a Loki-compatible subset.
 *
 *   const expr = parseLogQL(q);                       // throws LogQLSyntaxError
 *   if (expr.kind === 'log') {
 *     const { scan } = planLogQuery(expr);            // push scan.matchers / scan.lineFilters to the engine
 *     const streams = await evalLogQuery(expr, engine.scan({...scan, tenant, startNs, endNs, direction, limit}), { limit, direction });
 *   } else {
 *     const pd = pushdownCount(expr);                 // optional fast path via engine.count()
 *     const result = await evalMetricQuery(expr, ({ plan, startNs, endNs }) => engine.scan({...}), { startNs, endNs, stepNs });
 *   }
 */
export type * from './ast.js';
export { parseLogQL } from './parser.js';
export { LogQLSyntaxError, LogQLPipelineError, LogQLEvalError, formatLogQLError } from './errors.js';
export { planLogQuery, pushdownCount, type ScanPlan, type CountPushdown } from './plan.js';
export type { Pipeline, CompiledPipeline } from './pipeline/index.js';
export { evalLogQuery, type StreamResult, type LogEvalOptions } from './eval-log.js';
export {
  evalMetricQuery,
  MAX_POINTS,
  type MatrixResult,
  type VectorResult,
  type MetricSource,
  type MetricEvalOptions,
} from './metric.js';
export { evalCountPushdown, type PushdownCountQuery } from './pushdown.js';
export { labelsKey } from './labels.js';
