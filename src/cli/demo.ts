import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentConfigSchema } from '../agent/config.js';
import { startAgent, type RunningAgent } from '../agent/run.js';
import { createLogger } from '../core/logger.js';
import { serverConfigSchema } from '../server/config.js';
import { DEMO_NODE, DemoCluster } from '../sim/demo-cluster.js';
import { stopSignal } from './signals.js';

interface DemoFlags {
  dir: string;
  listen: string;
  speed: number;
  rotateBytes: number;
  duration?: number;
  print?: boolean;
}

/** How to run this very binary from the user's shell, for the hints. */
function selfCommand(): string {
  const bin = fileURLToPath(new URL('../../bin/loggy.js', import.meta.url));
  const rel = relative(process.cwd(), bin);
  return existsSync(bin) && !rel.startsWith('..') ? `node ${rel}` : 'loggy';
}

/**
 * `loggy demo`: the whole product on one machine. A simulated node (pods writing CRI logs,
 * rotating, crash-looping, finishing; a simulated API server for their metadata), the agent
 * tailing it exactly as a DaemonSet would, and the store with its UI. The store's data
 * stays in `--dir` across runs (the node and the agent's state do not), so logs of pods from
 * an earlier run can still be queried: the point of cluster-level logging.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the store with its UI, a simulated Kubernetes node and the agent shipping its logs')
    .option('--dir <dir>', 'where the demo keeps its files (the store\'s data survives restarts)', '.loggy-demo')
    .option('--listen <host:port>', 'the store\'s address (UI and API)', '127.0.0.1:3100')
    .option('--speed <factor>', 'scale every pod\'s log rate', (v) => Number(v), 1)
    .option('--rotate-bytes <bytes>', 'rotate container logs past this size (kubelet: 10 MiB; small here so rotation shows)', (v) => Number(v), 256 * 1024)
    .option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)', (v) => Number(v))
    .option('--print', 'also print every line the agent ships, as the seeds\' Loggy did')
    .action(async (flags: DemoFlags) => {
      const bad = !Number.isFinite(flags.speed) || flags.speed <= 0 ? `--speed must be a positive number, got ${String(flags.speed)}`
        : !Number.isInteger(flags.rotateBytes) || flags.rotateBytes < 1024 ? `--rotate-bytes must be a whole number of bytes, at least 1024, got ${String(flags.rotateBytes)}` : null;
      if (bad) {
        process.stderr.write(`loggy demo: ${bad}\n`);
        process.exitCode = 2;
        return;
      }
      const dir = resolve(flags.dir);
      const root = join(dir, 'node');
      // A fresh node and agent each run; the store is kept.
      await rm(root, { recursive: true, force: true });
      await rm(join(dir, 'agent'), { recursive: true, force: true });
      await mkdir(root, { recursive: true });
      const stop = stopSignal();
      const log = createLogger('warn');

      const { startServer } = await import('../server/run.js');
      const serverConfig = serverConfigSchema.parse({ listen: flags.listen, data_dir: join(dir, 'store'), log_level: 'warn' });
      let server;
      try {
        server = await startServer(serverConfig, { log });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why = e.code === 'EADDRINUSE' ? `${flags.listen} is in use (another loggy demo or server?); pick another with --listen 127.0.0.1:3200` : e.message;
        process.stderr.write(`loggy demo: cannot start the store: ${why}\n`);
        process.exitCode = 1;
        return;
      }

      const cluster = new DemoCluster({ root, speed: flags.speed, rotateBytes: flags.rotateBytes });
      let agent: RunningAgent | null = null;
      let timer: NodeJS.Timeout | undefined;
      try {
        await cluster.start();
        const kubeconfig = cluster.api.writeKubeconfig(dir);
        const kube = { node_name: DEMO_NODE, kubeconfig };
        const agentConfig = agentConfigSchema.parse({
          data_dir: join(dir, 'agent'),
          log_level: 'warn',
          sources: {
            node: { type: 'kubernetes_logs', root },
            pod_files: { type: 'kubernetes_pod_files', root, ...kube },
          },
          transforms: {
            k8s: { type: 'kube_metadata', inputs: ['node', 'pod_files'], ...kube, namespace_labels: ['team'] },
            fields: { type: 'parse', inputs: ['k8s'], format: 'none' },
          },
          sinks: {
            store: { type: 'loggy', inputs: ['fields'], endpoint: server.url },
            ...(flags.print ? { console: { type: 'console', inputs: ['fields'] } } : {}),
          },
        });
        agent = await startAgent(agentConfig, { log, checkHeap: false });
        await writeFile(join(dir, 'README.txt'), `loggy demo data: store/ is kept across runs; node/ and agent/ are recreated.\n`);

        const ui = `${server.url}/`;
        const me = selfCommand();
        process.stderr.write([
          '',
          `loggy demo is running: a simulated node "${DEMO_NODE}" with ${cluster.podNames().length} pods, the agent, and the store.`,
          '',
          `  UI       ${ui}`,
          `  Grafana  add a Loki data source with URL ${server.url}`,
          `  data     ${dir}`,
          '',
          'Try, in another terminal:',
          `  ${me} logs counter                                   the seeds' counter pod`,
          `  ${me} logs -n shop deploy/web --tail 5 --prefix      a JSON web service, two replicas`,
          `  ${me} logs -n shop deploy/orders --grep Exception    Java stack traces, one event each`,
          `  ${me} logs deploy/sync-worker --previous             the crash-looping pod's last run`,
          `  ${me} logs -n shop cronjob/db-backup                 still there after the Job's pod is deleted`,
          `  ${me} logs -n billing invoicer-0                     in-pod files collected through loggy.io/files`,
          `  ${me} query 'sum by (namespace) (count_over_time({namespace=~".+"}[1m]))'`,
          '',
          'Ctrl-C stops everything.',
          '',
        ].join('\n'));

        await Promise.race([stop, ...(flags.duration !== undefined ? [new Promise((r) => (timer = setTimeout(r, flags.duration! * 1000)))] : [])]);
        process.stderr.write('loggy demo: stopping the node, then the agent (it delivers what it read), then the store\n');
        cluster.pause();
        // Let the agent read the node's last writes before it stops reading.
        await new Promise((r) => setTimeout(r, 800));
      } finally {
        // Also after a failed start: whatever started is stopped, or the process never exits.
        clearTimeout(timer);
        cluster.pause();
        await agent?.stop();
        await cluster.stop();
        await server.stop();
      }
      const delivered = await agent.metrics.total('loggy_sink_events_total');
      process.stderr.write(`loggy demo: the agent delivered ${delivered} events; the store's data stays in ${join(dir, 'store')}\n`);
      process.exitCode = 0;
    });
}
