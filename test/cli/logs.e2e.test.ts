import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nsNow } from '../helpers/server.js';
import { pushPods } from '../helpers/client.js';
import { loggy, tempDir, waitFor, type Proc } from '../helpers/proc.js';

/** A free port on 127.0.0.1 (bound and released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startStore(dir: string, port: number, extra = ''): Promise<Proc> {
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, `server-${port}.yaml`);
  writeFileSync(cfg, `listen: 127.0.0.1:${port}\ndata_dir: ${dir}\nlog_level: warn\n${extra}`);
  const proc = loggy(['server', '--config', cfg]);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => null))?.ok, 20_000, 'store ready', 100);
  return proc;
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await p.exited;
}

const lines = (p: Proc) => p.stdout().split('\n').filter(Boolean);

describe('loggy logs/query/labels (built binary, real store processes)', () => {
  const tmp = tempDir('loggy-cli-logs-');
  afterAll(() => tmp.cleanup());

  it('-f prints lines pushed after it started and survives a store restart on the same port without repeating a line', async () => {
    const dir = join(tmp.dir, 'follow');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let store = await startStore(dir, port, 'engine:\n  type: duckdb\n');
    const push = (line: string) => pushPods(url, [{ namespace: 'shop', pod: 'web-1', lines: [[nsNow(), line]] }]);
    const follower = loggy(['logs', '-n', 'shop', 'web-1', '-f', '--addr', url]);
    try {
      await push('line 1');
      await push('line 2');
      await waitFor(() => lines(follower).length >= 1, 10_000, 'first lines');
      await push('line 3 (live)');
      await waitFor(() => lines(follower).includes('line 3 (live)'), 10_000, 'a line pushed after -f started');
      await stop(store);
      await waitFor(() => follower.stderr().includes('lost the connection'), 10_000, 'the client to notice');
      store = await startStore(dir, port, 'engine:\n  type: duckdb\n');
      await push('line 4 (after restart)');
      await waitFor(() => follower.stderr().includes('reconnected'), 20_000, 'reconnection');
      await push('line 5 (after reconnect)');
      await waitFor(() => lines(follower).includes('line 5 (after reconnect)'), 10_000, 'a line after reconnecting');
      expect(lines(follower)).toEqual(['line 1', 'line 2', 'line 3 (live)', 'line 4 (after restart)', 'line 5 (after reconnect)']);
      expect(follower.stderr()).toMatch(new RegExp(`loggy: reconnected to ${url}; resuming from \\d{4}-`));
      follower.child.kill('SIGINT');
      expect((await follower.exited).code).toBe(0);
    } finally {
      follower.child.kill('SIGKILL');
      await stop(store);
    }
  }, 90_000);

  it('auth: no token and a bad token say so; a token from env or the config file works', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const token = 'secret-token-0123456789';
    const store = await startStore(join(tmp.dir, 'auth'), port, [
      'engine:', '  type: memory',
      'auth:', '  enabled: true', '  tokens:', `    - token: ${token}`, '      tenants: [t1]', '      write: true',
      `    - token: ${token}-multi`, '      tenants: [t1, t2]', '',
    ].join('\n'));
    try {
      await pushPods(url, [{ pod: 'p', lines: [[nsNow(), 'hello']] }], { authorization: `Bearer ${token}` });
      let p = loggy(['labels', 'pod', '--addr', url]);
      expect((await p.exited).code).toBe(1);
      expect(p.stderr()).toBe(`loggy: the store at ${url} requires a token (authentication required: send "Authorization: Bearer <token>"): pass one with --token or set LOGGY_TOKEN\n`);
      p = loggy(['logs', 'p', '--addr', url, '--token', 'wrong-token-wrong-token']);
      expect((await p.exited).code).toBe(1);
      expect(p.stderr()).toBe(`loggy: the store at ${url} rejected the token (invalid token): check the value of --token\n`);
      p = loggy(['logs', 'p'], { LOGGY_ADDR: url, LOGGY_TOKEN: token });
      expect((await p.exited).code).toBe(0);
      expect(p.stdout()).toBe('hello\n');
      const cfg = join(tmp.dir, 'client.yaml');
      writeFileSync(cfg, `addr: ${url}\ntoken: ${token}\n`);
      p = loggy(['labels', 'pod'], { LOGGY_CONFIG: cfg, LOGGY_ADDR: '', LOGGY_TOKEN: '' });
      expect((await p.exited).code).toBe(0);
      expect(p.stdout()).toBe('p\n');
      p = loggy(['labels', 'pod', '--addr', url, '--token', `${token}-multi`]);
      expect((await p.exited).code).toBe(1);
      expect(p.stderr()).toContain('needs a tenant: X-Scope-OrgID is required: this token allows tenants t1, t2; pass --tenant or set LOGGY_TENANT');
      p = loggy(['labels', 'pod', '--addr', url, '--token', `${token}-multi`, '--tenant', 't1']);
      expect((await p.exited).code).toBe(0);
      expect(p.stdout()).toBe('p\n');
    } finally {
      await stop(store);
    }
  }, 60_000);

  it('an unreachable store: names the address and how to set it', async () => {
    const port = await freePort();
    let p = loggy(['logs', 'web-1', '--addr', `127.0.0.1:${port}`]);
    expect((await p.exited).code).toBe(1);
    expect(p.stderr()).toBe(`loggy: cannot reach the store at http://127.0.0.1:${port} (ECONNREFUSED): is "loggy server" running there? check --addr\n`);
    p = loggy(['query', '{a="b"}'], { LOGGY_ADDR: `127.0.0.1:${port}`, LOGGY_CONFIG: '' , HOME: tmp.dir });
    expect((await p.exited).code).toBe(1);
    expect(p.stderr()).toContain(`cannot reach the store at http://127.0.0.1:${port} (ECONNREFUSED): is "loggy server" running there? check LOGGY_ADDR (or pass --addr)`);
  });

  it('a bad query: the query with a caret under the column; usage errors exit 2', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const store = await startStore(join(tmp.dir, 'bad'), port, 'engine:\n  type: memory\n');
    try {
      let p = loggy(['query', 'sum(rate({app="x"}[5m])) by (', '--addr', url]);
      expect((await p.exited).code).toBe(1);
      const err = p.stderr().split('\n');
      expect(err[0]).toMatch(/^loggy: bad query: parse error at line 1, col 30: /);
      expect(err[1]).toBe('  sum(rate({app="x"}[5m])) by (');
      expect(err[2]).toBe(`  ${' '.repeat(29)}^`);
      for (const args of [['logs', '--nope'], ['logs', 'p', '--since', 'yesterday'], ['logs'], ['query'], ['logs', 'p', '-l', 'a in (b'], ['labels', 'no-such-label']]) {
        p = loggy([...args, '--addr', url]);
        expect((await p.exited).code, args.join(' ')).toBe(2);
        expect(p.stderr(), args.join(' ')).toMatch(/error|invalid|expected/);
      }
      p = loggy(['logs', '--help']);
      expect((await p.exited).code).toBe(0);
      expect(p.stdout()).toContain('--previous');
    } finally {
      await stop(store);
    }
  }, 60_000);
});
