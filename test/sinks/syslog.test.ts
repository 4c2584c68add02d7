import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SinkRunner } from '../../src/agent/sink-runner.js';
import { EventBatch } from '../../src/core/batch.js';
import { makeSource, type LogEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { sinkSchema } from '../../src/sinks/index.js';
import { SyslogSink, syslogSinkSchema } from '../../src/sinks/syslog/index.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { freePort, makeCertificates, noRsyslog, noTls, Rsyslog, type RsRecord } from '../helpers/rsyslog.js';

const labels = { namespace: 'shop', pod: 'web-7f9c', container: 'nginx', node: 'node-1.example', stream: 'stdout' };
const source = makeSource('1:2:ab', 'node', labels);
let seq = 0;
function ev(line: string, extra: Partial<LogEvent> = {}): LogEvent {
  seq++;
  return { ts: `2026-11-22T10:00:00.123456789Z`, stream: 'stdout', line, flags: 0, offset: seq * 10, ...extra };
}

function sinkFor(cfg: Record<string, unknown>) {
  const ctx = { name: 'syslog', dataDir: '/nonexistent', log: silentLogger, metrics: new AgentMetrics(), shared: new Map<string, unknown>() };
  return { sink: new SyslogSink(syslogSinkSchema.parse({ type: 'syslog', inputs: ['node'], ...cfg }), ctx), ctx };
}

const SD = '[k8s@32473 namespace="shop" pod="web-7f9c" container="nginx" node="node-1.example" stream="stdout"]';

describe('syslog sink: configuration', () => {
  it('is registered and validates', () => {
    expect(sinkSchema.parse({ type: 'syslog', inputs: ['a'], address: 'logs.example:6514', protocol: 'tls', tls: { ca_file: '/ca.pem' } })).toMatchObject({ protocol: 'tls', framing: 'octet_counting', facility: 'user' });
    expect(() => syslogSinkSchema.parse({ type: 'syslog', inputs: ['a'], address: 'nope' })).toThrow(/host:port/);
    expect(() => syslogSinkSchema.parse({ type: 'syslog', inputs: ['a'], address: 'h:1', tls: {} })).toThrow(/protocol: tls/);
    expect(() => syslogSinkSchema.parse({ type: 'syslog', inputs: ['a'], address: 'h:1', sd_id: 'bad id' })).toThrow(/SD-ID/);
    expect(() => syslogSinkSchema.parse({ type: 'syslog', inputs: ['a'], address: 'h:1', max_message_bytes: 100 })).toThrow(/480/);
  });
});

describe.skipIf(noRsyslog)(`syslog sink → rsyslogd${noRsyslog ? ` (skipped: ${noRsyslog})` : ''}`, () => {
  const tmp = tempDir('loggy-syslog-sink-');
  let n = 0;
  const running: Array<Rsyslog | SyslogSink> = [];
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
  });
  afterAll(() => tmp.cleanup());

  async function rsyslog(extra: { udp?: boolean; tls?: ReturnType<typeof makeCertificates> } = {}): Promise<Rsyslog & { tcp: number; udp: number; tlsPort: number }> {
    const dir = join(tmp.dir, `rs-${n++}`);
    mkdirSync(dir);
    const tcp = await freePort();
    const udp = extra.udp ? await freePort() : 0;
    const tlsPort = extra.tls ? await freePort() : 0;
    const r = new Rsyslog({ dir, tcpPort: tcp, udpPort: udp || undefined, tls: extra.tls ? { port: tlsPort, ...extra.tls } : undefined });
    await r.start();
    running.push(r);
    return Object.assign(r, { tcp, udp, tlsPort });
  }

  const received = (r: Rsyslog, count: number): Promise<RsRecord[]> =>
    waitFor(() => { const got = r.records(); return got.length >= count ? got : null; }, 10_000, `${count} messages in rsyslog's output`) as Promise<RsRecord[]>;

  it('TCP, octet-counted: every field exactly as rsyslog parsed it', async () => {
    const r = await rsyslog();
    const { sink, ctx } = sinkFor({ address: `127.0.0.1:${r.tcp}`, facility: 'local3' });
    running.push(sink);
    const other = makeSource('1:3:cd', 'node', { namespace: 'pay', pod: 'api-0', container: 'app', label_quote: 'a "b" \\c] d', node: '' });
    await sink.write([
      new EventBatch(source, [
        ev('GET / 200'),
        ev('boom', { stream: 'stderr' }),
        ev('{"level":"warn"} slow', { fields: { level: 'WARN' } }),
        ev('two\nlines and é ü 漢字'),
        ev(''),
      ]),
      new EventBatch(other, [ev('with\ttab', { ts: '2026-11-22T12:00:00+02:00', fields: { level: 'debug' } })]),
    ]);
    const got = await received(r, 6);
    const base: Omit<RsRecord, 'pri' | 'severity' | 'msg'> = { facility: '19', ts: '2026-11-22T10:00:00.123456Z', hostname: 'node-1.example', app: 'nginx', procid: '-', msgid: '-', sd: SD };
    expect(got).toEqual([
      { ...base, pri: String(19 * 8 + 6), severity: '6', msg: 'GET / 200' },
      { ...base, pri: String(19 * 8 + 3), severity: '3', msg: 'boom' },
      { ...base, pri: String(19 * 8 + 4), severity: '4', msg: '{"level":"warn"} slow' },
      { ...base, pri: String(19 * 8 + 6), severity: '6', msg: 'two\nlines and é ü 漢字' },
      { ...base, pri: String(19 * 8 + 6), severity: '6', msg: '' },
      // No node: the pod is the hostname; the SD value's `"`, `\` and `]` escaped (rsyslog keeps the escapes).
      { facility: '19', pri: String(19 * 8 + 7), severity: '7', ts: '2026-11-22T12:00:00+02:00', hostname: 'api-0', app: 'app', procid: '-', msgid: '-', sd: '[k8s@32473 namespace="pay" pod="api-0" container="app" label_quote="a \\"b\\" \\\\c\\] d" node=""]', msg: 'with\ttab' },
    ]);
    expect(await ctx.metrics.total('loggy_sink_events_total')).toBe(6);
    expect(await ctx.metrics.total('loggy_sink_bytes_total')).toBeGreaterThan(6 * SD.length);
  });

  it('templates, BOM, severity from a label, no SD; LF framing', async () => {
    const r = await rsyslog();
    const { sink } = sinkFor({
      address: `127.0.0.1:${r.tcp}`, framing: 'lf', facility: 16, bom: true, sd_labels: [],
      hostname: 'k8s-{node}', app_name: '{namespace}/{container}', procid: '{pod}', msgid: '{missing|stream}',
    });
    running.push(sink);
    const warn = makeSource('x', 'node', { ...labels, level: 'warning' });
    await sink.write([new EventBatch(warn, [ev('a\nb'), ev('second')])]);
    const got = await received(r, 2);
    const base = { facility: '16', severity: '4', pri: '132', ts: '2026-11-22T10:00:00.123456Z', hostname: 'k8s-node-1.example', app: 'shop/nginx', procid: 'web-7f9c', msgid: 'stdout', sd: '-' };
    // LF framing cannot carry the LF: it became a space. The BOM is kept by rsyslog in msg.
    expect(got).toEqual([{ ...base, msg: '\ufeffa b' }, { ...base, msg: '\ufeffsecond' }]);
  });

  it('UDP: one message a datagram; longer ones cut to max_message_bytes and counted', async () => {
    const r = await rsyslog({ udp: true });
    const { sink, ctx } = sinkFor({ address: `127.0.0.1:${r.udp}`, protocol: 'udp', max_message_bytes: 1024 });
    running.push(sink);
    const long = 'x'.repeat(3000);
    const events = Array.from({ length: 50 }, (_, i) => ev(`datagram ${i}`));
    events.push(ev(long), ev(`é${'ü'.repeat(2000)}`));
    await sink.write([new EventBatch(source, events)]);
    const got = await received(r, 52);
    expect(got.slice(0, 50).map((x) => x.msg)).toEqual(events.slice(0, 50).map((e) => e.line));
    expect(got[0]).toMatchObject({ hostname: 'node-1.example', app: 'nginx', sd: SD, ts: '2026-11-22T10:00:00.123456Z' });
    const cut = got[50]!;
    const header = `<14>1 2026-11-22T10:00:00.123456Z node-1.example nginx - - ${SD} `;
    expect(cut.msg).toBe('x'.repeat(1024 - Buffer.byteLength(header)));
    // Cut on a character boundary: no half ü.
    const cut2 = got[51]!.msg;
    expect(Buffer.byteLength(cut2)).toBeLessThanOrEqual(1024 - Buffer.byteLength(header));
    expect(cut2).toMatch(/^éü+$/);
    expect(await ctx.metrics.total('loggy_sink_truncated_events_total')).toBe(2);
    expect(await ctx.metrics.total('loggy_sink_events_total')).toBe(52);
  });

  it.skipIf(noTls)(`TLS (RFC 5425) with a CA of the test's own${noTls ? ` (skipped: ${noTls})` : ''}`, async () => {
    const dir = join(tmp.dir, `certs-${n++}`);
    mkdirSync(dir);
    const certs = makeCertificates(dir);
    const r = await rsyslog({ tls: certs });
    // Verified against the CA, by IP (the certificate names 127.0.0.1) and by name.
    const { sink } = sinkFor({ address: `127.0.0.1:${r.tlsPort}`, protocol: 'tls', tls: { ca_file: certs.ca } });
    running.push(sink);
    await sink.write([new EventBatch(source, [ev('over tls'), ev('second, 8 KiB: ' + 'y'.repeat(8100))])]);
    const { sink: named } = sinkFor({ address: `127.0.0.1:${r.tlsPort}`, protocol: 'tls', tls: { ca_file: certs.ca, server_name: 'syslog.test' } });
    running.push(named);
    await named.write([new EventBatch(source, [ev('by name')])]);
    const got = await received(r, 3);
    expect(got.map((x) => x.msg.length)).toEqual([8, 8192 - Buffer.byteLength(`<14>1 2026-11-22T10:00:00.123456Z node-1.example nginx - - ${SD} `), 7]);
    expect(got.map((x) => x.msg.slice(0, 20))).toEqual(['over tls', 'second, 8 KiB: yyyyy', 'by name']);
    expect(got[0]).toMatchObject({ pri: '14', hostname: 'node-1.example', app: 'nginx', sd: SD });

    // Not trusted (no CA): refused, retryably; a wrong name too; insecure_skip_verify gets through.
    const { sink: untrusted } = sinkFor({ address: `127.0.0.1:${r.tlsPort}`, protocol: 'tls', timeout: 2000 });
    running.push(untrusted);
    await expect(untrusted.write([new EventBatch(source, [ev('never')])])).rejects.toMatchObject({ name: 'RetryableError', message: /certificate/ });
    const { sink: wrongName } = sinkFor({ address: `127.0.0.1:${r.tlsPort}`, protocol: 'tls', tls: { ca_file: certs.ca, server_name: 'other.test' }, timeout: 2000 });
    running.push(wrongName);
    await expect(wrongName.write([new EventBatch(source, [ev('never')])])).rejects.toMatchObject({ name: 'RetryableError', message: /other\.test/ });
    const { sink: insecure } = sinkFor({ address: `127.0.0.1:${r.tlsPort}`, protocol: 'tls', tls: { insecure_skip_verify: true } });
    running.push(insecure);
    await insecure.write([new EventBatch(source, [ev('unverified')])]);
    const all = await received(r, 4);
    expect(all.map((x) => x.msg)).not.toContain('never');
    expect(all[3]!.msg).toBe('unverified');
  });

  it('reconnects after rsyslogd restarts, through the runner\'s retries, losing no line', async () => {
    const r = await rsyslog();
    const { sink, ctx } = sinkFor({ address: `127.0.0.1:${r.tcp}` });
    running.push(sink);
    const runner = new SinkRunner('syslog', sink, { maxBytes: 1 << 20, batchMaxEvents: 100, retryInitialMs: 50, retryMaxMs: 200 }, silentLogger, ctx.metrics);
    const acked: number[] = [];
    const send = (from: number, count: number) => {
      for (let i = from; i < from + count; i++) runner.enqueue(new EventBatch(source, [ev(`line ${i}`)], () => acked.push(i)));
    };
    send(0, 100);
    await runner.idle();
    await received(r, 100);
    // A restart between writes: the connection's close is seen before the next write.
    await r.stop();
    await r.start();
    running.push(r);
    send(100, 100);
    await runner.idle();
    // Stopped right after a write: rsyslogd may close before reading it from the kernel. The
    // resend window writes it again on the next connection.
    // Down while lines are queued: writes fail (refused) and are retried until it is back.
    await r.stop();
    send(200, 100);
    await waitFor(async () => (await ctx.metrics.total('loggy_sink_errors_total')) >= 2, 5000, 'failed writes while rsyslogd is down');
    expect(acked.length).toBe(200);
    await r.start();
    running.push(r);
    await runner.idle();
    expect(acked.length).toBe(300);
    const all = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    const missing = () => {
      const lines = new Set(r.records().map((x) => x.msg));
      return all.filter((l) => !lines.has(l));
    };
    await waitFor(() => missing().length === 0, 10_000, 'every line in rsyslog\'s output').catch(() => undefined);
    expect(missing()).toEqual([]);
    const got = r.records();
    // Duplicates are the price: at most what was resent.
    expect(got.length - 300).toBeLessThanOrEqual(await ctx.metrics.total('loggy_sink_resent_events_total'));
  });

  it('resend_window: 0 resends nothing', async () => {
    const r = await rsyslog();
    const { sink, ctx } = sinkFor({ address: `127.0.0.1:${r.tcp}`, resend_window: 0 });
    running.push(sink);
    await sink.write([new EventBatch(source, [ev('first')])]);
    await received(r, 1);
    await r.stop();
    await r.start();
    running.push(r);
    await sink.write([new EventBatch(source, [ev('second')])]);
    expect((await received(r, 2)).map((x) => x.msg)).toEqual(['first', 'second']);
    expect(await ctx.metrics.total('loggy_sink_resent_events_total')).toBe(0);
  });
});
