import type { V1Pod } from '@kubernetes/client-node';

/** What the agent keeps of a pod: enough to label its logs and read its annotations. */
export interface PodMeta {
  uid: string;
  namespace: string;
  name: string;
  resourceVersion: string;
  node?: string;
  ip?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The workload that owns the pod, resolved past ReplicaSets and CronJob Jobs. */
  workloadKind?: string;
  workload?: string;
  /** Container name → image (init and ephemeral containers included). */
  images: Record<string, string>;
  /** kubelet's config hash for a static pod: its log directory is named after it, not the mirror pod's UID. */
  configHash?: string;
  /** Container name → its volume mounts (to find in-pod files on the node). */
  mounts: Record<string, VolumeMount[]>;
  /** Volume name → where its data lives, for the kinds whose files are on the node. */
  volumes: Record<string, PodVolume>;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
}

export type PodVolume = { kind: 'emptyDir' } | { kind: 'hostPath'; path: string } | { kind: 'other' };

const CONFIG_HASH = 'kubernetes.io/config.hash';

/** The parts of a pod the agent keeps; null when the object is not a usable pod. */
export function podMeta(pod: V1Pod): PodMeta | null {
  const m = pod.metadata;
  if (!m?.uid || !m.name || !m.namespace) return null;
  const images: Record<string, string> = {};
  const mounts: Record<string, VolumeMount[]> = {};
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]) {
    if (c.name && c.image) images[c.name] = c.image;
    if (c.name) mounts[c.name] = (c.volumeMounts ?? []).map((v) => ({ name: v.name, mountPath: v.mountPath, ...(v.subPath ? { subPath: v.subPath } : {}) }));
  }
  const volumes: Record<string, PodVolume> = {};
  for (const v of pod.spec?.volumes ?? []) {
    volumes[v.name] = v.emptyDir ? { kind: 'emptyDir' } : v.hostPath?.path ? { kind: 'hostPath', path: v.hostPath.path } : { kind: 'other' };
  }
  const labels = { ...(m.labels ?? {}) };
  const annotations = { ...(m.annotations ?? {}) };
  return {
    uid: m.uid,
    namespace: m.namespace,
    name: m.name,
    resourceVersion: m.resourceVersion ?? '',
    node: pod.spec?.nodeName,
    ip: pod.status?.podIP,
    labels,
    annotations,
    ...workloadOf(m.name, labels, m.ownerReferences ?? [], pod.spec?.nodeName),
    images,
    configHash: annotations[CONFIG_HASH],
    mounts,
    volumes,
  };
}

interface OwnerRef {
  kind: string;
  name: string;
  controller?: boolean;
}

/**
 * The workload a person would name: a Deployment rather than its ReplicaSet, a CronJob rather
 * than the Job it started. Both are read from names the controllers give (a ReplicaSet is
 * `<deployment>-<pod-template-hash>`, a CronJob's Job `<cronjob>-<scheduled minute>`), which
 * needs no extra API calls or RBAC per pod.
 */
export function workloadOf(name: string, labels: Record<string, string>, owners: readonly OwnerRef[], node?: string): { workloadKind?: string; workload?: string } {
  const owner = owners.find((o) => o.controller) ?? owners[0];
  if (!owner) return {};
  if (owner.kind === 'ReplicaSet') {
    const hash = labels['pod-template-hash'];
    if (hash && owner.name.endsWith(`-${hash}`)) return { workloadKind: 'Deployment', workload: owner.name.slice(0, -hash.length - 1) };
    return { workloadKind: 'ReplicaSet', workload: owner.name };
  }
  if (owner.kind === 'Job') {
    const cron = /^(.+)-\d{8,10}$/.exec(owner.name);
    if (cron) return { workloadKind: 'CronJob', workload: cron[1] };
    return { workloadKind: 'Job', workload: owner.name };
  }
  // A mirror pod (static pod): owned by its Node, named `<manifest name>-<node>`.
  if (owner.kind === 'Node') return { workloadKind: 'StaticPod', workload: node && name.endsWith(`-${node}`) ? name.slice(0, -node.length - 1) : name };
  return { workloadKind: owner.kind, workload: owner.name };
}
