import type { Command } from 'commander';
import { runClientCommand, storeOptions, usageExitCodes } from '../client/command.js';
import { runLabels, type LabelsFlags } from '../client/query.js';

/** `loggy labels [NAME]`: label names in the store, or the values of one. */
export function registerLabels(program: Command): void {
  const cmd = program
    .command('labels')
    .description('list label names in the store, or the values of one label')
    .argument('[name]', 'a label name: print its values')
    .option('--since <duration>', 'only streams with lines this recent (default: all time)')
    .option('--from <rfc3339>', 'range start (instead of --since)')
    .option('--to <rfc3339>', 'range end (default now)')
    .option('-q, --query <selector>', 'only streams matching this selector, e.g. {namespace="shop"}');
  storeOptions(cmd);
  usageExitCodes(cmd).action(async (name: string | undefined, flags: LabelsFlags) => {
    await runClientCommand((io) => runLabels(name, flags, io));
  });
}
