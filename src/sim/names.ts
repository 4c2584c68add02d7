import { chance, hex, pick, randInt, randString, type Rng } from './random.js';
import type { Style } from './messages.js';

/** Where the generated pods live; the counter pod is always in `default`. */
export const NAMESPACES = ['default', 'shop', 'payments', 'kube-system'] as const;

export interface ContainerSpec {
  name: string;
  style: Style;
}

export interface PodSpec {
  namespace: string;
  name: string;
  uid: string;
  containers: ContainerSpec[];
}

type Kind = 'deployment' | 'statefulset' | 'daemonset';

interface App {
  name: string;
  kind: Kind;
  style: Style;
  /** Whether a sidecar may be added (system pods usually have none). */
  sidecar: boolean;
}

const APPS: Record<string, readonly App[]> = {
  default: [
    { name: 'web', kind: 'deployment', style: 'plain', sidecar: true },
    { name: 'api', kind: 'deployment', style: 'json', sidecar: true },
    { name: 'worker', kind: 'deployment', style: 'python', sidecar: false },
    { name: 'redis', kind: 'statefulset', style: 'plain', sidecar: false },
  ],
  shop: [
    { name: 'frontend', kind: 'deployment', style: 'json', sidecar: true },
    { name: 'cart', kind: 'deployment', style: 'plain', sidecar: true },
    { name: 'catalog', kind: 'deployment', style: 'logfmt', sidecar: true },
    { name: 'checkout', kind: 'deployment', style: 'plain', sidecar: true },
    { name: 'recommendation', kind: 'deployment', style: 'python', sidecar: false },
  ],
  payments: [
    { name: 'payments-api', kind: 'deployment', style: 'json', sidecar: true },
    { name: 'ledger', kind: 'deployment', style: 'plain', sidecar: true },
    { name: 'fraud-detector', kind: 'deployment', style: 'python', sidecar: false },
    { name: 'postgres', kind: 'statefulset', style: 'logfmt', sidecar: false },
  ],
  'kube-system': [
    { name: 'coredns', kind: 'deployment', style: 'klog', sidecar: false },
    { name: 'kube-proxy', kind: 'daemonset', style: 'klog', sidecar: false },
    { name: 'metrics-server', kind: 'deployment', style: 'klog', sidecar: false },
    { name: 'ebs-csi-node', kind: 'daemonset', style: 'klog', sidecar: true },
  ],
};

const SIDECARS: readonly ContainerSpec[] = [
  { name: 'istio-proxy', style: 'json' },
  { name: 'envoy', style: 'logfmt' },
  { name: 'oauth2-proxy', style: 'plain' },
  { name: 'metrics-exporter', style: 'logfmt' },
];

/** Kubernetes generates name suffixes from this alphabet (no vowels, no confusable digits). */
const K8S_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A UUID v4-shaped pod UID. */
export function podUid(rng: Rng): string {
  const variant = '89ab'[Math.floor(rng() * 4)];
  return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${variant}${hex(rng, 3)}-${hex(rng, 12)}`;
}

/** A container ID as containerd/docker print it: 64 lowercase hex digits. */
export function containerId(rng: Rng): string {
  return hex(rng, 64);
}

function podName(rng: Rng, app: App, ordinal: number): string {
  switch (app.kind) {
    case 'deployment':
      // <deployment>-<pod-template-hash>-<5 random>, like web-7d4b9c8f6-x2k4p.
      return `${app.name}-${randString(rng, K8S_ALPHABET, randInt(rng, 9, 10))}-${randString(rng, K8S_ALPHABET, 5)}`;
    case 'daemonset':
      return `${app.name}-${randString(rng, K8S_ALPHABET, 5)}`;
    case 'statefulset':
      return `${app.name}-${ordinal}`;
  }
}

/**
 * Plans a new pod in `namespace` (random one when omitted) whose name is not in `taken`;
 * the name is added to `taken` so churned pods never reuse a name (keys stay unique).
 */
export function planPod(rng: Rng, taken: Set<string>, namespace?: string): PodSpec {
  const ns = namespace ?? pick(rng, NAMESPACES);
  for (let attempt = 0; ; attempt++) {
    const app = pick(rng, APPS[ns]);
    const name = podName(rng, app, attempt);
    const id = `${ns}/${name}`;
    if (taken.has(id)) continue;
    taken.add(id);
    const containers: ContainerSpec[] = [{ name: app.name, style: app.style }];
    if (app.sidecar && chance(rng, 0.4)) containers.push(pick(rng, SIDECARS));
    return { namespace: ns, name, uid: podUid(rng), containers };
  }
}

/** The busybox counter from the Kubernetes logging docs: `i: date` every second. */
export function counterPod(rng: Rng, taken: Set<string>): PodSpec {
  taken.add('default/counter');
  return { namespace: 'default', name: 'counter', uid: podUid(rng), containers: [{ name: 'count', style: 'counter' }] };
}
