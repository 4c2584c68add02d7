import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { sleep } from './proc.js';

export const RSYSLOGD = '/usr/sbin/rsyslogd';
/** Why rsyslog tests are skipped, or null when they can run. */
export const noRsyslog: string | null = existsSync(RSYSLOGD) ? null : `${RSYSLOGD} is missing (Debian: apt-get install rsyslog rsyslog-gnutls)`;
/** Why TLS tests are skipped, or null. */
export const noTls: string | null = noRsyslog
  ?? (spawnSync('openssl', ['version']).status === 0 ? null : 'the openssl CLI is missing (it makes the test CA)')
  ?? (spawnSync('sh', ['-c', 'ls /usr/lib/rsyslog/lmnsd_gtls.so /usr/lib/*/rsyslog/lmnsd_gtls.so 2>/dev/null | grep -q .']).status !== 0 ? 'rsyslog-gnutls is not installed' : null);

/** One message as rsyslog parsed it: every property our template writes. */
export interface RsRecord {
  pri: string;
  facility: string;
  severity: string;
  ts: string;
  hostname: string;
  app: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
}

// Every property as JSON, one object a line, so a message with any byte in it compares exactly.
const TEMPLATE = `template(name="fields" type="list") {
  constant(value="{\\"pri\\":\\"") property(name="pri")
  constant(value="\\",\\"facility\\":\\"") property(name="syslogfacility")
  constant(value="\\",\\"severity\\":\\"") property(name="syslogseverity")
  constant(value="\\",\\"ts\\":\\"") property(name="timestamp" dateFormat="rfc3339")
  constant(value="\\",\\"hostname\\":\\"") property(name="hostname" format="json")
  constant(value="\\",\\"app\\":\\"") property(name="app-name" format="json")
  constant(value="\\",\\"procid\\":\\"") property(name="procid" format="json")
  constant(value="\\",\\"msgid\\":\\"") property(name="msgid" format="json")
  constant(value="\\",\\"sd\\":\\"") property(name="structured-data" format="json")
  constant(value="\\",\\"msg\\":\\"") property(name="msg" format="json")
  constant(value="\\"}\\n")
}`;

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface RsyslogOptions {
  dir: string;
  /** Plain TCP input (octet-counted and LF framing both accepted). Also the readiness probe. */
  tcpPort: number;
  udpPort?: number;
  /** A TLS input (gtls, anonymous clients) with this server certificate. */
  tls?: { port: number; ca: string; cert: string; key: string };
  /** Extra configuration (e.g. an omfwd action); the file output is there regardless. */
  extra?: string;
}

/**
 * A real rsyslogd of the test's own: foreground, own config, pid file and work directory,
 * inputs on 127.0.0.1, every message written to `out` as JSON (see RsRecord).
 */
export class Rsyslog {
  readonly out: string;
  private readonly conf: string;
  private child: ChildProcess | null = null;
  private log = '';

  constructor(readonly o: RsyslogOptions) {
    this.out = join(o.dir, 'out.ndjson');
    this.conf = join(o.dir, 'rsyslog.conf');
    const tls = o.tls;
    writeFileSync(this.conf, [
      `global(workDirectory="${o.dir}" maxMessageSize="64k" parser.escapeControlCharactersOnReceive="off"${tls ? ` defaultNetstreamDriverCAFile="${tls.ca}" defaultNetstreamDriverCertFile="${tls.cert}" defaultNetstreamDriverKeyFile="${tls.key}"` : ''})`,
      'module(load="imtcp")',
      `input(type="imtcp" port="${o.tcpPort}" address="127.0.0.1")`,
      ...(o.udpPort ? ['module(load="imudp")', `input(type="imudp" port="${o.udpPort}" address="127.0.0.1")`] : []),
      ...(tls ? [`input(type="imtcp" port="${tls.port}" address="127.0.0.1" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")`] : []),
      TEMPLATE,
      `action(type="omfile" file="${this.out}" template="fields")`,
      o.extra ?? '',
    ].join('\n'));
  }

  async start(): Promise<void> {
    const child = spawn(RSYSLOGD, ['-n', '-f', this.conf, '-i', join(this.o.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => { this.log += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
    const end = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited (${child.exitCode}): ${this.log}`);
      if (await listening(this.o.tcpPort) && (!this.o.tls || await listening(this.o.tls.port))) return;
      if (Date.now() > end) throw new Error(`rsyslogd did not listen within 10 s: ${this.log}`);
      await sleep(50);
    }
  }

  /** SIGTERM and wait for the exit (rsyslog writes what it has queued first). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  records(): RsRecord[] {
    if (!existsSync(this.out)) return [];
    return readFileSync(this.out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RsRecord);
  }

  /** What rsyslogd printed (its own errors). */
  output(): string {
    return this.log;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A CA and a server certificate for 127.0.0.1 and `syslog.test`, made with the openssl CLI. */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string; caKey: string } {
  const f = (n: string) => join(dir, n);
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr.toString()}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=loggy test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  run(['req', ...ec, '-subj', '/CN=syslog.test', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:syslog.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem')]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key'), caKey: f('ca.key') };
}
