import { z } from 'zod';
import { duration, globList, regexString } from '../../config/schema-helpers.js';
import { tailingOptions } from '../tail/config.js';

const globs = globList.default([]);
const selector = z.strictObject({ namespaces: globs, pods: globs, containers: globs });
const emptySelector = { namespaces: [], pods: [], containers: [] };

const multiline = z.strictObject({
  preset: z.enum(['java', 'python', 'go']).optional(),
  start: regexString.optional(),
  continuation: regexString.optional(),
  flush_timeout: duration.default(1000),
  max_lines: z.number().int().positive().default(500),
}).refine((m) => m.preset || m.start || m.continuation, { message: 'give a preset (java, python, go) or a start/continuation regex' });

export const kubernetesLogsSchema = z.strictObject({
  type: z.literal('kubernetes_logs'),
  /** Where var/log/pods lives: `/` on a node, the hostPath mount point in a DaemonSet. */
  root: z.string().default('/'),
  /** Also look at /var/log/containers/*.log (runtimes without /var/log/pods). Never read twice. */
  containers_dir: z.boolean().default(true),
  include: selector.default(emptySelector),
  exclude: selector.default(emptySelector),
  /** Collect kube-system pods too. */
  kube_system: z.boolean().default(true),
  /** Skip the agent's own pod (POD_NAMESPACE/POD_NAME or POD_UID from the downward API). */
  exclude_self: z.boolean().default(true),
  /** When the checkpoint file is corrupt: re-read from the beginning (duplicates) or the end (gap). */
  on_corrupt_checkpoint: z.enum(['beginning', 'end']).default('beginning'),
  multiline: multiline.optional(),
  /**
   * Honour the `loggy.io/multiline` pod annotation (java, python, go, none, or a first-line regex),
   * which replaces `multiline` for that pod. Needs the pod cache of a kube_metadata or
   * kubernetes_pod_files component of the same agent.
   */
  annotations: z.boolean().default(true),
  /** fs.watch for fast discovery; off where inotify is unavailable. Polling runs regardless. */
  watch: z.boolean().default(true),
  ...tailingOptions,
});
export type KubernetesLogsConfig = z.infer<typeof kubernetesLogsSchema>;
