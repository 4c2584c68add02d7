import type { DuckDBConnection } from '@duckdb/node-api';
import type { LineFilter } from '../engine.js';
import { BLOOM_HASHES, needleTokens, tokenHashes } from '../shared/bloom.js';
import { SqlParams } from './sql.js';
import type { PartitionPlan } from './streams.js';
import { probeCached, type BloomCache } from './bloom-cache.js';

/**
 * Bloom pruning: for substring filters (`|=`), asks the blocks table which blocks may hold
 * every token lying inside the needles, and narrows each partition to those blocks; a partition
 * left with none is not read. Blocks without a bloom are always kept. The line filters still
 * run on the rows read, so a false positive costs time, never a wrong answer.
 */

/** Tokens to probe, with their hashes; empty when no filter can use the blooms. */
export function probeTokens(filters: readonly LineFilter[]): Array<[number, number]> {
  const tokens = new Set<string>();
  for (const f of filters) if (f.op === '|=') for (const t of needleTokens(f.value)) tokens.add(t);
  return [...tokens].map(tokenHashes);
}

/**
 * The block numbers a line scan needs per partition (when pruning applies): probed in memory
 * for partitions the cache holds, in SQL for the others.
 */
export async function pruneBlocks(
  conn: DuckDBConnection,
  cache: BloomCache | undefined,
  tenant: string,
  parts: readonly PartitionPlan[],
  filters: readonly LineFilter[],
  startNs: bigint,
  endNs: bigint,
): Promise<PartitionPlan[]> {
  const probes = probeTokens(filters);
  if (probes.length === 0 || parts.length === 0) return [...parts];
  const keep = new Map<string, number[]>();
  const uncached: PartitionPlan[] = [];
  for (const part of parts) {
    const blocks = cache?.blocksOf(part.name);
    if (!blocks) uncached.push(part);
    else {
      const kept = probeCached(blocks, tenant, probes, startNs, endNs);
      if (kept.length > 0) keep.set(part.name, kept);
    }
  }
  if (uncached.length > 0) for (const [name, blks] of await probeInSql(conn, tenant, uncached, probes, startNs, endNs)) keep.set(name, blks);
  return parts.flatMap((part) => {
    const blocks = keep.get(part.name);
    return blocks ? [{ ...part, blocks }] : [];
  });
}

async function probeInSql(
  conn: DuckDBConnection,
  tenant: string,
  parts: readonly PartitionPlan[],
  probes: ReadonlyArray<readonly [number, number]>,
  startNs: bigint,
  endNs: bigint,
): Promise<Map<string, number[]>> {
  const p = new SqlParams();
  // Bit i of a token is tested only when the block's filter sets at least i + 1 bits per token.
  const maxK = BLOOM_HASHES;
  const bit = (a: number, b: number, i: number) => `(k <= ${i} OR get_bit(bits, ((${p.big(BigInt(a))} + ${i * b}) % m)::INTEGER) = 1)`;
  const checks = probes.flatMap(([a, b]) => Array.from({ length: maxK }, (_, i) => bit(a, b, i))).join(' AND ');
  const sql = `SELECT partition, list(blk ORDER BY blk) FROM (
      SELECT partition, blk, m, k, bloom AS bits FROM blocks
      WHERE tenant = ${p.str(tenant)} AND partition IN (SELECT unnest(${p.strList(parts.map((x) => x.name))}))
        AND min_ts < ${p.big(endNs)} AND max_ts >= ${p.big(startNs)})
    WHERE bits IS NULL OR (${checks})
    GROUP BY partition`;
  const rows = (await conn.runAndReadAll(sql, p.values, p.types)).getRowsJS();
  return new Map(rows.map((r) => [r[0] as string, r[1] as number[]]));
}

/** `blk IN (...)` for a pruned partition, with a range so zone maps skip other row groups. */
export function blocksSql(part: PartitionPlan, p: SqlParams): string {
  if (!part.blocks) return 'TRUE';
  const b = part.blocks;
  const range = `blk BETWEEN ${p.int(b[0]!)} AND ${p.int(b[b.length - 1]!)}`;
  if (b.length > 1000) return `${range} AND blk IN (SELECT unnest(${p.intList(b)}))`;
  return `${range} AND blk IN (${b.map((x) => p.int(x)).join(', ')})`;
}
