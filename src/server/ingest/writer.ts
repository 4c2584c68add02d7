import { nowNs } from '../../core/time.js';
import type { Labels, LogRow, SourceOffset, StoreEngine } from '../../store/engine.js';
import { HttpError } from '../errors.js';
import { withDetectedLevel } from './level.js';

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
  /** Attach detected_level metadata (see level.ts). */
  detectLevel?: boolean;
  /** Most lines per group-committed transaction (default 200,000). */
  maxGroupRows?: number;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Entries refused on their own (partial mode): where in the request, and why. */
  rejected?: RejectedEntry[];
}

export interface RejectedEntry {
  stream: number;
  entry: number;
  reason: string;
}

export interface SubmitOptions {
  /**
   * Refuse only the entries that break a limit and write the rest (the native push, whose
   * answer lists them), instead of refusing the whole request (the Loki and other APIs,
   * whose clients retry or split whole requests).
   */
  partial?: boolean;
}

/**
 * The single writer in front of the engine. Requests are validated before they are queued
 * (a rejected request writes nothing; in partial mode only the bad entries are left out and
 * listed in the answer), then applied in order by one loop, so the
 * replay check (committed watermark) and the append that raises it cannot interleave with
 * another request for the same source. A full queue answers 429 instead of growing.
 *
 * Group commit: whatever queued up while the previous transaction committed goes into the
 * next one (up to `maxGroupRows` lines), so under load one fsync and one set of catalog
 * updates serve many requests. Each request is still acknowledged only after the commit that
 * holds it, and if that commit fails every request in it gets the error: none is half-written.
 */
export class IngestWriter {
  private readonly queue: Array<{ tenant: string; streams: IngestStream[]; rows: number; done: (r: IngestResult | Error) => void }> = [];
  private running: Promise<void> | null = null;
  accepted = 0;
  duplicates = 0;
  /** Transactions committed, and requests they held (their ratio is the grouping achieved). */
  commits = 0;
  grouped = 0;

  constructor(private readonly engine: StoreEngine, private readonly limits: IngestLimits) {}

  submit(tenant: string, streams: IngestStream[], opts: SubmitOptions = {}): Promise<IngestResult> {
    const rejected: RejectedEntry[] = [];
    const rows = this.validate(streams, opts.partial ? rejected : null);
    if (this.queue.length >= this.limits.maxPending) {
      this.refusedFull++;
      return Promise.reject(new HttpError(429, `ingest queue full (${this.queue.length} requests waiting); retry later`, { 'retry-after': '1' }));
    }
    this.rejected += rejected.length;
    const result = new Promise<IngestResult>((resolve, reject) => {
      this.queue.push({ tenant, streams, rows, done: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      this.running ??= this.drain().finally(() => { this.running = null; });
    });
    return rejected.length ? result.then((r) => ({ ...r, rejected })) : result;
  }

  /**
   * Entries refused on their own: for a limit (partial mode), or by a route's decoder before
   * they reached the writer (`countRefused`); and requests refused with 429.
   */
  rejected = 0;
  refusedFull = 0;

  /** Entries a route refused while taking the rest of their request (an invalid OTLP log record). */
  countRefused(n: number): void {
    this.rejected += n;
  }

  get queued(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // One tenant per transaction (the engine appends per tenant), in arrival order.
      const tenant = this.queue[0]!.tenant;
      const group = [this.queue.shift()!];
      let rows = group[0]!.rows;
      while (this.queue.length > 0 && this.queue[0]!.tenant === tenant && rows + this.queue[0]!.rows <= (this.limits.maxGroupRows ?? 200_000)) {
        const next = this.queue.shift()!;
        rows += next.rows;
        group.push(next);
      }
      try {
        const results = await this.apply(tenant, group.map((g) => g.streams));
        this.commits++;
        this.grouped += group.length;
        group.forEach((g, i) => g.done(results[i]!));
      } catch (err) {
        for (const g of group) g.done(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /**
   * Checks every entry; returns the number of entries kept. With `rejected`, entries that break
   * a limit are taken out of their stream and listed there; without it, the first one refuses
   * the whole request.
   */
  private validate(streams: IngestStream[], rejected: RejectedEntry[] | null): number {
    const now = nowNs();
    const oldest = this.limits.rejectOlderThanMs > 0 ? now - BigInt(this.limits.rejectOlderThanMs) * 1_000_000n : null;
    const newest = now + BigInt(this.limits.rejectNewerThanMs) * 1_000_000n;
    let n = 0;
    streams.forEach((s, i) => {
      let kept: IngestEntry[] | null = null;
      s.entries.forEach((e, j) => {
        let reason: string | null = null;
        if (oldest !== null && e.tsNs < oldest) reason = `timestamp ${e.tsNs} is older than the accepted window (${this.limits.rejectOlderThanMs / 1000}s)`;
        else if (e.tsNs > newest) reason = `timestamp ${e.tsNs} is too far in the future (more than ${this.limits.rejectNewerThanMs / 1000}s ahead)`;
        else if (Buffer.byteLength(e.line) > this.limits.maxLineBytes) reason = `line longer than ${this.limits.maxLineBytes} bytes`;
        if (reason === null) {
          kept?.push(e);
          n++;
          return;
        }
        if (!rejected) throw new HttpError(400, `streams[${i}].entries[${j}]: ${reason}`);
        rejected.push({ stream: i, entry: j, reason });
        kept ??= s.entries.slice(0, j);
      });
      if (kept) s.entries = kept;
    });
    return n;
  }

  /**
   * Appends the requests' entries in one transaction. Replays are judged request by request in
   * order, each against the watermarks committed before plus those raised by earlier requests
   * of the group, exactly as if the requests had been committed one by one.
   */
  private async apply(tenant: string, requests: IngestStream[][]): Promise<IngestResult[]> {
    const sources = [...new Set(requests.flatMap((streams) => streams.flatMap((s) => (s.source ? [s.source] : []))))];
    const floors = sources.length ? await this.engine.committedOffsets(tenant, sources) : new Map<string, number>();
    const rows: LogRow[] = [];
    const results: IngestResult[] = [];
    const raisedAll = new Map<string, number>();
    const detect = this.limits.detectLevel === true;
    for (const streams of requests) {
      const raised = new Map<string, number>();
      const seenIn = new Map<string, Set<number>>();
      let accepted = 0;
      let duplicates = 0;
      for (const s of streams) {
        const floor = s.source !== undefined ? (floors.get(s.source) ?? -1) : -1;
        let high = raised.get(s.source ?? '') ?? floor;
        let seen = s.source !== undefined ? seenIn.get(s.source) : undefined;
        if (s.source !== undefined && !seen) seenIn.set(s.source, (seen = new Set()));
        for (const e of s.entries) {
          if (seen && e.offset !== undefined) {
            // A replay: at or below the committed watermark, or an offset this request already
            // holds (an agent's disk buffer can re-send a batch next to its first copy). Only
            // exact repeats count within a request: its entries need not be in offset order.
            if (e.offset <= floor || seen.has(e.offset)) {
              duplicates++;
              continue;
            }
            seen.add(e.offset);
            if (e.offset > high) high = e.offset;
          }
          const metadata = detect ? withDetectedLevel(e.line, s.labels, e.metadata) : e.metadata;
          rows.push({ tsNs: e.tsNs, labels: s.labels, line: e.line, metadata });
          accepted++;
        }
        if (s.source !== undefined && high > floor) raised.set(s.source, high);
      }
      // Later requests of the group see this one's watermarks as committed.
      for (const [source, offset] of raised) {
        floors.set(source, offset);
        raisedAll.set(source, offset);
      }
      results.push({ accepted, duplicates });
    }
    const offsets: SourceOffset[] = [...raisedAll].map(([source, offset]) => ({ source, offset }));
    if (rows.length > 0 || offsets.length > 0) await this.engine.append(tenant, rows, offsets);
    for (const r of results) {
      this.accepted += r.accepted;
      this.duplicates += r.duplicates;
    }
    return results;
  }

  /** Resolves when everything submitted so far was applied. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
