/**
 * The LogQL syntax tree: plain data, discriminated on `kind`. Produced by parser.ts, consumed
 * by plan.ts (log queries) and metric.ts (metric queries).
 */
import type { LabelMatcher, LineFilterOp } from '../store/engine.js';

export type LogQLExpr = LogQueryExpr | MetricExpr;

/** `{selector} <stages>` */
export interface LogQueryExpr {
  kind: 'log';
  matchers: LabelMatcher[];
  stages: PipelineStage[];
}

// ---- pipeline stages -------------------------------------------------------------------------

export type PipelineStage =
  | LineFilterStage
  | JsonStage
  | LogfmtStage
  | RegexpStage
  | PatternStage
  | UnpackStage
  | LabelFilterStage
  | LineFormatStage
  | LabelFormatStage
  | DropStage
  | KeepStage
  | DecolorizeStage;

/** `|= "a"`; with `or`: `|= "a" or "b"` (any of, for `|=`/`|~`/`|>`; none of, for the negations). */
export interface LineFilterStage {
  kind: 'lineFilter';
  op: LineFilterOp | '|>' | '!>';
  values: string[];
}

/** `| json` or `| json a="x.y", b="z[0]"`. */
export interface JsonStage {
  kind: 'json';
  params: ExtractionParam[];
}

/** `| logfmt [--strict] [--keep-empty] [a="b", c]`. */
export interface LogfmtStage {
  kind: 'logfmt';
  strict: boolean;
  keepEmpty: boolean;
  params: ExtractionParam[];
}

export interface ExtractionParam {
  /** Label to create. */
  name: string;
  /** JSON path (`a.b[0]`, `a["b c"]`) or logfmt key. */
  expression: string;
}

export interface RegexpStage {
  kind: 'regexp';
  pattern: string;
}

export interface PatternStage {
  kind: 'pattern';
  pattern: string;
}

export interface UnpackStage {
  kind: 'unpack';
}

export interface LabelFilterStage {
  kind: 'labelFilter';
  filter: LabelFilterExpr;
}

export interface LineFormatStage {
  kind: 'lineFormat';
  template: string;
}

export interface LabelFormatStage {
  kind: 'labelFormat';
  formats: LabelFormatItem[];
}

/** `dst=src` renames; `dst="{{.a}}"` renders a template. */
export interface LabelFormatItem {
  name: string;
  rename: boolean;
  value: string;
}

/** A bare name, or a matcher (`drop level="debug"` drops only when it matches). */
export interface NamedMatcher {
  name: string;
  matcher?: LabelMatcher;
}

export interface DropStage {
  kind: 'drop';
  labels: NamedMatcher[];
}

export interface KeepStage {
  kind: 'keep';
  labels: NamedMatcher[];
}

export interface DecolorizeStage {
  kind: 'decolorize';
}

// ---- label filters ---------------------------------------------------------------------------

export type CompareOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

export type LabelFilterExpr =
  | { kind: 'and'; left: LabelFilterExpr; right: LabelFilterExpr }
  | { kind: 'or'; left: LabelFilterExpr; right: LabelFilterExpr }
  /** String comparison (`=`, `!=`, `=~`, `!~`); a missing label is "". */
  | { kind: 'string'; matcher: LabelMatcher }
  /** The label's value parsed as a float. */
  | { kind: 'number'; name: string; op: CompareOp; value: number }
  /** The label's value parsed as a Go duration; `value` in nanoseconds. */
  | { kind: 'duration'; name: string; op: CompareOp; value: number }
  /** The label's value parsed as a humanized byte size; `value` in bytes. */
  | { kind: 'bytes'; name: string; op: CompareOp; value: number };

// ---- metric queries --------------------------------------------------------------------------

export type MetricExpr = RangeAggregationExpr | VectorAggregationExpr | BinaryOpExpr | LiteralExpr | VectorExpr;

export type RangeOp =
  | 'count_over_time'
  | 'rate'
  | 'bytes_over_time'
  | 'bytes_rate'
  | 'sum_over_time'
  | 'avg_over_time'
  | 'min_over_time'
  | 'max_over_time'
  | 'stddev_over_time'
  | 'stdvar_over_time'
  | 'quantile_over_time'
  | 'first_over_time'
  | 'last_over_time';

export type VectorOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'stddev' | 'stdvar' | 'topk' | 'bottomk';

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '^'
  | '==' | '!=' | '>' | '>=' | '<' | '<='
  | 'and' | 'or' | 'unless';

export interface Grouping {
  without: boolean;
  labels: string[];
}

export type UnwrapConversion = 'float' | 'bytes' | 'duration' | 'duration_seconds';

/** `| unwrap latency`, `| unwrap duration(latency) | __error__=""`. */
export interface UnwrapExpr {
  label: string;
  conversion: UnwrapConversion;
  postFilters: LabelFilterExpr[];
}

/** `<log query> [range] offset <d>` with an optional unwrap. */
export interface LogRangeExpr {
  log: LogQueryExpr;
  rangeNs: bigint;
  offsetNs: bigint;
  unwrap?: UnwrapExpr;
}

export interface RangeAggregationExpr {
  kind: 'rangeAggregation';
  op: RangeOp;
  range: LogRangeExpr;
  /** quantile_over_time's φ. */
  param?: number;
  grouping?: Grouping;
}

export interface VectorAggregationExpr {
  kind: 'vectorAggregation';
  op: VectorOp;
  expr: MetricExpr;
  /** topk/bottomk's k. */
  param?: number;
  /** Absent: aggregate everything into one series. */
  grouping?: Grouping;
}

export interface VectorMatching {
  on: boolean;
  labels: string[];
}

export interface BinaryOpExpr {
  kind: 'binary';
  op: BinaryOp;
  left: MetricExpr;
  right: MetricExpr;
  /** `bool` modifier of comparisons. */
  returnBool: boolean;
  matching?: VectorMatching;
}

export interface LiteralExpr {
  kind: 'literal';
  value: number;
}

/** `vector(1)` */
export interface VectorExpr {
  kind: 'vector';
  value: number;
}
