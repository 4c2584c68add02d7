import { quoteString } from '../../protocols/clickhouse/sql.js';
import { ClickHouseError, type ClickHouseHttp } from './http.js';

/**
 * What the connected server can do, found at open. The oldest server this engine runs on is
 * 18.16 (Debian's package, tested); everything newer is optional. Settings are looked up by
 * name in system.settings / system.merge_tree_settings (both exist on 18.16) and query
 * parameters are tried, so nothing hangs on a guessed release number; only features that would
 * need a failing CREATE to find out go by version.
 */

export interface Features {
  version: string;
  /** `{name:Type}` query parameters. */
  queryParams: boolean;
  /** LowCardinality(String) without the experimental flag (GA in 19.x; used from 20.1). */
  lowCardinality: boolean;
  /** insert_deduplication_token plus non_replicated_deduplication_window on plain MergeTree. */
  dedupToken: boolean;
  /** fsync_after_insert / fsync_part_directory: an acknowledged insert survives power loss. */
  fsync: boolean;
  /** Data-skipping indexes (tokenbf_v1) and codecs without experimental flags (used from 21.1). */
  skipIndexes: boolean;
  /**
   * match() pre-filters lines by a literal it extracts from the pattern, and old servers take
   * that literal case-sensitively even under (?i): `(?i)get /` found no "GET /" on 18.16.
   * Assumed for everything before 21.1 (the workaround is harmless where it is not needed).
   */
  regexPrefilterIgnoresFlags: boolean;
  /**
   * The setting that makes an INSERT into a Distributed table return only once the shards have
   * the rows: insert_distributed_sync (18.16+), renamed distributed_foreground_insert (23.x).
   */
  distributedSyncInsert: string | null;
}

export const MIN_VERSION = '18.16';

function atLeastOf(version: string): (major: number, minor: number) => boolean {
  const [ma = 0, mi = 0] = version.split('.').map(Number);
  return (major, minor) => ma > major || (ma === major && mi >= minor);
}

export async function detectFeatures(http: ClickHouseHttp): Promise<Features> {
  const version = String((await http.select('read the server version', 'SELECT version()'))[0]?.[0] ?? '');
  const atLeast = atLeastOf(version);
  if (!atLeast(18, 16)) throw new Error(`clickhouse: server version ${version} is older than the oldest supported, ${MIN_VERSION}`);
  const names = async (table: string, wanted: string[]): Promise<Set<string>> => {
    const rows = await http.select(`read ${table}`, `SELECT name FROM system.${table} WHERE name IN (${wanted.map(quoteString).join(', ')})`);
    return new Set(rows.map((r) => String(r[0])));
  };
  const settings = await names('settings', ['insert_deduplication_token', 'insert_distributed_sync', 'distributed_foreground_insert']);
  const mergeTree = await names('merge_tree_settings', ['non_replicated_deduplication_window', 'fsync_after_insert', 'fsync_part_directory']);
  let queryParams = true;
  try {
    const got = await http.select('try query parameters', 'SELECT {probe:String}', { probe: 'ok' });
    queryParams = got[0]?.[0] === 'ok';
  } catch (err) {
    // 18.16: "Unknown setting param_probe" (or a syntax error at the brace).
    if (!(err instanceof ClickHouseError) || err.code === null) throw err;
    queryParams = false;
  }
  return {
    version,
    queryParams,
    lowCardinality: atLeast(20, 1),
    dedupToken: settings.has('insert_deduplication_token') && mergeTree.has('non_replicated_deduplication_window'),
    fsync: mergeTree.has('fsync_after_insert') && mergeTree.has('fsync_part_directory'),
    skipIndexes: atLeast(21, 1),
    regexPrefilterIgnoresFlags: !atLeast(21, 1),
    distributedSyncInsert: ['distributed_foreground_insert', 'insert_distributed_sync'].find((n) => settings.has(n)) ?? null,
  };
}
