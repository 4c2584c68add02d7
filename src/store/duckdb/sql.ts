import { BIGINT, BLOB, INTEGER, LIST, VARCHAR, blobValue, listValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { PARTITION_NAME_RE } from '../shared/partition.js';

/**
 * Prepared-statement parameters with explicit types. Every value that comes from a caller goes
 * through here and never into SQL text. Explicit types matter: node-api would bind a JS bigint
 * as HUGEINT, and `ts >= HUGEINT` is not pushed into the table scan as a zone-map filter.
 */
export class SqlParams {
  readonly values: DuckDBValue[] = [];
  readonly types: DuckDBType[] = [];

  /** A VARCHAR parameter; returns its placeholder. */
  str(v: string): string {
    return this.push(v, VARCHAR);
  }

  /** A BIGINT parameter. */
  big(v: bigint): string {
    return this.push(v, BIGINT);
  }

  /** An INTEGER parameter. */
  int(v: number): string {
    return this.push(v, INTEGER);
  }

  /** A BLOB parameter, or NULL. */
  blob(v: Uint8Array | null): string {
    return this.push(v === null ? null : blobValue(v), BLOB);
  }

  /** A BIGINT[] parameter (one placeholder for a list of any length). */
  bigList(vs: readonly bigint[]): string {
    return this.push(listValue(vs), LIST(BIGINT));
  }

  /** An INTEGER[] parameter. */
  intList(vs: readonly number[]): string {
    return this.push(listValue(vs), LIST(INTEGER));
  }

  /** A VARCHAR[] parameter. */
  strList(vs: readonly string[]): string {
    return this.push(listValue(vs), LIST(VARCHAR));
  }

  // Numbered placeholders ($1, $2, ...) so SQL may be assembled in any order.
  private push(v: DuckDBValue, t: DuckDBType): string {
    this.values.push(v);
    this.types.push(t);
    return `$${this.values.length}`;
  }
}

/**
 * The one place a name becomes SQL text: partition tables are named by us from dates, and are
 * re-checked here so that a corrupted catalog row can never inject SQL.
 */
export function partitionTable(name: string): string {
  if (!PARTITION_NAME_RE.test(name)) throw new Error(`refusing unexpected partition table name ${JSON.stringify(name)}`);
  return `"${name}"`;
}
