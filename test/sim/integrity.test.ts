import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MARKER_RE, startSimulation, type Manifest } from '../../src/sim/index.js';
import { expectComplete, removeRoot, tempRoot } from './helpers.js';

let root = '';
afterEach(() => removeRoot(root));

describe('message integrity', () => {
  it.each(['cri', 'docker'] as const)('every %s message is on disk once, in order, matching the manifest', async (format) => {
    root = tempRoot();
    const manifestPath = join(root, 'manifest.json');
    const sim = startSimulation({
      root,
      pods: 5,
      format,
      lines: 3000,
      rate: 30_000,
      seed: 42,
      // Small files and a generous keep: many rotations, nothing deleted.
      rotateBytes: 128 * 1024,
      keepFiles: 1000,
      mix: { longLines: 0.03, stackTraces: 0.05 },
      manifestPath,
    });
    const m = await sim.done;
    expect(m.total).toBe(3000);
    expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toEqual(m);
    expect(sim.manifest()).toEqual(m);

    const { lines } = expectComplete(root, m);
    // The mix is really there: split long lines, multi-line traces, stderr, JSON and logfmt.
    expect(lines.some((l) => l.records > 1)).toBe(true);
    expect(lines.some((l) => l.line.startsWith('\tat ') || l.line.startsWith('  File '))).toBe(true);
    const marked = lines.filter((l) => MARKER_RE.test(l.line));
    const stderr = marked.filter((l) => l.stream === 'stderr').length / marked.length;
    expect(stderr).toBeGreaterThan(0.05);
    expect(stderr).toBeLessThan(0.25);
    expect(marked.some((l) => l.line.startsWith('{"ts":'))).toBe(true);
    expect(marked.some((l) => / level=\w+ seq=/.test(l.line))).toBe(true);
    // Timestamps never go backwards within a container's files.
    const byKey = new Map<string, string>();
    for (const l of marked) {
      const key = MARKER_RE.exec(l.line)?.[1] ?? '';
      const prev = byKey.get(key);
      if (prev !== undefined) expect(Date.parse(l.time) >= Date.parse(prev)).toBe(true);
      byKey.set(key, l.time);
    }
  });

  it('is gapless with a mixed node, restarts and rotation while running', async () => {
    root = tempRoot();
    const sim = startSimulation({ root, pods: 4, format: 'mixed', rate: 20_000, lines: 4000, seed: 3, rotateBytes: 64 * 1024, keepFiles: 1000 });
    // One restart per container at most: kubelet keeps just the previous instance.
    const restarted = new Set<string>();
    const timer = setInterval(() => {
      const keys = Object.keys(sim.manifest().containers).filter((k) => !restarted.has(k));
      if (keys.length > 0) restarted.add(sim.restartContainer(keys[0]) ?? '');
    }, 20);
    const m: Manifest = await sim.done;
    clearInterval(timer);
    expect(Object.values(m.containers).some((e) => e.restarts === 1)).toBe(true);
    expectComplete(root, m);
  });

  it('puts the counter line in busybox form', async () => {
    root = tempRoot();
    const m = await startSimulation({ root, pods: 0, lines: 5, rate: 1000 }).done;
    expect(m.containers['default/counter/count'].lines).toBe(5);
    const text = readFileSync(join(root, 'var/log/pods', `default_counter_${m.containers['default/counter/count'].pod_uid}/count/0.log`), 'utf8');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(5);
    lines.forEach((l, i) => expect(l).toMatch(new RegExp(`^\\S+ stdout F ${i}: \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d UTC \\d{4} seq=default/counter/count:${i}$`)));
  });
});
