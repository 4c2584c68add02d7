import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulation } from '../../src/sim/index.js';
import { containerDir, removeRoot, tempRoot } from './helpers.js';

let root = '';
afterEach(() => removeRoot(root));

describe('node layout', () => {
  it('creates pod dirs, CRI files, docker files and relative symlinks like kubelet', async () => {
    root = tempRoot();
    const m = await startSimulation({ root, pods: 6, format: 'mixed', lines: 400, rate: 20_000, seed: 7 }).done;

    const entries = Object.entries(m.containers);
    expect(new Set(entries.map(([, e]) => `${e.namespace}/${e.pod}`)).size).toBe(7);
    expect(m.containers['default/counter/count']).toMatchObject({ namespace: 'default', pod: 'counter', container: 'count', format: 'cri' });
    expect(new Set(entries.map(([, e]) => e.format))).toEqual(new Set(['cri', 'docker']));

    const links = readdirSync(join(root, 'var/log/containers'));
    expect(links).toHaveLength(entries.length);
    for (const [key, e] of entries) {
      expect(key).toBe(`${e.namespace}/${e.pod}/${e.container}`);
      expect(key).not.toMatch(/\s/);
      expect(['default', 'shop', 'payments', 'kube-system']).toContain(e.namespace);
      expect(e.pod_uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(e.container_id).toMatch(/^[0-9a-f]{64}$/);
      if (e.pod !== 'counter') expect(e.pod).toMatch(/^[a-z0-9-]+-([bcdfghjklmnpqrstvwxz2456789]{9,10}-[bcdfghjklmnpqrstvwxz2456789]{5}|[bcdfghjklmnpqrstvwxz2456789]{5}|\d+)$/);

      const log = join(containerDir(root, e), '0.log');
      const link = join(root, 'var/log/containers', `${e.pod}_${e.namespace}_${e.container}-${e.container_id}.log`);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      const target = readlinkSync(link);
      expect(target.startsWith('/')).toBe(false);
      expect(resolve(dirname(link), target)).toBe(log);

      if (e.format === 'cri') {
        expect(lstatSync(log).isFile()).toBe(true);
      } else {
        expect(lstatSync(log).isSymbolicLink()).toBe(true);
        expect(readlinkSync(log).startsWith('/')).toBe(false);
        const json = join(root, 'var/lib/docker/containers', e.container_id, `${e.container_id}-json.log`);
        expect(lstatSync(json).isFile()).toBe(true);
        expect(realpathSync(log)).toBe(realpathSync(json));
      }
      expect(realpathSync(link)).toBe(realpathSync(log));
    }
    expect(existsSync(join(root, 'var/lib/docker/containers'))).toBe(true);
  });

  it('writes only CRI files for --format cri and only docker files for --format docker', async () => {
    root = tempRoot();
    const cri = await startSimulation({ root: join(root, 'a'), pods: 3, format: 'cri', lines: 50, rate: 10_000 }).done;
    const docker = await startSimulation({ root: join(root, 'b'), pods: 3, format: 'docker', lines: 50, rate: 10_000 }).done;
    expect(Object.values(cri.containers).every((e) => e.format === 'cri')).toBe(true);
    expect(Object.values(docker.containers).every((e) => e.format === 'docker')).toBe(true);
    expect(existsSync(join(root, 'a/var/lib/docker'))).toBe(false);
  });
});
