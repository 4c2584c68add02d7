import { nowNs } from '../core/time.js';
import { resolveClientConfig } from './config.js';
import { parseCount, parseGoDuration, parseTimeFlag } from './duration.js';
import { ClientError, UsageError } from './errors.js';
import { follow, RESUME_LOOKBACK_NS } from './follow.js';
import { colors, formatLine, MetadataSplitter, useColor, type LineFormat, type SplitEntry } from './format.js';
import { StoreClient, type Entry, type Labels } from './http.js';
import { Progress, type Io } from './io.js';
import { pageLines } from './paginate.js';
import { checkGrep, logsQuery, parseTarget, renderMatchers, selectionMatchers, type LogsSelection, type Matcher, type Target } from './translate.js';

export interface LogsFlags {
  namespace?: string;
  allNamespaces?: boolean;
  container?: string;
  allContainers?: boolean;
  selector?: string;
  follow?: boolean;
  since?: string;
  sinceTime?: string;
  tail?: string;
  previous?: boolean;
  timestamps?: boolean;
  prefix?: boolean;
  output?: string;
  grep?: string;
  addr?: string;
  token?: string;
  tenant?: string;
  /** Lines per request (tests; the store's maximum is learned from its refusal). */
  pageSize?: number;
}

/** Sidecars kubectl users rarely mean when they name a workload: never picked as its default container. */
const SIDECARS = new Set(['istio-proxy', 'istio-init', 'linkerd-proxy', 'linkerd-init', 'envoy', 'envoy-sidecar', 'cloud-sql-proxy', 'vault-agent', 'vault-agent-init', 'fluent-bit', 'fluentd', 'filebeat', 'promtail', 'oauth2-proxy']);

/**
 * The container kubectl would pick for a workload when none is named. The store does not know
 * the pod spec's order or the `kubectl.kubernetes.io/default-container` annotation, so: the
 * container named like the workload, else the first (alphabetically) that is not a well-known
 * sidecar, else the first.
 */
export function defaultContainer(containers: string[], workload: string | undefined): string {
  const sorted = [...containers].sort();
  if (workload && sorted.includes(workload)) return workload;
  return sorted.find((c) => !SIDECARS.has(c)) ?? sorted[0]!;
}

/** One query: a stream selector and the pipeline after it (kept apart for paging fallbacks). */
export interface LogsQuery {
  selector: string;
  pipeline: string;
}

interface Plan {
  /** Usually one; one per pod for --previous and for -l with --tail (kubectl's tail is per pod). */
  queries: LogsQuery[];
  series: Labels[];
  tail: number | null;
  startNs: bigint;
  /** The stream selector without container choice (to learn new streams while following). */
  match: string;
  /** What -f follows after the first lines: every chosen pod/container in one query. */
  follow: LogsQuery;
}

const distinct = (xs: Iterable<string | undefined>) => [...new Set([...xs].filter((x): x is string => x !== undefined))].sort();

function describe(target: Target, ns: string): string {
  if (target.kind === 'pod') return `pod "${target.name}" in namespace "${ns}"`;
  if (target.kind === 'workload') return `${target.workloadKind} "${target.name}" in namespace "${ns}"`;
  return `namespace "${ns}"`;
}

/** Flags → what to ask the store, checking containers and restarts through the series API. */
async function plan(client: StoreClient, targetText: string | undefined, flags: LogsFlags, io: Io): Promise<Plan> {
  const target = parseTarget(targetText);
  if (target.kind === 'none' && flags.selector === undefined) throw new UsageError('expected a pod, TYPE/NAME (deploy/, sts/, job/, cronjob/, ds/, rs/) or -l SELECTOR; see "loggy logs --help"');
  if (flags.container !== undefined && flags.allContainers) throw new UsageError('--container and --all-containers cannot be used together');
  if (flags.since !== undefined && flags.sinceTime !== undefined) throw new UsageError('at most one of --since and --since-time may be given');
  if (flags.output !== undefined && flags.output !== 'json' && flags.output !== 'text') throw new UsageError(`invalid -o "${flags.output}": expected json or text`);
  if (flags.grep !== undefined) checkGrep(flags.grep);
  const ns = flags.namespace ?? 'default';
  if (!flags.allNamespaces && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) throw new UsageError(`invalid namespace "${ns}"`);
  // kubectl: all lines, but only the last 10 per pod when pods are chosen by a selector.
  let tail: number | null = null;
  if (flags.tail !== undefined && flags.tail.trim() !== '-1') tail = parseCount(flags.tail, '--tail', true);
  else if (flags.tail === undefined && target.kind === 'none') tail = 10;
  const since = flags.since !== undefined ? nowNs() - BigInt(Math.round(parseGoDuration(flags.since) * 1e6)) : flags.sinceTime !== undefined ? parseTimeFlag(flags.sinceTime) : 0n;
  const startNs = since < 0n ? 0n : since;

  const sel: LogsSelection = { namespace: ns, allNamespaces: flags.allNamespaces, target, labelSelector: flags.selector };
  const base = selectionMatchers(sel);
  // Streams over all time: the pod may have logged only before --since, and is gone anyway.
  const series = await client.series(renderMatchers(base), { start: 0n, end: nowNs() + 3_600_000_000_000n });
  if (series.length === 0) {
    let hint = '';
    if (target.kind !== 'none' && !flags.allNamespaces) {
      const only = base.filter((m) => m.name !== 'namespace');
      const elsewhere = await client.labelValues('namespace', { start: 0n, end: nowNs() + 3_600_000_000_000n, query: renderMatchers([...only, { name: 'namespace', op: '=~', value: '.+' }]) }).catch(() => []);
      if (elsewhere.length) hint = `; found in namespace${elsewhere.length > 1 ? 's' : ''} ${elsewhere.join(', ')}: use -n ${elsewhere[0]}`;
    }
    throw new ClientError(`no logs of ${describe(target, ns)} in the store${hint}`);
  }

  const pipeline = flags.grep !== undefined ? logsQuery([], flags.grep).slice(2) : '';
  const q = (m: Matcher[]): LogsQuery => ({ selector: renderMatchers(m), pipeline });
  const containers = distinct(series.map((s) => s.container));
  if (flags.container !== undefined && !containers.includes(flags.container)) {
    throw new ClientError(`container ${flags.container} is not valid for ${describe(target, ns)}: choose one of: [${containers.join(' ')}]`);
  }
  // Per pod: its containers, and the ones to show (kubectl: -c, all, the only one, or the default).
  const pods = new Map<string, { ns: string; pod: string; containers: string[]; chosen: string[] }>();
  for (const s of series) {
    if (s.pod === undefined || s.container === undefined) continue;
    const key = `${s.namespace}/${s.pod}`;
    let p = pods.get(key);
    if (!p) pods.set(key, (p = { ns: s.namespace ?? ns, pod: s.pod, containers: [], chosen: [] }));
    if (!p.containers.includes(s.container)) p.containers.push(s.container);
  }
  const defaulted = new Set<string>();
  for (const p of pods.values()) {
    p.containers.sort();
    if (flags.container !== undefined) p.chosen = p.containers.includes(flags.container) ? [flags.container] : [];
    else if (flags.allContainers || p.containers.length === 1) p.chosen = p.containers;
    else if (target.kind === 'pod') {
      throw new ClientError(`a container name must be specified for pod ${target.name}, choose one of: [${p.containers.join(' ')}] or use --all-containers`);
    } else {
      // kubectl picks the default container when pods are named by workload or selector.
      p.chosen = [defaultContainer(p.containers, target.kind === 'workload' ? target.name : undefined)];
      defaulted.add(`Defaulted container "${p.chosen[0]}" out of: ${p.containers.join(', ')} (use -c or --all-containers)\n`);
    }
  }
  for (const m of defaulted) io.err(m);
  const chosenAll = distinct([...pods.values()].flatMap((p) => p.chosen));
  const inContainers = series.filter((s) => s.container !== undefined && chosenAll.includes(s.container));
  const match = renderMatchers(base);

  if (flags.previous) {
    // The previous instance: the highest restart seen for each pod/container, minus one.
    const queries: LogsQuery[] = [];
    const missing: string[] = [];
    for (const p of [...pods.values()].sort((a, b) => (a.pod < b.pod ? -1 : 1))) {
      for (const c of p.chosen) {
        const restarts = series.filter((s) => s.namespace === p.ns && s.pod === p.pod && s.container === c).map((s) => Number(s.restart)).filter(Number.isInteger);
        const max = Math.max(-1, ...restarts);
        if (max < 1) {
          missing.push(`previous terminated container "${c}" in pod "${p.pod}" not found`);
          continue;
        }
        queries.push(q([
          { name: 'namespace', op: '=', value: p.ns },
          { name: 'pod', op: '=', value: p.pod },
          { name: 'container', op: '=', value: c },
          { name: 'restart', op: '=', value: String(max - 1) },
        ]));
      }
    }
    if (queries.length === 0) throw new ClientError(missing[0] ?? `no previous container instance of ${describe(target, ns)} in the store`);
    return { queries, series: inContainers, tail, startNs, match, follow: queries[0]! };
  }
  const sameEverywhere = [...pods.values()].every((p) => p.chosen.length === p.containers.length) || flags.container !== undefined;
  if (target.kind === 'none' && (tail !== null || !sameEverywhere)) {
    // -l: kubectl's --tail counts per pod, and default containers differ per pod: one query each.
    const queries = [...pods.values()].filter((p) => p.chosen.length).sort((a, b) => (a.ns + a.pod < b.ns + b.pod ? -1 : 1)).map((p) =>
      q(selectionMatchers({ namespace: p.ns, target: { kind: 'pod', name: p.pod }, containers: p.chosen, labelSelector: flags.selector })));
    const follow = q(selectionMatchers({ ...sel, containers: sameEverywhere ? undefined : chosenAll }));
    return { queries, series: inContainers, tail, startNs, match, follow };
  }
  const chosen = sameEverywhere && flags.container === undefined ? undefined : chosenAll;
  const one = q(selectionMatchers({ ...sel, containers: chosen }));
  return { queries: [one], series: inContainers, tail, startNs, match, follow: one };
}

/** `loggy logs`: kubectl's logs, answered by the store. Returns the exit code. */
export async function runLogs(target: string | undefined, flags: LogsFlags, io: Io): Promise<number> {
  const cfg = resolveClientConfig({ flags: { addr: flags.addr, token: flags.token, tenant: flags.tenant }, env: io.env });
  const client = new StoreClient(cfg);
  const p = await plan(client, target, flags, io);
  const color = useColor(io.stdoutTTY, io.env);
  const c = colors(color);
  const fmt: LineFormat = { timestamps: flags.timestamps === true, prefix: flags.prefix === true, json: flags.output === 'json', color };
  const splitter = new MetadataSplitter(p.series);
  const print = async (entries: Entry[]) => {
    let text = '';
    for (const e of entries) text += formatLine(splitter.entry(e), fmt, c) + '\n';
    await io.out(text);
  };
  const warn = (m: string) => io.err(`loggy: warning: ${m}\n`);
  const progress = new Progress(io, 'querying the store');
  const endNs = nowNs() + (flags.follow ? 1n : 3_600_000_000_000n);
  const page = (lq: LogsQuery, direction: 'forward' | 'backward', total?: number) => pageLines(client, {
    query: lq.selector + lq.pipeline, split: lq, startNs: p.startNs, endNs, direction, total, pageSize: flags.pageSize, warn, onPage: (n) => progress.add(n),
  });
  // For -f: the lines printed near the end of the first part, so following does not repeat
  // them, and the oldest time following may reach back to (see follow()).
  const recentFloor = endNs - RESUME_LOOKBACK_NS;
  const recent: Entry[] = [];
  let floorNs = recentFloor > p.startNs ? recentFloor : p.startNs;
  const keepRecent = (lines: Entry[]) => {
    if (flags.follow) for (const e of lines) if (e.tsNs >= recentFloor) recent.push(e);
  };
  try {
    if (p.queries.length === 1 && p.tail === null) {
      for await (const lines of page(p.queries[0]!, 'forward')) {
        progress.stop();
        await print(lines);
        keepRecent(lines);
        if (io.signal?.aborted) return 0;
      }
    } else {
      // Several queries (one per pod) or a tail: gathered, then printed in time order.
      const all: Entry[] = [];
      for (const lq of p.queries) {
        const got: Entry[] = [];
        if (p.tail === 0) {
          floorNs = endNs; // nothing shown: follow only what comes next
          continue;
        }
        for await (const lines of page(lq, p.tail === null ? 'forward' : 'backward', p.tail ?? undefined)) {
          got.push(...lines);
          if (io.signal?.aborted) return 0;
        }
        // --tail N left older lines out: following must not bring them back.
        if (p.tail !== null && got.length >= p.tail && got.length > 0) {
          const oldest = got[got.length - 1]!.tsNs;
          if (oldest > floorNs) floorNs = oldest;
        }
        all.push(...(p.tail === null ? got : got.reverse()));
      }
      all.sort((a, b) => (a.tsNs === b.tsNs ? 0 : a.tsNs < b.tsNs ? -1 : 1));
      progress.stop();
      await print(all);
      keepRecent(all);
    }
  } finally {
    progress.stop();
  }
  if (!flags.follow || flags.previous || io.signal?.aborted) return 0;
  await follow(client, {
    query: p.follow,
    floorNs,
    initial: recent.map((e) => splitter.entry(e)),
    splitter,
    match: p.match,
    pageSize: flags.pageSize,
    print: async (entries: SplitEntry[]) => {
      let text = '';
      for (const e of entries) text += formatLine(e, fmt, c) + '\n';
      await io.out(text);
    },
    io,
  });
  return 0;
}
