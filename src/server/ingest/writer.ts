import { nowNs } from '../../core/time.js';
import type { Labels, LogRow, SourceOffset, StoreEngine } from '../../store/engine.js';
import { HttpError } from '../errors.js';

export interface IngestEntry {
  tsNs: bigint;
  line: string;
  /** Byte offset in the source (native push): replays at or below the watermark are dropped. */
  offset?: number;
  metadata?: Labels;
}

export interface IngestStream {
  labels: Labels;
  /** Source identity for replay dedupe (native push only). */
  source?: string;
  entries: IngestEntry[];
}

export interface IngestLimits {
  maxLineBytes: number;
  /** ms; 0 = no limit. */
  rejectOlderThanMs: number;
  rejectNewerThanMs: number;
  maxPending: number;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
}

/**
 * The single writer in front of the engine. Requests are validated as a whole before they
 * are queued (a rejected request writes nothing), then applied one at a time, so the replay
 * check (committed watermark) and the append that raises it cannot interleave with another
 * request for the same source. A full queue answers 429 instead of growing.
 */
export class IngestWriter {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  accepted = 0;
  duplicates = 0;

  constructor(private readonly engine: StoreEngine, private readonly limits: IngestLimits) {}

  submit(tenant: string, streams: IngestStream[]): Promise<IngestResult> {
    this.validate(streams);
    if (this.pending >= this.limits.maxPending) {
      return Promise.reject(new HttpError(429, `ingest queue full (${this.pending} requests waiting); retry later`, { 'retry-after': '1' }));
    }
    this.pending++;
    const run = this.tail.then(() => this.apply(tenant, streams));
    this.tail = run.catch(() => undefined);
    return run.finally(() => { this.pending--; });
  }

  private validate(streams: IngestStream[]): void {
    const now = nowNs();
    const oldest = this.limits.rejectOlderThanMs > 0 ? now - BigInt(this.limits.rejectOlderThanMs) * 1_000_000n : null;
    const newest = now + BigInt(this.limits.rejectNewerThanMs) * 1_000_000n;
    streams.forEach((s, i) => s.entries.forEach((e, j) => {
      if (oldest !== null && e.tsNs < oldest) throw new HttpError(400, `streams[${i}].entries[${j}]: timestamp ${e.tsNs} is older than the accepted window (${this.limits.rejectOlderThanMs / 1000}s)`);
      if (e.tsNs > newest) throw new HttpError(400, `streams[${i}].entries[${j}]: timestamp ${e.tsNs} is too far in the future (more than ${this.limits.rejectNewerThanMs / 1000}s ahead)`);
      if (Buffer.byteLength(e.line) > this.limits.maxLineBytes) throw new HttpError(400, `streams[${i}].entries[${j}]: line longer than ${this.limits.maxLineBytes} bytes`);
    }));
  }

  private async apply(tenant: string, streams: IngestStream[]): Promise<IngestResult> {
    const sources = [...new Set(streams.flatMap((s) => (s.source ? [s.source] : [])))];
    const committed = sources.length ? await this.engine.committedOffsets(tenant, sources) : new Map<string, number>();
    const rows: LogRow[] = [];
    const raised = new Map<string, number>();
    let duplicates = 0;
    for (const s of streams) {
      const floor = s.source !== undefined ? (committed.get(s.source) ?? -1) : -1;
      let high = raised.get(s.source ?? '') ?? floor;
      for (const e of s.entries) {
        if (s.source !== undefined && e.offset !== undefined) {
          if (e.offset <= floor) {
            duplicates++;
            continue;
          }
          if (e.offset > high) high = e.offset;
        }
        rows.push({ tsNs: e.tsNs, labels: s.labels, line: e.line, metadata: e.metadata });
      }
      if (s.source !== undefined && high > floor) raised.set(s.source, high);
    }
    const offsets: SourceOffset[] = [...raised].map(([source, offset]) => ({ source, offset }));
    if (rows.length > 0 || offsets.length > 0) await this.engine.append(tenant, rows, offsets);
    this.accepted += rows.length;
    this.duplicates += duplicates;
    return { accepted: rows.length, duplicates };
  }

  /** Resolves when everything submitted so far was applied. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
