import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Debian's package (`apt-get install clickhouse-server`; .ci/run installs it). */
export const CLICKHOUSE_BIN = '/usr/sbin/clickhouse-server';

export interface TestClickHouse {
  /** The HTTP interface, http://127.0.0.1:<port> */
  url: string;
  /** The native TCP port (what Distributed tables and cluster() connect to), when enabled. */
  tcpPort: number | null;
  /** https://localhost:<port> with the `https` option, else null. */
  httpsUrl: string | null;
  user: string;
  password: string;
  /** Runs one statement as the test user; returns the answer's text (throws with ClickHouse's message). */
  sql(statement: string): Promise<string>;
  /** JSONEachRow rows of a SELECT (FORMAT is added). */
  rows<T = Record<string, unknown>>(select: string): Promise<T[]>;
  stop(): Promise<void>;
  /** Start again on the same port and data (after stop). */
  start(): Promise<void>;
}

/** One replica of a shard in `remote_servers`: a server's native TCP port and the login to use. */
export interface ClusterReplica {
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** The database a table named without one means on this replica. */
  defaultDatabase?: string;
}

export interface ClickHouseOptions {
  /** Listen on the native TCP port too: true for any free port, or this port. Default off. */
  tcpPort?: boolean | number;
  /** `remote_servers`: cluster name → shards → replicas. */
  remoteServers?: Record<string, ClusterReplica[][]>;
  /** `macros`, e.g. { shard: '01', replica: 'a' } for ReplicatedMergeTree paths. */
  macros?: Record<string, string>;
  /** Serve HTTPS too, with this PEM certificate and key (`httpsUrl` in the result). */
  https?: { cert: string; key: string };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * A real ClickHouse server of its own for a test or a benchmark: own config, data directory and
 * port, a user with a password, UTC. Fails (never skips) without the package: CI installs it.
 */
export async function startClickHouse(dir: string, opts: ClickHouseOptions = {}): Promise<TestClickHouse> {
  if (!existsSync(CLICKHOUSE_BIN)) throw new Error(`${CLICKHOUSE_BIN} not found: apt-get install clickhouse-server (as .ci/run does)`);
  for (const d of ['data', 'tmp', 'user_files', 'log']) mkdirSync(join(dir, d), { recursive: true });
  const port = await freePort();
  const tcpPort = opts.tcpPort === true ? await freePort() : typeof opts.tcpPort === 'number' ? opts.tcpPort : null;
  const x = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const replica = (r: ClusterReplica): string => `<replica><host>${x(r.host)}</host><port>${r.port}</port>${r.user === undefined ? '' : `<user>${x(r.user)}</user>`}${r.password === undefined ? '' : `<password>${x(r.password)}</password>`}${r.defaultDatabase === undefined ? '' : `<default_database>${x(r.defaultDatabase)}</default_database>`}</replica>`;
  const clusters = Object.entries(opts.remoteServers ?? {}).map(([name, shards]) => `<${name}>${shards.map((rs) => `<shard>${rs.map(replica).join('')}</shard>`).join('')}</${name}>`).join('');
  const httpsPort = opts.https ? await freePort() : null;
  const extra = [
    tcpPort === null ? '' : `  <tcp_port>${tcpPort}</tcp_port>\n`,
    opts.https ? `  <https_port>${httpsPort}</https_port>\n  <openSSL><server><certificateFile>${x(opts.https.cert)}</certificateFile><privateKeyFile>${x(opts.https.key)}</privateKeyFile><verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile><disableProtocols>sslv2,sslv3</disableProtocols></server></openSSL>\n` : '',
    clusters === '' ? '' : `  <remote_servers>${clusters}</remote_servers>\n`,
    opts.macros ? `  <macros>${Object.entries(opts.macros).map(([k, v]) => `<${k}>${x(v)}</${k}>`).join('')}</macros>\n` : '',
  ].join('');
  const config = join(dir, 'config.xml');
  writeFileSync(config, `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>${port}</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
${extra}</yandex>
`);
  writeFileSync(join(dir, 'users.xml'), `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <loggy><password>s3cret</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></loggy>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`);
  const url = `http://127.0.0.1:${port}`;
  const auth = `Basic ${Buffer.from('loggy:s3cret').toString('base64')}`;
  let child: ChildProcess | null = null;
  let output = '';

  const sql = async (statement: string): Promise<string> => {
    const res = await fetch(url, { method: 'POST', body: statement, headers: { authorization: auth } });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse: ${text.trim()}\n  in: ${statement}`);
    return text;
  };

  const start = async (): Promise<void> => {
    output = '';
    const c = spawn(CLICKHOUSE_BIN, [`--config-file=${config}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    c.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    child = c;
    const end = Date.now() + 30_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`clickhouse-server exited with ${c.exitCode}:\n${output.slice(-2000)}`);
      const ok = await fetch(`${url}/ping`).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > end) throw new Error(`clickhouse-server did not answer on ${url} within 30 s:\n${output.slice(-2000)}`);
      await sleep(100);
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url, tcpPort, httpsUrl: httpsPort === null ? null : `https://localhost:${httpsPort}`, user: 'loggy', password: 's3cret', sql, start, stop,
    async rows<T>(select: string): Promise<T[]> {
      const text = await sql(`${select} FORMAT JSONEachRow`);
      return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
    },
  };
}
