import { existsSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loggy, tempDir, waitFor, type Proc } from '../helpers/proc.js';

interface Entry { labels: Record<string, string>; ts: string; line: string }

/** Log lines of a LogQL query over the last 10 minutes, oldest first. */
async function lines(base: string, query: string): Promise<Entry[]> {
  const u = new URL('/loki/api/v1/query_range', base);
  u.searchParams.set('query', query);
  u.searchParams.set('start', String((Date.now() - 600_000) * 1e6));
  u.searchParams.set('limit', '5000');
  u.searchParams.set('direction', 'forward');
  const res = await fetch(u);
  const body = await res.json() as { data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
  if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(body)}`);
  return body.data.result.flatMap((s) => s.values.map(([ts, line]) => ({ labels: s.stream, ts, line }))).sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : 1));
}

async function values(base: string, label: string, selector?: string): Promise<string[]> {
  const u = new URL(`/loki/api/v1/label/${label}/values`, base);
  u.searchParams.set('start', String((Date.now() - 600_000) * 1e6));
  if (selector) u.searchParams.set('query', selector);
  return ((await (await fetch(u)).json()) as { data: string[] }).data;
}

describe('loggy demo', () => {
  const tmp = tempDir('loggy-demo-');
  let demo: Proc | undefined;
  afterAll(() => {
    demo?.child.kill('SIGKILL');
    tmp.cleanup();
  });

  it('runs the store, a simulated node and the agent; every kind of pod arrives with its metadata; Ctrl-C stops cleanly', { timeout: 120_000 }, async () => {
    demo = loggy(['demo', '--dir', tmp.dir, '--listen', '127.0.0.1:0', '--speed', '4', '--rotate-bytes', '4096']);
    const url = (await waitFor(() => /UI\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(demo!.stderr())?.[1], 30_000, 'the demo to print its UI address')) as string;
    expect(demo.stderr()).toMatch(/logs -n shop deploy\/web --tail 5/);
    // The address it prints is the web UI.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<title>Loggy<\/title>[\s\S]*<script type="module"[^>]* src="\/assets\/index-[\w-]+\.js"/);

    // The Job runs 30 lines at 4/s, then its pod is deleted with its files: the store keeps them.
    const backup = await waitFor<Entry[] | false>(async () => {
      const got = await lines(url, '{namespace="shop", workload_kind="CronJob", workload="db-backup"}');
      return got.some((e) => e.line.includes('backup complete')) && got;
    }, 60_000, 'the backup job to finish') as Entry[];
    expect(backup.length).toBe(30);
    await waitFor(async () => {
      const pods = await (await fetch(new URL('/loki/api/v1/series?match[]={workload="db-backup"}', url))).json() as { data: unknown[] };
      return pods.data.length === 1 && !existsSync(join(tmp.dir, 'node/var/log/pods', `shop_${backup[0]!.labels.pod}_${backup[0]!.labels.pod_uid}`));
    }, 30_000, 'the finished job pod\'s log directory to be removed');
    expect(await lines(url, '{workload="db-backup"} |= "backup complete"')).toHaveLength(1);

    // The seeds' counter, and the two-file counter's streaming sidecars.
    const counter = await lines(url, '{namespace="default", pod="counter", container="count"}');
    expect(counter.length).toBeGreaterThan(5);
    counter.forEach((e, i) => expect(e.line).toMatch(new RegExp(`^${i}: \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d UTC \\d{4}$`)));
    expect((await lines(url, '{pod="counter-sidecar", container="count-log-2"}'))[0]!.line).toMatch(/UTC \d{4} INFO 0$/);

    // Parsed JSON fields are structured metadata: filter on them without `| json`.
    const errors = await lines(url, '{namespace="shop", workload="web"} | status >= 500');
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(JSON.parse(e.line).status).toBeGreaterThanOrEqual(500);
    expect(await values(url, 'namespace_label_team')).toEqual(expect.arrayContaining(['storefront', 'finance']));

    // A Java stack trace is one event (loggy.io/multiline: java).
    const traces = await waitFor<Entry[] | false>(async () => {
      const got = await lines(url, '{workload="orders"} |= "IllegalStateException"');
      return got.length > 0 && got;
    }, 30_000, 'a Java stack trace') as Entry[];
    for (const t of traces) expect(t.line).toMatch(/Order \d+ failed\njava\.lang\.IllegalStateException: .*\n\tat com\.example\.orders\.PaymentClient[\s\S]*\t\.\.\. 4 more$/);

    // The crash loop restarts the container: earlier runs stay queryable (`--previous`).
    const restarts = await values(url, 'restart', '{workload="sync-worker"}');
    expect(restarts.length).toBeGreaterThan(1);
    expect(await lines(url, '{workload="sync-worker", restart="0"} |= "panic: runtime error"')).toHaveLength(1);

    // In-pod files through loggy.io/files, no sidecar.
    const files = await values(url, 'file', '{namespace="billing", pod="invoicer-0"}');
    expect(files.map((f) => f.split('/').pop()).sort()).toEqual(['app.log', 'audit.log']);

    // Rotation at a small size (4 KiB here): the web service's files rotate.
    const webDir = join(tmp.dir, 'node/var/log/pods', `shop_${errors[0]!.labels.pod}_${errors[0]!.labels.pod_uid}`, 'web');
    expect(readdirSync(webDir).some((f) => /^0\.log\.\d{8}-\d{6}/.test(f))).toBe(true);

    // The hints the demo prints work as printed, with the address from the environment.
    const cli = async (args: string[]) => {
      const p = loggy(args, { LOGGY_ADDR: url, NO_COLOR: '1' });
      const { code } = await p.exited;
      expect(code, `${args.join(' ')}: ${p.stderr()}`).toBe(0);
      return p.stdout().split('\n').filter(Boolean);
    };
    const job = await cli(['logs', '-n', 'shop', 'cronjob/db-backup']);
    expect(job).toHaveLength(30);
    expect(job[29]).toMatch(/backup complete/);
    // The previous run ends in its panic (once the agent has shipped it: the Go multiline
    // rule holds a trace until its flush timeout while the next run may already be stored).
    const previous = await waitFor(async () => {
      const got = await cli(['logs', 'deploy/sync-worker', '--previous']);
      return got.at(-1) === '\t/src/worker/main.go:57 +0x1d4' && got;
    }, 15_000, 'the previous run to end in its panic') as string[];
    expect(previous[0]).toMatch(/msg="starting sync-worker"/);
    expect(previous.filter((l) => l.startsWith('panic: '))).toHaveLength(1);
    expect(await cli(['logs', 'counter', '--tail', '3'])).toHaveLength(3);

    demo.child.kill('SIGINT');
    const { code } = await demo.exited;
    expect(code).toBe(0);
    expect(demo.stderr()).toMatch(/the agent delivered \d+ events/);
    expect(demo.stderr()).not.toMatch(/"level":(50|60)/);
  });

  it('says which address is taken and exits instead of hanging', { timeout: 60_000 }, async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const p = loggy(['demo', '--dir', join(tmp.dir, 'second'), '--listen', `127.0.0.1:${port}`]);
      const { code } = await p.exited;
      expect(code).toBe(1);
      expect(p.stderr()).toContain(`127.0.0.1:${port} is in use`);
    } finally {
      busy.close();
    }
  });

  it('stops at --duration and exits', { timeout: 60_000 }, async () => {
    const started = Date.now();
    const p = loggy(['demo', '--dir', join(tmp.dir, 'third'), '--listen', '127.0.0.1:0', '--duration', '3']);
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(p.stderr()).toMatch(/the agent delivered [1-9]\d* events/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
