import type { Command } from 'commander';
import { runClientCommand, storeOptions, usageExitCodes } from '../client/command.js';
import { runQuery, type QueryFlags } from '../client/query.js';

/** `loggy query '<LogQL>'`: log lines or a table of series from the store. */
export function registerQuery(program: Command): void {
  const cmd = program
    .command('query')
    .description('run a LogQL query against the store: log lines, or a table of series for metric queries')
    .argument('<logql>', 'the query, e.g. \'{namespace="shop"} |= "error"\' or \'sum by (pod) (rate({namespace="shop"}[5m]))\'')
    .option('--since <duration>', 'range: from this long ago (default 1h)')
    .option('--from <rfc3339>', 'range start (instead of --since)')
    .option('--to <rfc3339>', 'range end (default now); the time of an --instant query')
    .option('--limit <n>', 'most log lines returned', '100')
    .option('--step <duration>', 'step between points of a metric query (default: range / 250, at least 1s)')
    .option('--instant', 'evaluate a metric query at one time (--to) instead of over a range')
    .option('--forward', 'log lines oldest first (default newest first, as Loki)')
    .option('-o, --output <format>', 'table (default), json (the store\'s answer) or raw (lines only)');
  storeOptions(cmd);
  usageExitCodes(cmd).action(async (logql: string, flags: QueryFlags) => {
    await runClientCommand((io) => runQuery(logql, flags, io));
  });
}
