import { nowNs } from '../core/time.js';
import type { LabelMatcher, LineFilter, StoreEngine } from '../store/engine.js';
import type { TailEntry } from './tail-hub.js';

export interface PollTailOptions {
  engine: StoreEngine;
  tenant: string;
  matchers: LabelMatcher[];
  lineFilters: LineFilter[];
  /** Lines with timestamps after this were not sent yet (the history's last line). */
  afterNs: bigint;
  intervalMs: number;
  /** How far behind the newest timestamp seen a line may arrive and still be sent. */
  lookbackNs: bigint;
  /** Most lines read per poll (the store's query cap). */
  maxLines: number;
  onEntries(entries: TailEntry[]): void;
  onError(err: unknown): void;
}

/**
 * Live tail by reading the engine, for stores whose replicas share one engine (ClickHouse):
 * a line pushed through another replica never passes this one's in-process hub, but it is in
 * the engine a moment later. Every `intervalMs` the window from `lookbackNs` before the newest
 * timestamp already sent up to now is read again, and lines already sent are skipped, so
 * agents' lines that arrive a little late (their own timestamps, batching, retries) still
 * appear; a line arriving more than the look-back late is not tailed (it is still queryable).
 * Returns a stop function.
 */
export function pollTail(o: PollTailOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let horizon = o.afterNs;
  /** Keys of lines sent whose timestamps are still inside the look-back window. */
  const sent = new Map<string, bigint>();
  /** The last read was cut at maxLines: read on from the newest line rather than look back. */
  let saturated = false;

  const poll = async () => {
    const from = saturated ? horizon : horizon - o.lookbackNs;
    const fresh: TailEntry[] = [];
    let read = 0;
    for await (const rows of o.engine.scan({ tenant: o.tenant, matchers: o.matchers, lineFilters: o.lineFilters, startNs: from > 0n ? from : 0n, endNs: nowNs() + 1n, direction: 'forward', limit: o.maxLines })) {
      if (stopped) return;
      for (const r of rows) {
        read++;
        // The first poll's window starts at the history's last line: those were sent with it.
        if (r.tsNs <= o.afterNs) continue;
        const key = `${r.tsNs}\u0000${JSON.stringify(r.labels)}\u0000${r.line}`;
        if (sent.has(key)) continue;
        sent.set(key, r.tsNs);
        fresh.push({ tsNs: r.tsNs, labels: r.labels, line: r.line, metadata: r.metadata });
        if (r.tsNs > horizon) horizon = r.tsNs;
      }
    }
    const oldest = horizon - o.lookbackNs;
    for (const [k, ts] of sent) if (ts < oldest) sent.delete(k);
    if (fresh.length > 0) o.onEntries(fresh);
    // More lines than one read holds: looking back again would read the same capped window
    // forever. Under such a flood, late lines are not looked back for until it calms down.
    saturated = read >= o.maxLines;
  };

  const loop = () => {
    if (stopped) return;
    poll().then(
      () => { if (!stopped) timer = setTimeout(loop, o.intervalMs); },
      (err: unknown) => { if (!stopped) o.onError(err); },
    );
  };
  timer = setTimeout(loop, o.intervalMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
