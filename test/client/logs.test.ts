import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLogs, type LogsFlags } from '../../src/client/logs.js';
import { runLabels, runQuery } from '../../src/client/query.js';
import { captureIo } from '../../src/client/io.js';
import { ClientError, QueryError, UsageError } from '../../src/client/errors.js';
import type { RunningServer } from '../../src/server/run.js';
import { nsNow, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/proc.js';
import { pushPods, seq } from '../helpers/client.js';

/**
 * The client commands in-process (stdout captured) against a real store on 127.0.0.1 with a
 * small per-query line limit, so every multi-page path is exercised.
 */
let server: RunningServer;
const MAX = 7;
const base = nsNow() - 600_000_000_000n; // ten minutes ago
const at = (ms: number) => base + BigInt(ms) * 1_000_000n;

beforeAll(async () => {
  server = await startTestServer({ limits: { max_query_lines: MAX } });
  await pushPods(server.url, [
    // A single-container pod.
    { namespace: 'shop', pod: 'solo', lines: seq('solo', 20, at(0), 1_000_000n) },
    // A pod with two containers.
    { namespace: 'shop', pod: 'multi', container: 'main', lines: [[at(1), 'main a'], [at(3), 'main b']] },
    { namespace: 'shop', pod: 'multi', container: 'proxy', lines: [[at(2), 'proxy a']] },
    // A Deployment: web-old is gone (logged earlier, restarted once), web-new is current.
    { namespace: 'shop', pod: 'web-old', container: 'web', restart: 0, workload: ['Deployment', 'web'], labels: { app: 'web', track: 'stable' }, lines: [[at(10), 'old r0 starting'], [at(11), 'old r0 crashed ERROR']] },
    { namespace: 'shop', pod: 'web-old', container: 'web', restart: 1, workload: ['Deployment', 'web'], labels: { app: 'web', track: 'stable' }, lines: [[at(20), 'old r1 serving']] },
    { namespace: 'shop', pod: 'web-old', container: 'istio-proxy', workload: ['Deployment', 'web'], labels: { app: 'web', track: 'stable' }, lines: [[at(21), 'envoy noise']] },
    { namespace: 'shop', pod: 'web-new', container: 'web', workload: ['Deployment', 'web'], labels: { app: 'web', track: 'canary' }, lines: [[at(30), 'new level=warn "quoted" GET /a'], [at(31), 'new GET /b']] },
    { namespace: 'shop', pod: 'db-0', container: 'pg', workload: ['StatefulSet', 'db'], labels: { app: 'db', 'app.kubernetes.io/tier': 'data' }, lines: [[at(40), 'db ready']] },
    { namespace: 'other', pod: 'elsewhere', lines: [[at(50), 'x']] },
  ]);
});
afterAll(() => server.stop());

async function logs(target: string | undefined, flags: Partial<LogsFlags> = {}, env: NodeJS.ProcessEnv = {}) {
  const io = captureIo({ env });
  const code = await runLogs(target, { namespace: 'default', addr: server.url, ...flags }, io);
  return { code, out: io.stdout(), err: io.stderr(), lines: io.stdout().split('\n').filter(Boolean) };
}

describe('loggy logs (in-process, real store)', () => {
  it('prints a pod\'s lines in order, paging past the store\'s per-query limit', async () => {
    const r = await logs('solo', { namespace: 'shop' });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(Array.from({ length: 20 }, (_, i) => `solo ${i}`));
  });

  it('--tail N: the last N lines, oldest first, also past the per-query limit', async () => {
    expect((await logs('solo', { namespace: 'shop', tail: '3' })).lines).toEqual(['solo 17', 'solo 18', 'solo 19']);
    expect((await logs('solo', { namespace: 'shop', tail: '12' })).lines).toEqual(Array.from({ length: 12 }, (_, i) => `solo ${i + 8}`));
    expect((await logs('solo', { namespace: 'shop', tail: '0' })).lines).toEqual([]);
  });

  it('--since and --since-time', async () => {
    const r = await logs('solo', { namespace: 'shop', sinceTime: new Date(Number(at(15) / 1_000_000n)).toISOString() });
    expect(r.lines).toEqual(['solo 15', 'solo 16', 'solo 17', 'solo 18', 'solo 19']);
    // Everything is ten minutes old: nothing in the last minute, which is not an error.
    expect(await logs('solo', { namespace: 'shop', since: '1m' })).toMatchObject({ code: 0, out: '' });
    expect((await logs('solo', { namespace: 'shop', since: '1h' })).lines).toHaveLength(20);
  });

  it('a pod with several containers needs -c or --all-containers, as in kubectl', async () => {
    await expect(logs('multi', { namespace: 'shop' })).rejects.toThrow('a container name must be specified for pod multi, choose one of: [main proxy] or use --all-containers');
    expect((await logs('multi', { namespace: 'shop', container: 'proxy' })).lines).toEqual(['proxy a']);
    expect((await logs('multi', { namespace: 'shop', allContainers: true, prefix: true })).lines).toEqual(['[pod/multi/main] main a', '[pod/multi/proxy] proxy a', '[pod/multi/main] main b']);
    await expect(logs('multi', { namespace: 'shop', container: 'nope' })).rejects.toThrow('container nope is not valid for pod "multi" in namespace "shop": choose one of: [main proxy]');
  });

  it('deploy/NAME covers every pod of the workload, gone ones too; the default container is announced', async () => {
    const r = await logs('deploy/web', { namespace: 'shop', prefix: true });
    expect(r.err).toBe('Defaulted container "web" out of: istio-proxy, web (use -c or --all-containers)\n');
    expect(r.lines).toEqual([
      '[pod/web-old/web] old r0 starting',
      '[pod/web-old/web] old r0 crashed ERROR',
      '[pod/web-old/web] old r1 serving',
      '[pod/web-new/web] new level=warn "quoted" GET /a',
      '[pod/web-new/web] new GET /b',
    ]);
    expect((await logs('deployment.apps/web', { namespace: 'shop', allContainers: true })).lines).toContain('envoy noise');
    expect((await logs('sts/db', { namespace: 'shop' })).lines).toEqual(['db ready']);
  });

  it('--previous: the instance before the last restart', async () => {
    expect((await logs('web-old', { namespace: 'shop', container: 'web', previous: true })).lines).toEqual(['old r0 starting', 'old r0 crashed ERROR']);
    await expect(logs('web-new', { namespace: 'shop', container: 'web', previous: true })).rejects.toThrow('previous terminated container "web" in pod "web-new" not found');
  });

  it('-l: kubectl selectors on pod labels (default --tail 10 per kubectl)', async () => {
    expect((await logs(undefined, { namespace: 'shop', selector: 'app=web,track notin (canary)' })).lines).toEqual(['old r0 starting', 'old r0 crashed ERROR', 'old r1 serving']);
    expect((await logs(undefined, { namespace: 'shop', selector: 'app in (web,db),track!=stable' })).lines).toEqual(['new level=warn "quoted" GET /a', 'new GET /b', 'db ready']);
    expect((await logs(undefined, { namespace: 'shop', selector: 'app.kubernetes.io/tier' })).lines).toEqual(['db ready']);
    expect((await logs(undefined, { namespace: 'shop', selector: '!track,app' })).lines).toEqual(['db ready']);
    await expect(logs(undefined, { namespace: 'shop', selector: 'app in (web' })).rejects.toThrow(UsageError);
  });

  it('--grep: a regex, quotes and all', async () => {
    expect((await logs('deploy/web', { namespace: 'shop', grep: '"quoted"|/b$' })).lines).toEqual(['new level=warn "quoted" GET /a', 'new GET /b']);
    expect((await logs('solo', { namespace: 'shop', grep: '^solo 1[89]$' })).lines).toEqual(['solo 18', 'solo 19']);
    await expect(logs('solo', { namespace: 'shop', grep: '[' })).rejects.toThrow(/invalid --grep/);
  });

  it('-o json: ts, stream labels, line and structured metadata apart', async () => {
    const r = await logs('web-new', { namespace: 'shop', output: 'json', timestamps: true });
    const first = JSON.parse(r.lines[0]!) as Record<string, unknown>;
    expect(first).toEqual({
      ts: new Date(Number(at(30) / 1_000_000n)).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'),
      labels: { namespace: 'shop', pod: 'web-new', pod_uid: 'uid-web-new', container: 'web', restart: '0', stream: 'stdout', workload_kind: 'Deployment', workload: 'web', node: 'node-1', label_app: 'web', label_track: 'canary' },
      line: 'new level=warn "quoted" GET /a',
      metadata: { detected_level: 'warn' },
    });
    expect(JSON.parse(r.lines[1]!).metadata).toEqual({});
  });

  it('--timestamps: RFC3339Nano before the line, prefix first as kubectl', async () => {
    const r = await logs('solo', { namespace: 'shop', tail: '1', timestamps: true, prefix: true });
    expect(r.lines).toEqual([`[pod/solo/app] ${new Date(Number(at(19) / 1_000_000n)).toISOString().replace(/Z$/, '000000Z')} solo 19`]);
  });

  it('a pod that is not in the store: says so, and where it is', async () => {
    await expect(logs('elsewhere')).rejects.toThrow('no logs of pod "elsewhere" in namespace "default" in the store; found in namespace other: use -n other');
    await expect(logs('ghost', { namespace: 'shop' })).rejects.toThrow(ClientError);
    expect((await logs('elsewhere', { allNamespaces: true })).lines).toEqual(['x']);
  });

  it('usage errors', async () => {
    await expect(logs(undefined)).rejects.toThrow(/expected a pod, TYPE\/NAME/);
    await expect(logs('solo', { since: '1h', sinceTime: '2026-01-01T00:00:00Z' })).rejects.toThrow(UsageError);
    await expect(logs('solo', { container: 'a', allContainers: true })).rejects.toThrow(UsageError);
    await expect(logs('solo', { output: 'yaml' })).rejects.toThrow(UsageError);
    await expect(logs('solo', { tail: 'ten' })).rejects.toThrow(UsageError);
    await expect(logs('svc/x')).rejects.toThrow(UsageError);
    // A --since reaching before 1970 is all lines, not an error.
    expect((await logs('solo', { namespace: 'shop', since: '500000h' })).lines).toHaveLength(20);
  });
});

describe('pagination at equal timestamps', () => {
  it('neither loses nor repeats lines when many share a timestamp, identical ones included', async () => {
    const s = await startTestServer({ limits: { max_query_lines: 5 } });
    try {
      const t = nsNow() - 60_000_000_000n;
      // 3 streams; every timestamp is shared by 4 lines per stream (2 of them identical).
      const lines = (p: string) => Array.from({ length: 40 }, (_, i): [bigint, string] => [t + BigInt(Math.floor(i / 4)), `${p} ${i % 4 === 3 ? 'dup' : i}`]);
      await pushPods(s.url, ['a', 'b', 'c'].map((c) => ({ pod: 'p', container: c, lines: lines(c) })));
      const io = captureIo();
      await runLogs('p', { namespace: 'default', allContainers: true, addr: s.url }, io);
      const got = io.stdout().split('\n').filter(Boolean);
      const want = ['a', 'b', 'c'].flatMap((c) => lines(c).map(([, l]) => l));
      expect(got.length).toBe(want.length);
      expect([...got].sort()).toEqual([...want].sort());
      // In time order.
      const io2 = captureIo();
      await runLogs('p', { namespace: 'default', container: 'a', timestamps: true, addr: s.url }, io2);
      const ts = io2.stdout().split('\n').filter(Boolean).map((l) => l.split(' ')[0]!);
      expect(ts).toEqual([...ts].sort());
      expect(ts).toHaveLength(40);
      // --tail over the same boundaries, backward.
      const io3 = captureIo();
      await runLogs('p', { namespace: 'default', container: 'b', tail: '9', addr: s.url }, io3);
      expect(io3.stdout().split('\n').filter(Boolean).sort()).toEqual(lines('b').slice(-9).map(([, l]) => l).sort());
    } finally {
      await s.stop();
    }
  });
});

describe('loggy query and labels (in-process)', () => {
  const run = async (fn: (io: ReturnType<typeof captureIo>) => Promise<number>) => {
    const io = captureIo();
    const code = await fn(io);
    return { code, out: io.stdout(), err: io.stderr() };
  };

  it('labels: names, and values of one label', async () => {
    const names = await run((io) => runLabels(undefined, { addr: server.url }, io));
    expect(names.out.split('\n')).toEqual(expect.arrayContaining(['namespace', 'pod', 'container', 'restart', 'workload_kind', 'label_app']));
    expect((await run((io) => runLabels('namespace', { addr: server.url }, io))).out).toBe('other\nshop\n');
    expect((await run((io) => runLabels('pod', { addr: server.url, query: '{workload="web"}' }, io))).out).toBe('web-new\nweb-old\n');
    await expect(run((io) => runLabels('bad-name', { addr: server.url }, io))).rejects.toThrow(UsageError);
  });

  it('query: log lines (newest first, as Loki) and raw output', async () => {
    const r = await run((io) => runQuery('{namespace="shop", container="web"} |= "old"', { addr: server.url, since: '1h', output: 'raw' }, io));
    expect(r.out).toBe('old r1 serving\nold r0 crashed ERROR\nold r0 starting\n');
    const t = await run((io) => runQuery('{pod="solo"}', { addr: server.url, limit: '2', forward: true }, io));
    expect(t.out.split('\n').filter(Boolean).map((l) => l.replace(/^\S+ /, ''))).toEqual([
      '{container="app", namespace="shop", pod="solo", pod_uid="uid-solo", restart="0", stream="stdout"} solo 0',
      '{container="app", namespace="shop", pod="solo", pod_uid="uid-solo", restart="0", stream="stdout"} solo 1',
    ]);
    // Over the store's limit: its maximum is used and that is said.
    const capped = await run((io) => runQuery('{pod="solo"}', { addr: server.url, output: 'raw' }, io));
    expect(capped.out.split('\n').filter(Boolean)).toHaveLength(MAX);
    expect(capped.err).toContain(`the store returns at most ${MAX} lines per query`);
  });

  it('query: a metric query prints a table of series', async () => {
    const r = await run((io) => runQuery('sum by (pod) (count_over_time({namespace="shop"}[1h]))', { addr: server.url, instant: true }, io));
    const rows = r.out.trim().split('\n');
    expect(rows[0]).toMatch(/^SERIES\s+TIME\s+VALUE$/);
    const counts = Object.fromEntries(rows.slice(1).map((l) => { const c = l.split(/\s{2,}/); return [c[0], c[2]]; }));
    expect(counts).toEqual({ '{pod="db-0"}': '1', '{pod="multi"}': '3', '{pod="solo"}': '20', '{pod="web-new"}': '2', '{pod="web-old"}': '4' });
    const json = await run((io) => runQuery('count_over_time({pod="solo"}[1h])', { addr: server.url, output: 'json', step: '10m' }, io));
    expect(JSON.parse(json.out).resultType).toBe('matrix');
  });

  it('query: a bad query comes back with the column marked', async () => {
    const err = await run((io) => runQuery('{pod="solo"} |= foo', { addr: server.url }, io)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toMatch(/^bad query: parse error at line 1, col 17: syntax error: unexpected IDENTIFIER, expecting STRING.*\n  {pod="solo"} \|= foo\n {18}\^$/);
  });
});

describe('store failures', () => {
  let bad: Server;
  let badUrl = '';
  let mode: 'garbage' | '500' | 'shape' | 'matrix' | 'loki-empty' = 'garbage';
  beforeAll(async () => {
    bad = createServer((_req, res) => {
      if (mode === '500') res.writeHead(500).end('internal error: disk on fire\n');
      else if (mode === 'loki-empty') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success"}');
      else if (mode === 'matrix') res.writeHead(200).end('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["soon","1"]]}]}}');
      else if (mode === 'shape') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["x",1]]}]}}');
      else res.writeHead(200).end('<html>hello</html>');
    });
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
    badUrl = `http://127.0.0.1:${(bad.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => bad.close(() => r())));

  it('garbage, 500s and malformed answers become clear messages', async () => {
    const io = captureIo();
    mode = 'garbage';
    await expect(runLabels(undefined, { addr: badUrl }, io)).rejects.toThrow(`unexpected answer from the store at ${badUrl}/loki/api/v1/labels (HTTP 200, not JSON): "<html>hello</html>"`);
    mode = '500';
    await expect(runQuery('{a="b"}', { addr: badUrl }, io)).rejects.toThrow(`the store at ${badUrl} failed (HTTP 500): internal error: disk on fire`);
    mode = 'shape';
    await expect(runQuery('{a="b"}', { addr: badUrl }, io)).rejects.toThrow(/unexpected answer from the store .*malformed stream/);
    mode = 'matrix';
    await expect(runQuery('count_over_time({a="b"}[1m])', { addr: badUrl }, io)).rejects.toThrow(/unexpected answer from the store .*malformed series/);
    // Loki leaves data out of empty label answers: that is an empty list, not garbage.
    mode = 'loki-empty';
    await expect(runLabels(undefined, { addr: badUrl }, io)).resolves.toBe(0);
    await expect(runLogs('p', { namespace: 'default', addr: badUrl }, io)).rejects.toThrow('no logs of pod "p" in namespace "default" in the store');
    mode = 'garbage';
    await expect(runLogs('p', { namespace: 'default', addr: badUrl }, io)).rejects.toThrow(/unexpected answer from the store .*series/);
  });
});

describe('follow (in-process, real WebSocket)', () => {
  it('-l -f: last lines per pod, then live lines of matching pods, new pods included, default containers only', async () => {
    const s = await startTestServer();
    const ac = new AbortController();
    const io = captureIo({ signal: ac.signal });
    try {
      const t = nsNow() - 5_000_000_000n;
      await pushPods(s.url, [
        { pod: 'a-1', container: 'app', labels: { app: 'a' }, lines: [[t, 'a-1 old'], [t + 1n, 'a-1 last']] },
        { pod: 'a-1', container: 'istio-proxy', labels: { app: 'a' }, lines: [[t + 2n, 'proxy old']] },
        { pod: 'b-1', labels: { app: 'b' }, lines: [[t + 3n, 'b-1 other app']] },
      ]);
      const done = runLogs(undefined, { namespace: 'default', selector: 'app=a', tail: '1', follow: true, prefix: true, addr: s.url }, io);
      await waitFor(() => io.stdout().includes('a-1 last'), 10_000, 'the tail');
      await new Promise((r) => setTimeout(r, 300));
      await pushPods(s.url, [
        { pod: 'a-1', container: 'app', labels: { app: 'a' }, lines: [[nsNow(), 'a-1 live']] },
        { pod: 'a-1', container: 'istio-proxy', labels: { app: 'a' }, lines: [[nsNow(), 'proxy live']] },
        { pod: 'b-1', labels: { app: 'b' }, lines: [[nsNow(), 'b-1 live']] },
        { pod: 'a-2', container: 'app', labels: { app: 'a' }, lines: [[nsNow(), 'a-2 new pod']] },
      ]);
      await waitFor(() => io.stdout().includes('a-2 new pod'), 10_000, 'live lines');
      ac.abort();
      expect(await done).toBe(0);
      expect(io.stdout().split('\n').filter(Boolean)).toEqual(['[pod/a-1/app] a-1 last', '[pod/a-1/app] a-1 live', '[pod/a-2/app] a-2 new pod']);
    } finally {
      ac.abort();
      await s.stop();
    }
  });
});
