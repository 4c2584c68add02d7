import type { DuckDBBlobValue, DuckDBConnection } from '@duckdb/node-api';
import { bloomMayContainHashes, type Bloom } from '../shared/bloom.js';
import { SqlParams } from './sql.js';

/** What a probe needs to know of a block. */
export interface CachedBlock {
  blk: number;
  tenant: string;
  minTs: bigint;
  maxTs: bigint;
  /** null: the block has no bloom and is always read. */
  bloom: Bloom | null;
}

interface Entry {
  blocks: Map<number, CachedBlock>;
  bytes: number;
  lastUsed: number;
}

/**
 * Block blooms of recently probed partitions, in memory, up to a byte budget (whole
 * partitions, least recently used out first).
 *
 * Why: reading the blooms back from DuckDB on every probe reads every filter's bytes (16 MiB
 * per 10 M lines, stored as out-of-line strings) — 15 to 30 ms a query, more than the block
 * reads a rare-token search then needs. Probing in memory takes microseconds.
 *
 * Consistency, which matters because a block missing from a cached partition would never be
 * read: partitions are loaded by the single writer, between transactions (`runOnWriter`), so a
 * load sees every committed block and no commit can slip between the load and the moment the
 * writer starts adding to the entry. The writer adds each new block's bloom *before* its
 * COMMIT, and evicts the partition if the COMMIT fails. A reader may thus see a bloom of a
 * block its snapshot does not hold yet: it then asks for rows it will not find, never misses
 * one. Partitions not (yet) cached are probed in SQL as before.
 */
export class BloomCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Set<string>();
  private bytes = 0;
  private clock = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly budgetBytes: number,
    /** Runs a task on the writer connection, between write transactions. */
    private readonly runOnWriter: (task: (conn: DuckDBConnection) => Promise<void>) => Promise<void>,
  ) {}

  get sizeBytes(): number {
    return this.bytes;
  }

  /** The writer's new block (call before its COMMIT): recorded if the partition is cached. */
  add(partition: string, block: CachedBlock): void {
    const e = this.entries.get(partition);
    if (!e) return;
    this.put(e, block);
    this.fit(partition);
  }

  /**
   * A partition the writer creates in its current transaction: nothing of it is committed
   * yet, so an empty entry plus the writer's add() calls is complete.
   */
  track(partition: string): void {
    if (this.budgetBytes <= 0 || this.entries.has(partition)) return;
    this.entries.set(partition, { blocks: new Map(), bytes: 0, lastUsed: ++this.clock });
  }

  /** Forget partitions (dropped by retention, or after a failed commit). */
  evict(partitions: Iterable<string>): void {
    for (const name of partitions) {
      const e = this.entries.get(name);
      if (!e) continue;
      this.bytes -= e.bytes;
      this.entries.delete(name);
    }
  }

  /** The cached blocks of a partition; undefined (and a load queued) when not cached. */
  blocksOf(partition: string): ReadonlyMap<number, CachedBlock> | undefined {
    const e = this.entries.get(partition);
    if (e) {
      this.hits++;
      e.lastUsed = ++this.clock;
      return e.blocks;
    }
    this.misses++;
    void this.load(partition).catch(() => undefined); // stays uncached; probed in SQL
    return undefined;
  }

  /** Loads a partition's blooms on the writer (no-op if cached or over budget). */
  load(partition: string): Promise<void> {
    if (this.budgetBytes <= 0 || this.entries.has(partition) || this.loading.has(partition)) return Promise.resolve();
    this.loading.add(partition);
    return this.runOnWriter(async (conn) => {
      if (this.entries.has(partition)) return;
      const p = new SqlParams();
      const rows = (await conn.runAndReadAll(
        `SELECT blk, tenant, min_ts, max_ts, m, k, bloom::BLOB FROM blocks WHERE partition = ${p.str(partition)}`,
        p.values,
        p.types,
      )).getRows();
      if (rows.length === 0) return; // not created yet, or dropped
      const e: Entry = { blocks: new Map(), bytes: 0, lastUsed: ++this.clock };
      this.entries.set(partition, e);
      for (const [blk, tenant, minTs, maxTs, m, k, bits] of rows) {
        const bloom = bits === null ? null : { m: Number(m as bigint), k: k as number, bits: (bits as DuckDBBlobValue).bytes };
        this.put(e, { blk: blk as number, tenant: tenant as string, minTs: minTs as bigint, maxTs: maxTs as bigint, bloom });
      }
      this.fit(partition);
    }).finally(() => this.loading.delete(partition));
  }

  private put(e: Entry, block: CachedBlock): void {
    const size = 64 + (block.bloom?.bits.byteLength ?? 0);
    const old = e.blocks.get(block.blk);
    const delta = size - (old ? 64 + (old.bloom?.bits.byteLength ?? 0) : 0);
    e.blocks.set(block.blk, block);
    e.bytes += delta;
    this.bytes += delta;
  }

  /** Evicts least recently used partitions (`keep` last, only if it alone is over budget). */
  private fit(keep: string): void {
    if (this.bytes <= this.budgetBytes) return;
    const byAge = [...this.entries].filter(([name]) => name !== keep).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [name] of byAge) {
      if (this.bytes <= this.budgetBytes) return;
      this.evict([name]);
    }
    if (this.bytes > this.budgetBytes) this.evict([keep]);
  }
}

/** Block numbers of `blocks` that may hold every probed token within the tenant and range. */
export function probeCached(
  blocks: ReadonlyMap<number, CachedBlock>,
  tenant: string,
  probes: ReadonlyArray<readonly [number, number]>,
  startNs: bigint,
  endNs: bigint,
): number[] {
  const keep: number[] = [];
  for (const b of blocks.values()) {
    if (b.tenant !== tenant || b.minTs >= endNs || b.maxTs < startNs) continue;
    if (b.bloom === null || probes.every((h) => bloomMayContainHashes(b.bloom!, h))) keep.push(b.blk);
  }
  return keep.sort((a, b) => a - b);
}
