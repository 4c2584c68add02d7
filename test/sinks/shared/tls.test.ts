import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EventBatch } from '../../../src/core/batch.js';
import { ConfigError, RetryableError } from '../../../src/core/errors.js';
import { makeSource } from '../../../src/core/event.js';
import { silentLogger } from '../../../src/core/logger.js';
import { AgentMetrics } from '../../../src/core/metrics.js';
import { createSink, sinkSchema } from '../../../src/sinks/index.js';
import { post } from '../../../src/sinks/shared/http.js';
import { TlsPool } from '../../../src/core/tls.js';
import { makeCerts } from '../../helpers/certs.js';
import { tempDir } from '../../helpers/proc.js';

const tmp = tempDir('loggy-tls-');
const certs = makeCerts(tmp.dir);
afterAll(() => tmp.cleanup());
let server: Server | null = null;
afterEach(() => new Promise<void>((r) => {
  const s = server;
  server = null;
  if (!s) return r();
  s.closeAllConnections();
  s.close(() => r());
}));

/** An HTTPS receiver with the test CA's certificate; with `mutual`, it wants a client certificate from that CA. */
async function httpsReceiver(mutual: boolean, askCert = mutual): Promise<{ url: string; seen: Array<{ cn: string | undefined; body: string }> }> {
  const seen: Array<{ cn: string | undefined; body: string }> = [];
  server = createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), ca: readFileSync(certs.ca), requestCert: askCert, rejectUnauthorized: mutual }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push({ cn: [peer?.subject?.CN].flat()[0], body: Buffer.concat(chunks).toString() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `https://localhost:${(server.address() as AddressInfo).port}/in`, seen };
}

const ctx = () => ({ name: 'out', dataDir: tmp.dir, log: silentLogger, metrics: new AgentMetrics(), shared: new Map<string, unknown>() });
const batch = () => new EventBatch(makeSource('1:1:a', 'node', { app: 'x' }), [{ ts: '2026-11-22T10:00:00.000000001Z', stream: 'stdout', line: 'over tls', flags: 0, offset: 1 }]);
const httpSink = (url: string, tls?: Record<string, unknown>) => createSink(sinkSchema.parse({ type: 'http', inputs: ['a'], endpoint: url, compression: 'none', tls }), ctx());

describe('HTTP sinks over TLS', () => {
  it('verifies the server against ca_file and presents a client certificate (mutual TLS)', async () => {
    const r = await httpsReceiver(true);
    const sink = httpSink(r.url, { ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey });
    await sink.write([batch()]);
    await sink.stop();
    expect(r.seen).toHaveLength(1);
    expect(r.seen[0]!.cn).toBe('loggy-agent');
    expect(JSON.parse(r.seen[0]!.body)).toMatchObject({ line: 'over tls' });
  });

  it('refuses (and retries) a server its CA did not sign, and a server asking for a client certificate it lacks', async () => {
    const r = await httpsReceiver(false);
    const untrusted = httpSink(r.url);
    await expect(untrusted.write([batch()])).rejects.toThrow(/SELF_SIGNED|UNABLE_TO_VERIFY|unable to verify/i);
    const m = await httpsReceiver(true);
    const noClientCert = httpSink(m.url, { ca_file: certs.ca });
    await expect(noClientCert.write([batch()])).rejects.toBeInstanceOf(RetryableError);
    expect(m.seen).toHaveLength(0);
    await noClientCert.stop();
  });

  it('checks server_name instead of the URL host, and skips verification only when told to', async () => {
    const r = await httpsReceiver(false);
    const byIp = r.url.replace('localhost', '127.0.0.1');
    const wrongName = httpSink(byIp, { ca_file: certs.ca, server_name: 'not-in-the-cert' });
    await expect(wrongName.write([batch()])).rejects.toThrow(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
    const rightName = httpSink(byIp, { ca_file: certs.ca, server_name: 'loggy-test' });
    await rightName.write([batch()]);
    const skip = httpSink(r.url, { insecure_skip_verify: true });
    await skip.write([batch()]);
    expect(r.seen).toHaveLength(2);
  });

  it('names the sink and key of an unreadable file, and wants cert_file and key_file together', () => {
    expect(() => httpSink('https://x', { ca_file: '/nonexistent/ca.pem' })).toThrow(ConfigError);
    expect(() => httpSink('https://x', { ca_file: '/nonexistent/ca.pem' })).toThrow('sinks.out.tls.ca_file: cannot read /nonexistent/ca.pem: ENOENT');
    const r = sinkSchema.safeParse({ type: 'http', inputs: ['a'], endpoint: 'https://x', tls: { cert_file: certs.clientCert } });
    expect(r.error?.issues[0]?.message).toBe('give cert_file and key_file together (a client certificate needs its key)');
  });

  it('picks up renewed certificate files without a restart, and keeps the old ones while a file is unreadable', async () => {
    const r = await httpsReceiver(false, true);
    const live = join(tmp.dir, 'live');
    mkdirSync(live, { recursive: true });
    copyFileSync(certs.clientCert, join(live, 'client.pem'));
    copyFileSync(certs.clientKey, join(live, 'client.key'));
    const errors: string[] = [];
    const pool = new TlsPool({ ca_file: certs.ca, cert_file: join(live, 'client.pem'), key_file: join(live, 'client.key'), insecure_skip_verify: false }, 'sinks.out', (m) => errors.push(m), 0);
    const send = () => post(r.url, Buffer.from('{}'), {}, 5000, 'POST', pool.current());
    await send();
    const renewed = makeCerts(mkdtempSync(join(tmp.dir, 'renewed-')), 'loggy-agent-renewed');
    copyFileSync(renewed.clientCert, join(live, 'client.pem'));
    copyFileSync(renewed.clientKey, join(live, 'client.key'));
    await send();
    rmSync(join(live, 'client.key'));
    await send();
    expect(r.seen.map((x) => x.cn)).toEqual(['loggy-agent', 'loggy-agent-renewed', 'loggy-agent-renewed']);
    expect(errors).toEqual([expect.stringContaining('sinks.out.tls.key_file: cannot read')]);
    await pool.close();
  });

  it('is accepted by every HTTP-based sink', () => {
    const tls = { ca_file: certs.ca };
    for (const s of [
      { type: 'loggy', endpoint: 'https://store:3100' }, { type: 'loki', endpoint: 'https://loki:3100' },
      { type: 'elasticsearch', endpoint: 'https://es:9200' }, { type: 'otlp', endpoint: 'https://otel:4318' },
      { type: 'clickhouse', endpoint: 'https://ch:8443', table: 'logs' }, { type: 'http', endpoint: 'https://x' },
    ]) expect(sinkSchema.safeParse({ inputs: ['a'], ...s, tls }).success, s.type).toBe(true);
  });
});
