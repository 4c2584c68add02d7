/**
 * Time partitions: retention drops whole partitions, and queries read only the partitions
 * that overlap their range. Both engines use the same UTC-aligned day or hour buckets, so
 * their retention decisions agree.
 */

export type PartitionGranularity = 'day' | 'hour';

export interface PartitionSpan {
  /** `logs_YYYYMMDD` or `logs_YYYYMMDDHH` (UTC); safe as an SQL identifier. */
  name: string;
  startNs: bigint;
  /** Exclusive. */
  endNs: bigint;
}

const NS_PER_MS = 1_000_000n;
const WIDTH_NS: Record<PartitionGranularity, bigint> = {
  day: 86_400_000_000_000n,
  hour: 3_600_000_000_000n,
};

export function partitionWidthNs(g: PartitionGranularity): bigint {
  return WIDTH_NS[g];
}

/** The partition holding `tsNs` (tsNs >= 0, validated by the caller). */
export function partitionOf(tsNs: bigint, g: PartitionGranularity): PartitionSpan {
  const width = WIDTH_NS[g];
  const startNs = tsNs - (tsNs % width);
  const d = new Date(Number(startNs / NS_PER_MS));
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const day = `${String(d.getUTCFullYear()).padStart(4, '0')}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}`;
  const name = g === 'day' ? `logs_${day}` : `logs_${day}${p2(d.getUTCHours())}`;
  return { name, startNs, endNs: startNs + width };
}

/** Matches the names `partitionOf` generates; anything else never reaches SQL text. */
export const PARTITION_NAME_RE = /^logs_\d{8}(\d{2})?$/;
