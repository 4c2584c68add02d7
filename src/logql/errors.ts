/**
 * LogQL errors. Syntax errors carry where they happened (0-based offset, 1-based line and
 * column) and print like Loki's: "parse error at line 1, col 12: syntax error: unexpected ...".
 */

export class LogQLSyntaxError extends Error {
  /** 0-based offset into the query (UTF-16 code units). */
  readonly position: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** The message without the "parse error at ..." prefix. */
  readonly detail: string;
  readonly query: string;

  constructor(detail: string, query: string, position: number) {
    const pos = Math.max(0, Math.min(position, query.length));
    const { line, column } = lineColumn(query, pos);
    super(`parse error at line ${line}, col ${column}: ${detail}`);
    this.name = 'LogQLSyntaxError';
    this.detail = detail;
    this.query = query;
    this.position = pos;
    this.line = line;
    this.column = column;
  }
}

/**
 * A metric query met a line its pipeline could not process (a parser or conversion error left
 * `__error__` on a sample), as Loki reports it. Filter with `| __error__=""` to skip such lines.
 */
export class LogQLPipelineError extends Error {
  constructor(
    readonly errorType: string,
    readonly series: string,
  ) {
    super(
      `pipeline error: '${errorType}' for series: '${series}'.\n` +
        `Use a label filter to intentionally skip this error. (e.g | __error__!="${errorType}").\n` +
        `To skip all potential errors you can match empty errors.(e.g __error__="")\n` +
        `The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )`,
    );
    this.name = 'LogQLPipelineError';
  }
}

/** A query that parses but cannot be evaluated as asked (bad step, too many points, ...). */
export class LogQLEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogQLEvalError';
  }
}

export function lineColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

/**
 * The error's message, the offending query line and a caret under the column:
 *
 *     parse error at line 1, col 6: syntax error: unexpected IDENTIFIER, expecting STRING
 *     {app=foo}
 *          ^
 */
export function formatLogQLError(err: LogQLSyntaxError): string {
  const lines = err.query.split('\n');
  const text = (lines[err.line - 1] ?? '').replace(/\t/g, ' ');
  return `${err.message}\n${text}\n${' '.repeat(Math.max(0, err.column - 1))}^`;
}
