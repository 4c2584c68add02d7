import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

/** The parts of chdb's Session used here (chdb has its own types; loaded lazily, it is large). */
interface ChdbSession { query(sql: string, format?: string): string; queryBind(sql: string, args: Record<string, string>, format?: string): string; cleanup(): void }

/** A query parameter's value as ClickHouse reads it from the URL: TSV-escaped text (chdb escapes again). */
function tsvUnescape(v: string): string {
  const map: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0' };
  return v.replace(/\\(.)/gs, (_, c: string) => map[c] ?? c);
}

/**
 * A current ClickHouse (26.x, embedded by the `chdb` package) behind ClickHouse's HTTP
 * interface on 127.0.0.1: statement in `query` and/or the body (INSERT data follows the
 * statement, as ClickHouse reads it), gzip bodies, settings as URL parameters, errors as
 * ClickHouse's text with status 500, query parameters (`param_x` for `{x:Type}`). Debian's clickhouse-server is 18.16; this is how the tests
 * check what Loggy sends to servers that have Map, DateTime64, LowCardinality and
 * insert_deduplication_token. Not a full server: one session, one query at a time.
 */
export async function startChdbHttp(dir: string): Promise<{ url: string; sql(statement: string, format?: string): string; stop(): Promise<void> }> {
  const { Session } = createRequire(import.meta.url)('chdb') as { Session: new (path: string) => ChdbSession };
  const session = new Session(dir);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const raw = Buffer.concat(chunks);
        const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://chdb');
        // param_x: query parameters ({x:Type}), bound by chdb as the server binds them.
        const params = Object.fromEntries([...url.searchParams].filter(([k]) => k.startsWith('param_')).map(([k, v]) => [k.slice(6), tsvUnescape(v)]));
        const settings = [...url.searchParams].filter(([k]) => k !== 'query' && k !== 'database' && k !== 'user' && k !== 'password' && !k.startsWith('param_'));
        let statement = url.searchParams.has('query') ? `${url.searchParams.get('query')}\n${body}` : body;
        if (settings.length > 0) {
          // SETTINGS goes before FORMAT (and an INSERT's data).
          const clause = ` SETTINGS ${settings.map(([k, v]) => `${k} = ${/^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`}`).join(', ')}`;
          const at = statement.search(/\sFORMAT\s/);
          statement = at < 0 ? statement + clause : statement.slice(0, at) + clause + statement.slice(at);
        }
        const m = /\sFORMAT\s+(\w+)\s*$/.exec(statement.split('\n')[0]!);
        const isInsert = /^\s*INSERT\b/i.test(statement);
        const format = isInsert ? undefined : (m?.[1] ?? 'TabSeparated');
        const out = Object.keys(params).length > 0 ? session.queryBind(statement, params, format) : session.query(statement, format);
        res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end(isInsert ? '' : out);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=UTF-8' }).end((err as Error).message.replace(/^Query failed: /, ''));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sql: (statement, format = 'TabSeparated') => session.query(statement, format),
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => {
        session.cleanup();
        r();
      });
    }),
  };
}
