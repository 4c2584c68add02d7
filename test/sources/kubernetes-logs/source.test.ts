import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../../src/agent/run.js';
import { append, cri, podLog, readOut, runAgent } from '../../helpers/agent.js';
import { tempDir, waitFor } from '../../helpers/proc.js';

let tmp: ReturnType<typeof tempDir>;
let root: string;
let out: string;
let dataDir: string;
let agent: RunningAgent | null = null;

beforeEach(() => {
  tmp = tempDir('loggy-src-');
  root = join(tmp.dir, 'node');
  out = join(tmp.dir, 'out.ndjson');
  dataDir = join(tmp.dir, 'data');
});
afterEach(async () => {
  await agent?.stop();
  agent = null;
  tmp.cleanup();
});

const lines = () => readOut(out).map((e) => e.line);
const until = (pred: () => boolean, what: string, ms = 5000) => waitFor(pred, ms, what, 20);

describe('discovery', () => {
  it('takes labels from the kubelet path', async () => {
    const p = podLog(root, 'shop', 'web-7d4b9c8f6-x2k4p', 'nginx', 2, '0f9c2a1e-1111-2222-3333-444455556666');
    append(p, cri('hello'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('hello'), 'hello');
    expect(readOut(out)[0].labels).toEqual({ namespace: 'shop', pod: 'web-7d4b9c8f6-x2k4p', pod_uid: '0f9c2a1e-1111-2222-3333-444455556666', container: 'nginx', restart: '2' });
  });

  for (const watch of [true, false]) {
    it(`picks up a new pod's file within 1 s (watch: ${watch})`, async () => {
      mkdirSync(join(root, 'var/log/pods'), { recursive: true });
      agent = await runAgent({ root, dataDir, out, source: { watch, rescan_interval: 1000 } });
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      append(podLog(root, 'default', 'late', 'app'), cri('late line'));
      await until(() => lines().includes('late line'), 'late line', 3000);
      expect(Date.now() - t0).toBeLessThan(1000);
    });
  }

  it('reads a file reachable through /var/log/containers and /var/log/pods only once', async () => {
    const p = podLog(root, 'default', 'dup', 'app');
    append(p, cri('once'));
    const cdir = join(root, 'var/log/containers');
    mkdirSync(cdir, { recursive: true });
    symlinkSync(p, join(cdir, `dup_default_app-${'a'.repeat(64)}.log`));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('once'), 'once');
    append(p, cri('twice?'));
    await until(() => lines().includes('twice?'), 'second line');
    expect(lines().filter((l) => l === 'once')).toHaveLength(1);
    expect(readOut(out)[0].labels.container_id ?? 'a'.repeat(64)).toBe('a'.repeat(64));
  });

  it('reads /var/log/containers links that lead outside /var/log/pods, labelled from the link name', async () => {
    const real = join(root, 'var/lib/docker/containers/abc/abc-json.log');
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, '{"log":"from docker\\n","stream":"stderr","time":"2026-11-22T10:00:00.000000001Z"}\n');
    const cdir = join(root, 'var/log/containers');
    mkdirSync(cdir, { recursive: true });
    symlinkSync(real, join(cdir, `api-5f6_payments_server-${'b'.repeat(64)}.log`));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('from docker'), 'docker line');
    const ev = readOut(out)[0];
    expect(ev.stream).toBe('stderr');
    expect(ev.ts).toBe('2026-11-22T10:00:00.000000001Z');
    expect(ev.labels).toMatchObject({ namespace: 'payments', pod: 'api-5f6', container: 'server', container_id: 'b'.repeat(64) });
  });

  it('applies include/exclude globs, the kube-system switch and skips its own pod', async () => {
    append(podLog(root, 'shop', 'web-1', 'app'), cri('shop app'));
    append(podLog(root, 'shop', 'web-1', 'istio-proxy'), cri('shop sidecar'));
    append(podLog(root, 'kube-system', 'coredns-1', 'coredns'), cri('dns'));
    append(podLog(root, 'shop', 'canary-1', 'app'), cri('canary'));
    append(podLog(root, 'logging', 'loggy-abcde', 'agent'), cri('myself'));
    append(podLog(root, 'other', 'x-1', 'app'), cri('other ns'));
    process.env.POD_NAMESPACE = 'logging';
    process.env.POD_NAME = 'loggy-abcde';
    try {
      agent = await runAgent({
        root, dataDir, out,
        source: { kube_system: false, include: { namespaces: ['shop', 'logging', 'kube-*'] }, exclude: { pods: ['canary-*'], containers: 'istio-*' } },
      });
      append(podLog(root, 'shop', 'web-1', 'app'), cri('marker'));
      await until(() => lines().includes('marker'), 'marker');
      await new Promise((r) => setTimeout(r, 300));
      expect(lines().sort()).toEqual(['marker', 'shop app']);
    } finally {
      delete process.env.POD_NAMESPACE;
      delete process.env.POD_NAME;
    }
  });

  it('reads a deleted pod\'s file to the end, then closes it', async () => {
    const p = podLog(root, 'default', 'gone', 'app');
    append(p, cri('first'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('first'), 'first');
    append(p, cri('last words'));
    rmSync(join(root, 'var/log/pods'), { recursive: true });
    await until(() => lines().includes('last words'), 'last words');
    await waitFor(async () => (await agent!.metrics.total('loggy_files_closed_total')) === 1, 3000, 'file closed');
  });
});

describe('rotation', () => {
  it('reads a renamed file to its end through the open descriptor, then the new file; never .gz', async () => {
    const p = podLog(root, 'default', 'rot', 'app');
    append(p, cri('a1') + cri('a2'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('a2'), 'a2');
    const rotated = `${p}.20261122-100000`;
    renameSync(p, rotated);
    append(rotated, cri('a3 late write to the renamed file'));
    append(p, cri('b1'));
    writeFileSync(`${p}.20261122-090000.gz`, cri('never read'));
    await until(() => lines().includes('b1') && lines().includes('a3 late write to the renamed file'), 'both files');
    await new Promise((r) => setTimeout(r, 400));
    expect(lines().sort()).toEqual(['a1', 'a2', 'a3 late write to the renamed file', 'b1']);
  });

  it('follows Docker rotation (-json.log → -json.log.1) behind a symlink', async () => {
    const real = join(root, 'var/lib/docker/containers/c1/c1-json.log');
    mkdirSync(dirname(real), { recursive: true });
    const p = podLog(root, 'default', 'dock', 'app');
    symlinkSync(real, p);
    const d = (s: string, n: number) => `{"log":"${s}\\n","stream":"stdout","time":"2026-11-22T10:00:0${n}.000000001Z"}\n`;
    append(real, d('d1', 1));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('d1'), 'd1');
    append(real, d('d2', 2));
    renameSync(real, `${real}.1`);
    append(real, d('d3', 3));
    await until(() => lines().includes('d3') && lines().includes('d2'), 'd2 and d3');
    expect(lines().sort()).toEqual(['d1', 'd2', 'd3']);
  });

  it('detects copytruncate and reads the file again from the start', async () => {
    const p = podLog(root, 'default', 'ct', 'app');
    append(p, cri('before truncate one') + cri('before truncate two'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('before truncate two'), 'first lines');
    copyFileSync(p, `${p}.1`);
    truncateSync(p, 0);
    append(p, cri('after'));
    await until(() => lines().includes('after'), 'after truncate');
    expect(await agent.metrics.total('loggy_file_truncations_total')).toBe(1);
    expect(lines().filter((l) => l.startsWith('before')).length).toBe(2);
  });

  it('detects a copytruncate whose new content outgrew the read offset before the agent looked', async () => {
    const p = podLog(root, 'default', 'ctgrown', 'app');
    append(p, cri('old one') + cri('old two'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('old two'), 'old lines');
    // Synchronous, in the agent's own process: no look of the agent falls in between, so the
    // size it sees next is larger than its offset, as if the file had only grown.
    truncateSync(p, 0);
    const fresh = Array.from({ length: 20 }, (_, i) => `new content line ${i}`);
    append(p, fresh.map((l) => cri(l)).join(''));
    await until(() => lines().includes('new content line 19'), 'new lines');
    await new Promise((r) => setTimeout(r, 300));
    expect(lines()).toEqual(['old one', 'old two', ...fresh]);
    expect(await agent.metrics.total('loggy_file_truncations_total')).toBe(1);
  });
});

describe('copytruncate copies', () => {
  it('reads the copy of a truncated file from where its original stopped, without duplicates', async () => {
    const p = podLog(root, 'default', 'ctcopy', 'app');
    append(p, cri('one') + cri('two'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('two'), 'first lines');
    await new Promise((r) => setTimeout(r, 300)); // acknowledged and checkpointed
    // A line the agent may not have read yet, then copy + truncate, then the new content.
    append(p, cri('three'));
    copyFileSync(p, `${p}.20261122-110000`);
    truncateSync(p, 0);
    append(p, cri('four'));
    await until(() => lines().includes('four') && lines().includes('three'), 'all lines', 8000);
    await new Promise((r) => setTimeout(r, 1500)); // rescans see the copy
    expect(lines().sort()).toEqual(['four', 'one', 'three', 'two']);
  });

  it('after a restart, a copy made while the agent was down continues from the checkpoint', async () => {
    const p = podLog(root, 'default', 'ctdown', 'app');
    append(p, cri('a1') + cri('a2'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('a2'), 'first lines');
    await agent.stop();
    agent = null;
    append(p, cri('a3 while down'));
    copyFileSync(p, `${p}.20261122-110000`);
    truncateSync(p, 0);
    append(p, cri('a4 new content'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('a4 new content') && lines().includes('a3 while down'), 'all lines', 8000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(lines().sort()).toEqual(['a1', 'a2', 'a3 while down', 'a4 new content']);
  });
});

describe('checkpoints', () => {
  const cpFile = () => join(dataDir, 'checkpoints', 'node.json');

  it('resumes after a restart without loss or duplicates, including a rotation while stopped', async () => {
    const p = podLog(root, 'default', 'cp', 'app');
    append(p, cri('one') + cri('two'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('two'), 'two');
    await agent.stop();
    agent = null;
    append(p, cri('three written while stopped'));
    renameSync(p, `${p}.20261122-110000`);
    append(p, cri('four in the new file'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('four in the new file') && lines().includes('three written while stopped'), 'all lines');
    await new Promise((r) => setTimeout(r, 300));
    expect(lines()).toHaveLength(4);
  });

  it('advances only over acknowledged events (a failing sink keeps the offset at 0)', async () => {
    const p = podLog(root, 'default', 'ack', 'app');
    append(p, cri('x'.repeat(100)));
    // The sink's path is a directory: every write fails and is retried, never acknowledged.
    mkdirSync(join(tmp.dir, 'blocked'), { recursive: true });
    agent = await runAgent({ root, dataDir, out: join(tmp.dir, 'blocked') });
    await waitFor(async () => (await agent!.metrics.total('loggy_sink_errors_total')) >= 1, 3000, 'sink error');
    await agent.stop();
    agent = null;
    const cp = existsSync(cpFile()) ? JSON.parse(readFileSync(cpFile(), 'utf8')) : { files: {} };
    for (const e of Object.values(cp.files) as Array<{ offset: number }>) expect(e.offset).toBe(0);
  });

  it('records a file opened empty as soon as its first line is read, with the size it is known to have', async () => {
    const p = podLog(root, 'default', 'late', 'app');
    writeFileSync(p, '');
    // Nothing is ever acknowledged: only the opening records the file.
    mkdirSync(join(tmp.dir, 'blocked'), { recursive: true });
    agent = await runAgent({ root, dataDir, out: join(tmp.dir, 'blocked') });
    await new Promise((r) => setTimeout(r, 200));
    append(p, cri('first line of a file the agent opened empty'));
    await waitFor(async () => (await agent!.metrics.total('loggy_sink_errors_total')) >= 1, 3000, 'read and sent');
    await agent.stop();
    agent = null;
    const st = statSync(p);
    const entry = JSON.parse(readFileSync(cpFile(), 'utf8')).files[`${st.dev}:${st.ino}`] as { offset: number; size: number };
    expect(entry).toMatchObject({ offset: 0, size: st.size });
  });

  it('does not resume at a stale offset when the inode was reused by another file', async () => {
    const p = podLog(root, 'default', 'reuse', 'app');
    append(p, cri('new file line one') + cri('new file line two'));
    const st = statSync(p);
    mkdirSync(dirname(cpFile()), { recursive: true });
    writeFileSync(cpFile(), JSON.stringify({ version: 1, files: { [`${st.dev}:${st.ino}`]: {
      path: p, dev: st.dev, ino: st.ino, fp: 'deadbeefdeadbeef', fpLen: 20, offset: st.size - 10, stdout: st.size - 10, stderr: -1, updated: Date.now() } } }));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('new file line two'), 'line two');
    expect(lines()).toContain('new file line one');
  });

  for (const policy of ['beginning', 'end'] as const) {
    it(`reports a corrupt checkpoint file and starts from the ${policy}`, async () => {
      const p = podLog(root, 'default', 'corrupt', 'app');
      append(p, cri('old line'));
      mkdirSync(dirname(cpFile()), { recursive: true });
      writeFileSync(cpFile(), '{"version":1,"files":{"1:2":{"path":');
      agent = await runAgent({ root, dataDir, out, source: { on_corrupt_checkpoint: policy } });
      append(p, cri('new line'));
      await until(() => lines().includes('new line'), 'new line');
      expect(lines().includes('old line')).toBe(policy === 'beginning');
      expect(await agent.metrics.total('loggy_checkpoint_errors_total')).toBe(1);
    });
  }

  it('read_from: end skips what is already there at the first start, not new files', async () => {
    const p = podLog(root, 'default', 'tail', 'app');
    append(p, cri('history'));
    agent = await runAgent({ root, dataDir, out, source: { read_from: 'end' } });
    append(p, cri('fresh'));
    append(podLog(root, 'default', 'newpod', 'app'), cri('new pod from head'));
    await until(() => lines().includes('fresh') && lines().includes('new pod from head'), 'fresh lines');
    expect(lines()).not.toContain('history');
  });
});

describe('reading', () => {
  it('gives every file turns: a small file is read while a hot file is still draining', async () => {
    const hot = podLog(root, 'default', 'hot', 'app');
    const chunk = Array.from({ length: 2000 }, (_, i) => cri(`hot ${i} ${'h'.repeat(200)}`)).join('');
    for (let i = 0; i < 20; i++) append(hot, chunk); // ~9 MB, 40,000 lines
    append(podLog(root, 'default', 'small', 'app'), cri('small file line'));
    agent = await runAgent({ root, dataDir, out, source: { read_chunk_bytes: 65536, read_concurrency: 1 } });
    await until(() => lines().length === 40_001, 'everything', 20_000);
    // One read slot, 64 KiB turns: the small file's turn comes after at most a few hot chunks,
    // not after the hot file's 9 MB.
    expect(lines().indexOf('small file line')).toBeLessThan(2000);
  });

  it('truncates lines over max_line_bytes, flags and counts them, and goes on', async () => {
    const p = podLog(root, 'default', 'long', 'app');
    append(p, cri('y'.repeat(5000)) + cri('after long'));
    agent = await runAgent({ root, dataDir, out, source: { max_line_bytes: 1024 } });
    await until(() => lines().includes('after long'), 'after long');
    const long = readOut(out)[0];
    expect(long.line).toBe('y'.repeat(1024));
    expect(long.flags).toEqual(['truncated']);
    expect(await agent.metrics.total('loggy_lines_truncated_total')).toBe(1);
  });
});

describe('multiline', () => {
  it('joins a Java stack trace into one event (preset), flushed by timeout when the file goes quiet', async () => {
    const p = podLog(root, 'default', 'java', 'app');
    append(p, cri('Exception in thread "main" java.lang.IllegalStateException: boom') +
      cri('\tat com.example.Handler.handle(Handler.java:10)') +
      cri('\tat com.example.Main.main(Main.java:5)') +
      cri('next event', 'stderr'));
    agent = await runAgent({ root, dataDir, out, source: { multiline: { preset: 'java', flush_timeout: 200 } } });
    await until(() => readOut(out).some((e) => e.line.startsWith('Exception')), 'trace');
    await until(() => lines().includes('next event'), 'stderr event');
    const trace = readOut(out).find((e) => e.line.startsWith('Exception'))!;
    expect(trace.line.split('\n')).toHaveLength(3);
    expect(trace.flags).toEqual(['multiline']);
    expect(readOut(out)).toHaveLength(2);
  });
});

describe('file identity', () => {
  it('never confuses two files whose first bytes are identical', async () => {
    const same = cri('identical first line') + cri('identical second line');
    const a = podLog(root, 'default', 'twin-a', 'app');
    const b = podLog(root, 'default', 'twin-b', 'app');
    append(a, same);
    append(b, same);
    agent = await runAgent({ root, dataDir, out });
    await until(() => readOut(out).length === 4, 'both files');
    await agent.stop();
    agent = null;
    append(a, cri('only in a'));
    agent = await runAgent({ root, dataDir, out });
    await until(() => lines().includes('only in a'), 'new line in a');
    await new Promise((r) => setTimeout(r, 300));
    const byPod = (pod: string) => readOut(out).filter((e) => e.labels.pod === pod).map((e) => e.line);
    expect(byPod('twin-a')).toEqual(['identical first line', 'identical second line', 'only in a']);
    expect(byPod('twin-b')).toEqual(['identical first line', 'identical second line']);
  });
});
