import { z } from 'zod';
import { duration } from '../config/schema-helpers.js';
import { sinkSchema } from '../sinks/index.js';
import { sourceSchema } from '../sources/index.js';
import { transformSchema } from '../transforms/index.js';

const componentName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, "_" and "-"');

/** The agent's configuration file, Vector-style: named components wired by `inputs`. */
export const agentConfigSchema = z.strictObject({
  /** Checkpoints (and later disk buffers) live here. */
  data_dir: z.string().default('/var/lib/loggy'),
  log_level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Serve Prometheus metrics at http://<address>/metrics, e.g. "0.0.0.0:9598". */
  metrics_address: z.string().regex(/^[^:]*:\d+$/, 'expected "host:port"').optional(),
  /** SIGTERM: time allowed to deliver buffered events before exiting. */
  shutdown_grace: duration.default(10_000),
  sources: z.record(componentName, sourceSchema),
  transforms: z.record(componentName, transformSchema).default({}),
  sinks: z.record(componentName, sinkSchema),
}).superRefine((cfg, ctx) => {
  const producers = new Set([...Object.keys(cfg.sources), ...Object.keys(cfg.transforms)]);
  for (const name of Object.keys(cfg.transforms)) {
    if (name in cfg.sources) ctx.addIssue({ code: 'custom', path: ['transforms', name], message: `name "${name}" is already used by a source` });
  }
  if (Object.keys(cfg.sources).length === 0) ctx.addIssue({ code: 'custom', path: ['sources'], message: 'at least one source is needed' });
  if (Object.keys(cfg.sinks).length === 0) ctx.addIssue({ code: 'custom', path: ['sinks'], message: 'at least one sink is needed' });
  const check = (kind: 'transforms' | 'sinks', name: string, inputs: string[]) => {
    inputs.forEach((input, i) => {
      if (!producers.has(input) || input === name) {
        ctx.addIssue({ code: 'custom', path: [kind, name, 'inputs', i], message: `unknown input "${input}" (expected one of: ${[...producers].filter((p) => p !== name).join(', ')})` });
      }
    });
  };
  for (const [name, t] of Object.entries(cfg.transforms)) check('transforms', name, t.inputs);
  for (const [name, s] of Object.entries(cfg.sinks)) check('sinks', name, s.inputs);
  const cycle = findCycle(cfg.transforms);
  if (cycle) ctx.addIssue({ code: 'custom', path: ['transforms', cycle[0], 'inputs'], message: `transforms feed each other in a loop: ${[...cycle, cycle[0]].join(' → ')}` });
});

/** A loop among transforms' inputs (events would circle forever), or null. */
function findCycle(transforms: Record<string, { inputs: string[] }>): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done' || !(name in transforms)) return null;
    if (state.get(name) === 'visiting') return stack.slice(stack.indexOf(name));
    state.set(name, 'visiting');
    stack.push(name);
    for (const input of transforms[name].inputs) {
      const found = visit(input);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of Object.keys(transforms)) {
    const found = visit(name);
    if (found) return found;
  }
  return null;
}
export type AgentConfig = z.infer<typeof agentConfigSchema>;
