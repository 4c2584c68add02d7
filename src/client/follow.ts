import type WebSocket from 'ws';
import { formatRfc3339Nano, nowNs } from '../core/time.js';
import { ClientError } from './errors.js';
import type { MetadataSplitter, SplitEntry } from './format.js';
import { parseTailFrame, type Entry, type StoreClient } from './http.js';
import type { Io } from './io.js';
import { pageLines } from './paginate.js';

/** How far back a resume looks for lines printed out of order (different pods, clock skew). */
export const RESUME_LOOKBACK_NS = 10_000_000_000n;

export interface FollowOptions {
  query: { selector: string; pipeline: string };
  /**
   * Following never reaches back before this: older lines were printed or deliberately left
   * out (--since, --tail) before following began.
   */
  floorNs: bigint;
  /** Lines already printed at or after floorNs (they are not printed again). */
  initial?: SplitEntry[];
  splitter: MetadataSplitter;
  /** The stream selector, to learn the labels of streams that appear while following. */
  match: string;
  print: (entries: SplitEntry[]) => Promise<void>;
  io: Io;
  pageSize?: number;
  /** Backoff bounds (ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * What has been printed near the newest line: how many times each (time, stream, line) was
 * printed, for lines within RESUME_LOOKBACK of the newest, so a resume neither repeats nor
 * loses them. Keys use the stream's own labels (tail frames carry no structured metadata).
 */
export class PrintedSet {
  private readonly counts = new Map<string, { ts: bigint; n: number }>();
  newest = -1n;

  static key(e: SplitEntry): string {
    const l = e.labels;
    const labels = Object.keys(l).sort().map((k) => `${k}=${l[k]}`).join('\u0001');
    return `${e.tsNs}\u0000${labels}\u0000${e.line}`;
  }

  printed(key: string): number {
    return this.counts.get(key)?.n ?? 0;
  }

  record(e: SplitEntry, key: string, n: number): void {
    this.counts.set(key, { ts: e.tsNs, n });
    if (e.tsNs > this.newest) this.newest = e.tsNs;
  }

  prune(): void {
    if (this.counts.size < 10_000) return;
    const floor = this.newest - RESUME_LOOKBACK_NS;
    for (const [k, v] of this.counts) if (v.ts < floor) this.counts.delete(k);
  }

  /**
   * Of a sequence that holds every line of its span (a catch-up query, or the live lines
   * buffered meanwhile), the lines not printed yet: the k-th copy of a line is new only if
   * fewer than k copies were printed.
   */
  fresh(entries: SplitEntry[]): SplitEntry[] {
    const local = new Map<string, number>();
    const out: SplitEntry[] = [];
    for (const e of entries) {
      const k = PrintedSet.key(e);
      const n = (local.get(k) ?? 0) + 1;
      local.set(k, n);
      if (n > this.printed(k)) {
        this.record(e, k, n);
        out.push(e);
      }
    }
    this.prune();
    return out;
  }

  /** Live lines are new by definition: each is one more copy. */
  live(entries: SplitEntry[]): SplitEntry[] {
    for (const e of entries) {
      const k = PrintedSet.key(e);
      this.record(e, k, this.printed(k) + 1);
    }
    this.prune();
    return entries;
  }
}

/** Waits `ms`, or less if `signal` aborts; the abort listener goes when the wait ends (reconnects add one each). */
const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((r) => {
  const onAbort = () => { clearTimeout(t); r(); };
  const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); r(); }, ms);
  signal?.addEventListener('abort', onAbort, { once: true });
});

/**
 * `-f`: lines as they arrive, through the store's live tail, surviving store restarts.
 *
 * The first connection catches up from floorNs. Each connection: open the tail socket (the store subscribes it to new lines at once), then
 * catch up with paged queries from where printing stopped (less a lookback for lines from
 * other pods printed out of order), then print the live lines that arrived meanwhile. Lines
 * seen both ways are printed once (PrintedSet). On a lost connection: say so on stderr, retry
 * with exponential backoff, and resume the same way.
 */
export async function follow(client: StoreClient, opts: FollowOptions): Promise<void> {
  const { io } = opts;
  const printed = new PrintedSet();
  // Lines reach the store late (an agent ships a line a moment after it was written): the
  // first catch-up looks back from the end of what was printed, skipping what was.
  printed.live(opts.initial ?? []);
  const minB = opts.minBackoffMs ?? 250;
  const maxB = opts.maxBackoffMs ?? 5000;
  let backoff = minB;
  let connected = false;
  let everConnected = false;
  let lostAt = '';

  const split = async (entries: Entry[]): Promise<SplitEntry[]> => {
    if (entries.some((e) => !opts.splitter.knows(e.labels))) {
      // A stream that appeared while following (a new pod): learn its labels.
      const series = await client.series(opts.match, { start: opts.floorNs - 3_600_000_000_000n, end: nowNs() + 3_600_000_000_000n }).catch(() => null);
      if (series) opts.splitter.setSeries(series);
    }
    return entries.map((e) => opts.splitter.entry(e));
  };

  while (!io.signal?.aborted) {
    const from = printed.newest - RESUME_LOOKBACK_NS > opts.floorNs ? printed.newest - RESUME_LOOKBACK_NS : opts.floorNs;
    let ws: WebSocket;
    try {
      ws = client.tail({ query: opts.query.selector + opts.query.pipeline, start: nowNs(), limit: 1 });
    } catch (err) {
      throw new ClientError(`cannot open the live tail at ${client.cfg.addr}: ${(err as Error).message}`);
    }
    const outcome = await new Promise<{ kind: 'closed'; why: string } | { kind: 'fatal'; err: ClientError } | { kind: 'aborted' }>((resolve) => {
      let catchingUp = true;
      const buffered: Entry[] = [];
      let chain: Promise<void> = Promise.resolve();
      let settled = false;
      const done = (o: { kind: 'closed'; why: string } | { kind: 'fatal'; err: ClientError } | { kind: 'aborted' }) => {
        if (settled) return;
        settled = true;
        io.signal?.removeEventListener('abort', onAbort);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
        // Let lines already queued for printing go out first.
        void chain.then(() => resolve(o), () => resolve(o));
      };
      const onAbort = () => done({ kind: 'aborted' });
      io.signal?.addEventListener('abort', onAbort, { once: true });
      const enqueue = (fn: () => Promise<void>) => {
        chain = chain.then(fn).catch((err: unknown) => {
          if (err instanceof ClientError && !err.retryable) done({ kind: 'fatal', err });
          else done({ kind: 'closed', why: (err as Error).message });
        });
      };

      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => {
          const err = client.httpError(res.statusCode ?? 0, body);
          if (err.retryable) done({ kind: 'closed', why: err.message });
          else done({ kind: 'fatal', err });
        });
        res.on('error', () => done({ kind: 'closed', why: 'connection reset' }));
      });
      ws.on('error', (err) => done({ kind: 'closed', why: client.unreachable(err).message }));
      ws.on('close', (code, reason) => {
        const why = reason.toString();
        // 4400: the store refused the request (bad token, bad query): retrying cannot help.
        if (code === 4400) {
          const e = /token|authentication/i.test(why) ? client.httpError(401, why) : client.httpError(400, why, opts.query.selector + opts.query.pipeline);
          done({ kind: 'fatal', err: e });
        } else done({ kind: 'closed', why: `connection closed (${code}${why ? `: ${why}` : ''})` });
      });
      ws.on('message', (data: Buffer) => {
        let frame;
        try {
          frame = parseTailFrame(data.toString());
        } catch (err) {
          done({ kind: 'closed', why: `unexpected frame from the store: ${(err as Error).message}` });
          return;
        }
        if (frame.dropped) io.err(`loggy: warning: the store dropped ${frame.dropped} live lines because this client fell behind\n`);
        if (catchingUp) buffered.push(...frame.entries);
        else enqueue(async () => opts.print(printed.live(await split(frame.entries))));
      });
      ws.on('open', () => {
        connected = true;
        backoff = minB;
        if (everConnected) io.err(`loggy: reconnected to ${client.cfg.addr}; resuming from ${formatRfc3339Nano(from)}\n`);
        everConnected = true;
        enqueue(async () => {
          for await (const page of pageLines(client, { query: opts.query.selector + opts.query.pipeline, split: opts.query, startNs: from, endNs: nowNs() + 3_600_000_000_000n, direction: 'forward', pageSize: opts.pageSize })) {
            const fresh = printed.fresh(await split(page));
            if (fresh.length) await opts.print(fresh);
          }
          // Lines keep arriving while split() awaits the store: drain until a pass finds the
          // buffer empty, and switch to live printing in that same synchronous step.
          for (let b = buffered.splice(0); b.length > 0; b = buffered.splice(0)) {
            const live = printed.fresh(await split(b));
            if (live.length) await opts.print(live);
          }
          catchingUp = false;
        });
      });
    });
    if (outcome.kind === 'aborted') return;
    if (outcome.kind === 'fatal') throw outcome.err;
    if (connected) {
      lostAt = formatRfc3339Nano(nowNs());
      io.err(`loggy: lost the connection to ${client.cfg.addr} at ${lostAt} (${outcome.why}); reconnecting\n`);
    }
    connected = false;
    await sleep(backoff, io.signal);
    backoff = Math.min(maxB, backoff * 2);
  }
}
