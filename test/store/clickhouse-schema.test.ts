import { describe, expect, it } from 'vitest';
import type { Ctx } from '../../src/store/clickhouse/context.js';
import type { ClickHouseHttp } from '../../src/store/clickhouse/http.js';
import { applyRetention } from '../../src/store/clickhouse/retention.js';
import { ensureSchema, schemaStatements, tablesOf } from '../../src/store/clickhouse/schema.js';
import type { Features } from '../../src/store/clickhouse/version.js';

/**
 * The replicated cluster layout's DDL, as text: there is no ZooKeeper/Keeper in the test
 * environment, so ReplicatedMergeTree and ON CLUSTER never run against a server here (the
 * non-replicated cluster runs for real in clickhouse-cluster.e2e.test.ts).
 */

const v18: Features = { version: '18.16.1', queryParams: false, lowCardinality: false, dedupToken: false, fsync: false, skipIndexes: false, regexPrefilterIgnoresFlags: true, distributedSyncInsert: 'insert_distributed_sync' };
const v24: Features = { version: '24.8.1', queryParams: true, lowCardinality: true, dedupToken: true, fsync: true, skipIndexes: true, regexPrefilterIgnoresFlags: false, distributedSyncInsert: 'distributed_foreground_insert' };

describe('clickhouse cluster schema', () => {
  it('replicated: ReplicatedMergeTree per node and Distributed tables, all ON CLUSTER (18.16)', () => {
    const t = tablesOf('loggy', 'p_', { name: 'prod', replicated: true });
    expect(schemaStatements(t, v18).map(([, sql]) => sql)).toEqual([
      'CREATE DATABASE IF NOT EXISTS `loggy` ON CLUSTER `prod`',
      `CREATE TABLE IF NOT EXISTS \`loggy\`.\`p_logs_local\` ON CLUSTER \`prod\` (
  tenant String,
  stream_id UInt64,
  ts Int64,
  seq UInt64,
  idx UInt32,
  line String,
  md_keys Array(String),
  md_values Array(String),
  rid UInt64
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/loggy/p_logs_local', '{replica}')
PARTITION BY intDiv(ts, 86400000000000)
ORDER BY (tenant, stream_id, ts, seq, idx)`,
      `CREATE TABLE IF NOT EXISTS \`loggy\`.\`p_streams_local\` ON CLUSTER \`prod\` (
  tenant String,
  day UInt32,
  stream_id UInt64,
  label_names Array(String),
  label_values Array(String)
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/loggy/p_streams_local', '{replica}')
PARTITION BY day
ORDER BY (tenant, stream_id)`,
      `CREATE TABLE IF NOT EXISTS \`loggy\`.\`p_offsets_local\` ON CLUSTER \`prod\` (
  tenant String,
  source String,
  watermark UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/loggy/p_offsets_local', '{replica}', watermark)
ORDER BY (tenant, source)`,
      "CREATE TABLE IF NOT EXISTS `loggy`.`p_logs` ON CLUSTER `prod` AS `loggy`.`p_logs_local`\nENGINE = Distributed('prod', 'loggy', 'p_logs_local', cityHash64(tenant, stream_id))",
      "CREATE TABLE IF NOT EXISTS `loggy`.`p_streams` ON CLUSTER `prod` AS `loggy`.`p_streams_local`\nENGINE = Distributed('prod', 'loggy', 'p_streams_local', cityHash64(tenant, stream_id))",
      "CREATE TABLE IF NOT EXISTS `loggy`.`p_offsets` ON CLUSTER `prod` AS `loggy`.`p_offsets_local`\nENGINE = Distributed('prod', 'loggy', 'p_offsets_local', cityHash64(tenant, source))",
    ]);
  });

  it('replicated on a newer server: no non-replicated dedup window, fsync and the index kept', () => {
    const t = tablesOf('loggy', '', { name: 'prod', replicated: true });
    const logs = schemaStatements(t, v24)[1]![1];
    expect(logs).toContain("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/loggy/logs_local', '{replica}')");
    expect(logs).toContain('INDEX line_tokens line TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1');
    expect(logs).toMatch(/ORDER BY \(tenant, stream_id, ts, seq, idx\)\nSETTINGS fsync_after_insert = 1, fsync_part_directory = 1$/);
    const plain = schemaStatements(tablesOf('loggy', '', { name: 'prod', replicated: false }), v24)[1]![1];
    expect(plain).toContain('ENGINE = MergeTree\n');
    expect(plain).toContain('SETTINGS non_replicated_deduplication_window = 1000, fsync_after_insert = 1');
  });

  it('one server: the tables as before, without ON CLUSTER or Distributed', () => {
    const st = schemaStatements(tablesOf('loggy', 'p_'), v18).map(([, sql]) => sql);
    expect(st).toHaveLength(4);
    expect(st.join('\n')).not.toMatch(/ON CLUSTER|Distributed|_local|Replicated/);
    expect(st[1]).toMatch(/^CREATE TABLE IF NOT EXISTS `loggy`.`p_logs` \(/);
  });

  it('hands the DDL runner each statement with and without its ON CLUSTER clause', async () => {
    const got: Array<[string, string]> = [];
    await ensureSchema(async (_what, sql, perNode) => { got.push([sql, perNode]); }, tablesOf('loggy', 'p_', { name: 'prod', replicated: true }), v18);
    expect(got[0]).toEqual(['CREATE DATABASE IF NOT EXISTS `loggy` ON CLUSTER `prod`', 'CREATE DATABASE IF NOT EXISTS `loggy`']);
    for (const [sql, perNode] of got) expect(perNode).toBe(sql.replace(' ON CLUSTER `prod`', ''));
  });

  it('retention reads every shard through cluster() and drops the local partitions ON CLUSTER', async () => {
    const selects: string[] = [];
    const ddl: string[] = [];
    const http = {
      select: async (_what: string, sql: string) => {
        selects.push(sql);
        return sql.startsWith('SELECT partition') ? [['20000', '100'], ['20001', '100']] : [['20000']];
      },
    } as unknown as ClickHouseHttp;
    const ctx: Ctx = { http, tables: tablesOf('loggy', 'p_', { name: 'prod', replicated: true }), features: v18, ddl: async (_w, sql) => { ddl.push(sql); }, insertSettings: {} };
    expect(await applyRetention(ctx, { maxBytes: 100 }, 0n)).toEqual({ droppedPartitions: 1 });
    expect(selects[0]).toBe("SELECT partition, sum(bytes_on_disk) FROM cluster('prod', system.parts) WHERE active AND database = 'loggy' AND table IN ('p_logs_local', 'p_streams_local') GROUP BY partition");
    expect(ddl).toEqual([
      'ALTER TABLE `loggy`.`p_logs_local` ON CLUSTER `prod` DROP PARTITION 20000',
      'ALTER TABLE `loggy`.`p_streams_local` ON CLUSTER `prod` DROP PARTITION 20000',
    ]);
  });
});
