import { join } from 'node:path';
import { z } from 'zod';
import type { Source, SourceContext } from '../../core/component.js';
import { duration } from '../../config/schema-helpers.js';
import type { PodApi, PodCache } from '../../kube/pod-cache.js';
import { FILES_ANNOTATION, podFileTargets } from '../../kube/pod-files.js';
import { nodeName, usePodCache } from '../../kube/shared.js';
import { FileSource, type FileTarget } from '../file/index.js';
import { tailingOptions } from '../tail/config.js';

export const kubernetesPodFilesSchema = z.strictObject({
  type: z.literal('kubernetes_pod_files'),
  node_name: z.string().min(1).optional(),
  kubeconfig: z.string().min(1).optional(),
  /** Where the host's filesystem is (the agent's mount point); kubelet's directory under it. */
  root: z.string().default('/'),
  kubelet_root: z.string().default('/var/lib/kubelet'),
  /** The pod annotation naming files: `<container>:<path or glob>, ...`. */
  annotation: z.string().min(1).default(FILES_ANNOTATION),
  /** Also follow paths on hostPath volumes (they must be mounted into the agent at the same path). */
  allow_host_path: z.boolean().default(false),
  format: z.enum(['raw', 'cri', 'docker', 'auto']).default('raw'),
  retain_deleted: duration.default(300_000),
  sync_timeout: duration.default(10_000),
  ...tailingOptions,
});
export type KubernetesPodFilesConfig = z.infer<typeof kubernetesPodFilesSchema>;

/**
 * Files inside pods, collected without a sidecar: a pod says `loggy.io/files:
 * "app:/var/log/app/*.log"`, and the agent maps that path through the container's volume
 * mount to the volume on the node (an emptyDir under kubelet's pods directory) and tails the
 * files there, labelled with the pod's namespace, name, UID and container and the path as the
 * container sees it. No second copy on disk, no sidecar's CPU and memory. Annotations changing
 * on a running pod apply at the next rescan. A path that cannot be reached (not on an
 * emptyDir, unknown container) is logged once with the reason and counted.
 */
export class KubernetesPodFilesSource implements Source {
  private readonly files: FileSource;
  private cache: PodCache | null = null;
  private release: (() => Promise<void>) | null = null;
  private readonly node: string;
  private readonly said = new Set<string>();

  constructor(private readonly cfg: KubernetesPodFilesConfig, private readonly ctx: SourceContext, private readonly api?: PodApi) {
    this.node = api ? (cfg.node_name ?? '') : nodeName('kubernetes_pod_files', cfg.node_name);
    this.files = new FileSource(cfg, ctx, () => this.targets());
  }

  async start(): Promise<void> {
    const use = await usePodCache(this.ctx, { kubeconfig: this.cfg.kubeconfig, node: this.node, retainDeletedMs: this.cfg.retain_deleted, syncTimeoutMs: this.cfg.sync_timeout }, this.api);
    this.cache = use.cache;
    this.release = use.release;
    if (!use.synced) this.ctx.log.warn({ waitedMs: this.cfg.sync_timeout }, 'no pod list from the Kubernetes API yet; in-pod files follow when it answers');
    await this.files.start();
  }

  private targets(): FileTarget[] {
    const out: FileTarget[] = [];
    const kubelet = join(this.cfg.root, this.cfg.kubelet_root);
    for (const pod of this.cache?.pods() ?? []) {
      for (const t of podFileTargets(pod, kubelet, { annotation: this.cfg.annotation, allowHostPath: this.cfg.allow_host_path })) {
        if (t.nodeGlob === null || !t.volumeDir || !t.mountPath) {
          const msg = `${pod.namespace}/${pod.name}: ${t.problem}`;
          if (!this.said.has(msg)) {
            this.said.add(msg);
            this.ctx.metrics.fileErrors.inc({ component: this.ctx.name });
            this.ctx.log.warn({ pod: `${pod.namespace}/${pod.name}`, annotation: this.cfg.annotation, problem: t.problem }, 'in-pod file path cannot be collected');
          }
          continue;
        }
        out.push({
          include: [t.nodeGlob],
          labels: { namespace: pod.namespace, pod: pod.name, pod_uid: pod.uid, container: t.container },
          confine: t.volumeDir,
          seenAs: { node: t.volumeDir, container: t.mountPath },
        });
      }
    }
    return out;
  }

  drained(): Promise<void> {
    return this.files.drained();
  }

  stop(): Promise<void> {
    return this.files.stop();
  }

  async close(): Promise<void> {
    await this.files.close();
    await this.release?.();
  }
}
