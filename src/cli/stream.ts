import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { agentConfigSchema } from '../agent/config.js';
import { startAgent } from '../agent/run.js';
import { createLogger } from '../core/logger.js';
import { stopSignal } from './signals.js';

interface Flags {
  state?: string;
  prefix?: boolean;
  stderr: string[];
  fromEnd?: boolean;
  maxLineBytes?: string;
}

/**
 * `loggy stream PATH|GLOB...`: the streaming sidecar, a `tail -n+1 -F` that does not lose or
 * repeat lines. It follows rotation (the renamed file is read to its end, the new one from its
 * start) and new files matching the globs; with `--state` in the shared volume it resumes after
 * a restart where it stopped, without printing anything twice.
 */
export function registerStream(program: Command): void {
  program
    .command('stream')
    .description('print the lines of files as they are written (a streaming sidecar): follows rotation and new files')
    .argument('<paths...>', 'files or globs (e.g. /var/log/app/*.log)')
    .option('--state <dir>', 'keep read positions here (e.g. in the shared volume): a restart resumes without re-printing')
    .option('--prefix', 'put "<file>: " before each line')
    .option('--stderr <glob>', 'lines of files matching this glob go to stderr (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--from-end', 'at the very first start, skip what the files already hold (like tail -F without -n+1)')
    .option('--max-line-bytes <size>', 'cut longer lines (flagged in the agent, cut here)', '256KiB')
    .action(async (paths: string[], flags: Flags) => {
      const abs = paths.map((p) => resolve(p));
      const dataDir = flags.state ? resolve(flags.state) : await mkdtemp(join(tmpdir(), 'loggy-stream-'));
      const config = agentConfigSchema.parse({
        data_dir: dataDir,
        log_level: 'warn',
        shutdown_grace: 5000,
        sources: { files: { type: 'file', include: abs, read_from: flags.fromEnd ? 'end' : 'beginning', max_line_bytes: flags.maxLineBytes, poll_interval: 200, rotate_wait: 1000 } },
        sinks: { out: { type: 'console', inputs: ['files'], format: 'line', prefix_file: flags.prefix === true, stderr_files: flags.stderr.map((g) => resolve(g)) } },
      });
      const stop = stopSignal();
      // Our own messages go to stderr as JSON, never mixed into the stream on stdout.
      const agent = await startAgent(config, { log: createLogger('warn') });
      await stop;
      await agent.stop();
      if (!flags.state) await rm(dataDir, { recursive: true, force: true });
      process.exitCode = 0;
    });
}
