import type { EventSource, LogEvent } from './event.js';

/**
 * A group of events from one source, moved through the pipeline as a unit. The batch is
 * acknowledged once every sink it was routed to has delivered it; only then may the
 * source advance its checkpoint past it.
 */
export class EventBatch {
  /** Approximate memory held, for byte-bounded buffers. */
  readonly bytes: number;
  private pending = 0;
  private settled = false;

  constructor(
    readonly source: EventSource,
    readonly events: LogEvent[],
    /** Called exactly once when all receivers acknowledged (or the batch was routed nowhere). */
    private readonly onAck: () => void = noop,
  ) {
    let b = 64;
    for (let i = 0; i < events.length; i++) b += events[i].line.length + events[i].ts.length + 48;
    this.bytes = b;
  }

  /** Declare how many receivers must acknowledge. */
  expect(n: number): void {
    this.pending += n;
    if (this.pending === 0) this.finish();
  }

  /** One receiver delivered the batch. */
  ack(): void {
    if (this.settled) return;
    if (--this.pending <= 0) this.finish();
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    this.onAck();
  }

  get isAcked(): boolean {
    return this.settled;
  }
}

function noop(): void {}
