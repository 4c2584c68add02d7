import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string }

/**
 * A throw-away CA with a server certificate (for `localhost`, 127.0.0.1 and `loggy-test`) and a
 * client certificate (CN `clientCn`), made with the openssl command; returns the PEM paths.
 */
export function makeCerts(dir: string, clientCn = 'loggy-agent'): TestCerts {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Loggy Test CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,DNS:loggy-test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', 'localhost'], ['client', clientCn]] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
  const p = (f: string) => join(dir, f);
  return { ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}
