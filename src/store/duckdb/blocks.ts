import type { DuckDBConnection } from '@duckdb/node-api';
import type { LineFilter } from '../engine.js';
import { needleTokens, tokenHashes } from '../shared/bloom.js';
import { SqlParams } from './sql.js';
import type { PartitionPlan } from './streams.js';

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

/** The block numbers a line scan needs per partition (when pruning applies). */
export async function pruneBlocks(
  conn: DuckDBConnection,
  tenant: string,
  parts: readonly PartitionPlan[],
  filters: readonly LineFilter[],
  startNs: bigint,
  endNs: bigint,
): Promise<PartitionPlan[]> {
  const probes = probeTokens(filters);
  if (probes.length === 0 || parts.length === 0) return [...parts];
  const p = new SqlParams();
  const bit = (a: number, b: number, k: number) => `get_bit(bits, ((${p.big(BigInt(a))} + ${k * b}) % m)::INTEGER) = 1`;
  const checks = probes.flatMap(([a, b]) => [0, 1, 2].map((k) => bit(a, b, k))).join(' AND ');
  const sql = `SELECT partition, list(blk ORDER BY blk) FROM (
      SELECT partition, blk, m, bloom AS bits FROM blocks
      WHERE tenant = ${p.str(tenant)} AND partition IN (SELECT unnest(${p.strList(parts.map((x) => x.name))}))
        AND min_ts < ${p.big(endNs)} AND max_ts >= ${p.big(startNs)})
    WHERE bits IS NULL OR (${checks})
    GROUP BY partition`;
  const rows = (await conn.runAndReadAll(sql, p.values, p.types)).getRowsJS();
  const keep = new Map(rows.map((r) => [r[0] as string, (r[1] as number[])]));
  return parts.flatMap((part) => {
    const blocks = keep.get(part.name);
    return blocks ? [{ ...part, blocks }] : [];
  });
}

/** `blk IN (...)` for a pruned partition, with a range so zone maps skip other row groups. */
export function blocksSql(part: PartitionPlan, p: SqlParams): string {
  if (!part.blocks) return 'TRUE';
  const b = part.blocks;
  const range = `blk BETWEEN ${p.int(b[0]!)} AND ${p.int(b[b.length - 1]!)}`;
  if (b.length > 1000) return `${range} AND blk IN (SELECT unnest(${p.intList(b)}))`;
  return `${range} AND blk IN (${b.map((x) => p.int(x)).join(', ')})`;
}
