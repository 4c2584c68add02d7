import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE, decodeState, encodeState, type UrlState } from '../../../src/ui/lib/url-state.js';

describe('URL state', () => {
  it('round-trips relative and absolute ranges, live, theme and limit', () => {
    const a: UrlState = { query: '{namespace="shop"} |= "a&b" | json', range: { kind: 'relative', preset: '15m' }, live: true, theme: 'light', limit: 5000 };
    expect(decodeState('?' + encodeState(a))).toEqual(a);
    const b: UrlState = { ...DEFAULT_STATE, query: '{a="b"}', range: { kind: 'absolute', startMs: 1_700_000_000_000, endMs: 1_700_000_600_000 } };
    const enc = encodeState(b);
    expect(enc).toContain('from=2023-11-14T22%3A13%3A20.000Z');
    expect(decodeState(enc)).toEqual(b);
  });

  it('leaves defaults out and falls back to them on nonsense', () => {
    expect(encodeState({ ...DEFAULT_STATE, query: '{a="b"}' })).toBe('q=%7Ba%3D%22b%22%7D&range=1h');
    expect(decodeState('range=3y&theme=pink&limit=-4&from=x&to=y&live=maybe')).toEqual(DEFAULT_STATE);
    expect(decodeState('limit=9999999').limit).toBe(100_000);
    // from after to is not a range.
    expect(decodeState('from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z').range).toEqual(DEFAULT_STATE.range);
    expect(decodeState('from=1700000000000&to=1700000060000').range).toEqual({ kind: 'absolute', startMs: 1_700_000_000_000, endMs: 1_700_000_060_000 });
  });
});
