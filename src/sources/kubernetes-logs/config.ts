import { z } from 'zod';
import { byteSize, duration, globList, regexString } from '../../config/schema-helpers.js';

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
  /** Files already present at the very first start (no checkpoints yet): from the beginning or only new lines. */
  read_from: z.enum(['beginning', 'end']).default('beginning'),
  /** When the checkpoint file is corrupt: re-read from the beginning (duplicates) or the end (gap). */
  on_corrupt_checkpoint: z.enum(['beginning', 'end']).default('beginning'),
  max_line_bytes: byteSize.default(256 * 1024),
  multiline: multiline.optional(),
  /** fs.watch for fast discovery; off where inotify is unavailable. Polling runs regardless. */
  watch: z.boolean().default(true),
  /** Full rescan of the directories: the safety net behind fs.watch. */
  rescan_interval: duration.default(1000),
  /** How often an idle file is checked for new data when no watch event came. */
  poll_interval: duration.default(250),
  /** A rotated or deleted file is read until it has been quiet this long, then closed. */
  rotate_wait: duration.default(2000),
  /** Bytes read from one file per turn before others get theirs. */
  read_chunk_bytes: byteSize.default(128 * 1024),
  /**
   * Files read at the same time (each holds one chunk buffer). Framing runs on one thread, so
   * more only helps on slow disks; 2 × 128 KiB measured as fast as 4 × 256 KiB, 14 MiB smaller.
   */
  read_concurrency: z.number().int().min(1).max(64).default(2),
  checkpoint_interval: duration.default(1000),
});
export type KubernetesLogsConfig = z.infer<typeof kubernetesLogsSchema>;
