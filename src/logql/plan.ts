/**
 * Splits a log query between the store engine and JavaScript. The engine gets the stream
 * selector and every line filter that precedes the first parser or format stage (a line filter
 * after `| json` or `| line_format` must see what those stages produced, so it runs in JS).
 * Also recognises metric queries the engine can answer with count() alone.
 */
import type { LabelMatcher, LineFilter, LineFilterOp } from '../store/engine.js';
import type { LogQueryExpr, MetricExpr, PipelineStage } from './ast.js';
import { compilePipeline, type CompiledPipeline } from './pipeline/index.js';

/** What the engine can do for a query: select streams and filter lines. */
export interface ScanPlan {
  matchers: LabelMatcher[];
  lineFilters: LineFilter[];
}

const ENGINE_OPS = new Set<string>(['|=', '!=', '|~', '!~']);

export function splitStages(expr: LogQueryExpr): { scan: ScanPlan; rest: PipelineStage[] } {
  const lineFilters: LineFilter[] = [];
  const rest: PipelineStage[] = [];
  let pushing = true;
  for (const st of expr.stages) {
    if (pushing && st.kind === 'lineFilter' && ENGINE_OPS.has(st.op)) {
      const negative = st.op === '!=' || st.op === '!~';
      // `!= "a" or "b"` is "neither a nor b": two filters. A positive `or` needs one engine
      // filter with alternatives, which the engine contract does not have: it stays in JS.
      if (st.values.length === 1 || negative) {
        for (const value of st.values) lineFilters.push({ op: st.op as LineFilterOp, value });
        continue;
      }
    }
    // Line filters (|>, positive `or`) and label filters neither read nor change what later
    // line filters see, so those can still be pushed; any other stage ends the pushdown.
    if (st.kind !== 'lineFilter' && st.kind !== 'labelFilter') pushing = false;
    rest.push(st);
  }
  return { scan: { matchers: expr.matchers.map((m) => ({ ...m })), lineFilters }, rest };
}

/**
 * The engine's part of a log query and a compiled pipeline for the rest (compile once per query).
 * `requiredLabels` (metric queries): the only labels read after the pipeline, so that a trailing
 * parser may extract just those (Loki's parser hints).
 */
export function planLogQuery(
  expr: LogQueryExpr,
  opts: { requiredLabels?: ReadonlySet<string> } = {},
): { scan: ScanPlan; pipeline: CompiledPipeline } {
  const { scan, rest } = splitStages(expr);
  return { scan, pipeline: compilePipeline(rest, opts.requiredLabels) };
}

/**
 * A metric query the engine's count() answers alone: `count_over_time`, `rate`,
 * `bytes_over_time` or `bytes_rate` over a selector and pushable line filters only, either bare
 * (`by: null`: one series per stream, i.e. group by every stream label) or under
 * `sum [by (stream labels)]` (`by: []` for a plain `sum`).
 */
export interface CountPushdown {
  plan: ScanPlan;
  rangeNs: bigint;
  offsetNs: bigint;
  by: string[] | null;
  kind: 'count' | 'bytes';
  /** Divide by the range in seconds (`rate`, `bytes_rate`). */
  rate: boolean;
}

export function pushdownCount(expr: MetricExpr): CountPushdown | null {
  let by: string[] | null = null;
  let inner: MetricExpr = expr;
  if (expr.kind === 'vectorAggregation') {
    if (expr.op !== 'sum' || expr.grouping?.without) return null;
    by = expr.grouping ? [...expr.grouping.labels] : [];
    inner = expr.expr;
  }
  if (inner.kind !== 'rangeAggregation' || inner.range.unwrap || inner.grouping) return null;
  const kind = inner.op === 'count_over_time' || inner.op === 'rate' ? 'count' : inner.op === 'bytes_over_time' || inner.op === 'bytes_rate' ? 'bytes' : null;
  if (!kind) return null;
  const { scan, rest } = splitStages(inner.range.log);
  if (rest.length > 0) return null;
  return {
    plan: scan,
    rangeNs: inner.range.rangeNs,
    offsetNs: inner.range.offsetNs,
    by,
    kind,
    rate: inner.op === 'rate' || inner.op === 'bytes_rate',
  };
}
