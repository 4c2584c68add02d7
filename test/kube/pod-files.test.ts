import { describe, expect, it } from 'vitest';
import { podFileTargets } from '../../src/kube/pod-files.js';
import { podMeta } from '../../src/kube/pod-meta.js';
import { pod } from '../helpers/kube-api.js';

describe('in-pod file paths mapped to the node', () => {
  const p = podMeta(pod({
    name: 'web-1', uid: 'uid-1',
    annotations: { 'loggy.io/files': 'app:/var/log/app/*.log, app:/var/log/app/deep/x.log, app:/data/sub/a.log, app:/etc/app.log, app:/host/h.log, proxy:/x.log, app:rel.log, nonsense' },
    containers: { app: 'app:1' },
    mounts: { app: [{ name: 'logs', mountPath: '/var/log/app' }, { name: 'deep', mountPath: '/var/log/app/deep/' }, { name: 'data', mountPath: '/data', subPath: 'tenant-a' }, { name: 'host', mountPath: '/host' }, { name: 'cfg', mountPath: '/etc' }] },
    volumes: [{ name: 'logs', emptyDir: {} }, { name: 'deep', emptyDir: {} }, { name: 'data', emptyDir: {} }, { name: 'host', hostPath: { path: '/srv/logs' } }, { name: 'cfg', configMap: { name: 'c' } }],
  }) as never)!;
  const K = '/var/lib/kubelet';
  const ed = (vol: string) => `${K}/pods/uid-1/volumes/kubernetes.io~empty-dir/${vol}`;

  it('maps each path through the longest mount that holds it, subPath included, and says why the others cannot be', () => {
    const t = podFileTargets(p, K);
    expect(t.map((x) => x.nodeGlob)).toEqual([`${ed('logs')}/*.log`, `${ed('deep')}/x.log`, `${ed('data')}/tenant-a/sub/a.log`, null, null, null, null, null]);
    expect(t[0]).toMatchObject({ container: 'app', volumeDir: ed('logs'), mountPath: '/var/log/app' });
    expect(t.slice(3).map((x) => x.problem)).toEqual([
      'app:/etc/app.log: volume "cfg" is not an emptyDir',
      'app:/host/h.log: volume "host" is a hostPath; set allow_host_path to read those',
      'proxy:/x.log: the pod has no container "proxy"',
      'app:rel.log: the path must be absolute',
      '"nonsense": expected <container>:<path>',
    ]);
  });

  it('follows hostPath volumes only when allowed', () => {
    const t = podFileTargets(p, K, { allowHostPath: true });
    expect(t[4]!.nodeGlob).toBe('/srv/logs/h.log');
  });

  it('refuses paths climbing out with ".."', () => {
    const q = podMeta(pod({ name: 'x', uid: 'u', annotations: { 'loggy.io/files': 'app:/var/log/app/../../../etc/shadow' }, mounts: { app: [{ name: 'logs', mountPath: '/var/log/app' }] }, volumes: [{ name: 'logs', emptyDir: {} }] }) as never)!;
    // normalize() folds the dots: the path is /etc/shadow, on no volume.
    expect(podFileTargets(q, K)[0]!.nodeGlob).toBeNull();
  });
});
