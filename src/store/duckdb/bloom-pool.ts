import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.js';
import { BLOOM_HASHES, BLOOM_MAX_FILL, buildBloom, type Bloom } from '../shared/bloom.js';

/**
 * Builds block blooms on a worker thread while the writer appends the same lines to DuckDB on
 * the main thread: hashing every character costs about as much as the append itself, and the
 * store has a second core. Copying the lines to the worker costs about a third of building
 * the filter here. If the worker fails, blooms are built in-thread (slower, still correct).
 */
export class BloomPool {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (b: Bloom) => void; lines: readonly string[] }>();
  private failed = false;

  constructor(private readonly bitsPerLine: number, private readonly log?: Logger) {}

  build(lines: readonly string[]): Promise<Bloom> {
    const w = this.ensureWorker();
    if (!w) return Promise.resolve(buildBloom(lines, this.bitsPerLine, BLOOM_HASHES, BLOOM_MAX_FILL));
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, lines });
      w.postMessage({ id, lines, bitsPerLine: this.bitsPerLine, k: BLOOM_HASHES, maxFill: BLOOM_MAX_FILL });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.failed = true;
    this.settleInThread();
    if (w) await w.terminate();
  }

  private ensureWorker(): Worker | null {
    if (this.failed) return null;
    if (this.worker) return this.worker;
    const source = `
      const { parentPort } = require('node:worker_threads');
      const buildBloom = ${buildBloom.toString()};
      parentPort.on('message', ({ id, lines, bitsPerLine, k, maxFill }) => {
        const { m, bits } = buildBloom(lines, bitsPerLine, k, maxFill);
        parentPort.postMessage({ id, m, k, bits }, [bits.buffer]);
      });`;
    try {
      const w = new Worker(source, { eval: true });
      w.unref();
      w.on('message', (msg: { id: number; m: number; k: number; bits: Uint8Array }) => {
        const job = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        job?.resolve({ m: msg.m, k: msg.k, bits: msg.bits });
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => { if (this.worker === w) this.fail(new Error(`bloom worker exited with code ${code}`)); });
      this.worker = w;
      return w;
    } catch (err) {
      this.fail(err);
      return null;
    }
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = null;
    this.log?.warn({ err }, 'bloom worker failed; building token blooms on the main thread from now on');
    this.settleInThread();
  }

  private settleInThread(): void {
    for (const [id, job] of this.waiting) {
      this.waiting.delete(id);
      job.resolve(buildBloom(job.lines, this.bitsPerLine, BLOOM_HASHES, BLOOM_MAX_FILL));
    }
  }
}
