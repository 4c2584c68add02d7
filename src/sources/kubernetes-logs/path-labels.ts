/** Labels a kubelet log path gives away, without asking the API server. */
export interface PathLabels {
  namespace: string;
  pod: string;
  pod_uid: string;
  container: string;
  restart?: string;
  container_id?: string;
}

/** `<namespace>_<pod>_<uid>`: names cannot hold `_` (DNS labels), so the split is unambiguous. */
export function parsePodDir(name: string): { namespace: string; pod: string; pod_uid: string } | null {
  const a = name.indexOf('_');
  const b = name.indexOf('_', a + 1);
  if (a <= 0 || b <= a + 1 || b === name.length - 1 || name.indexOf('_', b + 1) !== -1) return null;
  return { namespace: name.slice(0, a), pod: name.slice(a + 1, b), pod_uid: name.slice(b + 1) };
}

/** `<restart>.log`, the current file of one container instance. */
export const CURRENT_LOG = /^(\d+)\.log$/;

/**
 * A rotated sibling that may still hold unread lines: kubelet's `0.log.<timestamp>` or
 * Docker's `<id>-json.log.<n>`. Compressed ones are never read.
 */
export function isRotatedName(name: string, currentBase: string): boolean {
  return name.startsWith(currentBase + '.') && !name.endsWith('.gz') && !name.endsWith('.tmp');
}

/** A compressed rotated sibling (`0.log.<timestamp>.gz`). */
export function isCompressedName(name: string, currentBase: string): boolean {
  return name.startsWith(currentBase + '.') && name.endsWith('.gz');
}

/** `/var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log` */
export function parseContainersLink(name: string): PathLabels | null {
  const m = /^([^_]+)_([^_]+)_(.+)-([0-9a-f]{64})\.log$/.exec(name);
  if (!m) return null;
  return { pod: m[1], namespace: m[2], container: m[3], container_id: m[4], pod_uid: '' };
}
