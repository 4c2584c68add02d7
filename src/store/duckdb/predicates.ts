import type { DuckDBConnection } from '@duckdb/node-api';
import type { LabelMatcher, LineFilter } from '../engine.js';
import { invalidRegex } from '../shared/regex.js';
import type { SqlParams } from './sql.js';

/**
 * Label matchers and line filters as SQL predicates. Names and values are always parameters.
 *
 * Matchers run on the streams table's `labels` MAP. A missing label reads as '' (Prometheus:
 * `{a=""}` matches streams without `a`, `{a!=""}` requires it). Regex matchers use
 * regexp_full_match, i.e. anchored at both ends like Prometheus' `^(?:re)$`.
 *
 * Line filters: `|=` is contains(), never LIKE, so `%` and `_` in user text stay literal.
 * Regexes are RE2 (DuckDB), the same syntax as LogQL/Go: no lookaround or backreferences;
 * `.` does not match `\n` unless `(?s)`. See ../shared/regex.ts for the JS differences.
 */

export function matchersSql(matchers: readonly LabelMatcher[], p: SqlParams, labels = 'labels'): string {
  if (matchers.length === 0) return 'TRUE';
  return matchers
    .map((m) => {
      const v = `coalesce(map_extract_value(${labels}, ${p.str(m.name)}), '')`;
      switch (m.op) {
        case '=':
          return `${v} = ${p.str(m.value)}`;
        case '!=':
          return `${v} <> ${p.str(m.value)}`;
        case '=~':
          return `regexp_full_match(${v}, ${p.str(m.value)})`;
        case '!~':
          return `NOT regexp_full_match(${v}, ${p.str(m.value)})`;
      }
    })
    .join(' AND ');
}

/** Streams matching any of the matcher sets (an empty set matches every stream). */
export function matcherSetsSql(sets: readonly (readonly LabelMatcher[])[], p: SqlParams, labels = 'labels'): string {
  if (sets.length === 0) return 'FALSE';
  return sets.map((s) => `(${matchersSql(s, p, labels)})`).join(' OR ');
}

export function lineFiltersSql(filters: readonly LineFilter[], p: SqlParams, line = 'line'): string {
  if (filters.length === 0) return 'TRUE';
  return filters
    .map((f) => {
      switch (f.op) {
        case '|=':
          return `contains(${line}, ${p.str(f.value)})`;
        case '!=':
          return `NOT contains(${line}, ${p.str(f.value)})`;
        case '|~':
          return `regexp_matches(${line}, ${p.str(f.value)})`;
        case '!~':
          return `NOT regexp_matches(${line}, ${p.str(f.value)})`;
      }
    })
    .join(' AND ');
}

/** The regexes of a query: matcher values of =~/!~ and line filters |~/!~. */
export function regexesOf(matchers: readonly LabelMatcher[], filters: readonly LineFilter[] = []): string[] {
  return [
    ...matchers.filter((m) => m.op === '=~' || m.op === '!~').map((m) => m.value),
    ...filters.filter((f) => f.op === '|~' || f.op === '!~').map((f) => f.value),
  ];
}

/**
 * Compiles regexes with DuckDB's RE2 before they are used, so a bad pattern is reported as
 * "invalid regex ..." rather than as a failed query (or not at all, when no row reaches it).
 */
export class RegexChecker {
  private readonly valid = new Set<string>();

  async check(conn: DuckDBConnection, patterns: readonly string[]): Promise<void> {
    for (const pattern of patterns) {
      if (this.valid.has(pattern)) continue;
      try {
        await conn.run(`SELECT regexp_matches('', ?)`, [pattern]);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw invalidRegex(pattern, msg.replace(/^Invalid Input Error: /, ''));
      }
      // Bounded: a flood of distinct patterns must not grow memory without limit.
      if (this.valid.size >= 1000) this.valid.clear();
      this.valid.add(pattern);
    }
  }
}
