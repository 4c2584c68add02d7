import { escapeParamValue, quoteIdent, quoteString } from '../../protocols/clickhouse/sql.js';
import type { Params } from './http.js';

/**
 * Values into SQL text, for one statement. Strings (label values, line filters, tenants,
 * sources: everything a client can choose) go as query parameters where the server has them,
 * as quoted literals through protocols/clickhouse/sql.ts otherwise; integers are printed from
 * bigints/safe integers and never come from text.
 */
export class Sql {
  readonly params: Params = {};
  private n = 0;

  constructor(private readonly useParams: boolean, private readonly regexPrefilterIgnoresFlags = false) {}

  /**
   * A regex for match(). On servers whose literal pre-filter ignores inline flags, a pattern
   * with flags gets an alternative that matches nothing (an empty class): with an alternation
   * at the top the server extracts no literal, and the language is unchanged.
   */
  regex(pattern: string): string {
    const p = this.regexPrefilterIgnoresFlags && /\(\?[a-zA-Z]/.test(pattern) ? `(?:${pattern})|[^\\x00-\\x{10FFFF}]` : pattern;
    return this.str(p);
  }

  str(v: string): string {
    if (!this.useParams) return quoteString(v);
    const name = `p${this.n++}`;
    this.params[name] = escapeParamValue(v);
    return `{${name}:String}`;
  }

  /** An Int64 literal, clamped to Int64 (query bounds are arbitrary bigints). */
  i64(v: bigint): string {
    const c = v < INT64_MIN ? INT64_MIN : v > INT64_MAX ? INT64_MAX : v;
    // The minimum has no positive counterpart as a literal.
    return c === INT64_MIN ? 'toInt64(-9223372036854775807 - 1)' : `toInt64(${c.toString()})`;
  }

  /** A UInt64 literal (stream ids, sequence numbers: non-negative by construction). */
  u64(v: bigint): string {
    if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new Error(`UInt64 out of range: ${v}`);
    return v.toString();
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `db`.`table` */
export function tableName(database: string, table: string): string {
  return `${quoteIdent(database)}.${quoteIdent(table)}`;
}

/** A JSON string of a bigint for JSONEachRow: ClickHouse reads bare 64-bit integers exactly. */
export function jsonInt(v: bigint | number): string {
  return typeof v === 'bigint' ? v.toString() : String(Math.trunc(v));
}
