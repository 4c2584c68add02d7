import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname } from 'node:path';
import { loadConfigFile } from '../config/index.js';
import { createLogger, type Logger } from '../core/logger.js';
import { AgentMetrics } from '../core/metrics.js';
import { agentConfigSchema, type AgentConfig } from './config.js';
import { startMetricsServer } from './metrics-server.js';
import { startAgent, type RunningAgent } from './run.js';

export interface ReloadOptions {
  /** Also look this often, in case a change was not seen by the file watch. */
  pollMs?: number;
  exitWhenDrained?: boolean;
  /** The reloader's own log (the agent logs with its configured level). */
  log?: Logger;
  /** Logger for each agent instance (tests pass a silent one). */
  agentLog?: Logger;
}

export interface ReloadingAgent {
  readonly metrics: AgentMetrics;
  /** The agent running the configuration in effect. */
  current(): RunningAgent;
  /** Resolves when the configuration has been checked since the last change (tests). */
  settled(): Promise<void>;
  drained(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the agent and applies changes to its configuration file without a restart — a
 * ConfigMap update swaps the `..data` symlink under the mount, so the directory is watched
 * and the content compared, with a poll as the safety net. A new configuration is validated
 * first: if it is invalid, the error is logged with file, line and key, counted
 * (`loggy_config_reloads_total{result="failure"}`), and the running configuration stays.
 * If it is valid, the running pipeline stops as on SIGTERM (stops reading, delivers what it
 * holds within shutdown_grace, writes its checkpoints; disk buffers stay on disk) and the new
 * one starts from those checkpoints: nothing is lost or read twice, reading pauses briefly.
 */
export async function runWithReload(file: string, first: AgentConfig, opts: ReloadOptions = {}): Promise<ReloadingAgent> {
  const log = opts.log ?? createLogger(first.log_level);
  const metrics = new AgentMetrics();
  metrics.collectProcessMetrics();
  let config = first;
  let lastHash = hash(await readFile(file, 'utf8'));
  const start = (cfg: AgentConfig) => startAgent(cfg, { metrics, serveMetrics: false, exitWhenDrained: opts.exitWhenDrained, log: opts.agentLog });
  let agent = await start(config);
  let ready = true;
  let server: Server | null = null;
  if (config.metrics_address) server = await startMetricsServer(config.metrics_address, metrics, () => ready);
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  const check = async (): Promise<void> => {
    if (stopped) return;
    const text = await readFile(file, 'utf8').catch(() => null);
    const h = text === null ? null : hash(text);
    if (h === null || h === lastHash) return; // mid-swap, or unchanged
    lastHash = h;
    let next: AgentConfig;
    try {
      next = await loadConfigFile(file, agentConfigSchema);
    } catch (err) {
      metrics.configReloads.inc({ result: 'failure' });
      log.error({ file, err: (err as Error).message }, 'new configuration is invalid; keeping the running one');
      return;
    }
    if (next.metrics_address !== config.metrics_address) log.warn({ from: config.metrics_address, to: next.metrics_address }, 'metrics_address changes only at restart');
    log.info({ file }, 'configuration changed; applying it');
    ready = false;
    await agent.stop();
    try {
      agent = await start(next);
      config = next;
      metrics.configReloads.inc({ result: 'success' });
      log.info({ file }, 'configuration applied');
    } catch (err) {
      // Valid but not startable (a port taken, an unreachable API server...): back to the old one.
      metrics.configReloads.inc({ result: 'failure' });
      log.error({ file, err: (err as Error).message }, 'new configuration failed to start; going back to the running one');
      agent = await start(config);
    }
    ready = true;
  };
  const schedule = (): Promise<void> => (chain = chain.then(check, check));

  // The directory, not the file: a ConfigMap update replaces a symlink two levels up.
  let watcher: FSWatcher | null = null;
  let debounce: NodeJS.Timeout | null = null;
  try {
    watcher = watch(dirname(file), () => {
      if (debounce) clearTimeout(debounce);
      debounce = setTimeout(() => void schedule(), 100);
    });
    watcher.on('error', () => undefined); // the poll still runs
  } catch {
    watcher = null;
  }
  const poll = setInterval(() => void schedule(), opts.pollMs ?? 5000);
  poll.unref();

  return {
    metrics,
    current: () => agent,
    settled: () => schedule(),
    drained: async () => {
      await chain;
      await agent.drained();
    },
    stop: async () => {
      stopped = true;
      clearInterval(poll);
      if (debounce) clearTimeout(debounce);
      watcher?.close();
      await chain;
      await agent.stop();
      if (server) await new Promise<void>((r) => server!.close(() => r()));
    },
  };
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
