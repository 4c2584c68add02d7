import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import type { LogFormat } from './encode.js';

/** What was written for one container key (`<ns>/<pod>/<container>`). */
export interface ManifestEntry {
  /** Logical messages written, i.e. the next marker number; markers are 0..lines-1. */
  lines: number;
  namespace: string;
  pod: string;
  pod_uid: string;
  container: string;
  format: LogFormat;
  /** Restarts so far; the current file is `<restarts>.log`. */
  restarts: number;
  /** Current container ID (64 hex). */
  container_id: string;
  /** Set once the pod was churned away: its files are gone from disk. */
  deleted?: true;
}

export interface Manifest {
  containers: Record<string, ManifestEntry>;
  /** Sum of `lines` over all containers, deleted ones included. */
  total: number;
}

/** tmp + fsync + rename: a reader sees the previous or the new manifest, never half. */
export function writeManifestFile(path: string, manifest: Manifest): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
