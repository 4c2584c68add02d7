import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { readOut, type OutEvent } from '../helpers/agent.js';
import { sleep, tempDir, waitFor } from '../helpers/proc.js';
import { freePort, noRsyslog, Rsyslog } from '../helpers/rsyslog.js';

const HOST = hostname();

function send(port: number, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(data));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

function sendUdp(port: number, msgs: Array<string | Buffer>): Promise<void> {
  const u = createSocket('udp4');
  return Promise.all(msgs.map((m) => new Promise<void>((r, j) => u.send(m, port, '127.0.0.1', (e) => (e ? j(e) : r()))))).then(() => { u.close(); });
}

function logger(args: string[]): void {
  execFileSync('logger', args, { stdio: 'ignore' });
}

describe('syslog source', () => {
  const tmp = tempDir('loggy-syslogsrc-');
  let agent: RunningAgent | null = null;
  const cleanups: Array<() => Promise<void> | void> = [];
  let n = 0;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(() => tmp.cleanup());

  async function run(source: Record<string, unknown> = {}, sink?: Record<string, unknown>) {
    const dir = join(tmp.dir, `run-${n++}`);
    const port = await freePort();
    const out = join(dir, 'out.ndjson');
    agent = await startAgent(agentConfigSchema.parse({
      data_dir: join(dir, 'data'), shutdown_grace: 500,
      sources: { sys: { type: 'syslog', address: `127.0.0.1:${port}`, ...source } },
      sinks: { out: sink ? { inputs: ['sys'], ...sink } : { type: 'file', inputs: ['sys'], path: out } },
    }), { log: silentLogger });
    return { port, out, dir };
  }

  const events = (out: string, count: number): Promise<OutEvent[]> =>
    waitFor(() => { const e = readOut(out); return e.length >= count ? e : null; }, 10_000, `${count} events`) as Promise<OutEvent[]>;

  it('logger --rfc5424 over UDP and TCP (octet-counted and LF): labels and fields as documented', async () => {
    const { port, out } = await run({ labels: { env: 'test' } });
    logger(['--rfc5424', '-n', '127.0.0.1', '-P', String(port), '-d', '-t', 'billing', '-p', 'local3.err', '--msgid', 'ID47', '--sd-id', 'zoo@32473', '--sd-param', 'tiger="hungry \\"very\\""', 'udp message']);
    await events(out, 1);
    logger(['--rfc5424', '-n', '127.0.0.1', '-P', String(port), '-T', '--octet-count', '-t', 'billing', '-i', '-p', 'user.notice', 'tcp octet-counted']);
    await events(out, 2);
    logger(['--rfc5424', '-n', '127.0.0.1', '-P', String(port), '-T', '-t', 'billing', '-p', 'daemon.warning', 'tcp lf']);
    const got = await events(out, 3);
    const base = { stream: 'stdout', labels: { env: 'test', hostname: HOST, app_name: 'billing' } };
    expect(got[0]).toMatchObject({ ...base, stream: 'stderr', line: 'udp message', labels: { ...base.labels, facility: 'local3' } });
    expect(got[0]!.fields).toMatchObject({ severity: 'err', msgid: 'ID47', zoo_32473_tiger: 'hungry "very"' });
    expect(got[1]).toMatchObject({ ...base, line: 'tcp octet-counted', labels: { ...base.labels, facility: 'user' } });
    expect(got[1]!.fields).toMatchObject({ severity: 'notice', procid: expect.stringMatching(/^\d+$/) });
    expect(got[2]).toMatchObject({ ...base, line: 'tcp lf', labels: { ...base.labels, facility: 'daemon' }, fields: { severity: 'warning' } });
    // logger stamps microseconds in local time with an offset: the event has it in UTC.
    for (const e of got) {
      expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}000Z$/);
      expect(Math.abs(Date.parse(e.ts) - Date.now())).toBeLessThan(60_000);
    }
    expect(await agent!.metrics.total('loggy_source_events_total')).toBe(3);
  });

  it('logger --rfc3164 over UDP and TCP', async () => {
    const { port, out } = await run();
    logger(['--rfc3164', '-n', '127.0.0.1', '-P', String(port), '-d', '-t', 'cron', '-i', '-p', 'cron.info', 'bsd over udp']);
    await events(out, 1);
    logger(['--rfc3164', '-n', '127.0.0.1', '-P', String(port), '-T', '-t', 'cron', '-p', 'auth.crit', 'bsd over tcp']);
    const got = await events(out, 2);
    expect(got[0]).toMatchObject({ line: 'bsd over udp', stream: 'stdout', labels: { hostname: HOST, app_name: 'cron', facility: 'cron' }, fields: { severity: 'info', procid: expect.stringMatching(/^\d+$/) } });
    expect(got[1]).toMatchObject({ line: 'bsd over tcp', stream: 'stderr', labels: { hostname: HOST, app_name: 'cron', facility: 'auth' }, fields: { severity: 'crit' } });
    // No year, no zone in RFC 3164: this year, the clock read as UTC (seconds only).
    expect(got[0]!.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000000Z$/);
  });

  it('RFC examples over TCP; truncated, malformed and partial messages delivered, flagged and counted', async () => {
    const { port, out } = await run({ max_message_bytes: 600 });
    const ex3 = '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \ufeffAn application event log entry...';
    const long = `<14>1 2026-11-22T10:00:00Z h app - - - ${'é'.repeat(500)}`;
    const frame = (m: string) => `${Buffer.byteLength(m)} ${m}`;
    await send(port, frame(ex3) + frame(long) + 'Use the BFG!\n' + '<34>Oct 11 22:14:15 mymachine su: \'su root\' failed\n' + '200 <14>1 - - - - - - cut short');
    const got = await events(out, 5);
    expect(got[0]).toEqual({
      ts: '2003-10-11T22:14:15.003000000Z', stream: 'stdout', line: 'An application event log entry...',
      labels: { hostname: 'mymachine.example.com', app_name: 'evntslog', facility: 'local4' },
      fields: { severity: 'notice', msgid: 'ID47', exampleSDID_32473_iut: '3', exampleSDID_32473_eventSource: 'Application', exampleSDID_32473_eventID: '1011' },
    });
    expect(got[1]).toMatchObject({ flags: ['truncated'], labels: { hostname: 'h', app_name: 'app' } });
    expect(Buffer.byteLength(got[1]!.line)).toBeLessThanOrEqual(600 - 39);
    expect(got[1]!.line).toMatch(/^é+$/);
    expect(got[2]).toMatchObject({ line: 'Use the BFG!', flags: ['malformed'], labels: {} });
    expect(got[2]!.fields).toBeUndefined();
    expect(got[3]).toMatchObject({ line: '\'su root\' failed', stream: 'stderr', labels: { hostname: 'mymachine', app_name: 'su', facility: 'auth' } });
    expect(got[4]).toMatchObject({ line: 'cut short', flags: ['partial'] });
    const m = agent!.metrics;
    expect([await m.total('loggy_lines_truncated_total'), await m.total('loggy_lines_malformed_total'), await m.total('loggy_partial_lines_flushed_total')]).toEqual([1, 1, 1]);
  });

  it('garbage never crashes it: random bytes over TCP and UDP, then a good message still arrives', async () => {
    const { port, out } = await run({ max_message_bytes: 1024 });
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const junk = () => Buffer.from(Array.from({ length: Math.floor(rnd() * 3000) }, () => (rnd() < 0.3 ? '<>[]"\\ 1\n'.charCodeAt(Math.floor(rnd() * 10)) : Math.floor(rnd() * 256))));
    for (let i = 0; i < 30; i++) await send(port, junk());
    await sendUdp(port, Array.from({ length: 50 }, junk).filter((b) => b.length > 0 && b.length < 60_000));
    await send(port, '<13>Nov 23 19:01:40 host app: still alive\n');
    await waitFor(() => readOut(out).some((e) => e.line === 'still alive'), 10_000, 'the good message');
    expect(await agent!.metrics.total('loggy_lines_malformed_total')).toBeGreaterThan(0);
  });

  it('max_connections: further connections are closed and counted', async () => {
    const { port, out } = await run({ max_connections: 2 });
    const open: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      open.push(s);
    }
    await waitFor(async () => (await agent!.metrics.total('loggy_syslog_source_connections')) === 2, 5000, 'two connections');
    const third = connect(port, '127.0.0.1');
    third.on('error', () => undefined); // reset by the source
    await new Promise((r) => third.once('close', r));
    expect(await agent!.metrics.total('loggy_syslog_source_connections_refused_total')).toBe(1);
    open[0]!.end('<13>Nov 23 19:01:40 h a: from an accepted one\n');
    await events(out, 1);
    for (const s of open) s.destroy();
  });

  it('backpressure: TCP reading pauses while the sink is stuck (nothing lost); UDP drops are counted', async () => {
    // A receiver that holds every request until released: the sink's 16 KiB buffer fills.
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const got: string[] = [];
    const http = await import('node:http');
    const hs = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void released.then(() => {
        for (const l of Buffer.concat(chunks).toString().split('\n').filter(Boolean)) got.push((JSON.parse(l) as OutEvent).line);
        res.writeHead(200).end();
      }));
    });
    await new Promise<void>((r) => hs.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => { release(); hs.closeAllConnections(); hs.close(() => r()); }));
    const url = `http://127.0.0.1:${(hs.address() as { port: number }).port}/`;
    const { port } = await run({}, { type: 'http', endpoint: url, compression: 'none', buffer_max_bytes: '16KiB', batch_max_events: 100 });

    // More than the kernel's socket buffers hold on loopback (a few MiB), so the sender blocks.
    const total = 60_000;
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < total; i++) {
        const m = `<14>1 - h app - - - line ${i} ${'x'.repeat(300)}`;
        if (!sock.write(`${Buffer.byteLength(m)} ${m}`)) await new Promise((r) => sock.once('drain', r));
        written = i + 1;
      }
      sock.end();
    })();
    await sleep(1500);
    const m = agent!.metrics;
    const readWhileStuck = await m.total('loggy_source_bytes_total');
    await sleep(500);
    // Paused: nothing more is read, the sender is held back by TCP.
    expect(await m.total('loggy_source_bytes_total')).toBe(readWhileStuck);
    expect(written).toBeLessThan(total);
    // UDP meanwhile: dropped, counted.
    await sendUdp(port, Array.from({ length: 20 }, (_, i) => `<14>1 - h app - - - udp ${i}`));
    await waitFor(async () => (await m.total('loggy_syslog_source_dropped_total')) === 20, 5000, 'udp drops counted');
    release();
    await writing;
    await waitFor(() => got.length >= total, 30_000, 'every TCP line delivered');
    expect(got.filter((l) => l.startsWith('line ')).map((l) => Number(l.split(' ')[1]))).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it.skipIf(noRsyslog)(`end to end: rsyslogd forwards to it (omfwd, TCP, octet-counted)${noRsyslog ? ` (skipped: ${noRsyslog})` : ''}`, async () => {
    const { port, out } = await run();
    const dir = join(tmp.dir, `rs-${n++}`);
    mkdirSync(dir);
    const input = await freePort();
    const r = new Rsyslog({
      dir, tcpPort: input,
      extra: `action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" tcp_framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`,
    });
    await r.start();
    cleanups.push(() => r.stop());
    const frame = (m: string) => `${Buffer.byteLength(m)} ${m}`;
    const msgs = [
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...',
      '<11>1 2026-11-22T10:00:00.123456Z node-1 checkout 42 PAY [k8s@32473 pod="web-1" q="a \\"b\\" \\\\c\\] d"] two\nlines',
      '<30>Nov 23 19:01:40 bsdhost sshd[99]: Accepted publickey',
    ];
    await send(input, msgs.map(frame).join(''));
    const got = await events(out, 3);
    expect(got[0]).toEqual({
      ts: '2003-10-11T22:14:15.003000000Z', stream: 'stdout', line: 'An application event log entry...',
      labels: { hostname: 'mymachine.example.com', app_name: 'evntslog', facility: 'local4' },
      fields: { severity: 'notice', msgid: 'ID47', exampleSDID_32473_iut: '3', exampleSDID_32473_eventSource: 'Application', exampleSDID_32473_eventID: '1011' },
    });
    expect(got[1]).toEqual({
      ts: '2026-11-22T10:00:00.123456000Z', stream: 'stderr', line: 'two\nlines',
      labels: { hostname: 'node-1', app_name: 'checkout', facility: 'user' },
      fields: { severity: 'err', procid: '42', msgid: 'PAY', k8s_32473_pod: 'web-1', k8s_32473_q: 'a "b" \\c] d' },
    });
    // rsyslog turned the BSD message into RFC 5424 on the way, keeping the space after the tag
    // in its msg (its known habit; mmrm1stspace removes it): the source delivers what it got.
    expect(got[2]).toMatchObject({ stream: 'stdout', line: ' Accepted publickey', labels: { hostname: 'bsdhost', app_name: 'sshd', facility: 'daemon' }, fields: { severity: 'info', procid: '99' } });
    expect(got[2]!.ts).toMatch(/-11-23T19:01:40\.000000000Z$/);
  });
});
