import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cri, podLog, readOut } from '../helpers/agent.js';
import { loggyBin, tempDir, waitFor } from '../helpers/proc.js';

/**
 * An unreadable log file (permissions) next to a readable one. Root reads anything, so as
 * root the agent runs as `nobody` through setpriv; as any other user, as that user.
 */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

/** Whether `nobody` can run the built agent from here (a checkout in a private directory cannot). */
function nobodyCanRun(): boolean {
  if (!asRoot) return true;
  try {
    execFileSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, '-e', `require('fs').readFileSync(${JSON.stringify(loggyBin)})`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a log file the agent may not read', () => {
  const tmp = tempDir('loggy-unreadable-');
  afterAll(() => tmp.cleanup());

  it.skipIf(!nobodyCanRun())('is counted and logged with its path, and the other files flow', async () => {
    chmodSync(tmp.dir, 0o755);
    const root = join(tmp.dir, 'node');
    const ok = podLog(root, 'shop', 'web', 'app');
    writeFileSync(ok, cri('readable line'));
    const locked = podLog(root, 'shop', 'vault', 'app');
    writeFileSync(locked, cri('secret line'));
    chmodSync(locked, 0o000);
    const state = join(tmp.dir, 'state');
    mkdirSync(state);
    if (asRoot) chownSync(state, NOBODY, NOBODY);
    const out = join(state, 'out.ndjson');
    const port = 19500 + Math.floor(Math.random() * 400);
    const cfg = join(state, 'agent.yaml');
    writeFileSync(cfg, [
      `data_dir: ${JSON.stringify(join(state, 'data'))}`,
      `metrics_address: 127.0.0.1:${port}`,
      'sources:', '  node:', '    type: kubernetes_logs', `    root: ${JSON.stringify(root)}`, '    poll_interval: 100ms',
      'sinks:', '  out:', '    type: file', '    inputs: [node]', `    path: ${JSON.stringify(out)}`, '',
    ].join('\n'));
    const cmd = asRoot ? 'setpriv' : process.execPath;
    const args = asRoot ? ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, loggyBin] : [loggyBin];
    const child = spawn(cmd, [...args, 'agent', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    try {
      await waitFor(() => readOut(out).some((e) => e.line === 'readable line'), 10_000, 'readable line');
      const errors = await waitFor(async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null))?.text();
        const m = text ? /loggy_file_errors_total\{component="node"\} (\d+)/.exec(text) : null;
        return m && Number(m[1]) >= 1 ? Number(m[1]) : null;
      }, 10_000, 'file error counted');
      expect(errors).toBeGreaterThanOrEqual(1);
      expect(readOut(out).map((e) => e.line)).toEqual(['readable line']);
      expect(stderr).toContain(locked);
      expect(stderr).toMatch(/EACCES|permission denied/i);
      expect(child.exitCode).toBeNull(); // still running
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 30_000);
});
