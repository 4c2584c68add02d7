/**
 * A FIFO pool of read buffers. Bounds memory (slots × size, whatever the number of files)
 * and gives fairness: a tailer holds a slot for one chunk, then queues behind the others,
 * so one hot file cannot starve the rest.
 */
export class ReadSlots {
  private readonly free: Buffer[] = [];
  private readonly waiters: Array<(b: Buffer) => void> = [];

  constructor(count: number, readonly size: number) {
    for (let i = 0; i < count; i++) this.free.push(Buffer.allocUnsafe(size));
  }

  acquire(): Promise<Buffer> {
    const b = this.free.pop();
    if (b) return Promise.resolve(b);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(b: Buffer): void {
    const w = this.waiters.shift();
    if (w) w(b);
    else this.free.push(b);
  }
}
