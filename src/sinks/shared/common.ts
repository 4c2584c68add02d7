import { z } from 'zod';
import { byteSize, duration } from '../../config/schema-helpers.js';

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
  /**
   * When the memory buffer is full: block (the sources feeding this sink wait, and so do their
   * other sinks), or drop_newest (this sink gives up new batches, counted, and the others go on).
   * With a disk_buffer, the disk buffer's own when_full applies instead.
   */
  when_full: z.enum(['block', 'drop_newest']).default('block'),
  /** Events coalesced into one write. */
  batch_max_events: z.number().int().positive().default(2000),
  /** Longest wait between retries of a failed write (backoff doubles from 100 ms up to this). */
  retry_max_backoff: duration.default(30_000),
  /**
   * A disk buffer in front of the sink (off unless given): batches are acknowledged to the
   * sources once on disk, so an outage of the receiver fills this disk instead of pausing
   * the sources (and the other sinks), and an agent restart replays it.
   */
  disk_buffer: z.strictObject({
    max_bytes: byteSize.default(256 * 1024 * 1024),
    /** block: sources wait while it is full; drop_oldest: the oldest segment goes (counted). */
    when_full: z.enum(['block', 'drop_oldest']).default('block'),
    /** always: fsync before acknowledging (survives power loss); interval: every fsync_interval (survives a crash of the agent); never. */
    fsync: z.enum(['always', 'interval', 'never']).default('interval'),
    fsync_interval: duration.default(1000),
    segment_bytes: byteSize.default(8 * 1024 * 1024),
  }).optional(),
};
