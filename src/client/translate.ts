import { parseSelectorRequirements, SelectorError } from '../kube/selector.js';
import { escapeRegex, regexError } from '../logql/regex.js';
import { UsageError } from './errors.js';

/** A LogQL label matcher, rendered as `name op "value"`. */
export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** What `loggy logs` was pointed at. */
export type Target =
  | { kind: 'pod'; name: string }
  | { kind: 'workload'; workloadKind: string; name: string; typed: string }
  | { kind: 'none' };

/** kubectl's resource names and short names → the agent's `workload_kind` values. */
const WORKLOAD_KINDS: Record<string, string> = {
  deploy: 'Deployment', deployment: 'Deployment', deployments: 'Deployment',
  sts: 'StatefulSet', statefulset: 'StatefulSet', statefulsets: 'StatefulSet',
  job: 'Job', jobs: 'Job',
  ds: 'DaemonSet', daemonset: 'DaemonSet', daemonsets: 'DaemonSet',
  cj: 'CronJob', cronjob: 'CronJob', cronjobs: 'CronJob',
  rs: 'ReplicaSet', replicaset: 'ReplicaSet', replicasets: 'ReplicaSet',
  staticpod: 'StaticPod',
};

/** `POD`, `pod/POD`, `po/POD`, `deploy/NAME`, `statefulset.apps/NAME`, ... */
export function parseTarget(text: string | undefined): Target {
  if (text === undefined || text === '') return { kind: 'none' };
  const slash = text.indexOf('/');
  if (slash < 0) return { kind: 'pod', name: checkName(text, text) };
  const type = text.slice(0, slash).toLowerCase().replace(/\.(apps|batch)(\/v\d\w*)?$/, '');
  const name = checkName(text.slice(slash + 1), text);
  if (type === 'pod' || type === 'pods' || type === 'po') return { kind: 'pod', name };
  const workloadKind = WORKLOAD_KINDS[type];
  if (!workloadKind) {
    throw new UsageError(`unknown resource type "${text.slice(0, slash)}" in "${text}": expected a pod name or one of pod/, deploy/, sts/, job/, cronjob/, ds/, rs/`);
  }
  return { kind: 'workload', workloadKind, name, typed: text };
}

function checkName(name: string, text: string): string {
  // DNS subdomain names (pods) and labels (workloads): lower-case alphanumerics, '-' and '.'.
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new UsageError(`invalid name "${name}" in "${text}": Kubernetes names are lower-case letters, digits, "-" and "."`);
  }
  return name;
}

/** A pod label key as the agent writes it: `label_` + the key with every non [a-zA-Z0-9_] as `_`. */
export function podLabelName(key: string): string {
  return `label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}


/**
 * A kubectl label selector (`-l`) → LogQL matchers on the agent's `label_*` labels. Exact:
 * `k=v`/`k==v` → `="v"`; `k!=v` → `!="v"` (matches pods without k too, as in Kubernetes);
 * `k in (a,b)` → `=~"a|b"`; `k notin (a,b)` → `!~"a|b"`; `!k` → `=""`.
 * Approximate, because the store drops empty label values (as Loki does): `k` (exists) →
 * `=~".+"` misses pods whose k is set to ""; `k=` (empty value) also matches pods without k.
 */
export function selectorMatchers(selector: string): Matcher[] {
  let reqs;
  try {
    reqs = parseSelectorRequirements(selector);
  } catch (err) {
    if (err instanceof SelectorError) throw new UsageError(`invalid -l selector: ${err.message}`);
    throw err;
  }
  return reqs.map((r): Matcher => {
    const name = podLabelName(r.key);
    switch (r.op) {
      case 'exists': return { name, op: '=~', value: '.+' };
      case '!exists': return { name, op: '=', value: '' };
      case 'in':
      case 'notin': {
        const values = [...r.values];
        if (values.length === 1) return { name, op: r.op === 'in' ? '=' : '!=', value: values[0]! };
        return { name, op: r.op === 'in' ? '=~' : '!~', value: values.map(escapeRegex).join('|') };
      }
    }
  });
}

/**
 * A LogQL string literal for any text: a Go double-quoted string with `\`, `"` and control
 * characters escaped, so nothing the user types can end the literal or change the query.
 */
export function logqlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export function renderMatchers(matchers: Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${logqlString(m.value)}`).join(', ')}}`;
}

/** Validates a `--grep` regex as the store will compile it (RE2 syntax run as a JS RegExp). */
export function checkGrep(re: string): void {
  if (re === '') throw new UsageError('--grep needs a non-empty regular expression');
  const err = regexError(re);
  if (err) throw new UsageError(`invalid --grep "${re}": ${err}`);
}

export interface LogsSelection {
  namespace: string;
  /** All namespaces (`-A`). */
  allNamespaces?: boolean;
  target: Target;
  /** Exact container(s); several become a regex matcher. */
  containers?: string[];
  labelSelector?: string;
  /** Exact restart value (for --previous). */
  restart?: string;
}

/** The stream selector of a `loggy logs` invocation. */
export function selectionMatchers(sel: LogsSelection): Matcher[] {
  const m: Matcher[] = [];
  if (sel.allNamespaces) m.push({ name: 'namespace', op: '=~', value: '.+' });
  else m.push({ name: 'namespace', op: '=', value: sel.namespace });
  if (sel.target.kind === 'pod') m.push({ name: 'pod', op: '=', value: sel.target.name });
  if (sel.target.kind === 'workload') {
    m.push({ name: 'workload_kind', op: '=', value: sel.target.workloadKind });
    m.push({ name: 'workload', op: '=', value: sel.target.name });
  }
  if (sel.labelSelector !== undefined) m.push(...selectorMatchers(sel.labelSelector));
  if (sel.containers?.length === 1) m.push({ name: 'container', op: '=', value: sel.containers[0]! });
  else if (sel.containers && sel.containers.length > 1) m.push({ name: 'container', op: '=~', value: sel.containers.map(escapeRegex).join('|') });
  if (sel.restart !== undefined) m.push({ name: 'restart', op: '=', value: sel.restart });
  return m;
}

/** Selector plus `|~ "grep"`. */
export function logsQuery(matchers: Matcher[], grep?: string): string {
  return renderMatchers(matchers) + (grep !== undefined ? ` |~ ${logqlString(grep)}` : '');
}
