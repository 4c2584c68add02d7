import { join, posix } from 'node:path';
import type { PodMeta } from './pod-meta.js';

/** The annotation naming files inside a pod's containers to collect without a sidecar. */
export const FILES_ANNOTATION = 'loggy.io/files';

export interface PodFileTarget {
  container: string;
  /** The path (or glob) as the container sees it. */
  containerPath: string;
  /** The same files on the node, or null with `problem` saying why they cannot be reached. */
  nodeGlob: string | null;
  problem?: string;
  /** The volume's directory on the node (subPath included), and where the container mounts it. */
  volumeDir?: string;
  mountPath?: string;
}

/**
 * `loggy.io/files: "app:/var/log/app/*.log, worker:/data/logs/*.log"` → where those files are
 * on the node. A container path is mapped through the container's volume mount that holds it
 * (the longest mountPath prefix; subPath honoured) to the volume's directory: an emptyDir is
 * `<kubelet>/pods/<uid>/volumes/kubernetes.io~empty-dir/<volume>`, a hostPath its own path.
 * Anything else (the container's own filesystem, a PVC, a configMap) is not on a path the
 * agent can know, and is said so.
 */
export function podFileTargets(pod: PodMeta, kubeletRoot: string, opts: { annotation?: string; allowHostPath?: boolean } = {}): PodFileTarget[] {
  const annotation = opts.annotation ?? FILES_ANNOTATION;
  const spec = pod.annotations[annotation];
  if (!spec) return [];
  const out: PodFileTarget[] = [];
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const colon = item.indexOf(':');
    if (colon <= 0) {
      out.push({ container: '', containerPath: item, nodeGlob: null, problem: `"${item}": expected <container>:<path>` });
      continue;
    }
    const container = item.slice(0, colon).trim();
    const containerPath = posix.normalize(item.slice(colon + 1).trim());
    out.push({ container, containerPath, ...resolve(pod, container, containerPath, kubeletRoot, opts.allowHostPath === true) });
  }
  return out;
}

function resolve(pod: PodMeta, container: string, path: string, kubeletRoot: string, allowHostPath: boolean): Omit<PodFileTarget, 'container' | 'containerPath'> {
  if (!path.startsWith('/')) return { nodeGlob: null, problem: `${container}:${path}: the path must be absolute` };
  if (path.split('/').includes('..')) return { nodeGlob: null, problem: `${container}:${path}: ".." is not allowed` };
  const mounts = pod.mounts[container];
  if (!mounts) return { nodeGlob: null, problem: `${container}:${path}: the pod has no container "${container}"` };
  let best: { name: string; mountPath: string; subPath?: string } | null = null;
  for (const m of mounts) {
    const mp = m.mountPath.replace(/\/+$/, '') || '/';
    if ((path === mp || path.startsWith(`${mp}/`) || mp === '/') && (!best || mp.length > best.mountPath.length)) best = { ...m, mountPath: mp };
  }
  if (!best) return { nodeGlob: null, problem: `${container}:${path}: not on a volume (the container's own filesystem is not reachable from the node); mount an emptyDir there` };
  const vol = pod.volumes[best.name];
  const rest = path.slice(best.mountPath.length).replace(/^\/+/, '');
  if (best.subPath?.split('/').includes('..')) return { nodeGlob: null, problem: `${container}:${path}: subPath with ".."` };
  let volumeDir: string;
  if (vol?.kind === 'emptyDir') volumeDir = join(kubeletRoot, 'pods', pod.uid, 'volumes', 'kubernetes.io~empty-dir', best.name, best.subPath ?? '');
  else if (vol?.kind === 'hostPath' && allowHostPath) volumeDir = join(vol.path, best.subPath ?? '');
  else if (vol?.kind === 'hostPath') return { nodeGlob: null, problem: `${container}:${path}: volume "${best.name}" is a hostPath; set allow_host_path to read those` };
  else return { nodeGlob: null, problem: `${container}:${path}: volume "${best.name}" is not an emptyDir${allowHostPath ? ' or hostPath' : ''}` };
  return { nodeGlob: join(volumeDir, rest), volumeDir, mountPath: best.mountPath };
}
