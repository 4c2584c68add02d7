/**
 * What a tailer needs of a file: positioned reads, its size, closing. A `FileHandle` is one;
 * so is an in-memory copy (a rotated file recovered from its compressed copy).
 */
export interface LogFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** A file's content held in memory, read like a file. */
export class MemoryLogFile implements LogFile {
  constructor(private readonly data: Buffer) {}

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const n = Math.max(0, Math.min(length, this.data.length - position));
    if (n > 0) this.data.copy(buffer, offset, position, position + n);
    return Promise.resolve({ bytesRead: n });
  }

  stat(): Promise<{ size: number }> {
    return Promise.resolve({ size: this.data.length });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
