/**
 * Metric query evaluation, Loki/Prometheus style. Evaluation steps are t = start, start+step, …
 * ≤ end (one step at `end` for an instant query); a range aggregation at t sees the samples with
 * timestamps in (t - offset - range, t - offset]. Vector aggregations and binary operators work
 * step by step. Results are Loki's JSON shapes: seconds as floats, values as strings, series
 * sorted by labels.
 */
import type { Labels, StoredRow } from '../store/engine.js';
import type {
  BinaryOpExpr,
  Grouping,
  MetricExpr,
  RangeAggregationExpr,
  RangeOp,
  VectorAggregationExpr,
  VectorMatching,
} from './ast.js';
import { LogQLEvalError, LogQLPipelineError } from './errors.js';
import { compareLabels, ERROR_LABEL, hasLabel, labelsKey, seriesKey, setLabel, withMetadata } from './labels.js';
import { scalarOp } from './ops.js';
import { compileLabelFilter, labelFilterNames } from './pipeline/filters.js';
import { planLogQuery, type ScanPlan } from './plan.js';
import { parseBytes, parseGoDuration, parseGoFloat } from './units.js';

export interface MatrixResult {
  metric: Labels;
  values: Array<[number, string]>;
}

export interface VectorResult {
  metric: Labels;
  value: [number, string];
}

/** Rows for one selector over [startNs, endNs) (end exclusive, as ScanQuery), already filtered by the plan. */
export type MetricSource = (q: { plan: ScanPlan; startNs: bigint; endNs: bigint }) => AsyncIterable<StoredRow[]>;

export interface MetricEvalOptions {
  startNs: bigint;
  endNs: bigint;
  stepNs: bigint;
  /** One evaluation at endNs; returns VectorResult[]. */
  instant?: boolean;
  /** Refuse more than this many series in any intermediate result (default 500 000). */
  maxSeries?: number;
}

/** Loki's cap on points per series of a range query. */
export const MAX_POINTS = 11_000;
export const SAMPLE_EXTRACTION_ERR = 'SampleExtractionErr';

interface Sample {
  labels: Labels;
  key: string;
  value: number;
}

type Value = { kind: 'scalar'; value: number } | { kind: 'vector'; steps: Sample[][] };

export async function evalMetricQuery(
  expr: MetricExpr,
  source: MetricSource,
  opts: MetricEvalOptions,
): Promise<MatrixResult[] | VectorResult[]> {
  const steps = evaluationSteps(opts);
  const ev = new Evaluator(source, steps, opts.maxSeries ?? 500_000);
  const v = await ev.eval(expr);
  return opts.instant ? toVector(v, steps[0]!) : toMatrix(v, steps);
}

export function evaluationSteps(opts: MetricEvalOptions): bigint[] {
  if (opts.instant) return [opts.endNs];
  if (opts.endNs < opts.startNs) throw new LogQLEvalError('end timestamp must not be before start time');
  if (opts.stepNs <= 0n) throw new LogQLEvalError('zero or negative query resolution step widths are not accepted. Try a positive integer');
  const n = (opts.endNs - opts.startNs) / opts.stepNs + 1n;
  if (n > BigInt(MAX_POINTS)) {
    throw new LogQLEvalError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  }
  const steps: bigint[] = [];
  for (let t = opts.startNs; t <= opts.endNs; t += opts.stepNs) steps.push(t);
  return steps;
}

/** Seconds as a float, at Loki's millisecond precision. */
export function nsToSeconds(ns: bigint): number {
  return Number(ns / 1_000_000n) / 1000;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64), as Prometheus renders sample values. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!s.includes('e')) return s;
  if (Math.abs(v) >= 1) return BigInt(v).toString();
  const [mant, expStr] = v.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  return `${neg ? '-' : ''}0.${'0'.repeat(-exp - 1)}${digits}`;
}

function toVector(v: Value, t: bigint): VectorResult[] {
  const ts = nsToSeconds(t);
  if (v.kind === 'scalar') return [{ metric: {}, value: [ts, formatValue(v.value)] }];
  return v.steps[0]!
    .slice()
    .sort((a, b) => compareLabels(a.labels, b.labels))
    .map((s) => ({ metric: s.labels, value: [ts, formatValue(s.value)] }));
}

function toMatrix(v: Value, steps: bigint[]): MatrixResult[] {
  if (v.kind === 'scalar') {
    return [{ metric: {}, values: steps.map((t) => [nsToSeconds(t), formatValue(v.value)] as [number, string]) }];
  }
  const series = new Map<string, MatrixResult>();
  for (let i = 0; i < steps.length; i++) {
    const ts = nsToSeconds(steps[i]!);
    for (const s of v.steps[i]!) {
      let m = series.get(s.key);
      if (!m) {
        m = { metric: s.labels, values: [] };
        series.set(s.key, m);
      }
      m.values.push([ts, formatValue(s.value)]);
    }
  }
  return [...series.values()].sort((a, b) => compareLabels(a.metric, b.metric));
}

// ---- evaluation ------------------------------------------------------------------------------

/** Range aggregations whose per-series grouping can be done while extracting under `sum` (Loki's rule). */
const INJECTABLE = new Set<RangeOp>(['bytes_over_time', 'bytes_rate', 'sum_over_time', 'rate', 'count_over_time']);

class Evaluator {
  constructor(
    private readonly source: MetricSource,
    private readonly steps: bigint[],
    private readonly maxSeries: number,
  ) {}

  async eval(e: MetricExpr): Promise<Value> {
    switch (e.kind) {
      case 'literal':
        return { kind: 'scalar', value: e.value };
      case 'vector':
        return { kind: 'vector', steps: this.steps.map(() => [{ labels: {}, key: '', value: e.value }]) };
      case 'rangeAggregation':
        return { kind: 'vector', steps: await this.range(e, undefined) };
      case 'vectorAggregation':
        return { kind: 'vector', steps: await this.vectorAggregation(e) };
      case 'binary':
        return this.binary(e);
    }
  }

  // -- range aggregations --

  private async range(e: RangeAggregationExpr, injected: Grouping | undefined): Promise<Sample[][]> {
    const { rangeNs, offsetNs, unwrap } = e.range;
    const first = this.steps[0]!;
    const last = this.steps[this.steps.length - 1]!;
    const startNs = first - offsetNs - rangeNs + 1n;
    const endNs = last - offsetNs + 1n;
    const baseNs = startNs - 1n;
    const spanNs = Number(endNs - 1n - baseNs);

    const grouping = e.grouping ?? injected;
    // Unwrapped samples drop the unwrapped label unless grouped `by`.
    let groupNames: string[] | null = null;
    let without = false;
    if (unwrap) {
      if (grouping && !grouping.without) groupNames = grouping.labels;
      else {
        groupNames = [...(grouping?.labels ?? []), unwrap.label];
        without = true;
      }
    } else if (grouping) {
      groupNames = grouping.labels;
      without = grouping.without;
    }
    // Parser hints: with `by` grouping only the grouped, unwrapped and post-filtered labels are read.
    let requiredLabels: Set<string> | undefined;
    if (groupNames !== null && !without) {
      requiredLabels = new Set(groupNames);
      if (unwrap) {
        requiredLabels.add(unwrap.label);
        for (const f of unwrap.postFilters) for (const n of labelFilterNames(f)) requiredLabels.add(n);
      }
    }
    const { scan, pipeline } = planLogQuery(e.range.log, { requiredLabels });
    const convert = unwrap ? converter(unwrap.conversion) : null;
    const post = unwrap ? unwrap.postFilters.map(compileLabelFilter) : [];
    const valueKind = e.op === 'bytes_over_time' || e.op === 'bytes_rate' ? 'bytes' : unwrap ? 'unwrap' : 'count';

    const series = new Map<string, Series>();
    for await (const batch of this.source({ plan: scan, startNs, endNs })) {
      for (const row of batch) {
        // Relative to baseNs as a double (exact up to ~104 days of span).
        const rel = Number(row.tsNs - baseNs);
        if (rel <= 0 || rel > spanNs) continue;
        if (!pipeline.run(row.line, withMetadata(row.labels, row.metadata), row.tsNs)) continue;
        const b = pipeline.builder;
        let value = 1;
        if (valueKind === 'bytes') {
          value = Buffer.byteLength(pipeline.line, 'utf8');
        } else if (convert) {
          const raw = b.get(unwrap!.label);
          if (raw === undefined || raw === '') continue;
          try {
            value = convert(raw);
          } catch (err) {
            value = 0;
            b.setErr(SAMPLE_EXTRACTION_ERR, (err as Error).message);
          }
          let keep = true;
          for (const f of post) {
            if (!f(b)) {
              keep = false;
              break;
            }
          }
          if (!keep) continue;
        }
        // A sample with an error keeps all its labels (Loki), so that the error surfaces.
        const full = groupNames === null || b.err !== '';
        const key = full ? b.key() : b.groupedKey(groupNames!, without);
        let s = series.get(key);
        if (!s) {
          if (series.size >= this.maxSeries) throw new LogQLEvalError(`maximum of series (${this.maxSeries}) reached for a single query`);
          const labels = full ? b.labels() : b.grouped(groupNames!, without);
          s = new Series(labels, key, hasLabel(labels, ERROR_LABEL) ? labels[ERROR_LABEL]! : null);
          series.set(key, s);
        }
        s.add(rel, value);
      }
    }

    const out: Sample[][] = this.steps.map(() => []);
    const rangeSec = Number(rangeNs) / 1e9;
    const agg = windowAggregator(e.op, rangeSec, e.param ?? 0, !!unwrap);
    for (const s of series.values()) {
      s.finish();
      let lo = 0;
      let hi = 0;
      const ts = s.ts;
      for (let i = 0; i < this.steps.length; i++) {
        const we = Number(this.steps[i]! - offsetNs - baseNs);
        const ws = we - Number(rangeNs);
        while (lo < ts.length && ts[lo]! <= ws) lo++;
        if (hi < lo) hi = lo;
        while (hi < ts.length && ts[hi]! <= we) hi++;
        if (hi === lo) continue;
        if (s.error !== null) throw new LogQLPipelineError(s.error, labelsKey(s.labels));
        out[i]!.push({ labels: s.labels, key: s.key, value: agg(s, lo, hi) });
      }
    }
    return out;
  }

  // -- vector aggregations --

  private async vectorAggregation(e: VectorAggregationExpr): Promise<Sample[][]> {
    const inner = e.expr;
    let steps: Sample[][];
    if (e.op === 'sum' && inner.kind === 'rangeAggregation' && !inner.grouping && INJECTABLE.has(inner.op)) {
      steps = await this.range(inner, e.grouping ?? { without: false, labels: [] });
    } else {
      const v = await this.eval(inner);
      if (v.kind === 'scalar') throw new LogQLEvalError(`${e.op}: expected a vector, got a scalar`);
      steps = v.steps;
    }
    return steps.map((vec) => aggregate(e, vec));
  }

  // -- binary operators --

  private async binary(e: BinaryOpExpr): Promise<Value> {
    const [l, r] = await Promise.all([this.eval(e.left), this.eval(e.right)]);
    const op = e.op;
    const isCmp = op === '==' || op === '!=' || op === '>' || op === '>=' || op === '<' || op === '<=';
    if (l.kind === 'scalar' && r.kind === 'scalar') return { kind: 'scalar', value: scalarOp(op, l.value, r.value) };
    if (l.kind === 'vector' && r.kind === 'vector') {
      return { kind: 'vector', steps: l.steps.map((lv, i) => vectorBinary(e, lv, r.steps[i]!)) };
    }
    // vector ⊕ scalar, scalar ⊕ vector
    const vecLeft = l.kind === 'vector';
    const vec = (vecLeft ? l : r) as { kind: 'vector'; steps: Sample[][] };
    const sc = (vecLeft ? r : l) as { kind: 'scalar'; value: number };
    const steps = vec.steps.map((samples) => {
      const out: Sample[] = [];
      for (const s of samples) {
        const v = vecLeft ? scalarOp(op, s.value, sc.value) : scalarOp(op, sc.value, s.value);
        if (isCmp && !e.returnBool) {
          if (v === 1) out.push(s);
        } else {
          out.push({ labels: s.labels, key: s.key, value: v });
        }
      }
      return out;
    });
    return { kind: 'vector', steps };
  }
}

/** One series' samples: timestamps relative to the query's base, sorted at finish(). */
class Series {
  ts: number[] = [];
  vals: number[] = [];
  private sorted = true;
  /** All values are safe integers, so prefix sums are exact. */
  private integral = true;
  private prefix: Float64Array | null = null;

  constructor(
    readonly labels: Labels,
    readonly key: string,
    readonly error: string | null,
  ) {}

  add(t: number, v: number): void {
    const n = this.ts.length;
    if (n > 0 && t < this.ts[n - 1]!) this.sorted = false;
    if (this.integral && !Number.isSafeInteger(v)) this.integral = false;
    this.ts.push(t);
    this.vals.push(v);
  }

  finish(): void {
    if (this.sorted) return;
    const idx = this.ts.map((_, i) => i).sort((a, b) => this.ts[a]! - this.ts[b]! || a - b);
    this.ts = idx.map((i) => this.ts[i]!);
    this.vals = idx.map((i) => this.vals[i]!);
    this.sorted = true;
  }

  /** Sum of vals[lo, hi): prefix sums when exact (integers), else added up in order. */
  sum(lo: number, hi: number): number {
    if (!this.integral) {
      let sum = 0;
      for (let i = lo; i < hi; i++) sum += this.vals[i]!;
      return sum;
    }
    if (!this.prefix) {
      const p = new Float64Array(this.vals.length + 1);
      for (let i = 0; i < this.vals.length; i++) p[i + 1] = p[i]! + this.vals[i]!;
      this.prefix = p;
    }
    return this.prefix[hi]! - this.prefix[lo]!;
  }
}

type WindowAgg = (s: Series, lo: number, hi: number) => number;

function windowAggregator(op: RangeOp, rangeSec: number, param: number, unwrapped: boolean): WindowAgg {
  switch (op) {
    case 'count_over_time':
      return (_s, lo, hi) => hi - lo;
    case 'rate':
      return unwrapped ? (s, lo, hi) => s.sum(lo, hi) / rangeSec : (_s, lo, hi) => (hi - lo) / rangeSec;
    case 'bytes_over_time':
    case 'sum_over_time':
      return (s, lo, hi) => s.sum(lo, hi);
    case 'bytes_rate':
      return (s, lo, hi) => s.sum(lo, hi) / rangeSec;
    case 'avg_over_time':
      return (s, lo, hi) => s.sum(lo, hi) / (hi - lo);
    case 'min_over_time':
      return (s, lo, hi) => {
        let m = s.vals[lo]!;
        for (let i = lo + 1; i < hi; i++) if (s.vals[i]! < m || Number.isNaN(m)) m = s.vals[i]!;
        return m;
      };
    case 'max_over_time':
      return (s, lo, hi) => {
        let m = s.vals[lo]!;
        for (let i = lo + 1; i < hi; i++) if (s.vals[i]! > m || Number.isNaN(m)) m = s.vals[i]!;
        return m;
      };
    case 'stdvar_over_time':
      return (s, lo, hi) => variance(s.vals, lo, hi);
    case 'stddev_over_time':
      return (s, lo, hi) => Math.sqrt(variance(s.vals, lo, hi));
    case 'quantile_over_time':
      return (s, lo, hi) => quantile(param, s.vals.slice(lo, hi));
    case 'first_over_time':
      return (s, lo) => s.vals[lo]!;
    case 'last_over_time':
      return (s, _lo, hi) => s.vals[hi - 1]!;
  }
}

/** Population variance (Prometheus' stdvar_over_time). */
function variance(vals: number[], lo: number, hi: number): number {
  let mean = 0;
  let m2 = 0;
  let n = 0;
  for (let i = lo; i < hi; i++) {
    n++;
    const d = vals[i]! - mean;
    mean += d / n;
    m2 += d * (vals[i]! - mean);
  }
  return m2 / n;
}

/** Prometheus' quantile: linear interpolation between closest ranks. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => a - b);
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

function converter(c: 'float' | 'bytes' | 'duration' | 'duration_seconds'): (s: string) => number {
  switch (c) {
    case 'float':
      return parseGoFloat;
    case 'bytes':
      return parseBytes;
    default:
      return (s) => parseGoDuration(s) / 1e9;
  }
}

// ---- vector aggregation ----------------------------------------------------------------------

function groupLabels(labels: Labels, g: Grouping | undefined): Labels {
  const out: Record<string, string> = {};
  if (!g) return out;
  if (g.without) {
    for (const k of Object.keys(labels).sort()) if (!g.labels.includes(k)) setLabel(out, k, labels[k]!);
  } else {
    for (const k of [...g.labels].sort()) if (hasLabel(labels, k) && labels[k] !== '') setLabel(out, k, labels[k]!);
  }
  return out;
}

function aggregate(e: VectorAggregationExpr, vec: Sample[]): Sample[] {
  if (vec.length === 0) return [];
  const groups = new Map<string, { labels: Labels; samples: Sample[] }>();
  for (const s of vec) {
    const labels = groupLabels(s.labels, e.grouping);
    const key = seriesKey(labels);
    let g = groups.get(key);
    if (!g) {
      g = { labels, samples: [] };
      groups.set(key, g);
    }
    g.samples.push(s);
  }
  const out: Sample[] = [];
  for (const [key, g] of groups) {
    const vals = g.samples.map((s) => s.value);
    switch (e.op) {
      case 'topk':
      case 'bottomk': {
        const k = e.param ?? 1;
        const sorted = g.samples.slice().sort((a, b) => {
          // NaN sorts last for both.
          if (Number.isNaN(a.value)) return 1;
          if (Number.isNaN(b.value)) return -1;
          return e.op === 'topk' ? b.value - a.value : a.value - b.value;
        });
        out.push(...sorted.slice(0, k));
        continue;
      }
      case 'sum':
        out.push({ labels: g.labels, key, value: vals.reduce((a, b) => a + b, 0) });
        break;
      case 'avg':
        out.push({ labels: g.labels, key, value: vals.reduce((a, b) => a + b, 0) / vals.length });
        break;
      case 'count':
        out.push({ labels: g.labels, key, value: vals.length });
        break;
      case 'min':
        out.push({ labels: g.labels, key, value: vals.reduce((a, b) => (b < a || Number.isNaN(a) ? b : a)) });
        break;
      case 'max':
        out.push({ labels: g.labels, key, value: vals.reduce((a, b) => (b > a || Number.isNaN(a) ? b : a)) });
        break;
      case 'stdvar':
        out.push({ labels: g.labels, key, value: variance(vals, 0, vals.length) });
        break;
      case 'stddev':
        out.push({ labels: g.labels, key, value: Math.sqrt(variance(vals, 0, vals.length)) });
        break;
    }
  }
  return out;
}

// ---- vector/vector binary operators ----------------------------------------------------------

function signature(labels: Labels, m: VectorMatching | undefined): string {
  if (!m) return seriesKey(labels);
  const names = Object.keys(labels)
    .filter((k) => (m.on ? m.labels.includes(k) : !m.labels.includes(k)))
    .sort();
  return names.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',');
}

function resultLabels(labels: Labels, m: VectorMatching | undefined): Labels {
  if (!m) return labels;
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) {
    if (m.on ? m.labels.includes(k) : !m.labels.includes(k)) setLabel(out, k, labels[k]!);
  }
  return out;
}

function vectorBinary(e: BinaryOpExpr, lhs: Sample[], rhs: Sample[]): Sample[] {
  const m = e.matching;
  if (e.op === 'and' || e.op === 'or' || e.op === 'unless') {
    const rightSigs = new Set(rhs.map((s) => signature(s.labels, m)));
    if (e.op === 'and') return lhs.filter((s) => rightSigs.has(signature(s.labels, m)));
    if (e.op === 'unless') return lhs.filter((s) => !rightSigs.has(signature(s.labels, m)));
    const leftSigs = new Set(lhs.map((s) => signature(s.labels, m)));
    return [...lhs, ...rhs.filter((s) => !leftSigs.has(signature(s.labels, m)))];
  }
  const right = new Map<string, Sample>();
  for (const s of rhs) {
    const sig = signature(s.labels, m);
    if (right.has(sig)) {
      throw new LogQLEvalError('found duplicate series for the match group on the right hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side');
    }
    right.set(sig, s);
  }
  const isCmp = e.op === '==' || e.op === '!=' || e.op === '>' || e.op === '>=' || e.op === '<' || e.op === '<=';
  const seen = new Set<string>();
  const out: Sample[] = [];
  for (const l of lhs) {
    const sig = signature(l.labels, m);
    const r = right.get(sig);
    if (!r) continue;
    if (seen.has(sig)) {
      throw new LogQLEvalError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
    }
    seen.add(sig);
    const v = scalarOp(e.op, l.value, r.value);
    if (isCmp && !e.returnBool) {
      if (v !== 1) continue;
      const labels = resultLabels(l.labels, m);
      out.push({ labels, key: seriesKey(labels), value: l.value });
      continue;
    }
    const labels = resultLabels(l.labels, m);
    out.push({ labels, key: seriesKey(labels), value: v });
  }
  return out;
}
