import type { Command } from 'commander';
import { agentConfigSchema, type AgentConfig } from '../agent/config.js';
import { runWithReload } from '../agent/reload.js';
import { createLogger } from '../core/logger.js';
import { loadConfigFile } from '../config/index.js';
import { loadOrReport } from './load-config.js';
import { stopSignal } from './signals.js';

function load(file: string): Promise<AgentConfig | null> {
  return loadOrReport(() => loadConfigFile(file, agentConfigSchema));
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run the node agent: tail container logs and ship them to the configured sinks')
    .option('-c, --config <file>', 'agent configuration (YAML)')
    .option('--validate <file>', 'check a configuration file and exit (0: valid, 2: invalid)')
    .option('--exit-when-drained', 'exit once every file found at start is read to its end and delivered')
    .action(async (opts: { config?: string; validate?: string; exitWhenDrained?: boolean }) => {
      if (opts.validate) {
        const cfg = await load(opts.validate);
        if (cfg) process.stdout.write(`${opts.validate}: valid (${Object.keys(cfg.sources).length} sources, ${Object.keys(cfg.transforms).length} transforms, ${Object.keys(cfg.sinks).length} sinks)\n`);
        process.exitCode = cfg ? 0 : 2;
        return;
      }
      if (!opts.config) {
        process.stderr.write('loggy agent: give --config FILE (or --validate FILE)\n');
        process.exitCode = 2;
        return;
      }
      const cfg = await load(opts.config);
      if (!cfg) {
        process.exitCode = 2;
        return;
      }
      const stop = stopSignal();
      const log = createLogger(cfg.log_level);
      // Changes to the file apply without a restart (see agent/reload.ts).
      const agent = await runWithReload(opts.config, cfg, { exitWhenDrained: opts.exitWhenDrained, log });
      const how = await Promise.race([stop, opts.exitWhenDrained ? agent.drained().then(() => 'drained') : stop]);
      log.info({ reason: how }, 'stopping');
      await agent.stop();
      process.exitCode = 0;
    });
}
