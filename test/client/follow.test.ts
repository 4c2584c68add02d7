import { describe, expect, it } from 'vitest';
import { PrintedSet } from '../../src/client/follow.js';

const e = (ts: number, line: string, pod = 'a') => ({ tsNs: BigInt(ts), labels: { pod }, metadata: {}, line });

describe('PrintedSet (resume without repeats)', () => {
  it('a catch-up prints only what was not printed, counting identical lines', () => {
    const p = new PrintedSet();
    p.live([e(1, 'x'), e(2, 'dup'), e(2, 'dup')]);
    // The store now holds a third copy of "dup" and a new line; x was printed.
    expect(p.fresh([e(1, 'x'), e(2, 'dup'), e(2, 'dup'), e(2, 'dup'), e(3, 'new')]).map((x) => `${x.tsNs}:${x.line}`)).toEqual(['2:dup', '3:new']);
    // The live lines buffered meanwhile overlap the catch-up: nothing is printed twice.
    expect(p.fresh([e(3, 'new'), e(4, 'later')]).map((x) => x.line)).toEqual(['later']);
    expect(p.newest).toBe(4n);
  });

  it('tells streams apart by their labels, whatever their order', () => {
    const p = new PrintedSet();
    p.live([{ tsNs: 1n, labels: { pod: 'a', container: 'c' }, metadata: {}, line: 'l' }]);
    expect(p.fresh([{ tsNs: 1n, labels: { container: 'c', pod: 'a' }, metadata: { detected_level: 'info' }, line: 'l' }])).toEqual([]);
    expect(p.fresh([e(1, 'l', 'b')])).toHaveLength(1);
  });
});
