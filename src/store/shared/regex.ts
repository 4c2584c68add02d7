/**
 * Regular expressions in JavaScript for the in-memory engine, as close to RE2 (the syntax of
 * LogQL, Go and DuckDB) as is cheap. Known differences from RE2, which the DuckDB engine uses:
 * - RE2 has no lookaround or backreferences: `(?=x)`, `(?!x)`, `(?<=x)`, `\1` are errors in
 *   DuckDB but valid here. LogQL users cannot rely on them.
 * - Inline flags: RE2 accepts `(?i)`, `(?s)`, `(?m)`, `(?U)` anywhere; here only a leading
 *   `(?i)`, `(?s)`, `(?m)` group (the common `(?i)error` case) is understood; others are errors.
 * - `(?P<name>...)` (RE2/Go) is rewritten to `(?<name>...)`.
 * - Patterns compile with the `u` flag so `.` matches a code point, like RE2. The `u` flag makes
 *   JS stricter about needless escapes (`\-` outside a class, `\ `), which RE2 accepts.
 * - `\z`, `\C`, `\Q...\E` and POSIX classes `[[:alpha:]]` are RE2-only.
 * In both, `.` does not match `\n` unless `(?s)`, and `^`/`$` anchor the whole text unless `(?m)`.
 */

export function invalidRegex(pattern: string, why: string): Error {
  return new Error(`invalid regex ${JSON.stringify(pattern)}: ${why}`);
}

const LEADING_FLAGS = /^\(\?([ism]+)\)/;

/** Compiles `pattern`; `anchored` makes it match the whole value (Prometheus label matchers). */
export function compileRegex(pattern: string, anchored: boolean): RegExp {
  let body = pattern;
  let flags = 'u';
  const m = LEADING_FLAGS.exec(body);
  if (m) {
    flags += [...new Set(m[1])].join('');
    body = body.slice(m[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<');
  if (anchored) body = `^(?:${body})$`;
  try {
    return new RegExp(body, flags);
  } catch (err) {
    throw invalidRegex(pattern, err instanceof Error ? err.message : String(err));
  }
}
