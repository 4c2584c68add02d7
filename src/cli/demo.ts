import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentConfigSchema } from '../agent/config.js';
import { startAgent } from '../agent/run.js';
import { createLogger } from '../core/logger.js';
import { startSimulation } from '../sim/index.js';
import { stopSignal } from './signals.js';

interface DemoFlags {
  rate: number;
  pods: number;
  duration?: number;
  keep?: boolean;
}

/**
 * `loggy demo`: a simulated node (pods writing CRI and Docker logs, rotating, restarting)
 * tailed by the agent, which prints every line like the seed's Loggy. Nothing to set up.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a simulated Kubernetes node and the agent tailing it, printing to the console')
    .option('--rate <lines>', 'log lines per second over all containers', (v) => Number(v), 20)
    .option('--pods <n>', 'pods on the simulated node', (v) => Number(v), 4)
    .option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)', (v) => Number(v))
    .option('--keep', 'keep the simulated node directory at exit')
    .action(async (flags: DemoFlags) => {
      const dir = await mkdtemp(join(tmpdir(), 'loggy-demo-'));
      const root = join(dir, 'node');
      const sim = startSimulation({ root, pods: flags.pods, rate: flags.rate, format: 'mixed', rotateBytes: 64 * 1024, restartEverySec: 30 });
      const log = createLogger('warn');
      const config = agentConfigSchema.parse({
        data_dir: join(dir, 'data'),
        sources: { node: { type: 'kubernetes_logs', root } },
        sinks: { console: { type: 'console', inputs: ['node'] } },
      });
      const stop = stopSignal();
      const agent = await startAgent(config, { log });
      process.stderr.write(`loggy demo: simulated node in ${root}, ${flags.rate} lines/s; the agent prints namespace/pod/container [stream]: line. Ctrl-C to stop.\n`);
      await Promise.race([stop, ...(flags.duration !== undefined ? [new Promise((r) => setTimeout(r, flags.duration! * 1000))] : [])]);
      const manifest = await sim.stop();
      // Let the agent pick up the simulator's last writes before it stops reading.
      await new Promise((r) => setTimeout(r, 800));
      await agent.stop();
      const delivered = await agent.metrics.total('loggy_sink_events_total');
      process.stderr.write(`loggy demo: the simulator wrote ${manifest.total} lines, the agent delivered ${delivered} events.\n`);
      if (!flags.keep) await rm(dir, { recursive: true, force: true });
    });
}
