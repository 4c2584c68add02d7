import { describe, expect, it } from 'vitest';
import { BLOOM_BITS_PER_LINE, BLOOM_HASHES, BLOOM_MAX_FILL, bloomMayContain, buildBloom, needleTokens } from '../../../src/store/shared/bloom.js';

// Deterministic pseudo-random ids, so failures reproduce.
function ids(n: number, seed = 7): string[] {
  let x = seed;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), x);
  return Array.from({ length: n }, () => `${next().toString(36)}${next().toString(36)}`);
}

describe('token blooms', () => {
  it('never misses a token of any line (no false negatives), folded or not', () => {
    const tokens = ids(20_000);
    const lines = tokens.map((t, i) => `GET /api/v1/items status=200 rid-${t} seq=${i} héllo 世界 trailing_${t}`);
    const bloom = buildBloom(lines, BLOOM_BITS_PER_LINE, BLOOM_HASHES, BLOOM_MAX_FILL);
    expect(bloom.m & (bloom.m - 1)).toBe(0);
    expect(bloom.bits.length).toBe(bloom.m / 8);
    for (const [i, t] of tokens.entries()) {
      expect(bloomMayContain(bloom, t)).toBe(true);
      expect(bloomMayContain(bloom, `trailing_${t}`)).toBe(true);
      expect(bloomMayContain(bloom, String(i))).toBe(true);
    }
    for (const t of ['GET', 'api', 'v1', 'items', 'status', '200', 'rid', 'seq', 'h', 'llo']) expect(bloomMayContain(bloom, t)).toBe(true);
  });

  it('folds a sparse filter down and keeps false positives low', () => {
    const lines = ids(10_000).map((t) => `level=info msg="ok" id=${t}`);
    const bloom = buildBloom(lines, BLOOM_BITS_PER_LINE, BLOOM_HASHES, BLOOM_MAX_FILL);
    // ~10k distinct ids (plus a few shared words) need far fewer than 64 bits per line.
    expect(bloom.m).toBeLessThan(lines.length * BLOOM_BITS_PER_LINE);
    const absent = ids(10_000, 99).map((t) => `zz${t}`);
    const fp = absent.filter((t) => bloomMayContain(bloom, t)).length / absent.length;
    // k = 6 at most 35 % fill: at most 0.35^6 ≈ 0.2 %.
    expect(fp).toBeLessThan(0.004);
  });

  it('probes with the k the filter was built with (blocks written with k = 3 stay readable)', () => {
    const lines = ids(5_000).map((t) => `id=${t}`);
    const old = buildBloom(lines, BLOOM_BITS_PER_LINE, 3, 0.25);
    expect(old.k).toBe(3);
    for (const t of ids(5_000)) expect(bloomMayContain(old, t)).toBe(true);
    const absent = ids(10_000, 5).map((t) => `zz${t}`);
    expect(absent.filter((t) => bloomMayContain(old, t)).length / absent.length).toBeLessThan(0.03);
  });

  it('a tiny block still gets a valid filter', () => {
    const bloom = buildBloom(['x'], BLOOM_BITS_PER_LINE, BLOOM_HASHES, BLOOM_MAX_FILL);
    expect(bloom.m).toBe(64);
    expect(bloomMayContain(bloom, 'x')).toBe(true);
    expect(buildBloom([], BLOOM_BITS_PER_LINE, BLOOM_HASHES, BLOOM_MAX_FILL).m).toBe(64);
  });

  it('probes only the tokens that lie wholly inside the needle', () => {
    expect(needleTokens('rid-7f3a-91c2')).toEqual(['7f3a']);
    expect(needleTokens(' rid-7f3a ')).toEqual(['rid', '7f3a']);
    expect(needleTokens('request_id=abc ')).toEqual(['abc']);
    expect(needleTokens('timeout')).toEqual([]);
    expect(needleTokens('a b a b')).toEqual(['b', 'a']);
    expect(needleTokens('')).toEqual([]);
    expect(needleTokens('"status":500,')).toEqual(['status', '500']);
  });
});
