import type { Command } from 'commander';
import { runClientCommand, storeOptions, usageExitCodes } from '../client/command.js';
import { runLogs, type LogsFlags } from '../client/logs.js';

/** `loggy logs`: kubectl logs against the store (works after the pod, node or deployment is gone). */
export function registerLogs(program: Command): void {
  const cmd = program
    .command('logs')
    .description('print the logs of a pod, a workload or pods matching a selector, from the store (kubectl logs flags)')
    .argument('[target]', 'POD, pod/POD, deploy/NAME, sts/NAME, job/NAME, cronjob/NAME, ds/NAME or rs/NAME')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-A, --all-namespaces', 'every namespace (with -l)')
    .option('-c, --container <name>', 'the container (required for a pod with several, unless --all-containers)')
    .option('--all-containers', 'every container of the pod(s)')
    .option('-l, --selector <selector>', 'pods by label, kubectl syntax: app=web,tier!=db,env in (a,b),!canary (default --tail 10)')
    .option('-f, --follow', 'stream new lines; survives store restarts')
    .option('--since <duration>', 'only lines newer than this (5s, 2m, 1h30m)')
    .option('--since-time <rfc3339>', 'only lines at or after this time')
    .option('--tail <n>', 'only the last N lines (-1: all)')
    .option('-p, --previous', 'the previous instance of the container (before its last restart)')
    .option('--timestamps', 'prefix each line with its RFC3339Nano timestamp')
    .option('--prefix', 'prefix each line with [pod/NAME/CONTAINER]')
    .option('-o, --output <format>', 'json: one object per line {ts, labels, line, metadata}')
    .option('--grep <regex>', 'only lines matching this regular expression (RE2 syntax)');
  storeOptions(cmd);
  usageExitCodes(cmd).action(async (target: string | undefined, flags: LogsFlags) => {
    await runClientCommand((io) => runLogs(target, flags, io), flags.follow === true);
  });
}
