import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../src/core/checkpoints.js';
import { silentLogger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { tempDir } from '../helpers/proc.js';

const entry = { path: '/x/0.log', dev: 1, ino: 2, fp: 'abc', fpLen: 10, offset: 42, stdout: 42, stderr: -1, updated: 1 };

describe('CheckpointStore', () => {
  const tmp = tempDir('loggy-cp-');
  afterAll(() => tmp.cleanup());

  it('round-trips through an atomic write and leaves no temp file', async () => {
    const m = new AgentMetrics();
    const a = new CheckpointStore(tmp.dir, 'src', silentLogger, m);
    expect(await a.load()).toBe('fresh');
    a.set('1:2', entry);
    await a.close();
    const b = new CheckpointStore(tmp.dir, 'src', silentLogger, m);
    expect(await b.load()).toBe('loaded');
    expect(b.get('1:2')).toEqual(entry);
    expect(readFileSync(join(tmp.dir, 'checkpoints', 'src.json'), 'utf8')).toContain('"offset":42');
  });

  it('removes temp files left by writes a crash cut short', async () => {
    const dir = join(tmp.dir, 'crashed');
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    const stale = join(dir, 'checkpoints', 'src.json.tmp-99999');
    writeFileSync(stale, '{"version":1,"fi');
    const other = join(dir, 'checkpoints', 'other.json.tmp-99999');
    writeFileSync(other, 'another source\'s');
    const a = new CheckpointStore(dir, 'src', silentLogger, new AgentMetrics());
    expect(await a.load()).toBe('fresh');
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });

  it('keeps when a file was first missed, across restarts', async () => {
    const dir = join(tmp.dir, 'vanished');
    const a = new CheckpointStore(dir, 'src', silentLogger, new AgentMetrics());
    await a.load();
    a.set('1:2', { ...entry, vanishedAt: 1234 });
    await a.close();
    const b = new CheckpointStore(dir, 'src', silentLogger, new AgentMetrics());
    expect(await b.load()).toBe('loaded');
    expect(b.get('1:2')?.vanishedAt).toBe(1234);
  });

  it('reports a corrupt file, counts it and starts empty instead of crashing', async () => {
    mkdirSync(join(tmp.dir, 'checkpoints'), { recursive: true });
    for (const junk of ['not json', '{"version":2,"files":{}}', '{"version":1,"files":{"a":{"path":1}}}']) {
      writeFileSync(join(tmp.dir, 'checkpoints', 'bad.json'), junk);
      const m = new AgentMetrics();
      const s = new CheckpointStore(tmp.dir, 'bad', silentLogger, m);
      expect(await s.load()).toBe('corrupt');
      expect([...s.all()]).toEqual([]);
      expect(await m.total('loggy_checkpoint_errors_total')).toBe(1);
    }
  });
});
