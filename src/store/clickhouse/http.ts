import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { clickhouseErrorCode } from '../../protocols/clickhouse/errors.js';

/**
 * ClickHouse's HTTP interface, the small part the store needs: one statement per request (the
 * interface runs no more), settings and query parameters as URL parameters, Basic auth (every
 * version has it), SELECTs answered in JSONCompact with 64-bit integers quoted so bigints
 * survive JSON.parse.
 */

export class ClickHouseError extends Error {
  constructor(message: string, readonly code: number | null) {
    super(message);
    this.name = 'ClickHouseError';
  }
}

export interface HttpOptions {
  url: string;
  user?: string;
  password?: string;
  timeoutMs: number;
  /** The connection pool with the engine's TLS settings (a private CA, a client certificate), if any. */
  dispatcher?: () => Dispatcher;
}

export type Params = Record<string, string>;

export class ClickHouseHttp {
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: HttpOptions) {
    this.headers = { 'content-type': 'text/plain; charset=utf-8' };
    if (opts.user !== undefined) this.headers.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.password ?? ''}`).toString('base64')}`;
  }

  /** Runs a SELECT; returns its rows as JSON arrays. `what` names the operation in errors. */
  async select(what: string, sql: string, params: Params = {}, settings: Params = {}): Promise<unknown[][]> {
    const text = await this.send(what, sql.trimEnd() + '\nFORMAT JSONCompact', { output_format_json_quote_64bit_integers: '1', ...settings }, params);
    const parsed = JSON.parse(text) as { data?: unknown[][] };
    if (!Array.isArray(parsed.data)) throw new ClickHouseError(`clickhouse: ${what}: unexpected answer ${text.slice(0, 200)}`, null);
    return parsed.data;
  }

  /** Runs a statement without result rows (DDL, ALTER). */
  async exec(what: string, sql: string, params: Params = {}): Promise<void> {
    await this.send(what, sql, {}, params);
  }

  /**
   * Inserts JSONEachRow lines. The statement goes in the URL and the rows in the body, as
   * ClickHouse reads an INSERT's data after its statement.
   */
  async insert(what: string, statement: string, lines: string[], settings: Params = {}): Promise<void> {
    await this.send(what, null, { query: `${statement} FORMAT JSONEachRow`, ...settings }, {}, lines.join('\n'));
  }

  private async send(what: string, sql: string | null, settings: Params, params: Params, body?: string): Promise<string> {
    const url = new URL(this.opts.url);
    for (const [k, v] of Object.entries(settings)) url.searchParams.set(k, v);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(`param_${k}`, v);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`timed out after ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    let status: number;
    let text: string;
    try {
      const init = { method: 'POST', body: body ?? sql ?? '', headers: this.headers, signal: ac.signal };
      // undici's own fetch with its Agent: Node 20's built-in fetch takes no CA or client certificate.
      const res = this.opts.dispatcher ? await undiciFetch(url, { ...init, dispatcher: this.opts.dispatcher() }) : await fetch(url, init);
      status = res.status;
      text = await res.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ClickHouseError(`clickhouse: ${what} failed: ${this.opts.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, null);
    } finally {
      clearTimeout(timer);
    }
    if (status >= 200 && status < 300) return text;
    const message = text.trim().slice(0, 2000) || `HTTP ${status}`;
    throw new ClickHouseError(`clickhouse: ${what} failed: ${message}`, clickhouseErrorCode(message));
  }
}
