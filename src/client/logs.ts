import { nowNs } from '../core/time.js';
import { resolveClientConfig } from './config.js';
import { parseCount, parseGoDuration, parseTimeFlag } from './duration.js';
import { ClientError, UsageError } from './errors.js';
import { follow } from './follow.js';
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

interface Plan {
  /** One or more queries run one after another (--previous over several pods gives one each). */
  queries: string[];
  series: Labels[];
  tail: number | null;
  startNs: bigint;
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
  const startNs = flags.since !== undefined ? nowNs() - BigInt(Math.round(parseGoDuration(flags.since) * 1e6)) : flags.sinceTime !== undefined ? parseTimeFlag(flags.sinceTime) : 0n;

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

  const containers = distinct(series.map((s) => s.container));
  let chosen: string[] | undefined;
  if (flags.container !== undefined) {
    if (!containers.includes(flags.container)) {
      throw new ClientError(`container ${flags.container} is not valid for ${describe(target, ns)}: choose one of: [${containers.join(' ')}]`);
    }
    chosen = [flags.container];
  } else if (!flags.allContainers && containers.length > 1) {
    if (target.kind === 'pod') {
      throw new ClientError(`a container name must be specified for pod ${target.name}, choose one of: [${containers.join(' ')}] or use --all-containers`);
    }
    const pick = defaultContainer(containers, target.kind === 'workload' ? target.name : undefined);
    io.err(`Defaulted container "${pick}" out of: ${containers.join(', ')} (use -c or --all-containers)\n`);
    chosen = [pick];
  }

  const inContainers = series.filter((s) => !chosen || (s.container !== undefined && chosen.includes(s.container)));
  if (!flags.previous) {
    return { queries: [logsQuery(selectionMatchers({ ...sel, containers: chosen }), flags.grep)], series: inContainers, tail, startNs };
  }
  // The previous instance: the highest restart seen for each pod/container, minus one.
  const byPodContainer = new Map<string, { pod: string; ns: string; container: string; max: number }>();
  for (const s of inContainers) {
    const r = Number(s.restart);
    if (s.pod === undefined || s.container === undefined || !Number.isInteger(r)) continue;
    const key = `${s.namespace}/${s.pod}/${s.container}`;
    const cur = byPodContainer.get(key);
    if (!cur || r > cur.max) byPodContainer.set(key, { pod: s.pod, ns: s.namespace ?? ns, container: s.container, max: r });
  }
  const queries: string[] = [];
  const missing: string[] = [];
  for (const p of [...byPodContainer.values()].sort((a, b) => (a.pod + a.container < b.pod + b.container ? -1 : 1))) {
    if (p.max < 1) {
      missing.push(`previous terminated container "${p.container}" in pod "${p.pod}" not found`);
      continue;
    }
    const m: Matcher[] = [
      { name: 'namespace', op: '=', value: p.ns },
      { name: 'pod', op: '=', value: p.pod },
      { name: 'container', op: '=', value: p.container },
      { name: 'restart', op: '=', value: String(p.max - 1) },
    ];
    queries.push(logsQuery(m, flags.grep));
  }
  if (queries.length === 0) throw new ClientError(missing[0] ?? `no previous container instance of ${describe(target, ns)} in the store`);
  return { queries, series: inContainers, tail, startNs };
}

/** `loggy logs`: kubectl's logs, answered by the store. Returns the exit code. */
export async function runLogs(target: string | undefined, flags: LogsFlags, io: Io): Promise<number> {
  const cfg = resolveClientConfig({ flags: { addr: flags.addr, token: flags.token }, env: io.env });
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
  try {
    for (const query of p.queries) {
      if (p.tail !== null) {
        const got: Entry[] = [];
        if (p.tail > 0) {
          for await (const page of pageLines(client, { query, startNs: p.startNs, endNs, direction: 'backward', total: p.tail, pageSize: flags.pageSize, warn, onPage: (n) => progress.add(n) })) got.push(...page);
        }
        progress.stop();
        got.reverse();
        await print(got);
      } else {
        for await (const page of pageLines(client, { query, startNs: p.startNs, endNs, direction: 'forward', pageSize: flags.pageSize, warn, onPage: (n) => progress.add(n) })) {
          progress.stop();
          await print(page);
          if (io.signal?.aborted) return 0;
        }
      }
    }
  } finally {
    progress.stop();
  }
  if (!flags.follow || flags.previous) return 0;
  await follow(client, {
    query: p.queries[0]!,
    floorNs: endNs,
    splitter,
    match: renderMatchers(selectionMatchers({ namespace: flags.namespace ?? 'default', allNamespaces: flags.allNamespaces, target: parseTarget(target), labelSelector: flags.selector })),
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
