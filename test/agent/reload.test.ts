import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { runWithReload, type ReloadingAgent } from '../../src/agent/reload.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseConfig } from '../../src/config/index.js';
import { append, cri, podLog, readOut } from '../helpers/agent.js';
import { tempDir, waitFor } from '../helpers/proc.js';

/** Configuration changes applied while the agent runs: no restart, nothing lost or read twice. */
describe('configuration reload', () => {
  const tmp = tempDir('loggy-reload-');
  let agent: ReloadingAgent | null = null;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
  });

  const yaml = (dir: string, drop: string) => [
    `data_dir: ${JSON.stringify(join(dir, 'data'))}`,
    'shutdown_grace: 1s',
    'sources:', '  node:', '    type: kubernetes_logs', `    root: ${JSON.stringify(join(dir, 'node'))}`, '    poll_interval: 50ms', '    checkpoint_interval: 100ms',
    'transforms:', '  quiet:', '    type: filter', '    inputs: [node]', `    exclude_lines: [${JSON.stringify(drop)}]`,
    'sinks:', '  out:', '    type: file', '    inputs: [quiet]', `    path: ${JSON.stringify(join(dir, 'out.ndjson'))}`, '',
  ].join('\n');

  /** A ConfigMap volume: agent.yaml -> ..data/agent.yaml, ..data -> ..<timestamp>/ (swapped atomically). */
  function configMap(dir: string, text: string, version: number): string {
    const real = join(dir, 'cm', `..v${version}`);
    mkdirSync(real, { recursive: true });
    writeFileSync(join(real, 'agent.yaml'), text);
    const tmpLink = join(dir, 'cm', '..data_tmp');
    symlinkSync(`..v${version}`, tmpLink);
    renameSync(tmpLink, join(dir, 'cm', '..data'));
    const file = join(dir, 'cm', 'agent.yaml');
    if (version === 1) symlinkSync('..data/agent.yaml', file);
    return file;
  }

  it('applies a ConfigMap update without a restart, losing and repeating nothing', async () => {
    const dir = join(tmp.dir, 'a');
    const file = configMap(dir, yaml(dir, 'noise'), 1);
    const log = podLog(join(dir, 'node'), 'shop', 'web', 'app');
    append(log, cri('keep 1') + cri('noise 1') + cri('chatter 1'));
    agent = await runWithReload(file, parseConfig(yaml(dir, 'noise'), file, agentConfigSchema), { pollMs: 200, log: silentLogger, agentLog: silentLogger });
    const out = join(dir, 'out.ndjson');
    const lines = () => readOut(out).map((e) => e.line);
    await waitFor(() => lines().includes('chatter 1'), 5000, 'first lines');
    configMap(dir, yaml(dir, 'chatter'), 2);
    await waitFor(async () => (await agent!.metrics.total('loggy_config_reloads_total')) === 1, 5000, 'reload');
    append(log, cri('keep 2') + cri('noise 2') + cri('chatter 2'));
    await waitFor(() => lines().includes('noise 2'), 5000, 'lines after the reload');
    await new Promise((r) => setTimeout(r, 300));
    expect(lines()).toEqual(['keep 1', 'chatter 1', 'keep 2', 'noise 2']);
    // The process's own figures are there for whoever watches the agent's memory.
    const text = await agent.metrics.registry.metrics();
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_external_memory_bytes \d+/m);
  });

  it('keeps the running configuration when the new one is invalid, says why, and counts it', async () => {
    const dir = join(tmp.dir, 'b');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, yaml(dir, 'noise'));
    const log = podLog(join(dir, 'node'), 'shop', 'web', 'app');
    append(log, cri('one'));
    const errors: string[] = [];
    const spy = { ...silentLogger, error: (o: { err?: string }, m: string) => errors.push(`${m}: ${o.err}`) } as unknown as typeof silentLogger;
    agent = await runWithReload(file, parseConfig(yaml(dir, 'noise'), file, agentConfigSchema), { pollMs: 200, log: spy, agentLog: silentLogger });
    const out = join(dir, 'out.ndjson');
    await waitFor(() => readOut(out).length === 1, 5000, 'one');
    writeFileSync(file, yaml(dir, 'noise').replace('type: filter', 'type: filtre'));
    await waitFor(async () => (await agent!.metrics.total('loggy_config_reloads_total')) === 1, 5000, 'refused reload counted');
    expect(errors.join('\n')).toMatch(/invalid; keeping the running one: .*agent\.yaml:\d+:\d+: transforms\.quiet/);
    append(log, cri('two') + cri('noise'));
    await waitFor(() => readOut(out).length === 2, 5000, 'still running the old configuration');
    expect(readOut(out).map((e) => e.line)).toEqual(['one', 'two']);
  });
});
