/**
 * Which rows of a long list to render. Rows are `rowHeight` tall except expanded ones,
 * which add `extra(i)` below themselves; there are few of those, so offsets are i·rowHeight
 * plus the extras of expanded rows above — no per-row height table for 100,000 rows.
 */
export interface Layout {
  rowHeight: number;
  count: number;
  /** Expanded rows and their extra height, any order. */
  expanded: ReadonlyMap<number, number>;
}

export interface Window {
  first: number;
  /** Exclusive. */
  last: number;
  /** Top of row `first`, in pixels from the list's top. */
  offset: number;
  totalHeight: number;
}

function sortedExtras(l: Layout): Array<[number, number]> {
  return [...l.expanded].filter(([i]) => i >= 0 && i < l.count).sort((a, b) => a[0] - b[0]);
}

export function rowTop(l: Layout, index: number): number {
  let top = index * l.rowHeight;
  for (const [i, h] of l.expanded) if (i < index && i < l.count) top += h;
  return top;
}

export function totalHeight(l: Layout): number {
  return rowTop(l, l.count);
}

/** The row under pixel y (clamped to the list). */
export function rowAt(l: Layout, y: number): number {
  if (l.count === 0) return 0;
  let extraAbove = 0;
  for (const [i, h] of sortedExtras(l)) {
    const top = i * l.rowHeight + extraAbove;
    if (y < top) break;
    if (y < top + l.rowHeight + h) return i;
    extraAbove += h;
  }
  return Math.max(0, Math.min(l.count - 1, Math.floor((y - extraAbove) / l.rowHeight)));
}

/** Rows intersecting [scrollTop, scrollTop + viewport), plus `overscan` rows each side. */
export function visibleWindow(l: Layout, scrollTop: number, viewport: number, overscan = 8): Window {
  const total = totalHeight(l);
  if (l.count === 0) return { first: 0, last: 0, offset: 0, totalHeight: 0 };
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, total - viewport)));
  const first = Math.max(0, rowAt(l, top) - overscan);
  const last = Math.min(l.count, rowAt(l, top + viewport) + 1 + overscan);
  return { first, last, offset: rowTop(l, first), totalHeight: total };
}
