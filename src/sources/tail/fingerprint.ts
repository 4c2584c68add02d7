import { createHash } from 'node:crypto';
import type { LogFile } from './log-file.js';

/** Bytes hashed at most. The first line of a container log holds a nanosecond timestamp. */
export const FINGERPRINT_MAX = 256;

export interface Fingerprint {
  fp: string;
  len: number;
}

/**
 * Fingerprint of a file: hash of its first line (up to FINGERPRINT_MAX bytes). Together with
 * device and inode it tells a reused inode from the file a checkpoint was written for.
 * Null while the file has no complete first line yet (nothing to emit before that anyway).
 */
export async function fingerprint(fh: LogFile, scratch = Buffer.allocUnsafe(FINGERPRINT_MAX)): Promise<Fingerprint | null> {
  const { bytesRead } = await fh.read(scratch, 0, FINGERPRINT_MAX, 0);
  return fingerprintOfHead(scratch.subarray(0, bytesRead));
}

/** The fingerprint of a file that starts with `head` (null: no complete first line in it). */
export function fingerprintOfHead(head: Buffer): Fingerprint | null {
  const h = head.subarray(0, FINGERPRINT_MAX);
  const nl = h.indexOf(10);
  const len = nl >= 0 ? nl + 1 : h.length === FINGERPRINT_MAX ? FINGERPRINT_MAX : -1;
  return len < 0 ? null : { fp: hashOf(h.subarray(0, len)), len };
}

/**
 * Hash of exactly the first `len` bytes, or null if the file is shorter now. `scratch` (at
 * least `len` bytes) spares an allocation where it is asked for every chunk.
 */
export async function fingerprintOfLength(fh: LogFile, len: number, scratch: Buffer = Buffer.allocUnsafe(len)): Promise<string | null> {
  const { bytesRead } = await fh.read(scratch, 0, len, 0);
  return bytesRead === len ? hashOf(scratch.subarray(0, len)) : null;
}

export function hashOf(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

/** Bytes of the first line a content-named source is named by, at most. */
export const CONTENT_ID_MAX = 16 * 1024;

/**
 * Hash of the whole first line (up to CONTENT_ID_MAX): what names a content-named source.
 * Longer than the fingerprint because Docker's json-file puts the timestamp at the end of the
 * line: two files starting with the same long message differ only there.
 */
export async function firstLineHash(fh: LogFile): Promise<string | null> {
  const buf = Buffer.allocUnsafe(CONTENT_ID_MAX);
  const { bytesRead } = await fh.read(buf, 0, CONTENT_ID_MAX, 0);
  return contentHashOfHead(buf.subarray(0, bytesRead));
}

/** The content hash of a file that starts with `head` (null: no complete first line in it). */
export function contentHashOfHead(head: Buffer): string | null {
  const h = head.subarray(0, CONTENT_ID_MAX);
  const nl = h.indexOf(10);
  if (nl < 0 && h.length < CONTENT_ID_MAX) return null;
  return hashOf(h.subarray(0, nl >= 0 ? nl + 1 : CONTENT_ID_MAX));
}
