import { LEVELS, normalizeLevel, type Level } from './levels.js';

/** One matrix series of `sum by (detected_level) (count_over_time(...))`. */
export interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

export interface Segment {
  level: Level;
  count: number;
  /** Cumulative counts below and at the top of this segment. */
  y0: number;
  y1: number;
}

export interface Bucket {
  /** Bucket covers (startMs, endMs]: a count_over_time sample at t counts the step before t. */
  startMs: number;
  endMs: number;
  total: number;
  segments: Segment[];
}

/**
 * Buckets for every step over the range (empty ones too, so gaps show as gaps), each with
 * its levels stacked in LEVELS order so colours sit in the same place in every bar.
 */
export function stackBuckets(series: MatrixSeries[], startMs: number, endMs: number, stepMs: number): { buckets: Bucket[]; max: number } {
  const first = Math.ceil(startMs / stepMs) * stepMs;
  const counts = new Map<number, Map<Level, number>>();
  for (const s of series) {
    const level = normalizeLevel(s.metric.detected_level);
    for (const [sec, v] of s.values) {
      const t = Math.round(sec * 1000);
      let m = counts.get(t);
      if (!m) counts.set(t, (m = new Map()));
      m.set(level, (m.get(level) ?? 0) + Number(v));
    }
  }
  const buckets: Bucket[] = [];
  let max = 0;
  for (let t = first; t <= endMs; t += stepMs) {
    const m = counts.get(t);
    const segments: Segment[] = [];
    let y = 0;
    if (m) {
      for (const level of LEVELS) {
        const c = m.get(level) ?? 0;
        if (c <= 0) continue;
        segments.push({ level, count: c, y0: y, y1: y + c });
        y += c;
      }
    }
    buckets.push({ startMs: t - stepMs, endMs: t, total: y, segments });
    if (y > max) max = y;
  }
  return { buckets, max };
}

/** Pixel x in a chart of `width` ↔ time, for drawing and for drag-to-zoom. */
export function xToMs(x: number, width: number, startMs: number, endMs: number): number {
  const f = Math.min(1, Math.max(0, x / width));
  return startMs + f * (endMs - startMs);
}

export function msToX(ms: number, width: number, startMs: number, endMs: number): number {
  return ((ms - startMs) / (endMs - startMs)) * width;
}

/** A drag from x0 to x1 as a range; tiny drags are clicks, not zooms. */
export function dragToRange(x0: number, x1: number, width: number, startMs: number, endMs: number, minPx = 4): { startMs: number; endMs: number } | null {
  if (Math.abs(x1 - x0) < minPx) return null;
  const a = xToMs(Math.min(x0, x1), width, startMs, endMs);
  const b = xToMs(Math.max(x0, x1), width, startMs, endMs);
  return { startMs: Math.floor(a), endMs: Math.ceil(b) };
}
