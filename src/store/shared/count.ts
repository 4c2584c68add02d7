import type { CountSeries, Labels } from '../engine.js';
import { compareBigint, compareStrings, labelsFromEntries, labelsKey, labelValue } from './labels.js';

/** Whether a count groups by the `detected_level` metadata (the one metadata key engines count by). */
export function byLevel(q: { by: readonly string[] }): boolean {
  return q.by.includes('detected_level');
}

/** Stream labels as a count groups them: plus detected_level, unless the stream has that label. */
export function withDetectedLevel(labels: Labels, level: string | null | undefined): Labels {
  if (level === null || level === undefined || Object.hasOwn(labels, 'detected_level')) return labels;
  return { ...labels, detected_level: level };
}

/**
 * Merges counts into `by` groups and step buckets, with one output order for every engine:
 * series sorted by their label key, points by bucket start. A `by` label a stream lacks is
 * left out of the group's labels (as in Loki's `sum by (x)` for streams without x).
 */
export class CountAccumulator {
  private readonly groups = new Map<string, { labels: Labels; buckets: Map<bigint, [number, number]> }>();

  constructor(private readonly by: readonly string[]) {}

  add(streamLabels: Labels, bucketStartNs: bigint, lines: number, bytes: number): void {
    const entries = this.by.map((name): [string, string] => [name, labelValue(streamLabels, name)]).filter(([, v]) => v !== '');
    entries.sort((a, b) => compareStrings(a[0], b[0]));
    const key = labelsKey(entries);
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { labels: labelsFromEntries(entries), buckets: new Map() }));
    const acc = g.buckets.get(bucketStartNs) ?? [0, 0];
    acc[0] += lines;
    acc[1] += bytes;
    g.buckets.set(bucketStartNs, acc);
  }

  result(): CountSeries[] {
    return [...this.groups.entries()]
      .sort((a, b) => compareStrings(a[0], b[0]))
      .map(([, g]) => ({
        labels: g.labels,
        points: [...g.buckets.entries()]
          .sort((a, b) => compareBigint(a[0], b[0]))
          .map(([start, [n, bytes]]): [bigint, number, number] => [start, n, bytes]),
      }));
  }
}
