import type { Server } from 'node:http';
import { getHeapStatistics } from 'node:v8';
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
  /** Counters to continue (a configuration reload keeps them); new ones otherwise. */
  metrics?: AgentMetrics;
  /** Serve metrics_address (default); off when the caller serves it across reloads. */
  serveMetrics?: boolean;
  /** Warn when the V8 heap is bounded by the machine (default); off when the agent shares a process (the demo). */
  checkHeap?: boolean;
}

export async function startAgent(config: AgentConfig, opts: RunOptions = {}): Promise<RunningAgent> {
  const log = opts.log ?? createLogger(config.log_level);
  if (opts.checkHeap !== false) checkHeapLimit(config, log);
  const metrics = opts.metrics ?? new AgentMetrics();
  const topology = new Topology(config, { log, metrics, exitWhenDrained: opts.exitWhenDrained });
  await topology.build();
  let server: Server | null = null;
  let started = false;
  if (config.metrics_address && opts.serveMetrics !== false) server = await startMetricsServer(config.metrics_address, metrics, () => started);
  await topology.start();
  started = true;
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

/**
 * V8 sizes its heap for the machine, not the pod: on a big node an agent at full speed keeps
 * hundreds of MiB of garbage between collections and a memory limit kills it. Say so once at
 * start, with the flag that fixes it (docs/agent.md, Memory).
 */
function checkHeapLimit(config: AgentConfig, log: Logger): void {
  const limitMiB = Math.round(getHeapStatistics().heap_size_limit / 1048576);
  const buffers = Object.values(config.sinks).reduce((a, s) => a + s.buffer_max_bytes, 0);
  const suggested = Math.ceil(96 + (3 * buffers) / 1048576);
  if (limitMiB > 4 * suggested) {
    log.warn({ heapLimitMiB: limitMiB, suggested: `NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=${suggested}"` },
      'the V8 heap is bounded by the machine, not the pod: memory use may grow far past the buffers between collections');
  } else {
    log.info({ heapLimitMiB: limitMiB }, 'heap limit');
  }
}
