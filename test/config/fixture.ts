import { z } from 'zod';
import { byteSize, duration, globList, nonEmptyString } from '../../src/config/index.js';

/** An agent-like schema: records of discriminated unions, defaults, strict objects. */
export const agentSchema = z.strictObject({
  data_dir: z.string().default('/var/lib/loggy'),
  flush_interval: duration.default(1000),
  sources: z.record(
    z.string(),
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('kubernetes_logs'), root: z.string().default('/') }),
      z.strictObject({ type: z.literal('file'), include: globList }),
    ]),
  ),
  sinks: z.record(
    z.string(),
    z.discriminatedUnion('type', [
      z.strictObject({
        type: z.literal('file'),
        inputs: z.array(nonEmptyString).min(1),
        path: nonEmptyString,
        max_bytes: byteSize.default(10 * 1024 * 1024),
      }),
      z.strictObject({
        type: z.literal('console'),
        inputs: z.array(nonEmptyString).min(1),
        format: z.enum(['text', 'json']).default('text'),
      }),
      z.strictObject({ type: z.literal('blackhole'), inputs: z.array(nonEmptyString).min(1) }),
    ]),
  ),
});
