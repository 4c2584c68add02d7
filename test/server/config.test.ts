import { describe, expect, it } from 'vitest';
import { serverConfigSchema } from '../../src/server/config.js';

describe('server config: engine', () => {
  it('defaults to the embedded DuckDB engine with a 256 MiB bloom cache', () => {
    const cfg = serverConfigSchema.parse({});
    expect(cfg.engine).toEqual({ type: 'duckdb', partition: 'day', bloom_cache: 256 * 1024 * 1024 });
  });

  it('takes the bloom cache as a byte size, and 0 to probe blooms on disk', () => {
    expect(serverConfigSchema.parse({ engine: { bloom_cache: '64MiB' } }).engine.bloom_cache).toBe(64 * 1024 * 1024);
    expect(serverConfigSchema.parse({ engine: { bloom_cache: 0 } }).engine.bloom_cache).toBe(0);
    const bad = serverConfigSchema.safeParse({ engine: { bloom_cache: 'lots' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['engine', 'bloom_cache']);
  });
});
