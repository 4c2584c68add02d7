import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulation, type Manifest, type ManifestEntry, type Simulation } from '../../src/sim/index.js';
import { containerDir, expectComplete, expectContiguous, markersOf, readLines, removeRoot, tempRoot } from './helpers.js';

let root = '';
let sim: Simulation | undefined;
afterEach(async () => {
  await sim?.stop().catch(() => {});
  sim = undefined;
  removeRoot(root);
});

function link(e: ManifestEntry, id = e.container_id): string {
  return join(root, 'var/log/containers', `${e.pod}_${e.namespace}_${e.container}-${id}.log`);
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe('container restarts', () => {
  it.each(['cri', 'docker'] as const)('%s: writes <restart+1>.log under a new ID and moves the symlink', async (format) => {
    root = tempRoot();
    sim = startSimulation({ root, pods: 0, format, rate: 2000 });
    const key = 'default/counter/count';
    await waitFor(() => sim!.manifest().containers[key].lines >= 20);
    const before = sim.manifest().containers[key];
    expect(sim.restartContainer(key)).toBe(key);
    const after = sim.manifest().containers[key];
    expect(after.restarts).toBe(1);
    expect(after.container_id).not.toBe(before.container_id);
    await waitFor(() => sim!.manifest().containers[key].lines >= before.lines + 20);
    const m = await sim.stop();

    const dir = containerDir(root, after);
    expect(readdirSync(dir).sort()).toEqual(['0.log', '1.log']);
    expect(existsSync(link(after))).toBe(true);
    expect(existsSync(link(before))).toBe(false);
    expect(lstatSync(link(before), { throwIfNoEntry: false })).toBeUndefined();
    if (format === 'docker') {
      expect(existsSync(join(root, 'var/lib/docker/containers', after.container_id, `${after.container_id}-json.log`))).toBe(true);
      expect(existsSync(join(root, 'var/lib/docker/containers', before.container_id, `${before.container_id}-json.log`))).toBe(true);
    }
    expectComplete(root, m);
  });

  it('keeps only the previous instance, as kubelet garbage-collects older ones', async () => {
    root = tempRoot();
    sim = startSimulation({ root, pods: 0, format: 'docker', rate: 5000 });
    const key = 'default/counter/count';
    const ids: string[] = [sim.manifest().containers[key].container_id];
    const written = (): number => sim!.manifest().containers[key].lines;
    for (let i = 1; i <= 3; i++) {
      const at = written();
      await waitFor(() => written() >= at + 20);
      sim.restartContainer(key);
      ids.push(sim.manifest().containers[key].container_id);
    }
    const last = written();
    await waitFor(() => written() >= last + 20);
    const m = await sim.stop();
    const e = m.containers[key];
    expect(readdirSync(containerDir(root, e)).sort()).toEqual(['2.log', '3.log']);
    expect(readdirSync(join(root, 'var/lib/docker/containers')).sort()).toEqual(ids.slice(2).sort());
    // Instances 0 and 1 are gone; what is left runs without a hole up to the last message.
    const seen = markersOf(key, readLines(root, e));
    expect(seen[0]).toBeGreaterThanOrEqual(40);
    expectContiguous(seen, seen[0], e.lines);
  });

  it('restarts containers on a timer with restartEverySec', async () => {
    root = tempRoot();
    sim = startSimulation({ root, pods: 2, rate: 1000, restartEverySec: 0.1 });
    await waitFor(() => Object.values(sim!.manifest().containers).reduce((n, e) => n + e.restarts, 0) >= 3);
    await sim.stop();
    const files = Object.values(sim.manifest().containers).flatMap((e) => readdirSync(containerDir(root, e)));
    expect(files.some((f) => f !== '0.log' && /^\d+\.log$/.test(f))).toBe(true);
  });
});

describe('pod churn', () => {
  it('removes the pod dir and symlinks, creates a new pod, marks the old one deleted', async () => {
    root = tempRoot();
    sim = startSimulation({ root, pods: 3, format: 'mixed', rate: 3000, seed: 1 });
    await waitFor(() => sim!.manifest().total >= 200);
    const removed = sim.churnPod();
    expect(removed).toBeDefined();
    expect(removed).not.toBe('default/counter');
    await waitFor(() => sim!.manifest().total >= 400);
    const m: Manifest = await sim.stop();

    const gone = Object.entries(m.containers).filter(([, e]) => e.deleted);
    expect(gone.length).toBeGreaterThan(0);
    for (const [, e] of gone) {
      expect(`${e.namespace}/${e.pod}`).toBe(removed);
      expect(existsSync(join(root, 'var/log/pods', `${e.namespace}_${e.pod}_${e.pod_uid}`))).toBe(false);
      expect(lstatSync(link(e), { throwIfNoEntry: false })).toBeUndefined();
      expect(existsSync(join(root, 'var/lib/docker/containers', e.container_id))).toBe(false);
    }
    const live = Object.fromEntries(Object.entries(m.containers).filter(([, e]) => !e.deleted));
    const pods = new Set(Object.values(live).map((e) => e.pod));
    expect(pods.size).toBe(4);
    expect(readdirSync(join(root, 'var/log/pods'))).toHaveLength(4);
    expect(readdirSync(join(root, 'var/log/containers'))).toHaveLength(Object.keys(live).length);
    expectComplete(root, { containers: live, total: Object.values(live).reduce((n, e) => n + e.lines, 0) });
    expect(m.total).toBe(Object.values(m.containers).reduce((n, e) => n + e.lines, 0));
  });

  it('churns on a timer with churnEverySec', async () => {
    root = tempRoot();
    sim = startSimulation({ root, pods: 2, rate: 1000, churnEverySec: 0.1 });
    await waitFor(() => Object.values(sim!.manifest().containers).filter((e) => e.deleted).length >= 2);
    const m = await sim.stop();
    expect(readdirSync(join(root, 'var/log/pods'))).toHaveLength(3);
    expect(m.containers['default/counter/count'].deleted).toBeUndefined();
  });
});

describe('stopping and the manifest', () => {
  it('stops after durationSec and writes the manifest periodically and at the end', async () => {
    root = tempRoot();
    const manifestPath = join(root, 'm.json');
    sim = startSimulation({ root, pods: 2, rate: 500, durationSec: 1.5, manifestPath, manifestEverySec: 0.2 });
    expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toMatchObject({ total: 0 });
    await waitFor(() => (JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest).total > 0);
    const start = Date.now();
    const m = await sim.done;
    expect(Date.now() - start).toBeLessThan(1500);
    // Paced: about rate x duration lines.
    expect(m.total).toBeGreaterThan(500);
    expect(m.total).toBeLessThanOrEqual(800);
    expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toEqual(m);
    expect(readdirSync(root).filter((n) => n.includes('.tmp'))).toEqual([]);
    expectComplete(root, m);
  });

  it('stop() is idempotent and the simulation writes nothing afterwards', async () => {
    root = tempRoot();
    sim = startSimulation({ root, pods: 1, rate: 5000 });
    await waitFor(() => sim!.manifest().total > 100);
    const [a, b] = await Promise.all([sim.stop(), sim.stop()]);
    expect(a).toBe(b);
    await sleep(150);
    expect(sim.manifest()).toEqual(a);
    expect(sim.restartContainer()).toBeUndefined();
    expectComplete(root, a);
  });

  it('rejects invalid options', () => {
    root = tempRoot();
    expect(() => startSimulation({ root, rate: 0 })).toThrow(/rate/);
    expect(() => startSimulation({ root, keepFiles: 0 })).toThrow(/keep/);
    expect(() => startSimulation({ root, pods: -1 })).toThrow(/pods/);
  });
});
