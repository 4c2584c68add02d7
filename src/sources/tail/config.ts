import { z } from 'zod';
import { byteSize, duration } from '../../config/schema-helpers.js';

/** Settings every file-tailing source shares (kubernetes_logs, file). */
export const tailingOptions = {
  /** Files present at the very first start (no checkpoints yet): from the beginning or only new lines. */
  read_from: z.enum(['beginning', 'end']).default('beginning'),
  max_line_bytes: byteSize.default(256 * 1024),
  /** Full rescan of the directories: the safety net behind fs.watch. */
  rescan_interval: duration.default(1000),
  /** How often an idle file is checked for new data when no watch event came. */
  poll_interval: duration.default(250),
  /** A rotated or deleted file is read until it has been quiet this long, then closed. */
  rotate_wait: duration.default(2000),
  /** Bytes read from one file per turn before others get theirs. */
  read_chunk_bytes: byteSize.default(128 * 1024),
  /**
   * Files read at the same time (each holds one chunk buffer). Framing runs on one thread, so
   * more only helps on slow disks; 2 × 128 KiB measured as fast as 4 × 256 KiB, 14 MiB smaller.
   */
  read_concurrency: z.number().int().min(1).max(64).default(2),
  checkpoint_interval: duration.default(1000),
};
