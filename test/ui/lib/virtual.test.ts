import { describe, expect, it } from 'vitest';
import { rowAt, rowTop, totalHeight, visibleWindow } from '../../../src/ui/lib/virtual.js';

describe('virtualization window', () => {
  const plain = { rowHeight: 20, count: 100_000, expanded: new Map<number, number>() };

  it('renders only the rows in view plus overscan, anywhere in 100,000', () => {
    expect(visibleWindow(plain, 0, 400, 5)).toEqual({ first: 0, last: 26, offset: 0, totalHeight: 2_000_000 });
    const mid = visibleWindow(plain, 1_000_010, 400, 5);
    expect(mid.first).toBe(50_000 - 5);
    expect(mid.last).toBe(50_020 + 1 + 5);
    expect(mid.offset).toBe(mid.first * 20);
    const end = visibleWindow(plain, 99_999_999, 400, 5);
    expect(end.last).toBe(100_000);
    expect(end.last - end.first).toBeLessThan(40);
    expect(visibleWindow({ ...plain, count: 0 }, 0, 400)).toEqual({ first: 0, last: 0, offset: 0, totalHeight: 0 });
  });

  it('accounts for expanded rows above and under the viewport', () => {
    const l = { rowHeight: 20, count: 1000, expanded: new Map([[10, 200], [3, 100]]) };
    expect(totalHeight(l)).toBe(20_300);
    expect(rowTop(l, 3)).toBe(60);
    expect(rowTop(l, 4)).toBe(180);
    expect(rowTop(l, 11)).toBe(220 + 100 + 200);
    expect(rowAt(l, 59)).toBe(2);
    expect(rowAt(l, 150)).toBe(3); // inside row 3's details
    expect(rowAt(l, 180)).toBe(4);
    expect(rowAt(l, 400)).toBe(10);
    expect(rowAt(l, 520)).toBe(11);
    expect(rowAt(l, 1e9)).toBe(999);
    const w = visibleWindow(l, 500, 100, 0);
    // Row 10 spans 300..520 (its details included); pixel 600 is in row 15.
    expect([w.first, w.last, w.offset]).toEqual([10, 16, 300]);
  });
});
