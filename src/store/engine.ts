/**
 * The store engine interface. Routes and the LogQL planner talk only to this; DuckDB is the
 * embedded default, ClickHouse will follow. The engine knows nothing of HTTP or LogQL text.
 * All times are Unix nanoseconds as bigint (Loki's precision). Every method is tenant-scoped:
 * an engine must never return another tenant's rows, labels or series.
 */

export type Labels = Readonly<Record<string, string>>;

/** One log line to store. `labels` are the stream labels (Loki's stream selector labels). */
export interface LogRow {
  tsNs: bigint;
  labels: Labels;
  line: string;
  /** Loki's structured metadata: per-line key/values that are not stream labels. */
  metadata?: Labels;
}

/** A stored line as scans return it. */
export interface StoredRow {
  tsNs: bigint;
  labels: Labels;
  line: string;
  metadata?: Labels;
}

export type MatchOp = '=' | '!=' | '=~' | '!~';
/** A stream selector matcher. Regexes are anchored (whole value), as in Prometheus/Loki. */
export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

export type LineFilterOp = '|=' | '!=' | '|~' | '!~';
/** A line filter: substring (`|=`, `!=`) or regex, unanchored (`|~`, `!~`), case-sensitive. */
export interface LineFilter {
  op: LineFilterOp;
  value: string;
}

export interface ScanQuery {
  tenant: string;
  /** All must hold. At least one matcher is given (LogQL requires a non-empty selector). */
  matchers: LabelMatcher[];
  /** Inclusive start, exclusive end. */
  startNs: bigint;
  endNs: bigint;
  /** Pushed-down line filters; all must hold (applied exactly, in order). */
  lineFilters: LineFilter[];
  direction: 'forward' | 'backward';
  /** Stop after this many rows (in `direction` order). */
  limit?: number;
}

/** Per-source replay watermark for effectively-exactly-once native push. */
export interface SourceOffset {
  /** Source identity (file fingerprint id) plus stream, e.g. "8:1234:ab12cd34|stdout". */
  source: string;
  /** Highest committed byte offset. */
  offset: number;
}

export interface AppendResult {
  rows: number;
  bytes: number;
}

/** Count (and bytes) of lines per step bucket, per group of label values. */
export interface CountQuery extends ScanQuery {
  /** Bucket width. Buckets start at startNs + k*stepNs. */
  stepNs: bigint;
  /**
   * Group by these stream labels (empty: one group). `detected_level` also reads the row's
   * `detected_level` structured metadata when the stream has no such label; no other
   * metadata key is visible to counts.
   */
  by: string[];
}

export interface CountSeries {
  labels: Labels;
  /** Aligned with buckets: [bucketStartNs, count, bytes]. Empty buckets may be omitted. */
  points: Array<[bigint, number, number]>;
}

export interface RetentionPolicy {
  /** Drop partitions whose newest line is older than now - maxAgeNs. */
  maxAgeNs?: bigint;
  /** Drop oldest partitions until the data on disk is at most this many bytes. */
  maxBytes?: number;
}

export interface EngineStats {
  rows: number;
  /** Bytes of line text ingested (raw). */
  rawBytes: number;
  /** Bytes on disk. */
  diskBytes: number;
  streams: number;
  partitions: number;
}

export interface StoreEngine {
  /**
   * Store rows for a tenant and, in the same transaction, raise the given source
   * watermarks. Resolves only once durable: a crash after resolution loses nothing.
   * Either all rows are stored or none.
   */
  append(tenant: string, rows: LogRow[], offsets?: SourceOffset[]): Promise<AppendResult>;
  /** Committed watermarks for these sources (missing: never seen). */
  committedOffsets(tenant: string, sources: string[]): Promise<Map<string, number>>;
  /** Rows matching the query, in batches, in `direction` order by timestamp. */
  scan(q: ScanQuery): AsyncIterable<StoredRow[]>;
  /** Line counts per step per group, computed in the engine (log volume, count_over_time). */
  count(q: CountQuery): Promise<CountSeries[]>;
  labelNames(tenant: string, startNs: bigint, endNs: bigint, matchers?: LabelMatcher[]): Promise<string[]>;
  labelValues(tenant: string, name: string, startNs: bigint, endNs: bigint, matchers?: LabelMatcher[]): Promise<string[]>;
  /** Distinct label sets of streams matching any of the matcher sets. */
  series(tenant: string, matcherSets: LabelMatcher[][], startNs: bigint, endNs: bigint): Promise<Labels[]>;
  applyRetention(policy: RetentionPolicy, nowNs: bigint): Promise<{ droppedPartitions: number }>;
  stats(tenant?: string): Promise<EngineStats>;
  close(): Promise<void>;
}
