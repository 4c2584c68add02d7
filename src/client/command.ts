import { CommanderError, type Command } from 'commander';
import { ClientError } from './errors.js';
import { processIo, type Io } from './io.js';

/**
 * Runs a client command against the process's streams: a ClientError becomes "loggy: message"
 * on stderr and its exit code (1, or 2 for usage); anything else is reported, not thrown, so no
 * input ends in a stack trace. With `interruptible`, SIGINT/SIGTERM end the command cleanly.
 */
export async function runClientCommand(fn: (io: Io) => Promise<number>, interruptible = false): Promise<void> {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  // Following runs until interrupted; Ctrl-C then ends it cleanly (exit 0).
  if (interruptible) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const io = processIo(ac);
  try {
    process.exitCode = await fn(io);
  } catch (err) {
    if (err instanceof ClientError) {
      io.err(`loggy: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      io.err(`loggy: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Commander's own errors (unknown flag, missing argument) exit 2 here, as usage errors; help exits 0. */
export function usageExitCodes(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    if (err.exitCode === 0) throw err;
    throw new CommanderError(2, err.code, err.message);
  });
}

/** Options every client command takes. */
export function storeOptions(cmd: Command): Command {
  return cmd
    .option('--addr <url>', 'store address (env LOGGY_ADDR, config "addr"; default http://127.0.0.1:3100)')
    .option('--token <token>', 'bearer token (env LOGGY_TOKEN, config "token")')
    .option('--tenant <id>', 'tenant (X-Scope-OrgID) when the token allows several (env LOGGY_TENANT, config "tenant")');
}
