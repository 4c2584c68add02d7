import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseByteSize } from '../config/schema-helpers.js';
import { startSimulation, type SimulationOptions } from '../sim/index.js';

interface Flags {
  root: string;
  pods: number;
  format: 'cri' | 'docker' | 'mixed';
  rate: number;
  duration?: number;
  lines?: number;
  rotateBytes: number;
  keepFiles: number;
  copytruncate?: boolean;
  keepDeleted?: string;
  restartEvery?: number;
  churnEvery?: number;
  manifest?: string;
  seed?: number;
  quiet?: boolean;
}

/** `loggy simulate`: writes container logs like a kubelet node would, until told to stop. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('write container logs under ROOT like a Kubernetes node (CRI/docker files, symlinks, rotation, restarts)')
    .requiredOption('--root <dir>', 'directory standing in for the node root (files go to ROOT/var/log/...)')
    .option('--pods <n>', 'pods to create besides default/counter', int(0), 4)
    .addOption(new Option('--format <format>', 'log format per pod').choices(['cri', 'docker', 'mixed']).default('cri'))
    .option('--rate <lines>', 'logical lines per second over all containers', positive, 200)
    .option('--duration <seconds>', 'stop after this many seconds (default: until SIGTERM/SIGINT)', nonNegative)
    .option('--lines <n>', 'stop after this many lines in total', int(0))
    .addOption(new Option('--rotate-bytes <size>', 'rotate a file once larger than this (e.g. 10MiB, 512KiB)').argParser(bytes).default(10 * 1024 * 1024, '10MiB'))
    .option('--keep-files <n>', 'files kept per container, current one included', int(1), 5)
    .option('--copytruncate', 'rotate by copy + truncate in place instead of rename + reopen')
    .option('--keep-deleted <dir>', 'move deleted log files to DIR as <dev>-<ino> instead of deleting them (to check what a collector reports lost)')
    .option('--restart-every <seconds>', 'restart a random container this often', positive)
    .option('--churn-every <seconds>', 'replace a random pod this often', positive)
    .option('--manifest <file>', 'write a JSON manifest of lines per container (every second and at exit)')
    .option('--seed <n>', 'seed for names and message content', int(0))
    .option('--quiet', 'no start-up summary on stderr')
    .action(async (flags: Flags) => {
      const options: SimulationOptions = {
        root: flags.root,
        pods: flags.pods,
        format: flags.format,
        rate: flags.rate,
        durationSec: flags.duration,
        lines: flags.lines,
        rotateBytes: flags.rotateBytes,
        keepFiles: flags.keepFiles,
        copytruncate: flags.copytruncate === true,
        keepDeleted: flags.keepDeleted,
        restartEverySec: flags.restartEvery,
        churnEverySec: flags.churnEvery,
        manifestPath: flags.manifest,
        seed: flags.seed,
      };
      const sim = startSimulation(options);
      if (!flags.quiet) {
        const containers = Object.values(sim.manifest().containers);
        const pods = new Set(containers.map((c) => `${c.namespace}/${c.pod}`)).size;
        process.stderr.write(
          `loggy simulate: root=${sim.root} pods=${pods} containers=${containers.length} format=${flags.format} rate=${flags.rate}/s rotate=${flags.rotateBytes}B keep=${flags.keepFiles}\n`,
        );
      }
      // Graceful stop: finish the batch, fsync, write the final manifest, exit 0.
      const onSignal = (): void => void sim.stop().catch(() => {});
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        await sim.done;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}

function int(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

/** The same sizes as in config files: 512KiB, 10MiB (binary), 500k, 10M (decimal). */
function bytes(value: string): number {
  const n = parseByteSize(value);
  if (n === undefined || n <= 0) throw new InvalidArgumentError(`invalid byte size "${value}" (examples: 1048576, 512KiB, 10MiB)`);
  return n;
}
