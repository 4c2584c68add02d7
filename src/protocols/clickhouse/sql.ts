/**
 * Quoting for the few statements built from configuration (database, table and column names).
 * ClickHouse before 19.x has no query parameters (`{name:Type}` is answered "Unknown setting
 * param_..."), so names and literals are escaped here instead — the one place that does it.
 */

/** An identifier in backquotes: `a`.`b` never becomes a keyword or an expression. */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** A string literal in single quotes, with backslash and quote escaped (ClickHouse's string syntax). */
export function quoteString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
