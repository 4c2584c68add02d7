import type { Server } from 'node:http';
import { createLogger, type Logger } from '../core/logger.js';
import { AgentMetrics } from '../core/metrics.js';
import type { AgentConfig } from './config.js';
import { startMetricsServer } from './metrics-server.js';
import { Topology } from './topology.js';

export interface RunningAgent {
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  /** Graceful stop: stop reading, deliver within the grace period, persist checkpoints. */
  stop(): Promise<void>;
  /** Resolves when every input was read to its end and delivered (exitWhenDrained). */
  drained(): Promise<void>;
}

export interface RunOptions {
  exitWhenDrained?: boolean;
  log?: Logger;
}

export async function startAgent(config: AgentConfig, opts: RunOptions = {}): Promise<RunningAgent> {
  const log = opts.log ?? createLogger(config.log_level);
  const metrics = new AgentMetrics();
  const topology = new Topology(config, { log, metrics, exitWhenDrained: opts.exitWhenDrained });
  await topology.build();
  let server: Server | null = null;
  if (config.metrics_address) server = await startMetricsServer(config.metrics_address, metrics);
  await topology.start();
  let stopping: Promise<void> | null = null;
  return {
    metrics,
    log,
    drained: () => topology.drained(),
    stop: () => {
      stopping ??= (async () => {
        await topology.stop(config.shutdown_grace);
        const t = (n: string) => metrics.total(n);
        log.info({
          events: await t('loggy_source_events_total'), bytes: await t('loggy_source_bytes_total'),
          delivered: await t('loggy_sink_events_total'), truncated: await t('loggy_lines_truncated_total'),
          malformed: await t('loggy_lines_malformed_total'), replaySkipped: await t('loggy_replay_events_skipped_total'),
        }, 'agent summary');
        if (server) await new Promise<void>((r) => server!.close(() => r()));
      })();
      return stopping;
    },
  };
}
