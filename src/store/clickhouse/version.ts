/**
 * What the connected server can do, from `SELECT version()` at open. The oldest server this
 * engine runs on is 18.16 (Debian's package, tested); everything newer is optional.
 */

export interface Features {
  version: string;
  /** `{name:Type}` query parameters (19.x; used from 20.1, the first release that is old enough to be common). */
  queryParams: boolean;
  /** LowCardinality(String) without the experimental flag. */
  lowCardinality: boolean;
  /** insert_deduplication_token (22.2) on a MergeTree with non_replicated_deduplication_window (20.x). */
  dedupToken: boolean;
  /** Data-skipping indexes (tokenbf_v1) without the experimental flag. */
  skipIndexes: boolean;
  /**
   * match() pre-filters lines by a literal it extracts from the pattern, and old servers take
   * that literal case-sensitively even under (?i): `(?i)get /` found no "GET /" on 18.16.
   */
  regexPrefilterIgnoresFlags: boolean;
}

export const MIN_VERSION = '18.16';

export function featuresOf(version: string): Features {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const atLeast = (ma: number, mi: number): boolean => major > ma || (major === ma && minor >= mi);
  if (!atLeast(18, 16)) throw new Error(`clickhouse: server version ${version} is older than the oldest supported, ${MIN_VERSION}`);
  return {
    version,
    queryParams: atLeast(20, 1),
    lowCardinality: atLeast(20, 1),
    dedupToken: atLeast(22, 2),
    skipIndexes: atLeast(21, 1),
    regexPrefilterIgnoresFlags: !atLeast(21, 1),
  };
}
