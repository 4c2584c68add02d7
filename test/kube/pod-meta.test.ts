import { describe, expect, it } from 'vitest';
import { podMeta, workloadOf } from '../../src/kube/pod-meta.js';
import { pod } from '../helpers/kube-api.js';

describe('workloadOf', () => {
  it('names the Deployment behind a ReplicaSet by its pod-template-hash', () => {
    expect(workloadOf('web-5d8f7c9b6f-x2x9z', { 'pod-template-hash': '5d8f7c9b6f' }, [{ kind: 'ReplicaSet', name: 'web-5d8f7c9b6f', controller: true }]))
      .toEqual({ workloadKind: 'Deployment', workload: 'web' });
  });

  it('keeps a bare ReplicaSet (no matching hash) as a ReplicaSet', () => {
    expect(workloadOf('rs-abc', {}, [{ kind: 'ReplicaSet', name: 'rs', controller: true }])).toEqual({ workloadKind: 'ReplicaSet', workload: 'rs' });
  });

  it('names the CronJob behind a Job it scheduled, and keeps a plain Job', () => {
    expect(workloadOf('backup-29012345-abcde', {}, [{ kind: 'Job', name: 'backup-29012345', controller: true }])).toEqual({ workloadKind: 'CronJob', workload: 'backup' });
    expect(workloadOf('migrate-db-x1', {}, [{ kind: 'Job', name: 'migrate-db', controller: true }])).toEqual({ workloadKind: 'Job', workload: 'migrate-db' });
  });

  it('passes StatefulSets and DaemonSets through, and prefers the controller among owners', () => {
    expect(workloadOf('db-0', {}, [{ kind: 'StatefulSet', name: 'db', controller: true }])).toEqual({ workloadKind: 'StatefulSet', workload: 'db' });
    expect(workloadOf('x', {}, [{ kind: 'ConfigMap', name: 'c' }, { kind: 'DaemonSet', name: 'loggy', controller: true }])).toEqual({ workloadKind: 'DaemonSet', workload: 'loggy' });
  });

  it('names a static pod after its manifest (mirror pods are `<name>-<node>`)', () => {
    expect(workloadOf('kube-apiserver-node-1', {}, [{ kind: 'Node', name: 'node-1', controller: true }], 'node-1')).toEqual({ workloadKind: 'StaticPod', workload: 'kube-apiserver' });
  });

  it('has nothing to say about a pod without owners', () => {
    expect(workloadOf('bare', {}, [])).toEqual({});
  });
});

describe('podMeta', () => {
  it('keeps labels, annotations, images of every container kind, node, IP and the config hash', () => {
    const p = pod({ name: 'web-5d8f7c9b6f-abcde', uid: 'u1', annotations: { 'kubernetes.io/config.hash': 'h123' }, containers: { app: 'app:1', proxy: 'envoy:1.30' }, ip: '10.1.2.3' });
    p.spec!.initContainers = [{ name: 'init', image: 'busybox:1.36' }];
    const m = podMeta(p as never)!;
    expect(m).toMatchObject({ uid: 'u1', namespace: 'shop', name: 'web-5d8f7c9b6f-abcde', node: 'node-1', ip: '10.1.2.3', configHash: 'h123', workloadKind: 'Deployment', workload: 'web' });
    expect(m.images).toEqual({ init: 'busybox:1.36', app: 'app:1', proxy: 'envoy:1.30' });
  });

  it('refuses an object without uid, name or namespace', () => {
    expect(podMeta({ metadata: { name: 'x' } } as never)).toBeNull();
  });
});
