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

/**
 * A query parameter's value (`param_x=` for `{x:String}`, 19.x+): the server reads it as
 * TSV-escaped text, so a backslash, tab or newline in the value must be escaped or it changes
 * the value (a lone trailing backslash even fails the query). Quotes need nothing here.
 */
export function escapeParamValue(s: string): string {
  return s.replace(/[\\\t\n\r\0\b\f]/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', '\b': '\\b', '\f': '\\f' };
