import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerSimulate } from '../../src/cli/simulate.js';
import type { Manifest } from '../../src/sim/index.js';
import { loggy, repoRoot, tempDir, waitFor } from '../helpers/proc.js';
import { expectComplete } from '../sim/helpers.js';

const tmp = tempDir('loggy-sim-cli-');
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = (): { root: string; manifest: string } => {
  n++;
  return { root: join(tmp.dir, `root${n}`), manifest: join(tmp.dir, `m${n}.json`) };
};
const readManifest = (f: string): Manifest => JSON.parse(readFileSync(f, 'utf8')) as Manifest;

function program(): Command {
  const p = new Command('loggy').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerSimulate(p);
  return p;
}

describe('loggy simulate (flags, in-process)', () => {
  it('parses flags, byte sizes included, and runs to --lines', async () => {
    const { root, manifest } = fresh();
    await program().parseAsync(
      ['simulate', '--root', root, '--pods', '3', '--format', 'docker', '--lines', '300', '--rate', '20000', '--rotate-bytes', '16KiB', '--keep-files', '50', '--seed', '4', '--manifest', manifest, '--quiet'],
      { from: 'user' },
    );
    const m = readManifest(manifest);
    expect(m.total).toBe(300);
    expect(Object.values(m.containers).every((e) => e.format === 'docker')).toBe(true);
    expect(new Set(Object.values(m.containers).map((e) => e.pod)).size).toBe(4);
    expectComplete(root, m);
  });

  it.each([
    [['--rotate-bytes', 'ten']],
    [['--format', 'syslog']],
    [['--rate', '0']],
    [['--keep-files', '0']],
    [['--lines', '1.5']],
  ])('rejects %j', async (args) => {
    const err = await program()
      .parseAsync(['simulate', '--root', fresh().root, ...args], { from: 'user' })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CommanderError);
  });

  it('requires --root', async () => {
    await expect(program().parseAsync(['simulate', '--lines', '1'], { from: 'user' })).rejects.toThrow(/--root/);
  });
});

// The binary runs from dist/ (npm test builds first); without a build there is nothing to spawn.
describe.skipIf(!existsSync(join(repoRoot, 'dist/cli/main.js')))('loggy simulate (child process)', () => {
  it('writes --lines messages, prints a summary and exits 0', async () => {
    const { root, manifest } = fresh();
    const p = loggy(['simulate', '--root', root, '--pods', '4', '--format', 'mixed', '--lines', '500', '--rate', '5000', '--rotate-bytes', '32KiB', '--keep-files', '100', '--manifest', manifest]);
    const { code } = await p.exited;
    expect(p.stderr()).toMatch(new RegExp(`^loggy simulate: root=${root} pods=5 containers=\\d+ format=mixed`));
    expect(code).toBe(0);
    const m = readManifest(manifest);
    expect(m.total).toBe(500);
    expectComplete(root, m);
  });

  it('stops cleanly on SIGTERM with a final manifest matching the files', async () => {
    const { root, manifest } = fresh();
    const p = loggy(['simulate', '--root', root, '--pods', '2', '--rate', '2000', '--manifest', manifest, '--quiet']);
    await waitFor(() => existsSync(manifest) && readManifest(manifest).total > 200, 10_000, 'progress in the manifest');
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(p.stderr()).toBe('');
    const m = readManifest(manifest);
    expect(m.total).toBeGreaterThan(200);
    expectComplete(root, m);
  });

  it('stops after --duration', async () => {
    const { root, manifest } = fresh();
    const p = loggy(['simulate', '--root', root, '--pods', '1', '--rate', '100', '--duration', '0.5', '--manifest', manifest, '--quiet']);
    expect((await p.exited).code).toBe(0);
    expect(readManifest(manifest).total).toBeGreaterThan(20);
  });
});
