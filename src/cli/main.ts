import { Command, CommanderError } from 'commander';
import { registerAgent } from './agent.js';
import { registerDemo } from './demo.js';
import { registerLabels } from './labels.js';
import { registerLogs } from './logs.js';
import { registerQuery } from './query.js';
import { registerServer } from './server.js';
import { registerSimulate } from './simulate.js';
import { registerStream } from './stream.js';

/** Entry point of the `loggy` binary. Each command lives in its own file and registers itself. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('loggy')
    .description('Kubernetes cluster-level logging: node agent, sidecars, direct push and the store')
    .exitOverride()
    .showHelpAfterError();
  registerAgent(program);
  registerDemo(program);
  registerLabels(program);
  registerLogs(program);
  registerQuery(program);
  registerServer(program);
  registerSimulate(program);
  registerStream(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
