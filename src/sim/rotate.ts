import { createReadStream, createWriteStream, existsSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { lstat, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** kubelet's rotation suffix layout (Go "20060102-150405"), in UTC. */
export function rotationStamp(d: Date): string {
  const p = (v: number): string => String(v).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/**
 * `<log>.<stamp>`, or `<log>.<stamp>.<N>` when that second was used already. kubelet
 * rotates at most every 10 s so it never collides; we rotate on every size overflow and
 * must not overwrite. `taken` holds names in use (plain or gzipped) besides the disk.
 */
export function rotatedName(log: string, d: Date, taken: ReadonlySet<string>): string {
  const base = `${log}.${rotationStamp(d)}`;
  // Suffixes only grow within a second: reusing a freed lower one (its file deleted past
  // keepFiles) would make name order disagree with age.
  for (let n = lastSuffix.get(base) ?? 0; ; n++) {
    const name = n === 0 ? base : `${base}.${n}`;
    if (!taken.has(name) && !existsSync(name) && !existsSync(`${name}.gz`)) {
      lastSuffix.set(base, n + 1);
      if (lastSuffix.size > 1024) lastSuffix.delete(lastSuffix.keys().next().value as string);
      return name;
    }
  }
}

const lastSuffix = new Map<string, number>();

/**
 * Compresses like kubelet: write `<file>.gz.tmp`, rename it to `<file>.gz`, then remove the
 * original, so at any instant the data is fully in one of the two names.
 */
export async function gzipFile(file: string, keepDeleted?: string): Promise<string> {
  const gz = `${file}.gz`;
  const tmp = `${gz}.tmp`;
  try {
    await pipeline(createReadStream(file), createGzip(), createWriteStream(tmp));
    await rename(tmp, gz);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await discard(file, keepDeleted);
  return gz;
}

/**
 * Deletes a log file as the runtime would — or, given `keepDeleted`, moves it there as
 * `<dev>-<ino>` instead: the inode lives on outside the node tree, so a test can read exactly
 * what a collector lost when it reports "file <dev>:<ino> lost from offset N". Compressed
 * copies too: a collector may have been reading one when it was deleted.
 */
export async function discard(file: string, keepDeleted?: string): Promise<void> {
  if (keepDeleted) {
    const st = await lstat(file).catch(() => null);
    if (st?.isFile()) {
      await rename(file, join(keepDeleted, `${st.dev}-${st.ino}`));
      return;
    }
  }
  await rm(file, { force: true });
}

export function discardSync(file: string, keepDeleted?: string): void {
  if (keepDeleted) {
    let st;
    try {
      st = lstatSync(file);
    } catch {
      return;
    }
    if (st.isFile()) {
      renameSync(file, join(keepDeleted, `${st.dev}-${st.ino}`));
      return;
    }
  }
  rmSync(file, { force: true });
}

/**
 * Docker json-file shift: drop `.<max>`, move `.<i>` to `.<i+1>`; the caller then moves
 * (or copies) the current file to `.1`. `max` is max-file minus one (the current file).
 */
export function shiftDockerFiles(log: string, max: number, keepDeleted?: string): void {
  discardSync(`${log}.${max}`, keepDeleted);
  for (let i = max - 1; i >= 1; i--) {
    if (existsSync(`${log}.${i}`)) renameSync(`${log}.${i}`, `${log}.${i + 1}`);
  }
}
