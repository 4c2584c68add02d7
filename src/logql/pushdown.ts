/**
 * Evaluates a CountPushdown (see plan.ts) from the engine's bucketed counts instead of scanning
 * lines. Buckets are gcd(range, step) wide and start at (start - offset - range + 1ns), so every
 * window (t - range, t] is a whole number of buckets.
 */
import type { CountSeries, LabelMatcher, LineFilter } from '../store/engine.js';
import { compareLabels, setLabel } from './labels.js';
import { evaluationSteps, formatValue, nsToSeconds, type MatrixResult, type MetricEvalOptions, type VectorResult } from './metric.js';
import type { CountPushdown } from './plan.js';

/** What to ask the engine's count() (the caller adds tenant and direction). */
export interface PushdownCountQuery {
  matchers: LabelMatcher[];
  lineFilters: LineFilter[];
  startNs: bigint;
  endNs: bigint;
  stepNs: bigint;
  /** null: one group per stream (the caller can pass every stream label name as `by`). */
  by: string[] | null;
}

/** Refuse (return null) above this many buckets; the caller then falls back to evalMetricQuery. */
export const MAX_PUSHDOWN_BUCKETS = 200_000;

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export async function evalCountPushdown(
  pd: CountPushdown,
  count: (q: PushdownCountQuery) => Promise<CountSeries[]>,
  opts: MetricEvalOptions,
): Promise<MatrixResult[] | VectorResult[] | null> {
  const steps = evaluationSteps(opts);
  if (pd.rangeNs <= 0n) return null;
  const width = opts.instant || steps.length === 1 ? pd.rangeNs : gcd(pd.rangeNs, opts.stepNs);
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const base = first - pd.offsetNs - pd.rangeNs + 1n;
  const endNs = last - pd.offsetNs + 1n;
  const nBuckets = Number((endNs - base + width - 1n) / width);
  if (nBuckets > MAX_PUSHDOWN_BUCKETS) return null;

  const series = await count({
    matchers: pd.plan.matchers,
    lineFilters: pd.plan.lineFilters,
    startNs: base,
    endNs,
    stepNs: width,
    by: pd.by,
  });

  const perWindow = Number(pd.rangeNs / width);
  const rangeSec = Number(pd.rangeNs) / 1e9;
  const out: Array<{ metric: Record<string, string>; points: Array<[number, number]> }> = [];
  const merged = new Map<string, { metric: Record<string, string>; counts: Float64Array; bytes: Float64Array }>();
  for (const s of series) {
    const metric: Record<string, string> = {};
    for (const k of Object.keys(s.labels).sort()) if (s.labels[k] !== '') setLabel(metric, k, s.labels[k]!);
    const key = JSON.stringify(metric);
    let m = merged.get(key);
    if (!m) {
      m = { metric, counts: new Float64Array(nBuckets + 1), bytes: new Float64Array(nBuckets + 1) };
      merged.set(key, m);
    }
    for (const [startNs, c, b] of s.points) {
      const idx = Number((startNs - base) / width);
      if (idx < 0 || idx >= nBuckets) continue;
      m.counts[idx + 1]! += c;
      m.bytes[idx + 1]! += b;
    }
  }
  for (const m of merged.values()) {
    // prefix sums
    for (let i = 1; i <= nBuckets; i++) {
      m.counts[i]! += m.counts[i - 1]!;
      m.bytes[i]! += m.bytes[i - 1]!;
    }
    const points: Array<[number, number]> = [];
    for (let i = 0; i < steps.length; i++) {
      const lo = Number((steps[i]! - first) / width);
      const hi = lo + perWindow;
      const c = m.counts[hi]! - m.counts[lo]!;
      if (c === 0) continue;
      let v = pd.kind === 'count' ? c : m.bytes[hi]! - m.bytes[lo]!;
      if (pd.rate) v /= rangeSec;
      points.push([i, v]);
    }
    if (points.length > 0) out.push({ metric: m.metric, points });
  }
  out.sort((a, b) => compareLabels(a.metric, b.metric));
  if (opts.instant) {
    const ts = nsToSeconds(steps[0]!);
    return out.map((s): VectorResult => ({ metric: s.metric, value: [ts, formatValue(s.points[0]![1])] }));
  }
  return out.map((s) => ({
    metric: s.metric,
    values: s.points.map(([i, v]) => [nsToSeconds(steps[i]!), formatValue(v)] as [number, string]),
  }));
}
