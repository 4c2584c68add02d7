import { afterEach, beforeEach } from 'vitest';
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

/**
 * A fresh API server for each test of the describe block it is called in, stopped after the
 * agent of `fx` (the agent's watches would otherwise log the server going away).
 */
export function kubeApiFixture(fx: { agent: { stop(): Promise<void> } | null }): { readonly api: FakeKubeApi } {
  const state = { api: null as FakeKubeApi | null };
  beforeEach(async () => {
    state.api = new FakeKubeApi();
    await state.api.start();
  });
  afterEach(async () => {
    await fx.agent?.stop();
    fx.agent = null;
    await state.api?.stop();
  });
  return {
    get api(): FakeKubeApi {
      if (!state.api) throw new Error('kubeApiFixture: the API server exists only inside a test');
      return state.api;
    },
  };
}
