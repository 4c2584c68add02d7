import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { append, cri, podLog } from '../helpers/agent.js';
import { loggy, repoRoot, tempDir, waitFor } from '../helpers/proc.js';

describe('loggy agent (CLI)', () => {
  const tmp = tempDir('loggy-cli-');
  afterAll(() => tmp.cleanup());

  it('validates the README example config as written', async () => {
    const p = loggy(['agent', '--validate', join(repoRoot, 'examples/agent.yaml')]);
    expect((await p.exited).code).toBe(0);
    expect(p.stdout()).toMatch(/valid \(1 sources, 0 transforms, 1 sinks\)/);
  });

  it('rejects a bad config with file, line, key path and what was expected', async () => {
    const f = join(tmp.dir, 'bad.yaml');
    writeFileSync(f, [
      'data_dir: /tmp/x',
      'sources:',
      '  node:',
      '    type: kubernetes_logs',
      '    root: 42',
      'sinks:',
      '  out:',
      '    type: file',
      '    inputs: [nodes]',
      '    pth: /tmp/out',
      '',
    ].join('\n'));
    const p = loggy(['agent', '--validate', f]);
    expect((await p.exited).code).toBe(2);
    const err = p.stderr();
    expect(err).toContain(`${f}:5:11: sources.node.root: expected a string, got a number (42)`);
    expect(err).toMatch(new RegExp(`${f}:10:5: sinks\\.out\\.pth: unknown key "pth"`));
    expect(err).toMatch(/sinks\.out: missing required key "path"/);
  });

  it('reports an unknown input by name and location', async () => {
    const f = join(tmp.dir, 'inputs.yaml');
    writeFileSync(f, 'sources:\n  node:\n    type: kubernetes_logs\nsinks:\n  out:\n    type: console\n    inputs: [nod]\n');
    const p = loggy(['agent', '--validate', f]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toMatch(/inputs\.yaml:7:14: sinks\.out\.inputs\[0\]: unknown input "nod" \(expected one of: node\)/);
  });

  it('prints to the console like the seed\'s Loggy and exits 0 on SIGTERM with checkpoints written', async () => {
    const root = join(tmp.dir, 'node');
    append(podLog(root, 'shop', 'web-1', 'nginx'), cri('GET / 200') + cri('oops', 'stderr'));
    const f = join(tmp.dir, 'console.yaml');
    const data = join(tmp.dir, 'data');
    writeFileSync(f, `data_dir: ${data}\nsources:\n  node:\n    type: kubernetes_logs\n    root: ${root}\nsinks:\n  out:\n    type: console\n    inputs: [node]\n`);
    const p = loggy(['agent', '--config', f]);
    await waitFor(() => p.stdout().includes('oops'), 10_000, 'console output');
    expect(p.stdout()).toContain('shop/web-1/nginx [stdout]: GET / 200\n');
    expect(p.stdout()).toContain('shop/web-1/nginx [stderr]: oops\n');
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    const cp = JSON.parse(readFileSync(join(data, 'checkpoints/node.json'), 'utf8'));
    expect(Object.values(cp.files)).toHaveLength(1);
    expect(p.stderr()).toContain('agent summary');
  });

  it('writes the file sink NDJSON shape', async () => {
    const root = join(tmp.dir, 'node2');
    append(podLog(root, 'payments', 'api-0', 'server', 1, 'u-1'), cri('{"level":"info","msg":"paid"}'));
    const out = join(tmp.dir, 'out.ndjson');
    const f = join(tmp.dir, 'file.yaml');
    writeFileSync(f, `data_dir: ${join(tmp.dir, 'data2')}\nsources:\n  node:\n    type: kubernetes_logs\n    root: ${root}\nsinks:\n  out:\n    type: file\n    inputs: [node]\n    path: ${out}\n`);
    const p = loggy(['agent', '--config', f, '--exit-when-drained']);
    expect((await p.exited).code).toBe(0);
    expect(existsSync(out)).toBe(true);
    const ev = JSON.parse(readFileSync(out, 'utf8').trim());
    expect(Object.keys(ev)).toEqual(['ts', 'stream', 'line', 'labels']);
    expect(ev.line).toBe('{"level":"info","msg":"paid"}');
    expect(ev.ts).toMatch(/^2026-11-22T10:00:00\.\d{9}Z$/);
    expect(ev.labels).toEqual({ namespace: 'payments', pod: 'api-0', pod_uid: 'u-1', container: 'server', restart: '1' });
  });
});

describe('loggy agent config checks', () => {
  const tmp = tempDir('loggy-cli2-');
  afterAll(() => tmp.cleanup());

  it('reports an invalid multiline regex where it is written', async () => {
    const f = join(tmp.dir, 'ml.yaml');
    writeFileSync(f, 'sources:\n  node:\n    type: kubernetes_logs\n    multiline:\n      start: "(unclosed"\nsinks:\n  out:\n    type: blackhole\n    inputs: [node]\n');
    const p = loggy(['agent', '--validate', f]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toMatch(/ml\.yaml:5:14: sources\.node\.multiline\.start: invalid regular expression/);
  });
});
