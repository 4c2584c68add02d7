import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../../src/agent/run.js';
import { silentLogger } from '../../../src/core/logger.js';
import { readOut } from '../../helpers/agent.js';
import { tempDir, waitFor } from '../../helpers/proc.js';

/** The file source: an application's own log files (sidecar pattern, `loggy stream`). */
describe('file source', () => {
  const tmp = tempDir('loggy-filesrc-');
  let agent: RunningAgent | null = null;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
  });

  const run = (dir: string, source: Record<string, unknown>) => startAgent(agentConfigSchema.parse({
    data_dir: join(dir, 'data'), shutdown_grace: 1000,
    sources: { app: { type: 'file', poll_interval: 50, rescan_interval: 100, rotate_wait: 200, checkpoint_interval: 100, ...source } },
    sinks: { out: { type: 'file', inputs: ['app'], path: join(dir, 'out.ndjson') } },
  }), { log: silentLogger });

  it('reads the files a glob names, and new ones as they appear, with the path and static labels', async () => {
    const dir = join(tmp.dir, 'a');
    const logs = join(dir, 'logs');
    mkdirSync(join(logs, 'sub'), { recursive: true });
    writeFileSync(join(logs, 'access.log'), 'GET / 200\n');
    writeFileSync(join(logs, 'notes.txt'), 'not a log\n');
    writeFileSync(join(logs, 'debug.log'), 'excluded\n');
    agent = await run(dir, { include: [`${logs}/**/*.log`], exclude: ['**/debug.log'], labels: { pod: 'web-1', namespace: 'shop' } });
    writeFileSync(join(logs, 'sub', 'error.log'), 'boom\r\n');
    await waitFor(() => readOut(join(dir, 'out.ndjson')).length === 2, 5000, 'two lines');
    const out = readOut(join(dir, 'out.ndjson'));
    expect(out.map((e) => [e.line, e.labels.file])).toEqual([['GET / 200', join(logs, 'access.log')], ['boom', join(logs, 'sub', 'error.log')]]);
    expect(out[0]!.labels).toMatchObject({ pod: 'web-1', namespace: 'shop' });
  });

  it('follows a rename rotation to the end of the old file, then the new one, and resumes after a restart without repeating', async () => {
    const dir = join(tmp.dir, 'b');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const log = join(dir, 'logs', 'app.log');
    writeFileSync(log, '1\n2\n');
    agent = await run(dir, { include: [log] });
    const lines = () => readOut(join(dir, 'out.ndjson')).map((e) => e.line);
    await waitFor(() => lines().length === 2, 5000, 'first lines');
    appendFileSync(log, '3\n');
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, '4 (late write to the rotated file)\n');
    writeFileSync(log, '5\n');
    await waitFor(() => lines().length === 5, 5000, 'after rotation');
    await agent.stop();
    appendFileSync(log, '6\n');
    agent = await run(dir, { include: [log] });
    await waitFor(() => lines().length === 6, 5000, 'after restart');
    await new Promise((r) => setTimeout(r, 300));
    expect(lines()).toEqual(['1', '2', '3', '4 (late write to the rotated file)', '5', '6']);
  });

  it('starts at the end of existing files at the very first start with read_from: end', async () => {
    const dir = join(tmp.dir, 'c');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const log = join(dir, 'logs', 'app.log');
    writeFileSync(log, 'history\n');
    agent = await run(dir, { include: [log], read_from: 'end' });
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(log, 'new\n');
    await waitFor(() => readOut(join(dir, 'out.ndjson')).length === 1, 5000, 'new line');
    expect(readOut(join(dir, 'out.ndjson'))[0]!.line).toBe('new');
  });

  it('refuses relative globs, saying so', () => {
    const r = agentConfigSchema.safeParse({ data_dir: '/tmp/x', sources: { app: { type: 'file', include: ['logs/*.log'] } }, sinks: { out: { type: 'blackhole', inputs: ['app'] } } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/absolute path/);
  });
});
