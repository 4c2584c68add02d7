import { describe, expect, it } from 'vitest';
import { formatRfc3339Nano, parseRfc3339Nano } from '../../src/core/time.js';

describe('RFC3339Nano', () => {
  it('parses nanoseconds exactly, with Z or an offset', () => {
    expect(parseRfc3339Nano('2026-11-22T10:00:00.123456789Z')).toBe(1795341600123456789n);
    expect(parseRfc3339Nano('2026-11-22T10:00:00Z')).toBe(1795341600000000000n);
    expect(parseRfc3339Nano('2026-11-22T10:00:00.5Z')).toBe(1795341600500000000n);
    expect(parseRfc3339Nano('2026-11-22T12:00:00.000000001+02:00')).toBe(1795341600000000001n);
    expect(parseRfc3339Nano('2026-11-22T05:30:00-04:30')).toBe(1795341600000000000n);
  });

  it('agrees with Date.parse to the millisecond on many instants', () => {
    for (let i = 0; i < 1000; i++) {
      const ms = Math.floor(Math.random() * 4e12);
      const iso = new Date(ms).toISOString();
      expect(parseRfc3339Nano(iso)).toBe(BigInt(ms) * 1_000_000n);
    }
  });

  it('rejects what is not a timestamp', () => {
    for (const bad of ['', 'x', '2026-11-22', '2026-11-22T10:00:00', '2026-13-22T10:00:00Z', '2026-11-22T10:00:00.Z', '2026-11-22T10:00:00Zjunk', '2026-11-22T25:00:00Z', 'bad"ts\\']) {
      expect(parseRfc3339Nano(bad)).toBeNull();
    }
  });

  it('formats back with nine digits', () => {
    expect(formatRfc3339Nano(1795341600123456789n)).toBe('2026-11-22T10:00:00.123456789Z');
    expect(formatRfc3339Nano(1795341600000000001n)).toBe('2026-11-22T10:00:00.000000001Z');
  });
});
