import { z } from 'zod';
import { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Transform } from '../../core/component.js';
import { makeSource, type EventSource } from '../../core/event.js';
import { duration } from '../../config/schema-helpers.js';
import type { PodCache, PodApi } from '../../kube/pod-cache.js';
import { nodeName, usePodCache } from '../../kube/shared.js';
import { Annotations, annotationFor, podOf } from '../../kube/annotations.js';
import { parseLabelSelector, type LabelSelector } from '../../kube/selector.js';
import type { PodMeta } from '../../kube/pod-meta.js';
import { NamespaceCache } from '../../kube/namespace-cache.js';

const selector = z.string().superRefine((v, ctx) => {
  try {
    parseLabelSelector(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** The pod annotation that keeps a pod's (or some of its containers') logs out. */
export const EXCLUDE_ANNOTATION = Annotations.exclude;

export const kubeMetadataTransformSchema = z.strictObject({
  type: z.literal('kube_metadata'),
  inputs: z.array(z.string().min(1)).min(1),
  /** The node whose pods to watch (a DaemonSet passes spec.nodeName through the downward API). */
  node_name: z.string().min(1).optional(),
  /** A kubeconfig file; default: the in-cluster service account, else KUBECONFIG / ~/.kube/config. */
  kubeconfig: z.string().min(1).optional(),
  /** Pod labels to add (globs on the label key), as `label_<key>`. */
  pod_labels: z.array(z.string().min(1)).default(['*']),
  /** Pod annotations to add (globs on the key), as `annotation_<key>`. None by default: they are often large. */
  pod_annotations: z.array(z.string().min(1)).default([]),
  /**
   * Namespace labels to add (globs on the key), as `namespace_label_<key>`. None by default: it
   * means a second watch, on namespaces (the ClusterRole allows it).
   */
  namespace_labels: z.array(z.string().min(1)).default([]),
  /** Add the node name, the owning workload, the container image and the pod IP. */
  node: z.boolean().default(true),
  workload: z.boolean().default(true),
  image: z.boolean().default(true),
  pod_ip: z.boolean().default(false),
  /** Keep only lines of pods whose labels match this selector (kubectl -l syntax). */
  include_pods: selector.optional(),
  /** Drop lines of pods whose labels match this selector. */
  exclude_pods: selector.optional(),
  /** Keep only lines of pods in namespaces whose labels match this selector (`team=payments`). */
  include_namespaces: selector.optional(),
  /** Drop lines of pods in namespaces whose labels match this selector (`logging=off`). */
  exclude_namespaces: selector.optional(),
  /** Honour the `loggy.io/exclude` pod annotation ("true": the whole pod; else a list of container names). */
  exclude_annotation: z.boolean().default(true),
  /** Deleted pods' metadata is kept this long after deletion, and while their logs are still read. */
  retain_deleted: duration.default(300_000),
  /** How long tailing waits at start for the first list of pods, so short-lived pods get their metadata. */
  sync_timeout: duration.default(10_000),
});
export type KubeMetadataTransformConfig = z.infer<typeof kubeMetadataTransformSchema>;

/**
 * Adds Kubernetes metadata to container logs: pod labels (and chosen annotations), node,
 * owning workload, image. Keyed by the pod UID in the log path; static pods by their config
 * hash. The labelled source is built once per file and pod version, not per event. When the
 * API is unreachable, events pass with their path labels (`loggy_kube_metadata_missing_events_total`).
 *
 * Label names are made LogQL-safe (`app.kubernetes.io/name` → `label_app_kubernetes_io_name`),
 * which also de-dots them for Elasticsearch.
 */
export class KubeMetadataTransform implements Transform {
  private cache: PodCache | null = null;
  private readonly node: string;
  private readonly enriched = new Map<string, { generation: number; nsGeneration: number; source: EventSource | null }>();
  private namespaces: NamespaceCache | null = null;
  private readonly namespaceLabelMatch: (k: string) => boolean;
  private readonly include: LabelSelector | null;
  private readonly exclude: LabelSelector | null;
  private readonly includeNs: LabelSelector | null;
  private readonly excludeNs: LabelSelector | null;
  private readonly labelMatch: (k: string) => boolean;
  private readonly annotationMatch: (k: string) => boolean;

  private release: (() => Promise<void>) | null = null;

  constructor(private readonly cfg: KubeMetadataTransformConfig, private readonly ctx: ComponentContext, private readonly api?: PodApi) {
    this.include = cfg.include_pods !== undefined ? parseLabelSelector(cfg.include_pods) : null;
    this.exclude = cfg.exclude_pods !== undefined ? parseLabelSelector(cfg.exclude_pods) : null;
    this.includeNs = cfg.include_namespaces !== undefined ? parseLabelSelector(cfg.include_namespaces) : null;
    this.excludeNs = cfg.exclude_namespaces !== undefined ? parseLabelSelector(cfg.exclude_namespaces) : null;
    this.labelMatch = keyMatcher(cfg.pod_labels);
    this.annotationMatch = keyMatcher(cfg.pod_annotations);
    this.namespaceLabelMatch = keyMatcher(cfg.namespace_labels);
    this.node = api ? (cfg.node_name ?? '') : nodeName('kube_metadata', cfg.node_name);
  }

  async start(): Promise<void> {
    const use = await usePodCache(this.ctx, { kubeconfig: this.cfg.kubeconfig, node: this.node, retainDeletedMs: this.cfg.retain_deleted, syncTimeoutMs: this.cfg.sync_timeout }, this.api);
    this.cache = use.cache;
    this.release = use.release;
    if (!use.synced) {
      this.ctx.log.warn({ waitedMs: this.cfg.sync_timeout }, 'no pod list from the Kubernetes API yet; tailing starts with path labels, metadata follows when the API answers');
    }
    if (this.cfg.namespace_labels.length > 0 || this.includeNs || this.excludeNs) {
      const k = await import('../../kube/api.js');
      this.namespaces = new NamespaceCache(k.namespaceApi(k.loadKubeConfig({ kubeconfig: this.cfg.kubeconfig })), { component: this.ctx.name }, this.ctx.log, this.ctx.metrics);
      this.namespaces.start();
      // The pod list's wait already covered most of sync_timeout when the API is down.
      if (!(await this.namespaces.synced(use.synced ? this.cfg.sync_timeout : 0))) {
        this.ctx.log.warn('no namespace list from the Kubernetes API yet; namespace labels follow when the API answers');
      }
    }
  }

  async stop(): Promise<void> {
    await this.namespaces?.stop();
    await this.release?.();
  }

  process(batch: EventBatch): EventBatch | null {
    const cache = this.cache;
    if (!cache) return batch; // not started: sources start after transforms, so never
    const src = batch.source;
    const l = src.labels;
    const pod = podOf(cache, l);
    if (!pod) {
      this.ctx.metrics.kubeMetadataMissing.inc({ component: this.ctx.name }, batch.events.length);
      return batch;
    }
    let e = this.enriched.get(src.id);
    const nsGeneration = this.namespaces?.generation ?? 0;
    if (!e || e.generation !== cache.generation || e.nsGeneration !== nsGeneration) {
      e = { generation: cache.generation, nsGeneration, source: this.wanted(pod, l.container) ? makeSource(src.id, src.component, this.labelsFor(l, pod)) : null };
      if (this.enriched.size > 50_000) this.enriched.clear(); // files come and go; rebuilt on demand
      this.enriched.set(src.id, e);
    }
    if (e.source === null) {
      this.ctx.metrics.transformDropped.inc({ component: this.ctx.name }, batch.events.length);
      return null;
    }
    return new EventBatch(e.source, batch.events);
  }

  /**
   * Selectors and the exclude annotation. A pod the cache does not know is never dropped:
   * without metadata there is nothing to judge, and losing logs is worse than keeping some.
   */
  private wanted(pod: PodMeta, container: string | undefined): boolean {
    if (this.include && !this.include(pod.labels)) return false;
    if (this.exclude && this.exclude(pod.labels)) return false;
    const nsLabels = this.includeNs || this.excludeNs ? this.namespaces?.labels(pod.namespace) : undefined;
    // A namespace not (yet) known is not judged, like a pod not in the cache.
    if (nsLabels && this.includeNs && !this.includeNs(nsLabels)) return false;
    if (nsLabels && this.excludeNs && this.excludeNs(nsLabels)) return false;
    if (!this.cfg.exclude_annotation) return true;
    // `loggy.io/exclude.<container>: "true"`, or the pod-wide one: "true" or container names.
    const ann = annotationFor(pod, Annotations.exclude, container);
    if (ann === 'true') return false;
    if (ann && container && ann.split(',').map((c) => c.trim()).includes(container)) return false;
    return true;
  }

  private labelsFor(base: Readonly<Record<string, string>>, pod: PodMeta): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(pod.labels)) if (this.labelMatch(k)) out[`label_${safeName(k)}`] = v;
    for (const [k, v] of Object.entries(pod.annotations)) if (this.annotationMatch(k)) out[`annotation_${safeName(k)}`] = v;
    const nsLabels = this.namespaces?.labels(pod.namespace);
    if (nsLabels) for (const [k, v] of Object.entries(nsLabels)) if (this.namespaceLabelMatch(k)) out[`namespace_label_${safeName(k)}`] = v;
    if (this.cfg.node && pod.node) out.node = pod.node;
    if (this.cfg.workload && pod.workloadKind && pod.workload) {
      out.workload_kind = pod.workloadKind;
      out.workload = pod.workload;
    }
    const image = base.container ? pod.images[base.container] : undefined;
    if (this.cfg.image && image) out.image = image;
    if (this.cfg.pod_ip && pod.ip) out.pod_ip = pod.ip;
    // Path labels win: they name the file the line came from.
    return { ...out, ...base };
  }
}

/**
 * Globs on label and annotation keys, where `*` matches anything, `/` and `.` included
 * (`app.kubernetes.io/*`): keys are not paths, so a path glob library would get them wrong.
 */
export function keyMatcher(globs: readonly string[]): (key: string) => boolean {
  if (globs.length === 0) return () => false;
  const alt = globs.map((g) => g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')).join('|');
  const re = new RegExp(`^(?:${alt})$`);
  return (key) => re.test(key);
}

/** `app.kubernetes.io/name` → `app_kubernetes_io_name`: a label name LogQL and Elasticsearch accept. */
export function safeName(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_');
}
