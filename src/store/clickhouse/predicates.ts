import type { LabelMatcher, LineFilter } from '../engine.js';
import { invalidRegex } from '../shared/regex.js';
import { ClickHouseError, type ClickHouseHttp } from './http.js';
import type { Sql } from './sql.js';

/**
 * Selectors and line filters as SQL. Label matchers run on the streams table (label_names /
 * label_values), line filters on logs.line. Regexes are RE2 in ClickHouse's match(), UTF-8
 * aware on every supported version; matchers are anchored by wrapping as ^(?:...)$ — the
 * wrapper keeps an alternation like `a|b` whole.
 */

/** A label's value on a streams row; '' when absent, as Prometheus reads it (x[0] is the default). */
function labelSql(sql: Sql, name: string): string {
  return `label_values[indexOf(label_names, ${sql.str(name)})]`;
}

export const anchored = (re: string): string => `^(?:${re})$`;

export function matcherSql(sql: Sql, m: LabelMatcher): string {
  const v = labelSql(sql, m.name);
  switch (m.op) {
    case '=':
      return `${v} = ${sql.str(m.value)}`;
    case '!=':
      return `${v} != ${sql.str(m.value)}`;
    case '=~':
      return `match(${v}, ${sql.regex(anchored(m.value))})`;
    case '!~':
      return `NOT match(${v}, ${sql.regex(anchored(m.value))})`;
  }
}

/** All matchers of a set (an empty set: every stream). */
export function matchersSql(sql: Sql, matchers: readonly LabelMatcher[]): string {
  return matchers.length === 0 ? '1' : matchers.map((m) => `(${matcherSql(sql, m)})`).join(' AND ');
}

/** A LIKE pattern matching lines that contain `s` (LIKE's own escapes: \\ \% \_). */
export const containsPattern = (s: string): string => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * A line filter. Substrings are byte searches, exact for UTF-8 (a valid needle matches only at
 * character boundaries); '' is found everywhere, as in JS. With `like`, `|=` is written as
 * LIKE '%...%', the same test, because the server's skip indexes (tokenbf on the line) are
 * consulted for LIKE and match() but not for position() (checked with EXPLAIN indexes = 1).
 */
export function lineFilterSql(sql: Sql, f: LineFilter, like: boolean): string {
  switch (f.op) {
    case '|=':
      return like ? `line LIKE ${sql.str(containsPattern(f.value))}` : `position(line, ${sql.str(f.value)}) > 0`;
    case '!=':
      return `position(line, ${sql.str(f.value)}) = 0`;
    case '|~':
      return `match(line, ${sql.regex(f.value)})`;
    case '!~':
      return `NOT match(line, ${sql.regex(f.value)})`;
  }
}

/** Regexes of a query, each as ClickHouse will compile it and as the caller wrote it. */
export function regexesOf(matchers: readonly LabelMatcher[], filters: readonly LineFilter[] = []): Array<{ compiled: string; written: string }> {
  return [
    ...matchers.filter((m) => m.op === '=~' || m.op === '!~').map((m) => ({ compiled: anchored(m.value), written: m.value })),
    ...filters.filter((f) => f.op === '|~' || f.op === '!~').map((f) => ({ compiled: f.value, written: f.value })),
  ];
}

const CANNOT_COMPILE_REGEXP = 427;

/**
 * Rejects a bad regex with "invalid regex ..." before the query runs: ClickHouse compiles a
 * pattern only when a block reaches match(), so a query over no rows would accept `(`. Each
 * pattern is compiled once by the server (`SELECT match('', p)`) and remembered.
 */
export class RegexChecker {
  private readonly ok = new Set<string>();

  constructor(private readonly http: ClickHouseHttp, private readonly newSql: () => Sql) {}

  async check(regexes: ReadonlyArray<{ compiled: string; written: string }>): Promise<void> {
    for (const r of regexes) {
      if (this.ok.has(r.compiled)) continue;
      const sql = this.newSql();
      try {
        await this.http.select('compile regex', `SELECT match('', ${sql.regex(r.compiled)})`, sql.params);
      } catch (err) {
        if (err instanceof ClickHouseError && err.code === CANNOT_COMPILE_REGEXP) throw invalidRegex(r.written, err.message.replace(/^clickhouse: compile regex failed: /, ''));
        throw err;
      }
      if (this.ok.size >= 10_000) this.ok.clear();
      this.ok.add(r.compiled);
    }
  }
}
