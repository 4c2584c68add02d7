import type {
  AppendResult,
  CountQuery,
  CountSeries,
  EngineStats,
  LabelMatcher,
  Labels,
  LogRow,
  RetentionPolicy,
  ScanQuery,
  SourceOffset,
  StoredRow,
  StoreEngine,
} from '../engine.js';
import { byLevel, CountAccumulator, withDetectedLevel } from '../shared/count.js';
import { compareBigint, compareStrings, labelsFromEntries, labelValue } from '../shared/labels.js';
import { labelsPredicate, linePredicate } from '../shared/match.js';
import { partitionOf, type PartitionGranularity } from '../shared/partition.js';
import {
  checkCountQuery,
  checkMatchers,
  checkRange,
  checkRetention,
  checkScanQuery,
  checkTenant,
  normalizeOffsets,
  normalizeRows,
} from '../shared/validate.js';

/**
 * The reference engine: plain arrays per tenant, every query a linear filter and sort. It is
 * meant to be obviously correct, not fast — route tests use it, and the conformance suite uses
 * it as the oracle for the DuckDB engine. Nothing is durable.
 *
 * Semantics both engines share (see test/store/conformance.ts):
 * - an empty label value is no label; streams need at least one non-empty label;
 * - rows with equal timestamps are ordered by stream id, then by insertion order
 *   (reversed as a whole for `backward`);
 * - "disk bytes" here are the UTF-8 bytes of the lines, so size retention has a measure.
 */

export interface MemoryEngineOptions {
  partition?: PartitionGranularity;
  /** Rows per batch yielded by `scan`. */
  scanBatchRows?: number;
}

interface MemRow {
  tsNs: bigint;
  streamId: bigint;
  key: string;
  labels: Labels;
  line: string;
  metadata?: Labels;
  bytes: number;
  /** Insertion order, the last tie-breaker. */
  seq: number;
  partition: string;
  partitionStartNs: bigint;
}

interface Tenant {
  rows: MemRow[];
  offsets: Map<string, number>;
}

export class MemoryEngine implements StoreEngine {
  private readonly tenants = new Map<string, Tenant>();
  private readonly granularity: PartitionGranularity;
  private readonly batchRows: number;
  private seq = 0;
  private closed = false;

  constructor(opts: MemoryEngineOptions = {}) {
    this.granularity = opts.partition ?? 'day';
    this.batchRows = opts.scanBatchRows ?? 1000;
  }

  async append(tenant: string, rows: LogRow[], offsets?: SourceOffset[]): Promise<AppendResult> {
    this.checkOpen();
    checkTenant(tenant);
    // Validate everything before mutating anything: all rows or none.
    const norm = normalizeRows(rows);
    const offs = normalizeOffsets(offsets);
    const t = this.tenant(tenant);
    let bytes = 0;
    for (const r of norm) {
      const p = partitionOf(r.tsNs, this.granularity);
      t.rows.push({
        tsNs: r.tsNs,
        streamId: r.streamId,
        key: r.key,
        labels: Object.freeze(labelsFromEntries(r.entries)),
        line: r.line,
        metadata: r.metadata ? Object.freeze(labelsFromEntries(r.metadata)) : undefined,
        bytes: r.bytes,
        seq: this.seq++,
        partition: p.name,
        partitionStartNs: p.startNs,
      });
      bytes += r.bytes;
    }
    for (const [source, offset] of offs) t.offsets.set(source, Math.max(t.offsets.get(source) ?? 0, offset));
    return { rows: norm.length, bytes };
  }

  async committedOffsets(tenant: string, sources: string[]): Promise<Map<string, number>> {
    this.checkOpen();
    checkTenant(tenant);
    const out = new Map<string, number>();
    const offsets = this.tenants.get(tenant)?.offsets;
    for (const s of sources) {
      const v = offsets?.get(s);
      if (v !== undefined) out.set(s, v);
    }
    return out;
  }

  async *scan(q: ScanQuery): AsyncIterable<StoredRow[]> {
    this.checkOpen();
    checkScanQuery(q);
    const rows = this.select(q);
    rows.sort(compareRows);
    if (q.direction === 'backward') rows.reverse();
    const limited = q.limit === undefined ? rows : rows.slice(0, q.limit);
    for (let i = 0; i < limited.length; i += this.batchRows) {
      yield limited.slice(i, i + this.batchRows).map(toStored);
    }
  }

  async count(q: CountQuery): Promise<CountSeries[]> {
    this.checkOpen();
    checkCountQuery(q);
    const acc = new CountAccumulator(q.by);
    const level = byLevel(q);
    for (const r of this.select(q)) acc.add(level ? withDetectedLevel(r.labels, r.metadata?.detected_level) : r.labels, q.startNs + ((r.tsNs - q.startNs) / q.stepNs) * q.stepNs, 1, r.bytes);
    return acc.result();
  }

  async labelNames(tenant: string, startNs: bigint, endNs: bigint, matchers: LabelMatcher[] = []): Promise<string[]> {
    const names = new Set<string>();
    for (const labels of this.streamsIn(tenant, [matchers], startNs, endNs)) for (const n of Object.keys(labels)) names.add(n);
    return [...names].sort(compareStrings);
  }

  async labelValues(tenant: string, name: string, startNs: bigint, endNs: bigint, matchers: LabelMatcher[] = []): Promise<string[]> {
    const values = new Set<string>();
    for (const labels of this.streamsIn(tenant, [matchers], startNs, endNs)) {
      const v = labelValue(labels, name);
      if (v !== '') values.add(v);
    }
    return [...values].sort(compareStrings);
  }

  async series(tenant: string, matcherSets: LabelMatcher[][], startNs: bigint, endNs: bigint): Promise<Labels[]> {
    return this.streamsIn(tenant, matcherSets, startNs, endNs);
  }

  async applyRetention(policy: RetentionPolicy, nowNs: bigint): Promise<{ droppedPartitions: number }> {
    this.checkOpen();
    checkRetention(policy, nowNs);
    const parts = new Map<string, { startNs: bigint; maxTs: bigint; bytes: number }>();
    for (const t of this.tenants.values()) {
      for (const r of t.rows) {
        const p = parts.get(r.partition) ?? { startNs: r.partitionStartNs, maxTs: r.tsNs, bytes: 0 };
        if (r.tsNs > p.maxTs) p.maxTs = r.tsNs;
        p.bytes += r.bytes;
        parts.set(r.partition, p);
      }
    }
    const oldestFirst = [...parts.entries()].sort((a, b) => compareBigint(a[1].startNs, b[1].startNs));
    const drop = new Set<string>();
    if (policy.maxAgeNs !== undefined) {
      const cutoff = nowNs - policy.maxAgeNs;
      for (const [name, p] of oldestFirst) if (p.maxTs < cutoff) drop.add(name);
    }
    if (policy.maxBytes !== undefined) {
      let total = oldestFirst.reduce((s, [name, p]) => s + (drop.has(name) ? 0 : p.bytes), 0);
      for (const [name, p] of oldestFirst) {
        if (total <= policy.maxBytes) break;
        if (!drop.has(name)) {
          drop.add(name);
          total -= p.bytes;
        }
      }
    }
    if (drop.size > 0) for (const t of this.tenants.values()) t.rows = t.rows.filter((r) => !drop.has(r.partition));
    return { droppedPartitions: drop.size };
  }

  async stats(tenant?: string): Promise<EngineStats> {
    this.checkOpen();
    if (tenant !== undefined) checkTenant(tenant);
    const tenants = tenant === undefined ? [...this.tenants.values()] : [this.tenants.get(tenant)].filter((t) => t !== undefined);
    let rows = 0;
    let rawBytes = 0;
    const streams = new Set<string>();
    const partitions = new Set<string>();
    tenants.forEach((t, i) => {
      for (const r of t.rows) {
        rows++;
        rawBytes += r.bytes;
        streams.add(`${i}\u0000${r.key}`);
        partitions.add(r.partition);
      }
    });
    return { rows, rawBytes, diskBytes: rawBytes, streams: streams.size, partitions: partitions.size };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('store engine is closed');
  }

  private tenant(name: string): Tenant {
    let t = this.tenants.get(name);
    if (!t) this.tenants.set(name, (t = { rows: [], offsets: new Map() }));
    return t;
  }

  /** Rows of the query's tenant matching its matchers, time range and line filters (unsorted). */
  private select(q: ScanQuery): MemRow[] {
    const matches = labelsPredicate(q.matchers);
    const passes = linePredicate(q.lineFilters);
    const rows = this.tenants.get(q.tenant)?.rows ?? [];
    return rows.filter((r) => r.tsNs >= q.startNs && r.tsNs < q.endNs && matches(r.labels) && passes(r.line));
  }

  /** Label sets of streams with a line in [start, end) matching any of the matcher sets. */
  private streamsIn(tenant: string, matcherSets: LabelMatcher[][], startNs: bigint, endNs: bigint): Labels[] {
    this.checkOpen();
    checkTenant(tenant);
    checkRange(startNs, endNs);
    matcherSets.forEach(checkMatchers);
    const preds = matcherSets.map(labelsPredicate);
    const found = new Map<string, Labels>();
    for (const r of this.tenants.get(tenant)?.rows ?? []) {
      if (r.tsNs < startNs || r.tsNs >= endNs || found.has(r.key)) continue;
      if (preds.some((p) => p(r.labels))) found.set(r.key, r.labels);
    }
    return [...found.entries()].sort((a, b) => compareStrings(a[0], b[0])).map(([, l]) => l);
  }
}

function compareRows(a: MemRow, b: MemRow): number {
  return compareBigint(a.tsNs, b.tsNs) || compareBigint(a.streamId, b.streamId) || a.seq - b.seq;
}

function toStored(r: MemRow): StoredRow {
  return r.metadata ? { tsNs: r.tsNs, labels: r.labels, line: r.line, metadata: r.metadata } : { tsNs: r.tsNs, labels: r.labels, line: r.line };
}
