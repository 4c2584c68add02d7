import { describe, expect, it } from 'vitest';
import { dragToRange, msToX, stackBuckets, xToMs } from '../../../src/ui/lib/histogram.js';
import { chooseStepMs, formatStep } from '../../../src/ui/lib/time.js';

describe('histogram', () => {
  it('stacks levels in a fixed order per bucket and fills empty steps', () => {
    const { buckets, max } = stackBuckets([
      { metric: { detected_level: 'info' }, values: [[60, '5'], [180, '2']] },
      { metric: { detected_level: 'error' }, values: [[60, '1']] },
      { metric: {}, values: [[60, '3']] },
      { metric: { detected_level: 'warning' }, values: [[180, '4']] },
    ], 0, 180_000, 60_000);
    expect(buckets.map((b) => [b.startMs, b.endMs, b.total])).toEqual([[-60_000, 0, 0], [0, 60_000, 9], [60_000, 120_000, 0], [120_000, 180_000, 6]]);
    expect(buckets[1]!.segments).toEqual([
      { level: 'error', count: 1, y0: 0, y1: 1 },
      { level: 'info', count: 5, y0: 1, y1: 6 },
      { level: 'unknown', count: 3, y0: 6, y1: 9 },
    ]);
    expect(buckets[3]!.segments.map((s) => s.level)).toEqual(['warn', 'info']);
    expect(max).toBe(9);
  });

  it('chooses round steps for at most ~120 bars', () => {
    expect(formatStep(chooseStepMs(5 * 60_000))).toBe('5s');
    expect(formatStep(chooseStepMs(3_600_000))).toBe('30s');
    expect(formatStep(chooseStepMs(24 * 3_600_000))).toBe('15m');
    expect(formatStep(chooseStepMs(7 * 86_400_000))).toBe('2h');
  });

  it('maps pixels to times both ways and turns drags into ranges', () => {
    expect(xToMs(50, 100, 1000, 2000)).toBe(1500);
    expect(xToMs(-5, 100, 1000, 2000)).toBe(1000);
    expect(msToX(1250, 100, 1000, 2000)).toBe(25);
    expect(dragToRange(80, 20, 100, 0, 10_000)).toEqual({ startMs: 2000, endMs: 8000 });
    expect(dragToRange(20, 22, 100, 0, 10_000)).toBeNull();
  });
});
