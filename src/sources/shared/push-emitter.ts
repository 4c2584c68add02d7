import { createHash, randomBytes } from 'node:crypto';
import { EventBatch } from '../../core/batch.js';
import type { SourceContext } from '../../core/component.js';
import { makeSource, type EventSource, type Labels, type LogEvent } from '../../core/event.js';

/** Events of one request that share labels: one batch source. */
export interface PushGroup {
  labels: Labels;
  events: LogEvent[];
}

const MAX_BATCH_EVENTS = 1000;
const MAX_SOURCES = 10_000;

/**
 * Source identity and offsets for events that arrive by push, and their emission.
 *
 * The pipeline (the loggy sink, and the store's replay dedupe) expects a source id and offsets
 * strictly increasing per (id, stream), and the store keeps, per source, the highest offset it
 * committed and drops anything at or below it. A push has no file, so the id is
 * `<kind>:<component>:<boot>:<labels hash>` with `boot` random per start of the source, and the
 * offset a counter of this instance assigned at emission, in emission order. The same batch
 * re-sent (a retry, a disk buffer replayed after a crash) keeps its id and offsets and is dropped
 * as the duplicate it is; a distinct push always gets a higher offset, and after a restart a
 * fresh `boot` (the counter starts again at 1), so it is never mistaken for a replay. The labels
 * are part of the id because the loggy sink groups events by id and stream and gives the group
 * the labels of its first batch.
 */
export class PushEmitter {
  private readonly boot = randomBytes(6).toString('hex');
  private readonly sources = new Map<string, EventSource>();
  private offset = 0;

  constructor(readonly kind: string, private readonly ctx: SourceContext) {}

  /**
   * Emits the groups in batches of at most 1000 events and returns one promise per batch,
   * resolved when the batch is acknowledged. Synchronous: offsets follow emission order.
   */
  emit(groups: Iterable<PushGroup>): { acks: Array<Promise<void>>; events: number } {
    let events = 0;
    const acks: Array<Promise<void>> = [];
    for (const { labels, events: list } of groups) {
      if (list.length === 0) continue;
      const source = this.sourceFor(labels);
      for (const ev of list) ev.offset = ++this.offset;
      for (let i = 0; i < list.length; i += MAX_BATCH_EVENTS) {
        const part = list.length <= MAX_BATCH_EVENTS ? list : list.slice(i, i + MAX_BATCH_EVENTS);
        let acked!: () => void;
        acks.push(new Promise<void>((r) => { acked = r; }));
        this.ctx.emit(new EventBatch(source, part, () => acked()));
      }
      events += list.length;
    }
    return { acks, events };
  }

  private sourceFor(labels: Labels): EventSource {
    const json = JSON.stringify(labels);
    let s = this.sources.get(json);
    if (!s) {
      // A bound on memory for clients that vary labels without end; a forgotten id is made
      // again identically (same boot, same hash), so nothing changes for the store.
      if (this.sources.size > MAX_SOURCES) this.sources.clear();
      const hash = createHash('sha256').update(json).digest('hex').slice(0, 16);
      s = makeSource(`${this.kind}:${this.ctx.name}:${this.boot}:${hash}`, this.ctx.name, labels);
      this.sources.set(json, s);
    }
    return s;
  }
}
