import type { Command } from 'commander';
import { loadConfigFile, parseConfig } from '../config/index.js';
import { loadOrReport } from './load-config.js';
import { stopSignal } from './signals.js';
import { serverConfigSchema, type ServerConfig } from '../server/config.js';

interface Flags {
  config?: string;
  validate?: string;
  listen?: string;
  dataDir?: string;
  engine?: 'duckdb' | 'memory';
}

function load(flags: Flags): Promise<ServerConfig | null> {
  return loadOrReport(async () => {
    const cfg = flags.config ? await loadConfigFile(flags.config, serverConfigSchema) : parseConfig('{}', '<defaults>', serverConfigSchema);
    if (flags.listen) cfg.listen = flags.listen;
    if (flags.dataDir) cfg.data_dir = flags.dataDir;
    if (flags.engine) cfg.engine.type = flags.engine;
    return cfg;
  });
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run the store: durable log storage with a Loki-compatible push and query API')
    .option('-c, --config <file>', 'server configuration (YAML)')
    .option('--validate <file>', 'check a configuration file and exit (0: valid, 2: invalid)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:3100)')
    .option('--data-dir <dir>', 'where the data lives')
    .option('--engine <engine>', 'duckdb (default) or memory')
    .action(async (flags: Flags) => {
      if (flags.validate) {
        const cfg = await load({ config: flags.validate });
        if (cfg) process.stdout.write(`${flags.validate}: valid\n`);
        process.exitCode = cfg ? 0 : 2;
        return;
      }
      const cfg = await load(flags);
      if (!cfg) {
        process.exitCode = 2;
        return;
      }
      const stop = stopSignal();
      // Loaded here, not at the top: the engine's native library (DuckDB) costs ~100 MiB of
      // RSS, which the agent — the same binary — must not pay.
      const { startServer } = await import('../server/run.js');
      const server = await startServer(cfg, { processMetrics: true });
      await stop;
      await server.stop();
      process.exitCode = 0;
    });
}
