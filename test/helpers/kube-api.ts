import { SimKubeApi } from '../../src/sim/kube-api.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for 127.0.0.1, made once per test process with openssl. */
let tls: { key: string; cert: string } | null = null;
function testCertificate(): { key: string; cert: string } {
  if (tls) return tls;
  const dir = mkdtempSync(join(tmpdir(), 'loggy-kube-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kube-apiserver',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  return tls;
}

/** The simulated API server over TLS with the test token, as the agent meets it in a cluster. */
export class FakeKubeApi extends SimKubeApi {
  constructor() {
    super({ tls: testCertificate(), token: 'test-token' });
  }
}

export { pod, type Pod, type Namespace } from '../../src/sim/kube-api.js';
