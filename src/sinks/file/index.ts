import { z } from 'zod';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { sinkCommon } from '../shared/common.js';
import { NdjsonEncoder } from '../shared/ndjson.js';

export const fileSinkSchema = z.strictObject({
  type: z.literal('file'),
  ...sinkCommon,
  path: z.string().min(1),
  /** fsync after every write: acknowledged events then survive a power loss, at a cost. */
  fsync: z.boolean().default(false),
});
export type FileSinkConfig = z.infer<typeof fileSinkSchema>;

/** Appends events as NDJSON, one per line. A write is acknowledged once write(2) returned. */
export class FileSink implements Sink {
  private fh: FileHandle | null = null;
  private readonly enc = new NdjsonEncoder();

  constructor(private readonly cfg: FileSinkConfig, private readonly ctx: ComponentContext) {}

  private async handle(): Promise<FileHandle> {
    if (!this.fh) {
      await mkdir(dirname(this.cfg.path), { recursive: true });
      this.fh = await open(this.cfg.path, 'a', 0o640);
    }
    return this.fh;
  }

  async write(batches: EventBatch[]): Promise<void> {
    const enc = this.enc;
    enc.reset();
    let n = 0;
    for (const b of batches) {
      const evs = b.events;
      for (let i = 0; i < evs.length; i++) enc.add(evs[i], b.source);
      n += evs.length;
    }
    if (n === 0) return;
    const data = enc.bytes();
    const fh = await this.handle();
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
    if (this.cfg.fsync) await fh.sync();
    this.ctx.metrics.sinkEvents.inc({ component: this.ctx.name }, n);
    this.ctx.metrics.sinkBytes.inc({ component: this.ctx.name }, data.length);
  }

  async stop(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) {
      await fh.sync().catch(() => undefined);
      await fh.close();
    }
  }
}
