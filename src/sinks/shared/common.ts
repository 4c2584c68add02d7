import { z } from 'zod';
import { byteSize } from '../../config/schema-helpers.js';

/** Keys every sink accepts, besides its own. */
export const sinkCommon = {
  /** Names of the sources or transforms feeding this sink. */
  inputs: z.array(z.string().min(1)).min(1),
  /**
   * Memory buffer in front of the sink; when full, sources stop reading (the files on disk are
   * the real buffer). Small on purpose: events held longer than a young-generation GC cycle
   * get promoted and inflate the heap; 1 MiB measured as fast as 8 MiB and ~100 MiB smaller.
   */
  buffer_max_bytes: byteSize.default(1024 * 1024),
  /** Events coalesced into one write. */
  batch_max_events: z.number().int().positive().default(2000),
};
