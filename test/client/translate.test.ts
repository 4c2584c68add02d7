import { describe, expect, it } from 'vitest';
import { parseLogQL } from '../../src/logql/index.js';
import { UsageError } from '../../src/client/errors.js';
import { checkGrep, logqlString, logsQuery, parseTarget, podLabelName, renderMatchers, selectionMatchers, selectorMatchers } from '../../src/client/translate.js';
import { defaultContainer } from '../../src/client/logs.js';

describe('targets', () => {
  it('maps kubectl resource names and short names to workload_kind', () => {
    expect(parseTarget('web-1')).toEqual({ kind: 'pod', name: 'web-1' });
    expect(parseTarget('pod/web-1')).toEqual({ kind: 'pod', name: 'web-1' });
    expect(parseTarget('po/web-1')).toEqual({ kind: 'pod', name: 'web-1' });
    const kinds = Object.fromEntries(['deploy', 'deployment', 'deployment.apps', 'sts', 'statefulset', 'job', 'ds', 'daemonset', 'cronjob', 'cj', 'rs', 'replicaset']
      .map((t) => [t, (parseTarget(`${t}/x`) as { workloadKind: string }).workloadKind]));
    expect(kinds).toEqual({ deploy: 'Deployment', deployment: 'Deployment', 'deployment.apps': 'Deployment', sts: 'StatefulSet', statefulset: 'StatefulSet', job: 'Job', ds: 'DaemonSet', daemonset: 'DaemonSet', cronjob: 'CronJob', cj: 'CronJob', rs: 'ReplicaSet', replicaset: 'ReplicaSet' });
    expect(parseTarget(undefined)).toEqual({ kind: 'none' });
  });

  it('refuses unknown types and names that are not Kubernetes names', () => {
    expect(() => parseTarget('svc/web')).toThrow(/unknown resource type "svc"/);
    expect(() => parseTarget('Web_1')).toThrow(UsageError);
    expect(() => parseTarget('deploy/')).toThrow(/invalid name/);
    expect(() => parseTarget('web"}|="x')).toThrow(UsageError);
  });
});

describe('-l selector → label_* matchers', () => {
  it('translates every kubectl operator', () => {
    expect(renderMatchers(selectorMatchers('app=web,tier!=db,env in (prod, staging),zone notin (a),canary,!legacy,app.kubernetes.io/name==shop'))).toBe(
      '{label_app="web", label_tier!="db", label_env=~"prod|staging", label_zone!="a", label_canary=~".+", label_legacy="", label_app_kubernetes_io_name="shop"}');
  });

  it('escapes regex characters in set values and sanitises keys as the agent does', () => {
    expect(selectorMatchers('v in (1.2,1.3)')).toEqual([{ name: 'label_v', op: '=~', value: '1\\.2|1\\.3' }]);
    expect(selectorMatchers('v notin (a.b,c)')).toEqual([{ name: 'label_v', op: '!~', value: 'a\\.b|c' }]);
    expect(podLabelName('example.com/my-key')).toBe('label_example_com_my_key');
  });

  it('refuses bad selectors as usage errors', () => {
    expect(() => selectorMatchers('app in (a')).toThrow(UsageError);
    expect(() => selectorMatchers('app=web,')).toThrow(/invalid -l selector: empty term/);
    expect(() => selectorMatchers('a=b"c')).toThrow(/invalid label value/);
  });

  it('produces queries the LogQL parser accepts, with the values intact', () => {
    const q = logsQuery(selectionMatchers({ namespace: 'shop', target: parseTarget('deploy/web'), labelSelector: 'env in (prod,staging),!canary', containers: ['a', 'b.c'] }), 'err(or)?');
    expect(q).toBe('{namespace="shop", workload_kind="Deployment", workload="web", label_env=~"prod|staging", label_canary="", container=~"a|b\\\\.c"} |~ "err(or)?"');
    expect(() => parseLogQL(q)).not.toThrow();
  });
});

describe('LogQL string literals', () => {
  it('escapes quotes, backslashes and control characters so the literal cannot be escaped from', () => {
    for (const s of ['plain', 'a"b', 'back\\slash', '\\"', 'new\nline', 'tab\there', '\x01\x7f', '`raw`', 'ünï', '"} |= "x']) {
      const q = `{a="b"} |= ${logqlString(s)}`;
      const expr = parseLogQL(q) as unknown as { stages: Array<{ value?: string; match?: string }> };
      expect(JSON.stringify(expr.stages)).toContain(JSON.stringify(s).slice(1, -1));
      expect(expr.stages).toHaveLength(1);
    }
  });

  it('--grep: validates the regex and escapes it', () => {
    expect(() => checkGrep('(')).toThrow(/invalid --grep "\(": error parsing regexp/);
    expect(() => checkGrep('')).toThrow(UsageError);
    expect(() => checkGrep('(?i)error|warn\\d+')).not.toThrow();
    expect(logsQuery([{ name: 'namespace', op: '=', value: 'x' }], 'a"b\\d')).toBe('{namespace="x"} |~ "a\\"b\\\\d"');
  });
});

describe('default container of a workload', () => {
  it('prefers the one named like the workload, then the first non-sidecar', () => {
    expect(defaultContainer(['istio-proxy', 'web', 'zz'], 'web')).toBe('web');
    expect(defaultContainer(['istio-proxy', 'app', 'zz'], 'web')).toBe('app');
    expect(defaultContainer(['istio-proxy', 'linkerd-proxy'], 'web')).toBe('istio-proxy');
  });
});
