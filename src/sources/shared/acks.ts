import { Refusal } from './refusal.js';

/**
 * Requests waiting for the acknowledgement of their batches. A request is answered once every
 * batch it emitted was acknowledged (delivered by every sink, or written to a disk buffer), or
 * refused with 504 after `timeoutMs`, or with 503 when the source closes first.
 */
export class AckWaiters {
  private readonly waiting = new Set<(status: number) => void>();

  constructor(private readonly timeoutMs: number) {}

  /** Resolves when every ack resolved; throws a Refusal (504, 503) otherwise. */
  async wait(acks: ReadonlyArray<Promise<void>>): Promise<void> {
    let settle!: (status: number) => void;
    const answer = new Promise<number>((r) => { settle = r; });
    this.waiting.add(settle);
    const timer = setTimeout(() => settle(504), this.timeoutMs);
    void Promise.all(acks).then(() => settle(200));
    const status = await answer;
    clearTimeout(timer);
    this.waiting.delete(settle);
    if (status === 504) throw new Refusal(504, `not acknowledged within ${this.timeoutMs} ms; the events may still be delivered (a retry may duplicate them)`, 'ack_timeout');
    if (status === 503) throw new Refusal(503, 'the agent shut down before the events were delivered; retry', 'shutdown');
  }

  /** At close: whoever still waits is answered 503. */
  releaseAll(): void {
    for (const settle of [...this.waiting]) settle(503);
  }
}
