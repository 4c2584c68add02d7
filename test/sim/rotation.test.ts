import { readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulation, type ManifestEntry } from '../../src/sim/index.js';
import { containerDir, containerFiles, expectContiguous, markersOf, readLines, removeRoot, tempRoot } from './helpers.js';

let root = '';
afterEach(() => removeRoot(root));

const ROTATED = /^0\.log\.\d{8}-\d{6}(\.\d+)?(\.gz)?$/;

/** The chattiest container: the one sure to have rotated most. */
function busiest(containers: Record<string, ManifestEntry>): [string, ManifestEntry] {
  return Object.entries(containers).sort((a, b) => b[1].lines - a[1].lines)[0];
}

describe('CRI rotation (kubelet)', () => {
  it('renames to <n>.log.<stamp>, gzips all but the newest, keeps keepFiles in total', async () => {
    root = tempRoot();
    const m = await startSimulation({ root, pods: 2, format: 'cri', lines: 6000, rate: 50_000, seed: 11, rotateBytes: 32 * 1024, keepFiles: 4 }).done;
    for (const [key, e] of Object.entries(m.containers)) {
      const names = readdirSync(containerDir(root, e));
      const rotated = names.filter((n) => n !== '0.log');
      rotated.forEach((n) => expect(n).toMatch(ROTATED));
      expect(names).toContain('0.log');
      expect(names.length).toBeLessThanOrEqual(4);
      expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
      // Kept data ends exactly at the last message written, with no hole before it.
      const seen = markersOf(key, readLines(root, e));
      if (seen.length > 0) expectContiguous(seen, seen[0], e.lines);
    }
    const [key, e] = busiest(m.containers);
    const names = readdirSync(containerDir(root, e));
    expect(names).toHaveLength(4);
    const files = containerFiles(root, e).map((f) => f.slice(dirname(f).length + 1));
    // Oldest first: two gzipped, the newest rotation plain, then the current file.
    expect(files.map((f) => f.endsWith('.gz'))).toEqual([true, true, false, false]);
    expect(files[3]).toBe('0.log');
    const seen = markersOf(key, readLines(root, e));
    expect(seen[0]).toBeGreaterThan(0); // older rotations were deleted
  });

  it('names rotations within the same second uniquely', async () => {
    root = tempRoot();
    const m = await startSimulation({ root, pods: 0, lines: 2000, rate: 100_000, rotateBytes: 4096, keepFiles: 1000 }).done;
    const e = m.containers['default/counter/count'];
    const names = readdirSync(containerDir(root, e));
    expect(names.length).toBeGreaterThan(5);
    expect(names.some((n) => /^0\.log\.\d{8}-\d{6}\.\d+(\.gz)?$/.test(n))).toBe(true);
    expectContiguous(markersOf('default/counter/count', readLines(root, e)), 0, e.lines);
  });

  it('keepFiles 1 keeps only the current file', async () => {
    root = tempRoot();
    const m = await startSimulation({ root, pods: 0, lines: 500, rate: 50_000, rotateBytes: 2048, keepFiles: 1 }).done;
    const e = m.containers['default/counter/count'];
    expect(readdirSync(containerDir(root, e))).toEqual(['0.log']);
  });
});

describe('docker rotation (json-file)', () => {
  it('shifts <id>-json.log to .1, .1 to .2 and deletes beyond max-file, no gzip', async () => {
    root = tempRoot();
    const m = await startSimulation({ root, pods: 2, format: 'docker', lines: 6000, rate: 50_000, seed: 5, rotateBytes: 32 * 1024, keepFiles: 3 }).done;
    const [key, e] = busiest(m.containers);
    const dir = join(root, 'var/lib/docker/containers', e.container_id);
    const base = `${e.container_id}-json.log`;
    expect(readdirSync(dir).sort()).toEqual([base, `${base}.1`, `${base}.2`]);
    const seen = markersOf(key, readLines(root, e));
    expect(seen[0]).toBeGreaterThan(0);
    expectContiguous(seen, seen[0], e.lines);
  });
});

describe('copytruncate mode', () => {
  it.each(['cri', 'docker'] as const)('%s: keeps the same inode, copies to rotated names, loses nothing', async (format) => {
    root = tempRoot();
    const sim = startSimulation({ root, pods: 1, format, lines: 3000, rate: 50_000, seed: 9, rotateBytes: 16 * 1024, keepFiles: 1000, copytruncate: true });
    const before = new Map<string, number>();
    for (const e of Object.values(sim.manifest().containers)) before.set(e.container_id, statSync(join(containerDir(root, e), '0.log')).ino);
    const m = await sim.done;
    const [key, e] = busiest(m.containers);
    const current = realpathSync(join(containerDir(root, e), '0.log'));
    expect(statSync(current).ino).toBe(before.get(e.container_id));
    expect(statSync(current).size).toBeLessThanOrEqual(16 * 1024 + 100_000);
    const rotated = readdirSync(dirname(current)).filter((n) => n !== '0.log' && !n.endsWith('-json.log'));
    expect(rotated.length).toBeGreaterThan(1);
    if (format === 'cri') expect(rotated.filter((n) => n.endsWith('.gz')).length).toBe(rotated.length - 1);
    expectContiguous(markersOf(key, readLines(root, e)), 0, e.lines);
  });
});
