import { z } from 'zod';
import { byteSize } from '../../config/schema-helpers.js';

/** Keys every sink accepts, besides its own. */
export const sinkCommon = {
  /** Names of the sources or transforms feeding this sink. */
  inputs: z.array(z.string().min(1)).min(1),
  /** Memory buffer in front of the sink; when full, sources stop reading. */
  buffer_max_bytes: byteSize.default(8 * 1024 * 1024),
  /** Batches coalesced into one write. */
  batch_max_events: z.number().int().positive().default(10_000),
};
