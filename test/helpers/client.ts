import { expect } from 'vitest';
import { postBody } from './server.js';

export interface PodStream {
  namespace?: string;
  pod: string;
  container?: string;
  restart?: number;
  stream?: string;
  workload?: [kind: string, name: string];
  labels?: Record<string, string>;
  /** [unix ns, line] */
  lines: Array<[bigint, string]>;
}

/** The labels the agent writes for a container's log (kube metadata on when `workload` is given). */
export function agentLabels(s: PodStream): Record<string, string> {
  const l: Record<string, string> = {
    namespace: s.namespace ?? 'default',
    pod: s.pod,
    pod_uid: `uid-${s.pod}`,
    container: s.container ?? 'app',
    restart: String(s.restart ?? 0),
    stream: s.stream ?? 'stdout',
  };
  if (s.workload) {
    l.workload_kind = s.workload[0];
    l.workload = s.workload[1];
    l.node = 'node-1';
  }
  for (const [k, v] of Object.entries(s.labels ?? {})) l[`label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`] = v;
  return l;
}

/** Pushes streams as the agent would (Loki JSON push), in chunks. */
export async function pushPods(url: string, streams: PodStream[], headers: Record<string, string> = {}): Promise<void> {
  for (const s of streams) {
    for (let i = 0; i < s.lines.length; i += 20_000) {
      const body = JSON.stringify({ streams: [{ stream: agentLabels(s), values: s.lines.slice(i, i + 20_000).map(([t, l]) => [t.toString(), l]) }] });
      const r = await postBody(`${url}/loki/api/v1/push`, body, { 'content-type': 'application/json', ...headers });
      expect(r.status, r.text).toBe(204);
    }
  }
}

/** Lines `${prefix} 0..n-1`, one every `stepNs` from `from`. */
export function seq(prefix: string, n: number, from: bigint, stepNs = 1_000_000n): Array<[bigint, string]> {
  return Array.from({ length: n }, (_, i) => [from + BigInt(i) * stepNs, `${prefix} ${i}`]);
}
