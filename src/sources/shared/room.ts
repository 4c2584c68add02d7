import { Refusal } from './refusal.js';

/**
 * Waiting for room in the pipeline before reading a body: a full pipeline holds a request for
 * `waitMs`, then turns it away with 429 and Retry-After, instead of holding bodies in memory
 * without bound. One wait on the pipeline serves every request, so requests turned away leave
 * no waiters behind.
 */
export class RoomGate {
  private room: Promise<void> | null = null;

  constructor(private readonly waitForRoom: () => Promise<void>, private readonly waitMs: number) {}

  wait(): Promise<void> {
    this.room ??= this.waitForRoom().finally(() => { this.room = null; });
    let timer: NodeJS.Timeout | undefined;
    const full = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const retry = Math.max(1, Math.ceil(this.waitMs / 1000));
        reject(new Refusal(429, 'the pipeline is full (sinks behind); retry later', 'backpressure', { 'retry-after': String(retry) }));
      }, this.waitMs);
    });
    return Promise.race([this.room, full]).finally(() => clearTimeout(timer));
  }
}
