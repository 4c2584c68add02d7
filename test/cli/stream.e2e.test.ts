import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loggy, tempDir, waitFor } from '../helpers/proc.js';

/**
 * `loggy stream`, the streaming sidecar of the seeds (`tail -n+1 -f /var/log/1.log`), done
 * right: rotation followed, new files picked up, a restart resumes without re-printing.
 */
describe('loggy stream', () => {
  const tmp = tempDir('loggy-stream-');
  afterAll(() => tmp.cleanup());

  it('streams two files (one to stderr), follows rotation, and resumes after a restart without repeating', async () => {
    const logs = join(tmp.dir, 'var-log');
    mkdirSync(logs);
    const one = join(logs, '1.log');
    const two = join(logs, '2.log');
    writeFileSync(one, 'one: 0\n');
    writeFileSync(two, 'two: 0\n');
    const state = join(tmp.dir, 'state');
    const args = ['stream', '--state', state, '--stderr', join(logs, '2.log'), join(logs, '*.log')];
    let p = loggy(args);
    await waitFor(() => p.stdout().includes('one: 0') && p.stderr().includes('two: 0'), 10_000, 'first lines');
    appendFileSync(one, 'one: 1\n');
    renameSync(one, `${one}.1`); // rotated out of the glob: read to its end through the descriptor
    writeFileSync(one, 'one: 2\n');
    await waitFor(() => p.stdout().includes('one: 2'), 10_000, 'after rotation');
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    const firstOut = p.stdout();
    const firstErr = p.stderr();
    appendFileSync(one, 'one: 3\n');
    appendFileSync(two, 'two: 1\n');
    p = loggy(args);
    await waitFor(() => p.stdout().includes('one: 3') && p.stderr().includes('two: 1'), 10_000, 'after restart');
    await new Promise((r) => setTimeout(r, 500));
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    expect((firstOut + p.stdout()).trim().split('\n')).toEqual(['one: 0', 'one: 1', 'one: 2', 'one: 3']);
    expect((firstErr + p.stderr()).trim().split('\n').filter((l) => !l.startsWith('{'))).toEqual(['two: 0', 'two: 1']);
  }, 40_000);

  it('prefixes lines with their file when asked', async () => {
    const log = join(tmp.dir, 'app.log');
    writeFileSync(log, 'hello\n');
    const p = loggy(['stream', '--prefix', log]);
    await waitFor(() => p.stdout().includes('hello'), 10_000, 'line');
    p.child.kill('SIGTERM');
    await p.exited;
    expect(p.stdout().trim()).toBe(`${log}: hello`);
  }, 20_000);
});
