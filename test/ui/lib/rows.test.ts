import { describe, expect, it } from 'vitest';
import { levelOf } from '../../../src/ui/lib/levels.js';
import { compareNs, contextQueries, errorPosition, flattenStreams, offsetOf, prependCapped, streamOf } from '../../../src/ui/lib/rows.js';

describe('result rows', () => {
  it('flattens streams newest first, levels from detected_level or the line', () => {
    const rows = flattenStreams([
      { stream: { app: 'a', detected_level: 'error' }, values: [['1700000000000000002', 'boom'], ['999000000', 'old']] },
      { stream: { app: 'b' }, values: [['1700000000000000003', 'level=warn msg=x', { trace_id: 't1' }]] },
    ]);
    expect(rows.map((r) => [r.tsNs, r.level])).toEqual([['1700000000000000003', 'warn'], ['1700000000000000002', 'error'], ['999000000', 'error']]);
    expect(rows[0]!.labels).toEqual({ app: 'b', trace_id: 't1' });
    expect(compareNs('999', '1000')).toBeLessThan(0);
    expect(levelOf({}, '2024-01-01 ERROR failed')).toBe('error');
    expect(levelOf({}, '{"severity":"Warning"}')).toBe('warn');
    expect(levelOf({}, 'hello')).toBe('unknown');
  });

  it('caps the live buffer, newest on top, and counts what fell off', () => {
    const r = (id: number, ts: string) => ({ id, tsNs: ts, labels: {}, line: '', level: 'info' as const });
    const { rows, discarded } = prependCapped([r(1, '20'), r(0, '10')], [r(2, '30'), r(3, '40')], 3);
    expect(rows.map((x) => x.id)).toEqual([3, 2, 1]);
    expect(discarded).toBe(1);
  });

  it('reads the position of a syntax error', () => {
    const p = errorPosition('parse error at line 1, col 6: syntax error: unexpected IDENTIFIER, expecting STRING\n')!;
    expect(p).toEqual({ line: 1, column: 6, detail: 'syntax error: unexpected IDENTIFIER, expecting STRING' });
    expect(offsetOf('{a="b"}\n|= foo', 2, 4)).toBe(11);
    expect(errorPosition('limit 9 is over the maximum')).toBeNull();
  });

  it('finds the stream of a row among series and builds its context queries', () => {
    const series: Array<Record<string, string>> = [{ app: 'a' }, { app: 'a', pod: 'p1' }, { app: 'a', pod: 'p2' }];
    expect(streamOf({ app: 'a', pod: 'p1', detected_level: 'info', status: '200' }, series)).toEqual({ app: 'a', pod: 'p1' });
    expect(streamOf({ app: 'z' }, series)).toBeNull();
    const c = contextQueries({ pod: 'p1', app: 'a' }, '1700000000123456789', 60_000, 10);
    expect(c.selector).toBe('{app="a", pod="p1"}');
    expect(c.before).toEqual({ query: c.selector, start: '1699999940123000000', end: '1700000000123456789', direction: 'backward', limit: 10 });
    expect(c.after).toEqual({ query: c.selector, start: '1700000000123456789', end: '1700000060123000000', direction: 'forward', limit: 11 });
  });
});
