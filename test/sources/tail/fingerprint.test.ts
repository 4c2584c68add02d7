import { describe, expect, it } from 'vitest';
import { fingerprint, firstLineHash } from '../../../src/sources/tail/fingerprint.js';
import { MemoryLogFile } from '../../../src/sources/tail/log-file.js';

describe('fingerprints', () => {
  // Docker's json-file puts the time at the end: two files opening with the same long message.
  const docker = (time: string) => new MemoryLogFile(Buffer.from(`{"log":"${'same long message '.repeat(20)}\\n","stream":"stdout","time":"${time}"}\n{"log":"next"}\n`));

  it('names content by its whole first line, not only the first 256 bytes', async () => {
    const a = docker('2026-11-23T10:00:00.000000001Z');
    const b = docker('2026-11-23T10:00:00.000000002Z');
    // The 256-byte fingerprint (enough to tell a reused inode) cannot tell these apart...
    expect((await fingerprint(a))!.fp).toBe((await fingerprint(b))!.fp);
    // ...the content id must.
    expect(await firstLineHash(a)).not.toBe(await firstLineHash(b));
    expect(await firstLineHash(a)).toBe(await firstLineHash(docker('2026-11-23T10:00:00.000000001Z')));
  });

  it('has no content id before the first line is complete', async () => {
    expect(await firstLineHash(new MemoryLogFile(Buffer.from('partial')))).toBeNull();
  });
});
