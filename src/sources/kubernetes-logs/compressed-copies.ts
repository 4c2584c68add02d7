import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { FileCheckpoint } from '../../core/checkpoints.js';
import { FINGERPRINT_MAX, fingerprintOfHead, hashOf, type Fingerprint } from '../tail/fingerprint.js';

/**
 * Kubelet compresses rotated logs (`0.log.20240101-120000.gz`) once a newer rotation exists.
 * If the agent was down across that (a restart, a SIGKILL), the file it had not finished is
 * gone, but its content is in the `.gz`. This finds that copy by the checkpoint's fingerprint
 * (hash of the first line), so reading can resume inside it at the checkpoint's offset.
 *
 * Each `.gz` is examined once (its first bytes decompressed, cached by path, size and mtime);
 * only a match is decompressed whole, and only up to `maxBytes`.
 */
export class CompressedCopies {
  private readonly heads = new Map<string, Buffer>();

  constructor(private readonly maxBytes: number) {}

  /** The decompressed content of the `.gz` copy of the checkpoint's file, or null. */
  async find(cp: FileCheckpoint): Promise<{ path: string; data: Buffer } | null> {
    const dirs = new Set([dirname(cp.path)]);
    // A /var/log/pods link into Docker's directory: rotated copies live next to the target.
    const real = await realpath(cp.path).catch(() => null);
    if (real) dirs.add(dirname(real));
    for (const dir of dirs) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        if (!name.endsWith('.gz')) continue;
        const path = join(dir, name);
        const head = await this.head(path);
        if (!head || head.length < cp.fpLen || hashOf(head.subarray(0, cp.fpLen)) !== cp.fp) continue;
        const data = await gunzipFile(path, this.maxBytes);
        if (data) return { path, data };
      }
    }
    return null;
  }

  /** Fingerprint of a `.gz`'s decompressed first line (as `fingerprint` computes it for a file). */
  async fingerprintOf(path: string, st?: Stats): Promise<Fingerprint | null> {
    const head = await this.head(path, st);
    return head ? fingerprintOfHead(head) : null;
  }

  private async head(path: string, known?: Stats): Promise<Buffer | null> {
    const st = known ?? (await stat(path).catch(() => null));
    if (!st?.isFile()) return null;
    const key = `${path}|${st.size}|${st.mtimeMs}`;
    const hit = this.heads.get(key);
    if (hit) return hit;
    const got = await gunzipFile(path, FINGERPRINT_MAX, true);
    if (!got) return null;
    // Cached for as long as the file exists: a copy of its own, not a view pinning the 16 KiB
    // decompressed chunk it came from.
    const head = Buffer.allocUnsafeSlow(got.length);
    got.copy(head);
    this.heads.set(key, head);
    return head;
  }

  /** Forget cached heads of files no longer there (called now and then). */
  prune(present: (path: string) => boolean): void {
    for (const key of this.heads.keys()) if (!present(key.slice(0, key.indexOf('|')))) this.heads.delete(key);
  }
}

/**
 * Decompresses a gzip file, stopping at `maxBytes`: with `truncate` the first `maxBytes`
 * are returned, otherwise a larger file yields null. Corrupt or unreadable files yield null.
 */
export function gunzipFile(file: string | FileHandle, maxBytes: number, truncate = false): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let settled = false;
    // From a handle: from its start, and left open (the caller owns it).
    const input = typeof file === 'string' ? createReadStream(file) : file.createReadStream({ start: 0, autoClose: false });
    const gz = createGunzip();
    const done = (v: Buffer | null) => {
      if (settled) return;
      settled = true;
      input.destroy();
      gz.destroy();
      resolve(v);
    };
    gz.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if (truncate && n >= maxBytes) done(Buffer.concat(chunks).subarray(0, maxBytes));
      else if (!truncate && n > maxBytes) done(null);
    });
    gz.on('end', () => done(Buffer.concat(chunks)));
    gz.on('error', () => done(truncate && n > 0 ? Buffer.concat(chunks) : null));
    input.on('error', () => done(null));
    input.pipe(gz);
  });
}

/**
 * The decompressed size a gzip file declares in its trailer (ISIZE: the size mod 2^32; exact
 * for the sizes read here, which are capped far below that). Null for a file too short to be
 * gzip.
 */
export async function gzipSize(fh: FileHandle, fileSize: number): Promise<number | null> {
  if (fileSize < 18) return null;
  const b = Buffer.alloc(4);
  const { bytesRead } = await fh.read(b, 0, 4, fileSize - 4);
  return bytesRead === 4 ? b.readUInt32LE(0) : null;
}
