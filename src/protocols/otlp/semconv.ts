/**
 * The names both directions of Loggy's OTLP mapping agree on: the otlp sink writes labels
 * under these resource attributes and severities, and the OTLP receivers (the agent's `otlp`
 * source, the store's `/otlp/v1/logs`) read them back through the same tables, so a line sent
 * by the sink arrives with the labels it left with.
 */

/** Loggy label → OpenTelemetry semantic-convention resource attribute. */
export const LABEL_TO_ATTRIBUTE: Readonly<Record<string, string>> = {
  namespace: 'k8s.namespace.name',
  pod: 'k8s.pod.name',
  pod_uid: 'k8s.pod.uid',
  container: 'k8s.container.name',
  container_id: 'container.id',
  node: 'k8s.node.name',
};

/** The reverse, plus `service.name`, which the sink derives rather than copies. */
export const ATTRIBUTE_TO_LABEL: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(LABEL_TO_ATTRIBUTE).map(([l, a]) => [a, l])),
  'service.name': 'service_name',
};

/**
 * Resource attributes besides the Kubernetes ones above that say which service and where, kept
 * as labels (Loki's default list, less what Loggy names itself). Any other dotted attribute
 * (process.pid, telemetry.sdk.version, host.arch, os.type...) varies per process or says little
 * to select on: as a label it would split a service into a stream per process start.
 */
export const LABEL_ATTRIBUTES: ReadonlySet<string> = new Set([
  'service.namespace', 'service.instance.id', 'deployment.environment', 'deployment.environment.name',
  'cloud.region', 'cloud.availability_zone', 'k8s.cluster.name', 'container.name',
]);

/** workload_kind → the attribute naming the workload. */
export const WORKLOAD_ATTRIBUTE: Readonly<Record<string, string>> = {
  Deployment: 'k8s.deployment.name',
  StatefulSet: 'k8s.statefulset.name',
  DaemonSet: 'k8s.daemonset.name',
  ReplicaSet: 'k8s.replicaset.name',
  Job: 'k8s.job.name',
  CronJob: 'k8s.cronjob.name',
};

/** The attribute → workload_kind (no kind for the generic `k8s.workload.name`). */
export const WORKLOAD_KIND: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(WORKLOAD_ATTRIBUTE).map(([k, a]) => [a, k])),
};
/** Written when a workload's kind is unknown. */
export const GENERIC_WORKLOAD = 'k8s.workload.name';

export const RESTART_ATTRIBUTE = 'k8s.container.restart_count';
export const IMAGE_NAME_ATTRIBUTE = 'container.image.name';
export const IMAGE_TAGS_ATTRIBUTE = 'container.image.tags';
/** A LogEvent's stream, as the OpenTelemetry log semantic conventions name it. */
export const IOSTREAM_ATTRIBUTE = 'log.iostream';
/** Loggy's event flags (truncated, partial, ...), comma-separated: no semantic convention exists. */
export const FLAGS_ATTRIBUTE = 'loggy.flags';
/** The instrumentation scope of the sink's records; says nothing, so receivers leave it out. */
export const LOGGY_SCOPE = 'loggy';

/** OpenTelemetry's SeverityNumber for common level words (the first of each range). */
export const SEVERITY_NUMBER: Readonly<Record<string, number>> = {
  trace: 1, debug: 5, dbug: 5, info: 9, information: 9, informational: 9, notice: 10,
  warn: 13, warning: 13, error: 17, err: 17, eror: 17, critical: 21, crit: 21, fatal: 21, panic: 21, emerg: 21, emergency: 21, alert: 21,
};

/** SeverityNumber (1–24) → the level word of its range, as the OpenTelemetry data model names them. */
export function severityLevel(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 1 || n > 24) return undefined;
  return (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const)[Math.floor((n - 1) / 4)];
}
