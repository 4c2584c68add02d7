import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { agentConfigSchema } from '../../src/agent/config.js';
import { parseConfig } from '../../src/config/index.js';
import { serverConfigSchema } from '../../src/server/config.js';
import { repoRoot } from '../helpers/proc.js';
import { multilineFromAnnotation } from '../../src/kube/annotations.js';
import { parseParserSpec } from '../../src/transforms/parse/parsers.js';

/**
 * The manifests in deploy/kubernetes, validated against the Kubernetes API's own schemas (the
 * kubernetes-models package carries them, generated from the OpenAPI spec), and checked for
 * what a reviewer would look for: least privilege, read-only host paths, probes, heap bounds.
 */
const dir = join(repoRoot, 'deploy/kubernetes');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

function objects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return d.toJS() as K8sObject;
  }).filter(Boolean);
}

function manifestFiles(sub = ''): string[] {
  const base = join(dir, sub);
  return readdirSync(base).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').map((f) => join(base, f));
}

/** `apps/v1` + `DaemonSet` -> kubernetes-models/apps/v1/DaemonSet; `v1` + `Pod` -> kubernetes-models/v1/Pod. */
async function validate(o: K8sObject): Promise<void> {
  const mod = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`)) as Record<string, new (d: unknown) => { validate(): void }>;
  const Model = mod[o.kind] ?? mod.default;
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

const all = [...manifestFiles(), ...manifestFiles('examples')].flatMap((f) => objects(f).map((o) => ({ file: f.slice(dir.length + 1), o })));
/** The variant with the store on ClickHouse (its own kustomization; same object names as the base). */
const onClickHouse = manifestFiles('clickhouse').flatMap((f) => objects(f).map((o) => ({ file: f.slice(dir.length + 1), o })));
// Manifests are arbitrary nested YAML; the schema validation above is what types them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const find = (kind: string, name: string) => all.find((x) => x.o.kind === kind && x.o.metadata.name === name)!.o as never as Record<string, any>;

describe('deploy/kubernetes manifests', () => {
  for (const { file, o } of [...all, ...onClickHouse]) {
    it(`${file}: ${o.kind} ${o.metadata.name} is valid against the Kubernetes schema`, async () => {
      await validate(o);
    });
  }

  it('kustomization.yaml lists every manifest', () => {
    const k = objects(join(dir, 'kustomization.yaml'))[0] as unknown as { resources: string[] };
    expect(k.resources.sort()).toEqual(manifestFiles().map((f) => f.slice(dir.length + 1)).sort());
  });

  it('gives the agent read-only access to pods, namespaces and replicasets, nothing more', () => {
    const role = find('ClusterRole', 'loggy-agent');
    for (const r of role.rules) expect(r.verbs.sort()).toEqual(['get', 'list', 'watch']);
    expect(role.rules.flatMap((r: { resources: string[] }) => r.resources).sort()).toEqual(['namespaces', 'pods', 'replicasets']);
  });

  it('mounts host paths read-only (but the checkpoint directory), drops capabilities, bounds the heap, probes health', () => {
    const ds = find('DaemonSet', 'loggy-agent');
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    const hostVolumes = new Set(pod.volumes.filter((v: { hostPath?: unknown }) => v.hostPath).map((v: { name: string }) => v.name));
    const writable = c.volumeMounts.filter((m: { name: string; readOnly?: boolean }) => hostVolumes.has(m.name) && !m.readOnly).map((m: { mountPath: string }) => m.mountPath);
    expect(writable).toEqual(['/var/lib/loggy']);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH'] } });
    expect(c.env.find((e: { name: string }) => e.name === 'NODE_OPTIONS').value).toMatch(/--max-old-space-size=\d+/);
    expect(c.env.find((e: { name: string }) => e.name === 'NODE_NAME').valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(c.resources.limits.memory).toBeDefined();
  });

  it('mounts the journal (persistent and volatile) and the machine id journalctl needs, read-only', () => {
    const pod = find('DaemonSet', 'loggy-agent').spec.template.spec;
    const mounts = new Map<string, { name: string; readOnly?: boolean }>(pod.containers[0].volumeMounts.map((m: { mountPath: string; name: string; readOnly?: boolean }) => [m.mountPath, m]));
    const hostPathOf = (name: string) => pod.volumes.find((v: { name: string }) => v.name === name).hostPath.path;
    // /var/log/journal comes with /var/log.
    for (const path of ['/var/log', '/run/log/journal']) {
      const m = mounts.get(path);
      expect(m, path).toBeDefined();
      expect(m!.readOnly, path).toBe(true);
      expect(hostPathOf(m!.name)).toBe(path);
    }
    // Not needed (the source reads every journal, --merge), and not on every node.
    expect(mounts.has('/etc/machine-id')).toBe(false);
  });

  it('the image carries journalctl for the journald source', () => {
    const docker = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const final = docker.slice(docker.lastIndexOf('\nFROM '));
    expect(final).toMatch(/apt-get install[^\n]*\bsystemd\b/);
  });

  it('runs the server as non-root with a read-only root filesystem and a volume claim', () => {
    const ss = find('StatefulSet', 'loggy-server');
    const pod = ss.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(ss.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
  });

  it('ships sidecar examples whose commands and configurations Loggy accepts', () => {
    const env = { POD_NAME: 'p', POD_NAMESPACE: 'default', LOGGY_TOKEN: 'agent-token-0123456789' };
    const cfg = parseConfig(find('ConfigMap', 'counter-agent-sidecar').data['agent.yaml'], 'agent-sidecar.yaml', agentConfigSchema, { env });
    expect(cfg.sources.app).toMatchObject({ type: 'file', include: ['/var/log/*.log'] });
    const streaming = find('Pod', 'counter-files').spec.containers.filter((c: { args: string[] }) => c.args[0] === 'stream');
    expect(streaming).toHaveLength(2);
    for (const c of streaming) expect(c.args).toContain('--state');
  });

  it('ships configurations the agent and the server accept', () => {
    const env = { NODE_NAME: 'node-1', LOGGY_TOKEN: 'agent-token-0123456789', LOGGY_AGENT_TOKEN: 'agent-token-0123456789', LOGGY_READ_TOKEN: 'read-token-0123456789' };
    const agent = parseConfig(find('ConfigMap', 'loggy-agent').data['agent.yaml'], 'agent-configmap.yaml', agentConfigSchema, { env });
    expect(Object.keys(agent.sinks)).toEqual(['store']);
    // Pod annotations (parser, rate limit, multiline) work out of the box: their readers are wired.
    expect(Object.values(agent.transforms).map((t) => t.type)).toEqual(['kube_metadata', 'rate_limit', 'parse']);
    expect(agent.sinks.store!.inputs).toEqual(['fields', 'system', 'node_files']);
    // Node components: kubelet and the runtime from the journal, control plane files from /var/log.
    expect(agent.sources.system).toMatchObject({ type: 'journald', labels: { node: 'node-1' } });
    expect((agent.sources.system as { units: string[] }).units).toEqual(expect.arrayContaining(['kubelet.service', 'containerd.service']));
    expect(agent.sources.node_files).toMatchObject({ type: 'file', include: expect.arrayContaining(['/var/log/kube-*.log']), labels: { node: 'node-1' } });
    const server = parseConfig(find('ConfigMap', 'loggy-server').data['server.yaml'], 'server.yaml', serverConfigSchema, { env });
    expect(server.auth.enabled).toBe(true);
  });

  it('runs the store on ClickHouse as stateless replicas: a Deployment of 2 or more, no volume claim, a disruption budget, the password from a Secret', () => {
    const k = objects(join(dir, 'clickhouse/kustomization.yaml'))[0] as unknown as { resources: string[] };
    for (const r of k.resources) expect(existsSync(join(dir, 'clickhouse', r)), r).toBe(true);
    expect(k.resources).toEqual(expect.arrayContaining(['../agent-daemonset.yaml', 'server.yaml']));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as `find` above: the schema validation types the manifests
    const get = (kind: string) => onClickHouse.find((x) => x.o.kind === kind)!.o as never as Record<string, any>;
    const dep = get('Deployment');
    expect(dep.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(dep.spec.template.spec.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(dep.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'CLICKHOUSE_PASSWORD').valueFrom.secretKeyRef).toBeDefined();
    expect(get('PodDisruptionBudget').spec.minAvailable).toBe(1);
    const env = { CLICKHOUSE_PASSWORD: 'pw', LOGGY_AGENT_TOKEN: 'agent-token-0123456789', LOGGY_READ_TOKEN: 'read-token-0123456789' };
    const server = parseConfig(get('ConfigMap').data['server.yaml'], 'clickhouse/server.yaml', serverConfigSchema, { env });
    expect(server.engine).toMatchObject({ type: 'clickhouse', clickhouse: { password: 'pw', database: 'loggy' } });
    expect(server.tail.mode).toBe('poll');
    expect(server.auth.enabled).toBe(true);
  });

  it('gives example pods annotations the shipped agent configuration can honour', () => {
    const env = { NODE_NAME: 'node-1', LOGGY_TOKEN: 'agent-token-0123456789' };
    const agent = parseConfig(find('ConfigMap', 'loggy-agent').data['agent.yaml'], 'agent-configmap.yaml', agentConfigSchema, { env });
    const parse = Object.values(agent.transforms).find((t) => t.type === 'parse') as { patterns: Record<string, string> };
    const annotations = all.filter(({ o }) => o.kind === 'Pod').flatMap(({ o }) => Object.entries((o.metadata as { annotations?: Record<string, string> }).annotations ?? {}));
    const used = annotations.filter(([k]) => k.startsWith('loggy.io/'));
    expect(used.length).toBeGreaterThan(3);
    for (const [k, v] of used) {
      if (k.startsWith('loggy.io/parser')) {
        const spec = parseParserSpec(v);
        expect(typeof spec, `${k}: ${v}`).not.toBe('string');
        if (typeof spec !== 'string' && spec.kind === 'regex') expect(Object.keys(parse.patterns)).toContain(spec.name);
      }
      if (k.startsWith('loggy.io/multiline')) expect(typeof multilineFromAnnotation(v), `${k}: ${v}`).not.toBe('string');
      if (k.startsWith('loggy.io/rate-limit')) expect(Number(v)).toBeGreaterThan(0);
    }
  });
});
