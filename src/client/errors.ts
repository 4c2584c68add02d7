/**
 * Errors of the client commands. Each carries the exit code the command ends with (1: the
 * request failed, 2: the command line was wrong) and a message that says how to fix it.
 */
export class ClientError extends Error {
  /** The store was unreachable or failed (5xx, 429): worth retrying when following. */
  retryable = false;

  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The command line is wrong (exit 2, as kubectl and commander do for usage errors). */
export class UsageError extends ClientError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** The store refused the query (HTTP 400); `query` is what was sent, to show where it went wrong. */
export class QueryError extends ClientError {
  constructor(readonly detail: string, readonly query: string) {
    super(renderQueryError(detail, query));
    this.name = 'QueryError';
  }
}

/**
 * The store's message, then the query line it points at with a caret under the column, when the
 * message carries Loki's position ("parse error at line L, col C: ..."):
 *
 *     bad query: parse error at line 1, col 6: syntax error: unexpected IDENTIFIER
 *       {app=foo}
 *            ^
 */
export function renderQueryError(detail: string, query: string): string {
  const msg = detail.trim();
  const m = /parse error at line (\d+), col (\d+)/.exec(msg);
  if (!m) return `bad query: ${msg}\n  ${query.replace(/\n/g, '\n  ')}`;
  const line = Number(m[1]);
  const col = Number(m[2]);
  const lines = query.split('\n');
  const text = (lines[line - 1] ?? '').replace(/\t/g, ' ');
  // Columns count UTF-16 code units, as the server does; a column past the end points just after it.
  const at = Math.max(0, Math.min(col - 1, text.length));
  return `bad query: ${msg}\n  ${text}\n  ${' '.repeat(at)}^`;
}
